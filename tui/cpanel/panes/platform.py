"""Platform: the platform file's LKE cluster and components — desired and installed versions,
health, drift (objects changed outside cpanel) and pending changes — from the plan that
`cpanel plan` prints; `p` shows that plan, `u` carries it out with live progress under the
table.

A plan costs dozens of API requests, so it is computed in a thread when the pane opens, on
ctrl+r, after an apply and once a minute while the pane shows — never on the age tick.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cpanel_platform import config
from cpanel_platform.views.common import Severity
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.message import Message
from textual.widgets import Static
from textual.worker import Worker, WorkerState

from cpanel import keymap
from cpanel.panes.base import TablePane
from cpanel.screens.confirm import ConfirmScreen
from cpanel.screens.text import TextScreen
from cpanel.widgets.cells import ROW_STYLE, TEXT_STYLE
from cpanel.widgets.table import Column, Row

if TYPE_CHECKING:  # the provisioning modules load the Kubernetes and Linode clients
    from cpanel_platform.provision.components import Fetch
    from cpanel_platform.provision.plan import ComponentPlan, Plan
    from cpanel_platform.provision.spec import PlatformSpec
    from cpanel_platform.provision.up import Event
    from textual.widgets import RichLog

    from cpanel.app import CpanelApp

REPLAN_SECONDS = 60.0
SOURCE = "platform"  # the hub source a finished plan computation is announced as
EVENT_STYLE = {"step": "", "wait": "dim", "done": "green"}
APPLY = "apply"  # what the log's own lines (start, stop, outcome) name as their component


@dataclass(frozen=True)
class PlanState:
    """The last plan computation, swapped whole so a build thread never sees half of it.
    A failed computation keeps the previous plan, marked by `error`; a bad platform file
    keeps none."""

    spec: PlatformSpec | None
    plan: Plan | None
    computed: float | None  # when `plan` was computed
    error: str = ""


def _hms(epoch: float) -> str:
    return time.strftime("%H:%M:%S", time.localtime(epoch))


def _count(n: int) -> str:
    return str(n) if n else "-"


def _message(err: BaseException) -> str:
    """The provisioning errors are worded for the user; anything else (a bug, a client error
    nobody wrapped) still gets a line instead of ending the app."""
    from cpanel.provision_cli import USER_ERRORS

    return str(err) if isinstance(err, USER_ERRORS) else f"{type(err).__name__}: {err}"


def needs_a_shell(plan: Plan) -> str | None:
    """Why `u` leaves this plan to `cpanel up`: what only its flags allow."""
    if any(f.code == "production-before-staging" for f in plan.findings):
        return ("the production ACME issuer is used before staging has issued a certificate; "
                "run `cpanel up --production` in a shell to go ahead")
    if plan.destructive:
        what = "; ".join(f"{c.target}: {c.detail}" for c in plan.destructive)
        return f"the plan destroys ({what}); run `cpanel up --allow-destroy` in a shell"
    return None


def cluster_row(spec: PlatformSpec, plan: Plan) -> Row:
    actual = plan.cluster
    if actual is None:
        health, severity = "not created", Severity.NONE
    else:
        health = actual.status
        severity = Severity.OK if actual.status == "ready" else Severity.WARN
    name = f"cluster {plan.label}"
    installed = actual.k8s_version if actual else "-"
    cells = (name, spec.cluster.k8s_version, installed, Text(health, TEXT_STYLE[severity]), "-",
             _count(len(plan.linode)))
    sort = (name, spec.cluster.k8s_version, installed, health, 0, len(plan.linode))
    return Row(key="!cluster", cells=cells, sort_values=sort, style=ROW_STYLE[severity])


def component_row(c: ComponentPlan) -> Row:
    if all(change.action == "create" for change in c.changes):
        health, severity = "not installed", Severity.NONE
    elif c.waiting:
        health, severity = c.waiting[0], Severity.WARN
    else:
        health, severity = "healthy", Severity.OK
    drifted = c.drift
    drift = "-"
    if drifted:
        first = next(f.path for f in drifted[0].fields if f.outside)
        drift = f"{len(drifted)} ({first})"
        severity = max(severity, Severity.WARN)
    cells = (c.name, c.version, c.installed or "-", Text(health, TEXT_STYLE[severity]),
             Text(drift, "magenta" if drifted else ""), _count(len(c.pending)))
    sort = (c.name, c.version, c.installed, health, len(drifted), len(c.pending))
    return Row(key=c.name, cells=cells, sort_values=sort, style=ROW_STYLE[severity], data=c)


class PlatformPane(TablePane):
    pane_id = "platform"
    title = "Platform"
    aliases = ("platform", "pf")
    offers = frozenset()
    BINDINGS = keymap.PLATFORM
    columns = (
        Column("component", "COMPONENT", 32),
        Column("desired", "DESIRED"),
        Column("installed", "INSTALLED"),
        Column("health", "HEALTH", 64),
        Column("drift", "DRIFT", 48),
        Column("changes", "CHANGES", align="right"),
    )

    class Progress(Message):
        """An apply's event, posted from its thread: reporting never waits on the UI."""

        bubble = False

        def __init__(self, event: Event, at: float) -> None:
            super().__init__()
            self.event = event
            self.at = at

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.state: PlanState | None = None
        self.planning = False
        self.applying = False
        self._plan_again = False
        self._stop = threading.Event()
        self._log: RichLog | None = None

    @property
    def cpanel(self) -> CpanelApp:
        return self.app  # type: ignore[return-value]

    @property
    def source(self) -> Path:
        """The platform file; a relative path is relative to the current directory."""
        return Path(self.cpanel.settings.platform_file).expanduser()

    @cached_property
    def _fetch(self) -> Fetch:
        """One release-mirror client for every plan and apply, made on first use."""
        from cpanel.provision_cli import fetcher

        return fetcher()

    def compose(self) -> ComposeResult:
        yield from super().compose()
        self.status_line = Static("", id="platform-status")
        yield self.status_line

    def on_mount(self) -> None:
        self.set_interval(REPLAN_SECONDS, self._replan_if_shown)

    def on_unmount(self) -> None:
        self._stop.set()  # a running apply ends at its next step instead of holding the exit

    def sources(self) -> set[str]:
        return {SOURCE}

    def opened(self) -> None:
        self.refresh_plan()

    # -- the plan -----------------------------------------------------------------------
    def _replan_if_shown(self) -> None:
        if self.display:
            self.refresh_plan()

    def refresh_plan(self) -> None:
        """Compute the plan again in a thread: one computation at a time, none during an
        apply (its end asks for one)."""
        if self.applying:
            return
        if self.planning:
            self._plan_again = True
            return
        self.planning = True
        self._plan()
        self.hub.notify_changed(SOURCE)  # "computing the plan…"

    @work(thread=True, group="platform-plan", exit_on_error=False)
    def _plan(self) -> PlanState:
        from cpanel_platform.provision.plan import make_plan
        from cpanel_platform.provision.spec import load_spec

        settings = self.cpanel.settings
        spec = load_spec(self.source)
        plan = make_plan(spec, token=config.linode_token(), linode_url=config.linode_url(settings),
                         fetch=self._fetch)
        return PlanState(spec, plan, self.cpanel.clock())

    def _planned(self, worker: Worker[PlanState]) -> None:
        self.planning = False
        if worker.state is WorkerState.SUCCESS:
            self.state = worker.result
        else:
            from cpanel_platform.provision.spec import SpecError

            message = _message(worker.error)  # type: ignore[arg-type]
            last = self.state
            if isinstance(worker.error, SpecError) or last is None or last.plan is None:
                self.state = PlanState(None, None, None, message)
            else:
                self.state = replace(last, error=message)
        if self._plan_again:
            self._plan_again = False
            self.refresh_plan()
        self.hub.notify_changed(SOURCE)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if event.state not in (WorkerState.SUCCESS, WorkerState.ERROR):
            return  # not finished, or cancelled as the app closes
        if worker.group == "platform-plan":
            self._planned(worker)
        elif worker.group == "platform-apply":
            self._applied(worker)

    # -- the view -----------------------------------------------------------------------
    def build(self, now: float) -> list[Row]:
        state = self.state
        if state is None or state.plan is None or state.spec is None:
            return []
        return [cluster_row(state.spec, state.plan), *map(component_row, state.plan.components)]

    def show(self, model: list[Row]) -> None:
        super().show(model)
        self.status_line.update(self._status())

    def _status(self) -> Text:
        """The lines under the table: a plan being computed, why the last one failed, the
        guard rails' findings, and what is pending."""
        lines = [Text("computing the plan…", "dim")] if self.planning else []
        state = self.state
        plan = state.plan if state else None
        if state and state.error:
            kept = f" (showing the plan of {_hms(state.computed)})" if state.computed else ""
            lines.append(Text(state.error + kept, "bold red"))
        if plan is not None:
            if plan.kube_note:
                lines.append(Text(plan.kube_note, "dim"))
            for finding in plan.findings:
                refused = finding.level == "refuse"
                lines.append(Text(f"{'refused' if refused else 'warning'}: {finding.message}",
                                  "bold red" if refused else "yellow"))
            if not plan.has_changes:
                lines.append(Text(f"No changes: the platform matches {self.source}.", "green"))
            else:
                pending = len(plan.linode) + sum(len(c.pending) for c in plan.components)
                lines.append(Text(f"{pending} change(s) pending."))
        return Text("\n").join(lines)

    def summary(self) -> str:
        text = f"({self.source})"
        state = self.state
        if state and state.computed is not None:
            text += f"{super().summary()} plan of {_hms(state.computed)}"
        return text + (" computing…" if self.planning else "")

    # -- keys ---------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "apply":
            return not self.cpanel.readonly  # hidden in read-only mode, as delete is
        if action == "stop":
            return self.applying
        return True

    def action_plan(self) -> None:
        from cpanel.plan_text import plan_lines

        state = self.state
        if state is None or state.plan is None or state.computed is None:
            self.cpanel.flash(state.error if state else "the plan is being computed",
                              error=state is not None)
            return
        title = f"Plan — {self.source}, computed {_hms(state.computed)}"
        self.app.push_screen(TextScreen(title, "\n".join(plan_lines(state.plan, self.source))))

    def action_refresh(self) -> None:
        if self.applying:
            self.cpanel.flash("an apply is running; the plan is computed again when it ends")
            return
        self.refresh_plan()

    def action_apply(self) -> None:
        if self.cpanel.readonly:
            return
        flash = self.cpanel.flash
        if self.applying:
            flash("an apply is already running", error=True)
            return
        state = self.state
        # A plan being computed replaces the one shown, which may be outdated (just after an
        # apply it still says "create the cluster"): only a plan that is current is applied.
        if self.planning or state is None:
            flash("the plan is being computed: apply it once it shows", error=True)
            return
        if state.plan is None or state.spec is None or state.error:
            flash(f"nothing to apply: the last plan failed: {state.error}", error=True)
            return
        plan = state.plan
        if plan.refusals:
            flash("not applied, refused: " + "; ".join(f.message for f in plan.refusals),
                  error=True)
            return
        if not plan.has_changes:
            flash(f"nothing to change: the platform matches {self.source}")
            return
        if why := needs_a_shell(plan):
            flash(f"not applied: {why}", error=True)
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self._start_apply(state)

        self.app.push_screen(ConfirmScreen("Apply", self._confirmation(state)), answered)

    def _confirmation(self, state: PlanState) -> str:
        plan = state.plan
        assert plan is not None and state.computed is not None
        lines = [f"Apply the plan for cluster {plan.label} "
                 f"({self.source}, computed {_hms(state.computed)})?"]
        if plan.linode:
            lines.append(f"  cluster {plan.label}: {len(plan.linode)} Linode change(s)")
        lines += [f"  {c.name} {c.version}: {len(c.pending)} object(s) to create or update"
                  for c in plan.components if c.pending]
        lines.append("Progress shows under the table; Stop ends the apply between steps.")
        return "\n".join(lines)

    def action_stop(self) -> None:
        self._stop.set()
        self._write(APPLY, "stopping after the current step…", "yellow")

    # -- the apply ----------------------------------------------------------------------
    def _start_apply(self, state: PlanState) -> None:
        assert state.spec is not None and state.plan is not None and state.computed is not None
        self.applying = True
        self._stop = threading.Event()
        self._progress_log().clear()
        self._write(APPLY, f"applying the plan of {_hms(state.computed)}")
        self.refresh_bindings()
        self._apply(state.spec, state.plan, self._stop)

    @work(thread=True, group="platform-apply", exit_on_error=False)
    def _apply(self, spec: PlatformSpec, plan: Plan, stop: threading.Event) -> str:
        from cpanel_platform.provision.kubeconfig import user_kubeconfig_path
        from cpanel_platform.provision.up import carry_out

        settings = self.cpanel.settings
        return carry_out(
            spec, plan, token=config.linode_token() or "",
            linode_url=config.linode_url(settings), fetch=self._fetch,
            kubeconfig_path=user_kubeconfig_path(),
            report=lambda event: self.post_message(self.Progress(event, self.cpanel.clock())),
            stop=stop,
        )

    def on_platform_pane_progress(self, message: PlatformPane.Progress) -> None:
        event = message.event
        self._write(event.component, event.message, EVENT_STYLE[event.kind], message.at)

    def _applied(self, worker: Worker[str]) -> None:
        self.applying = False
        self.refresh_bindings()
        if worker.state is WorkerState.SUCCESS:
            done = f"done: the platform matches {self.source}; kube context {worker.result}"
            self._write(APPLY, done, "bold green")
            self.cpanel.flash(done)
        else:
            message = _message(worker.error)  # type: ignore[arg-type]
            self._write(APPLY, message, "yellow" if self._stop.is_set() else "bold red")
            self.cpanel.flash(f"apply: {message}", error=True)
        self.refresh_plan()

    def _progress_log(self) -> RichLog:
        """The log under the table, made at the first apply (RichLog's import stays off the
        start) and kept after it, so the outcome can be read."""
        from textual.widgets import RichLog

        if self._log is None:
            self._log = RichLog(id="platform-log", wrap=True, markup=False, highlight=False)
            self.mount(self._log)
        return self._log

    def _write(self, component: str, message: str, style: str = "",
               at: float | None = None) -> None:
        stamp = _hms(self.cpanel.clock() if at is None else at)
        line = Text.assemble((stamp, "dim"), " ", (f"{component:<14}", "bold"), " ",
                             (message, style))
        self._progress_log().write(line, expand=True)  # wrapped at the pane's width, not 78
