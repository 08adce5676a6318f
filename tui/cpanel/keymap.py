"""Every key binding with its id, so that users can remap ids in config.yaml:

    keys:
      describe: "D"          # one key
      cursor_down: "j,down"  # or several, comma-separated

Textual's own keymap does the remapping (`App.set_keymap`); this module declares the ids
and checks a user's map before it is applied, so a typo is an error, not a silent no-op.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from textual.binding import Binding

# `:` and `/` are priority bindings: the app handles them before forwarding the keys
# behind them, so a fast typist's ":pods" lands in the box (a typed ":" or "/" inside a box
# is put back as text by the app).
GLOBAL = [
    Binding("colon", "command", "Command", id="command", priority=True),
    Binding("slash", "filter", "Filter", id="filter", priority=True),
    Binding("escape", "back", "Back", id="back"),
    Binding("question_mark", "help", "Help", id="help"),
    Binding("ctrl+c", "quit", "Quit", show=False, id="quit", priority=True),
    Binding("ctrl+o", "operation", "Operation", id="operation"),  # shown while one runs
    *(
        Binding(str(n), f"favourite({n})", f"Namespace favourite {n}", show=False,
                id=f"namespace_{n}")
        for n in range(10)
    ),
]

# Bindings of table panes; each pane enables the ones it supports (check_action).
PANE = [
    Binding("d", "describe", "Describe", id="describe"),
    Binding("y", "yaml", "YAML", id="yaml"),
    Binding("l", "logs", "Logs", id="logs"),
    Binding("r", "restart", "Restart", id="restart"),
    Binding("ctrl+d", "delete", "Delete", id="delete"),
    # The rolling operations of the Nodes pane: R for the selected node's pool, ctrl+k for
    # the node alone (K9s's ctrl+k kills a pod for its controller to replace), C for the
    # whole cluster (not ctrl+r: K9s and the Platform pane refresh with it), U to upgrade.
    # The rare cluster-wide two stay out of the footer (`?` lists them).
    Binding("R", "recycle", "Recycle pool", id="recycle"),
    Binding("ctrl+k", "recycle_node", "Recycle node", id="recycle_node"),
    Binding("C", "recycle_cluster", "Recycle cluster", show=False, id="recycle_cluster"),
    Binding("U", "upgrade", "Upgrade", show=False, id="upgrade"),
    # The on-call actions. As in K9s a key means one thing per pane: each pane offers one
    # of restart, renew and drain.
    Binding("r", "renew", "Renew", id="renew"),
    Binding("s", "switchover", "Switchover", id="switchover"),
    Binding("b", "backup", "Backup", id="backup"),
    Binding("ctrl+l", "rollback", "Roll back", id="rollback"),
    Binding("a", "approve", "Approve", id="approve"),
    Binding("x", "reject", "Reject", id="reject"),
    Binding("c", "cordon", "Cordon", id="cordon"),
    Binding("u", "uncordon", "Uncordon", id="uncordon"),
    Binding("r", "drain", "Drain", id="drain"),
]

# The Platform pane's own keys. ctrl+r as in K9s (r restarts elsewhere); stop shows only
# while an apply runs.
PLATFORM = [
    Binding("p", "plan", "Plan", id="platform_plan"),
    Binding("u", "apply", "Apply", id="platform_apply"),
    Binding("ctrl+r", "refresh", "Refresh", id="platform_refresh"),
    Binding("x", "stop", "Stop apply", id="platform_stop"),
]

LOGS = [
    Binding("f", "toggle('follow')", "Follow", id="logs_follow"),
    Binding("w", "toggle('wrap')", "Wrap", id="logs_wrap"),
    Binding("t", "toggle('timestamps')", "Timestamps", id="logs_timestamps"),
    Binding("p", "toggle('previous')", "Previous", id="logs_previous"),
]


class KeymapError(Exception):
    """An unknown binding id or an empty key in the user's keymap."""


def known_ids(extra: Iterable[str] = ()) -> set[str]:
    """Every binding id of the app, its panes and screens."""
    from cpanel.panes.overview import OverviewPane
    from cpanel.screens.choose import ChooseScreen
    from cpanel.screens.confirm import ConfirmScreen
    from cpanel.screens.help import HelpScreen
    from cpanel.screens.logs import LogsScreen
    from cpanel.screens.progress import ProgressScreen
    from cpanel.screens.text import TextScreen
    from cpanel.widgets.prompt import CommandInput
    from cpanel.widgets.table import ResourceTable

    owners = (ResourceTable, OverviewPane, ConfirmScreen, ChooseScreen, HelpScreen, LogsScreen,
              TextScreen, CommandInput, ProgressScreen)
    bindings = [*GLOBAL, *PANE, *PLATFORM, *(b for owner in owners for b in owner.BINDINGS)]
    return {b.id for b in bindings if isinstance(b, Binding) and b.id} | set(extra)


def check(keys: Mapping[str, str], extra: Iterable[str] = ()) -> dict[str, str]:
    """The user's keymap, validated: ids must exist and keys be non-empty."""
    ids = known_ids(extra)
    unknown = sorted(set(keys) - ids)
    if unknown:
        raise KeymapError(
            f"keys: unknown binding id {', '.join(unknown)} (`?` in cpanel lists every id)"
        )
    empty = sorted(k for k, v in keys.items() if not str(v).strip())
    if empty:
        raise KeymapError(f"keys: no key given for {', '.join(empty)}")
    return {k: str(v) for k, v in keys.items()}
