"""The cpanel App: header, title bar, panes, command line, filter, crumbs and footer.

Data flows one way: the hub's sources → a pane's build (thread worker) → the pane's show.
Actions go back through cpanel_platform functions, in thread workers; the UI thread never
waits on the network.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cpanel_platform import config
from cpanel_platform.views.filtering import FilterError, parse_filter
from cpanel_platform.views.header import header_info
from rich.text import Text
from textual import events, work
from textual.app import App, ComposeResult
from textual.containers import Horizontal
from textual.widgets import ContentSwitcher, Footer, Input, Static
from textual.worker import Worker, WorkerState

from cpanel import commands, keymap
from cpanel.hub import Changed, Hub
from cpanel.object_actions import ACCESS, ObjectActions
from cpanel.oncall_actions import OnCallActions
from cpanel.operations import Operations
from cpanel.panes.base import Pane, TablePane
from cpanel.panes.registry import PANES
from cpanel.screens.help import HelpScreen
from cpanel.widgets.header import HeaderBar
from cpanel.widgets.prompt import AliasSuggester, CommandInput
from cpanel.widgets.table import ResourceTable

if TYPE_CHECKING:
    from cpanel_platform.session import Session

AGE_TICK = 2.0  # seconds between rebuilds that only move ages on, as K9s refreshes
FINISHED = (WorkerState.SUCCESS, WorkerState.ERROR, WorkerState.CANCELLED)


class CpanelApp(Operations, ObjectActions, OnCallActions, App[int]):
    CSS_PATH = "cpanel.tcss"
    TITLE = "cpanel"
    BINDINGS = [*keymap.GLOBAL, *keymap.PANE]
    ENABLE_COMMAND_PALETTE = False

    def __init__(
        self,
        settings: config.Settings,
        *,
        kubeconfig: str | None = None,
        context: str | None = None,
        namespace: str | None = None,
        readonly: bool = False,
        clock: Callable[[], float] = time.time,
        start_pane: str = "overview",
        session: Session | None = None,
    ) -> None:
        """`session` replaces the one built from the kubeconfig (tests give a fake).
        Otherwise the session is built after the first frame, in a thread: it loads the
        Kubernetes, Linode and Prometheus clients, which take longer to import than the
        whole first frame may."""
        super().__init__()
        self.settings = settings
        self.kubeconfig = kubeconfig
        self.context = context
        self.clock = clock
        self.readonly = readonly or settings.readonly
        self.sort_keys = {k: v for k, v in settings.keys.items() if k.startswith("sort_")}
        self.session: Session | None = session
        # None: the context's namespace, known once the session is; "": all namespaces.
        self.namespace_choice = namespace if namespace is not None else settings.namespace
        self.hub = Hub(self, session, None)
        self.panes: dict[str, Pane] = {cls.pane_id: cls(self.hub) for cls in PANES}
        self.aliases = {a: cls.pane_id for cls in PANES for a in (cls.pane_id, *cls.aliases)}
        self.crumbs: list[str] = [start_pane]
        self.filters: dict[str, str] = {}
        self.allowed: dict[str, bool] = {}
        self.flash_text = Text("")
        self.first_frame_at: float | None = None
        self._building: set[str] = set()  # panes with a build running
        self._build_again: set[str] = set()  # … and data changed since it started
        self._gc_frozen: set[str] = set()

    # -- layout -------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        # Kept as attributes: dialogs and text screens go on top, and these must still be
        # reachable while they do (query_one only searches the screen in front).
        self.header_bar = HeaderBar(id="header")
        self.titlebar = Static("", id="titlebar")
        self.switcher = ContentSwitcher(initial=f"pane-{self.crumbs[-1]}", id="panes")
        self.command_box = CommandInput(
            placeholder=":pods  :nodes  :certs  :pg  :io  :sli  :rollouts  :platform", id="command",
            suggester=AliasSuggester(self.aliases))
        self.filter_box = Input(placeholder="/regex  -l app=web  !inverted", id="filter")
        self.crumbs_bar = Static("", id="crumbs")
        yield self.header_bar
        yield self.titlebar
        with self.switcher:
            yield from self.panes.values()
        # K9s-like one-line prompts: the box shows while typing, after its prompt character.
        with Horizontal(id="command-line", classes="prompt"):
            yield Static(":", classes="prompt-char")
            yield self.command_box
        with Horizontal(id="filter-line", classes="prompt"):
            yield Static("/", classes="prompt-char")
            yield self.filter_box
        yield self.crumbs_bar
        yield Footer()

    def on_mount(self) -> None:
        self.set_keymap(self.settings.keys)
        self._show_prompt(self.command_box, False)
        self._show_prompt(self.filter_box, False)
        # The first frame comes first; the session and its caches (a 5,000-pod list)
        # follow it.
        self.header_bar.update(Text(f"Connecting to {self.context or 'the current context'}…",
                                    style="dim"))
        self._show_title()
        self.call_after_refresh(self._first_frame)
        if self.session is None:
            self._connect()
        else:
            self.call_after_refresh(self._connected, self.session)

    def _first_frame(self) -> None:
        self.first_frame_at = time.monotonic()

    @work(thread=True, group="connect")
    def _connect(self) -> None:
        from cpanel_platform.kube.client import KubeConfigError
        from cpanel_platform.session import Session

        try:
            session = Session(self.settings, kubeconfig=self.kubeconfig, context=self.context)
        except (KubeConfigError, config.ConfigError) as err:
            self.call_from_thread(self.exit, 1, 1, f"error: {err}")
            return
        self.call_from_thread(self._connected, session)

    def _connected(self, session: Session) -> None:
        self.session = self.hub.session = session
        namespace = self.namespace_choice
        self.hub.namespace = (session.target.namespace if namespace is None else namespace) or None
        self._switch(self.crumbs[-1])
        self.set_interval(AGE_TICK, self._tick)
        self.set_interval(self.settings.prometheus.refresh_seconds, self._refresh_prometheus)
        self.set_interval(self.settings.linode.refresh_seconds, self._refresh_linode)
        self.set_interval(self.settings.keel.refresh_seconds, self._refresh_keel)
        self._refresh_linode()
        self._refresh_keel()
        self._server_version()
        self._check_access()

    def on_unmount(self) -> None:
        if self.session is not None:
            self.hub.close()

    @property
    def api(self) -> Any:
        """The Kubernetes client of the session (actions run once connected)."""
        assert self.session is not None
        return self.session.target.api

    @property
    def pane(self) -> Pane:
        return self.panes[self.crumbs[-1]]

    def _visible(self) -> set[str]:
        return {self.pane.pane_id}

    # -- data ---------------------------------------------------------------------------
    def on_changed(self, message: Changed) -> None:
        self.hub.handled(message.source)
        if message.source in self.pane.sources():
            self._rebuild(self.pane)
        self._show_header()

    def _tick(self) -> None:
        self._rebuild(self.pane)
        self._show_header()

    def _rebuild(self, pane: Pane) -> None:
        """Build the pane's view in a thread. A thread cannot be cancelled, so while one
        build runs, changes only ask for one more after it (never two builds at once)."""
        if self.session is None:
            return
        if pane.pane_id in self._building:
            self._build_again.add(pane.pane_id)
            return
        for kind in pane.kinds:  # opens the caches on first use
            self.hub.cache(kind)
        self._building.add(pane.pane_id)
        self.run_worker(partial(pane.build, self.clock()), thread=True,
                        group=f"build-{pane.pane_id}", name=pane.pane_id)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        # The event's state, not the worker's: a quick build is already finished when its
        # RUNNING message arrives, and must not be handled twice.
        if not worker.group.startswith("build-") or event.state not in FINISHED:
            return
        self._building.discard(worker.name)
        if worker.name in self._build_again:
            self._build_again.discard(worker.name)
            self._rebuild(self.panes[worker.name])
        if event.state is WorkerState.SUCCESS:
            pane = self.panes[worker.name]
            if not pane.is_mounted:  # the app is closing
                return
            pane.show(worker.result)
            if pane.pane_id not in self._gc_frozen and self.hub.synced(*pane.kinds):
                # After a pane's first view, thousands of cached objects and rows live on:
                # move them out of the collector's way, or its full collections stall
                # scrolling for 200 ms at 5,000 pods. Once per pane, so that little else
                # (which could later become cyclic garbage) is frozen with them.
                self._gc_frozen.add(pane.pane_id)
                gc.freeze()
            if pane is self.pane:
                self._show_title()
        elif event.state is WorkerState.ERROR:
            self.flash(f"{worker.name}: could not build the view: {worker.error}", error=True)

    def _refresh_prometheus(self) -> None:
        self.run_worker(partial(self.hub.refresh_prometheus, self._visible()), thread=True,
                        exclusive=True, group="prometheus")

    def _refresh_linode(self) -> None:
        self.run_worker(self.hub.refresh_linode, thread=True, exclusive=True, group="linode")

    def _refresh_keel(self) -> None:
        if self.pane.keel or self.pane.pane_id == "overview" or self.hub.keel is None:
            self.run_worker(self.hub.refresh_keel, thread=True, exclusive=True, group="keel")

    @work(thread=True, group="version")
    def _server_version(self) -> None:
        self.hub.server_version = self.session.server_version()
        self.hub.notify_changed("version")

    @work(thread=True, group="access")
    def _check_access(self) -> None:
        from cpanel_platform.kube import actions

        assert self.session is not None
        ns = self.hub.namespace
        allowed = {}
        for action, needs in ACCESS.items():
            try:
                allowed[action] = all(
                    self.session.access.can_i(verb, resource, group=group, namespace=ns,
                                              subresource=sub)
                    for verb, resource, group, sub in needs
                )
            except actions.KubeActionError:
                allowed[action] = False
        self.allowed = allowed
        self.call_from_thread(self.refresh_bindings)
        self.call_from_thread(self.offer_resume)

    def _show_header(self) -> None:
        if self.session is None:
            return
        info = header_info(
            self.session.target.context, self.session.target.user, self.hub.linode,
            self.hub.server_version, self.hub.results, self.settings.slo.target,
            self.settings.slo.window_days, self.hub.freshness(), self.clock(),
        )
        self.header_bar.show(info)

    def _show_title(self) -> None:
        pane = self.pane
        scope = self.hub.namespace or "all"
        text = Text(f" {pane.title}", style="bold cyan")
        if pane.kinds and pane.kinds[0].namespaced:
            text.append(f"({scope})", style="bold magenta")
        text.append(pane.summary(), style="bold")
        flt = self.filters.get(pane.pane_id)
        if flt:
            text.append(f" </{flt}>", style="bold yellow")
        self.titlebar.update(text)
        crumbs = Text("")
        for crumb in self.crumbs:
            crumbs.append(f" <{crumb}> ", style="reverse" if crumb == pane.pane_id else "dim")
        crumbs.append("  ")
        crumbs.append_text(self.flash_text)
        self.crumbs_bar.update(crumbs)

    def flash(self, message: str, error: bool = False) -> None:
        self.flash_text = Text(message, style="bold red" if error else "green")
        self._show_title()

    # -- navigation ---------------------------------------------------------------------
    def open_pane(self, pane_id: str, drill: bool = True) -> None:
        """Drilling in (enter) pushes a crumb; a `:` command replaces the top one, as K9s
        does, so esc always leads back towards the overview."""
        if pane_id != self.crumbs[-1]:
            if not drill and len(self.crumbs) > 1:
                self.crumbs[-1] = pane_id
            else:
                self.crumbs.append(pane_id)
        self._switch(pane_id)

    def _switch(self, pane_id: str) -> None:
        self.switcher.current = f"pane-{pane_id}"
        pane = self.panes[pane_id]
        pane.opened()
        self._rebuild(pane)
        if pane.prometheus or pane.pane_id == "overview":
            self._refresh_prometheus()
        if pane.keel:
            self._refresh_keel()
        if not (self.command_box.display or self.filter_box.display):
            pane.focus_main()  # but never out of a prompt the user is typing in
        self._show_title()
        self._show_header()
        self.refresh_bindings()

    def _typing(self, key: str, char: str) -> bool:
        """In a text box a priority key is just text: queue it behind the keys the box has
        yet to handle (inserting it at once would reorder them), and say so."""
        focused = self.focused
        if isinstance(focused, Input):
            focused.post_message(events.Key(key, char))
            return True
        return False

    def action_command(self) -> None:
        if self._typing("colon", ":") or self.screen is not self.screen_stack[0]:
            return
        box = self.command_box
        self._show_prompt(box, True)
        box.value = ""
        self._focus_now(box)

    def action_filter(self) -> None:
        if self._typing("slash", "/") or self.screen is not self.screen_stack[0]:
            return
        if not isinstance(self.pane, TablePane):
            return
        box = self.filter_box
        self._show_prompt(box, True)
        box.value = self.filters.get(self.pane.pane_id, "")
        self._focus_now(box)

    @staticmethod
    def _show_prompt(box: Input, shown: bool) -> None:
        """Show or hide a prompt line (the box and its prompt character)."""
        box.display = shown
        if box.parent is not None:
            box.parent.display = shown  # type: ignore[attr-defined]

    def _focus_now(self, box: Input) -> None:
        """Focus at once, not after the queued messages as Widget.focus does: keys typed
        right behind `:` or `/` (a fast typist, a paste) must land in the box."""
        self.screen.set_focus(box)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self._show_prompt(event.input, False)
        if event.input.id == "command":
            self._run_command(event.value)
        else:
            self.pane.focus_main()

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "filter" and event.input.display:
            self._set_filter(event.value)

    def _set_filter(self, text: str) -> None:
        pane = self.pane
        try:
            predicate = parse_filter(text) if text else None
        except FilterError as err:
            self.flash(str(err), error=True)
            return
        if text:
            self.filters[pane.pane_id] = text
        else:
            self.filters.pop(pane.pane_id, None)
        pane.apply_filter(predicate)
        self.flash_text = Text("")
        self._show_title()

    def _run_command(self, text: str) -> None:
        try:
            command = commands.parse(text, self.aliases)
        except commands.CommandError as err:
            self.flash(str(err), error=True)
            self.pane.focus_main()
            return
        if command.pane is None:
            self.call_later(self.action_quit)  # which asks first while an operation runs
            return
        if command.namespace is not None:
            self.set_namespace(command.namespace)
        self.flash_text = Text("")
        self.open_pane(command.pane, drill=False)

    def action_back(self) -> None:
        for box in (self.command_box, self.filter_box):
            if box.display:
                self._show_prompt(box, False)
                self.pane.focus_main()
                return
        if self.filters.get(self.pane.pane_id):
            self._set_filter("")
            return
        if len(self.crumbs) > 1:
            self.crumbs.pop()
            self._switch(self.crumbs[-1])

    def action_help(self) -> None:
        keys: dict[str, list[str]] = {}
        shown: dict[str, tuple[str, str, bool]] = {}
        for active in self.screen.active_bindings.values():
            binding = active.binding
            if binding.id:
                keys.setdefault(binding.id, []).append(self.get_key_display(binding))
                shown.setdefault(binding.id, (binding.description, binding.id, active.enabled))
        for n in range(10):  # say which namespace each number key opens
            binding_id = f"namespace_{n}"
            if binding_id in shown:
                namespace = self._favourite(n)
                if namespace is None:
                    del shown[binding_id]
                else:
                    shown[binding_id] = (f"Namespace {namespace}", binding_id,
                                         shown[binding_id][2])
        rows = [(",".join(keys[i]), d, i, enabled) for i, (d, _, enabled) in sorted(shown.items())]
        table = self.pane.table if isinstance(self.pane, TablePane) else None
        self.push_screen(HelpScreen(rows, table, self.aliases))

    def _favourite(self, n: int) -> str | None:
        """Key 0 is every namespace ("all"), 1… the favourites from the settings."""
        if n == 0:
            return "all"
        favourites = self.settings.favourites
        return favourites[n - 1] if n <= len(favourites) else None

    def action_favourite(self, n: int) -> None:
        namespace = self._favourite(n)
        if namespace is None:
            self.flash(f"no favourite namespace {n}: add it to favourites in the config file",
                       error=True)
            return
        self.set_namespace("" if namespace == "all" else namespace)
        self._rebuild(self.pane)
        self._show_title()

    def set_namespace(self, namespace: str) -> None:
        """"" means all namespaces."""
        self.hub.namespace = namespace or None
        self.flash(f"namespace: {namespace or 'all'}")
        self._check_access()

    def switch_context(self, context: str) -> None:
        from cpanel_platform.kube.client import KubeConfigError
        from cpanel_platform.session import Session

        try:
            session = Session(self.settings, kubeconfig=self.kubeconfig, context=context)
        except KubeConfigError as err:
            self.flash(str(err), error=True)
            return
        self.hub.close()
        self.session = session
        self.hub.session = session
        self.hub.results = self.hub.linode = self.hub.keel = None
        self.hub.namespace = session.target.namespace or None
        self.flash(f"context: {context}")
        self._refresh_linode()
        self._refresh_keel()
        self._server_version()
        self._check_access()
        self.crumbs = ["overview"]
        self._switch("overview")

    # pane → app: a table row was chosen
    def on_resource_table_selected(self, event: ResourceTable.Selected) -> None:
        handler = getattr(self.pane, "on_select", None)
        if handler is not None:
            handler(event.row)


def run(argv_settings: dict[str, Any], config_file: Path | None = None) -> int:
    """Build and run the app; returns the exit code."""
    settings = config.load(config_file)
    keymap.check(settings.keys, extra=(k for k in settings.keys if k.startswith("sort_")))
    app = CpanelApp(settings, **argv_settings)
    return app.run() or 0
