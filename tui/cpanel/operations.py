"""The rolling operations of the Nodes & pools pane: recycle the selected node's pool (`R`),
the node alone (`ctrl+k`) or the whole cluster (`C`), and upgrade Kubernetes (`U`).

A key plans in a thread worker and the confirmation shows the plan; the operation then runs
in a thread of its own and outlives its progress screen: esc detaches (the header says how
far it is), `ctrl+o` or the key again re-opens it, `a` aborts (the recycle rolls back at its
next safe point). That thread is a daemon, not a Textual worker: workers run in the event
loop's executor, which the app joins on exit, so quitting would wait out a half-hour
recycle. A daemon ends with the app and leaves the recycle recorded on the cluster, to be
resumed on the next start, as after a crash.

The back end reports on the operation's thread; each report is posted to the app as a
message, so widgets are only ever touched on the UI thread.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cpanel_platform import config
from textual import work
from textual.message import Message

from cpanel.screens.confirm import ConfirmScreen
from cpanel.screens.progress import ProgressScreen, badge

if TYPE_CHECKING:
    from cpanel_platform.ops.recycle import Progress, RecyclePlan, Recycler, State
    from cpanel_platform.ops.upgrade import Preflight, Upgrader
    from kubernetes.client import ApiClient

    from cpanel.app import CpanelApp

# The keys' actions; ObjectActions offers them as it does the pane's other destructive ones.
OPERATIONS = frozenset({"recycle", "recycle_node", "recycle_cluster", "upgrade"})
PROBE_SECONDS = 2.0
FOLLOW = "Progress shows full screen: esc detaches (it goes on), a aborts and rolls back."


def make_recycler(api: ApiClient, settings: config.Settings,
                  report: Callable[[Progress], None]) -> Recycler:
    """The recycle's back end (tests put a fake here). The Linode API's retries are
    reported as waits."""
    from cpanel_platform.ops.linode_ops import LinodeOps
    from cpanel_platform.ops.recycle import Progress, Recycler

    linode = LinodeOps(config.linode_token(), config.linode_url(settings),
                       lambda text: report(Progress("", "wait", text)))
    return Recycler(api, linode, report)


def make_upgrader(recycler: Recycler, cluster_id: int) -> Upgrader:
    from cpanel_platform.ops.upgrade import Upgrader

    return Upgrader(recycler.api, recycler.linode, recycler, cluster_id)


def message(err: BaseException) -> str:
    """The back end's errors are worded for the user; anything else still gets a line."""
    from cpanel_platform.kube.actions import KubeActionError
    from cpanel_platform.ops.drain import DrainStopped
    from cpanel_platform.ops.linode_ops import OpsError

    worded = isinstance(err, OpsError | KubeActionError | DrainStopped)
    return str(err) if worded else f"{type(err).__name__}: {err}"


class OperationProgress(Message):
    """A line of the operation's story, with (nodes recycled, nodes in all) once recorded."""

    def __init__(self, recycler: Recycler | None, progress: Progress,
                 counts: tuple[int, int] | None) -> None:
        super().__init__()
        self.recycler = recycler
        self.progress = progress
        self.counts = counts


class OperationEnded(Message):
    def __init__(self, recycler: Recycler, outcome: str, failed: bool) -> None:
        super().__init__()
        self.recycler = recycler
        self.outcome = outcome  # "" when done: the recycle's own last line says it
        self.failed = failed


class Reporter:
    """The Recycler's `report`. It runs on the operation's thread, where the recycle's
    recorded state changes, so the node counts are read there and posted with the line."""

    def __init__(self, app: CpanelApp) -> None:
        self.app = app
        self.recycler: Recycler | None = None

    def __call__(self, progress: Progress) -> None:
        state = self.recycler.state if self.recycler is not None else None
        counts = (len(state.done), len(state.done) + len(state.queue)) if state else None
        self.app.post_message(OperationProgress(self.recycler, progress, counts))


@dataclass(eq=False)
class Operation:
    """A rolling operation of this session, from its start until its outcome has been seen
    (a finished one stays in the header until its progress screen is closed)."""

    action: str  # recycle | upgrade, as the journal names it …
    target: str  # … and what it acts on: "pool 412", "Kubernetes 1.36 → 1.37"
    recycler: Recycler
    started: float
    plan: RecyclePlan | None = None
    done: int = 0  # nodes recycled …
    total: int | None = None  # … of this many, known once the recycle is recorded
    lines: list[Progress] = field(default_factory=list)
    ended: bool = False
    failed: bool = False
    outcome: str = ""
    stopping: bool = False
    availability: str = "not probed yet"
    up: bool | None = None  # the last probe's answer; None: it could not be made
    probes: int = 0
    failed_probes: int = 0
    budget_start: float | None = None  # the SLO window's error budget left, in minutes
    budget_now: float | None = None

    @property
    def title(self) -> str:
        return f"{self.action} {self.target}"

    @property
    def running(self) -> bool:
        return not self.ended

    @property
    def evicted(self) -> int:
        return sum(p.step == "drain" and p.message.startswith("evicted") for p in self.lines)

    @property
    def waiting(self) -> str | None:
        """What it waits on and why, while its latest line is a wait."""
        last = self.lines[-1] if self.lines else None
        if last is not None and (last.step == "wait" or last.message.startswith("waiting")):
            return last.message
        return None

    @property
    def budget_spent(self) -> float | None:
        if self.budget_start is None or self.budget_now is None:
            return None
        return self.budget_start - self.budget_now

    @property
    def downtime_seen(self) -> float:
        return self.failed_probes * PROBE_SECONDS

    def eta(self, now: float) -> float | None:
        """Seconds left: the per-node average once a node is done (the surge counts as one
        node, as in the plan's estimate), else the plan's estimate less the time spent."""
        elapsed = now - self.started
        if self.done and self.total:
            return elapsed / (self.done + 1) * (self.total - self.done)
        if self.plan is not None:
            return max(0.0, self.plan.estimate - elapsed)
        return None

    def add(self, progress: Progress, counts: tuple[int, int] | None) -> None:
        self.lines.append(progress)
        if counts is not None:  # a rollback empties the queue: the total stays
            self.done, self.total = counts[0], max(self.total or 0, counts[1]) or None

    def probed(self, up: bool | None, text: str, budget_left: float | None) -> None:
        self.up, self.availability = up, text
        if up is not None:
            self.probes += 1
            self.failed_probes += not up
        if self.budget_start is None:
            self.budget_start = budget_left
        self.budget_now = budget_left

    def abort(self) -> None:
        self.stopping = True
        self.recycler.stop.set()

    def finish(self, outcome: str, failed: bool) -> None:
        self.ended, self.failed = True, failed
        own = next((p.message for p in reversed(self.lines) if p.step == "done" and not p.node),
                   "done")
        self.outcome = outcome or own


def _upgrade(upgrader: Upgrader, check: Preflight) -> str:
    upgrader.run(check)
    return f"every node runs Kubernetes {check.target}"


class Operations:
    """Mixed into CpanelApp, ahead of ObjectActions."""

    operation: Operation | None = None
    _resume_asked: object = None  # the session an interrupted recycle was looked for in
    _probing = False

    def check_action(self: CpanelApp, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "operation":
            return self.operation is not None
        return super().check_action(action, parameters)  # type: ignore[misc]

    # -- keys -----------------------------------------------------------------------------
    def action_recycle(self: CpanelApp) -> None:
        self._recycle("pool")

    def action_recycle_node(self: CpanelApp) -> None:
        self._recycle("node")

    def action_recycle_cluster(self: CpanelApp) -> None:
        self._recycle("cluster")

    def action_upgrade(self: CpanelApp) -> None:
        if self.readonly or self._busy() or (cluster_id := self._cluster_id()) is None:
            return
        self.flash("checking the upgrade…")
        self._preflight(cluster_id)

    def action_operation(self: CpanelApp) -> None:
        if self.operation is not None and not isinstance(self.screen, ProgressScreen):
            self.push_screen(ProgressScreen(self.operation), self._progress_closed)

    async def action_quit(self: CpanelApp) -> None:
        op = self.operation
        if op is None or op.ended:
            self.exit(0)
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self.exit(0)

        self.push_screen(ConfirmScreen("Quit", (
            f"The {op.title} is running. Quit anyway?\nIt stops where it is, recorded on the "
            "cluster: cpanel (or `cpanel recycle`) resumes it when it starts again.")), answered)

    def _busy(self: CpanelApp) -> bool:
        """While an operation runs, its keys re-open its progress instead."""
        if self.operation is not None and self.operation.running:
            self.action_operation()
            return True
        return False

    def _cluster_id(self: CpanelApp) -> int | None:
        """The LKE cluster the Linode source found for this context, else the settings'."""
        snapshot = self.hub.linode
        found = snapshot.cluster.id if snapshot is not None and snapshot.cluster else None
        cluster_id = found or self.settings.linode.cluster_id
        if cluster_id is None:
            self.flash("no LKE cluster known for this context (see the linode badge); set "
                       "linode.cluster_id in the config file", error=True)
        return cluster_id

    def _recycle(self: CpanelApp, scope: str) -> None:
        if self.readonly or self._busy() or (cluster_id := self._cluster_id()) is None:
            return
        which: dict[str, Any] = {}
        what = f"cluster {cluster_id}"
        if scope != "cluster":
            node = self.pane.current_node()  # type: ignore[attr-defined]
            if node is None or node.pool_id is None or not node.linode_node_id:
                self.flash("select a node of an LKE pool first", error=True)
                return
            if scope == "pool":
                which, what = {"pool_id": node.pool_id}, f"pool {node.pool_id}"
            else:
                which, what = {"node_id": node.linode_node_id}, f"node {node.name}"
        self.flash(f"planning the recycle of {what}…")
        self._plan_recycle(cluster_id, which)

    # -- planning (thread workers) --------------------------------------------------------
    def _recycler(self: CpanelApp) -> Recycler:
        reporter = Reporter(self)
        reporter.recycler = make_recycler(self.api, self.settings, reporter)
        return reporter.recycler

    @work(thread=True, group="operation-plan", exit_on_error=False)
    def _plan_recycle(self: CpanelApp, cluster_id: int, which: dict[str, Any]) -> None:
        try:
            recycler = self._recycler()
            pending = recycler.pending()
            plan = None if pending else recycler.plan(cluster_id, **which)
        except Exception as err:  # whatever fails, the app goes on and says why
            self.call_from_thread(self.flash, f"recycle: {message(err)}", True)
            return
        if pending is not None:
            self.call_from_thread(self._offer_resume, recycler, pending)
        else:
            self.call_from_thread(self._confirm_recycle, recycler, plan)

    @work(thread=True, group="operation-plan", exit_on_error=False)
    def _preflight(self: CpanelApp, cluster_id: int) -> None:
        try:
            upgrader = make_upgrader(self._recycler(), cluster_id)
            check = upgrader.preflight(None, Path(self.settings.platform_file).expanduser())
        except Exception as err:  # whatever fails, the app goes on and says why
            self.call_from_thread(self.flash, f"upgrade: {message(err)}", True)
            return
        self.call_from_thread(self._confirm_upgrade, upgrader, check)

    def offer_resume(self: CpanelApp) -> None:
        """Once per session, after the access review: offer to resume a recycle that an
        earlier cpanel (dashboard or CLI) left recorded on the cluster."""
        if (self.readonly or not self.allowed.get("recycle") or self.operation is not None
                or self._resume_asked is self.session):
            return
        self._resume_asked = self.session
        self._find_interrupted()

    @work(thread=True, group="operation-plan", exit_on_error=False)
    def _find_interrupted(self: CpanelApp) -> None:
        from cpanel_platform.ops.linode_ops import OpsError

        try:
            recycler = self._recycler()
        except OpsError:  # no Linode token: no operations from here (the badge says why)
            return
        try:
            pending = recycler.pending()
        except Exception as err:  # whatever fails, the app goes on and says why
            self.call_from_thread(self.flash, f"interrupted recycle: {message(err)}", True)
            return
        if pending is not None:
            self.call_from_thread(self._offer_resume, recycler, pending)

    # -- confirmations (UI thread) --------------------------------------------------------
    def _confirm_recycle(self: CpanelApp, recycler: Recycler, plan: RecyclePlan) -> None:
        from cpanel.ops_cli import plan_lines

        def answered(yes: bool | None) -> None:
            if yes:
                op = Operation("recycle", plan.scope, recycler, self.clock(), plan,
                               total=len(plan.nodes))
                self._start(op, partial(recycler.start, plan))
            else:
                self.flash(f"the recycle of {plan.scope} was not started")

        body = "\n".join([*plan_lines(plan), "", FOLLOW])
        self.push_screen(ConfirmScreen("Recycle", body), answered)

    def _offer_resume(self: CpanelApp, recycler: Recycler, state: State) -> None:
        done, total = len(state.done), len(state.done) + len(state.queue)

        def answered(yes: bool | None) -> None:
            if yes:
                op = Operation("recycle", state.scope, recycler, self.clock(), done=done,
                               total=total)
                self._start(op, recycler.resume)
            else:
                self.flash(f"the recycle of {state.scope} stays recorded on the cluster")

        self.push_screen(ConfirmScreen("Resume", (
            f"A recycle of {state.scope} was interrupted with {done} of {total} node(s) "
            "recycled. Resume it now?\nNo: it stays recorded on the cluster; R or `cpanel "
            "recycle` resumes it, `cpanel recycle --abort` rolls it back.\n\n" + FOLLOW)),
            answered)

    def _confirm_upgrade(self: CpanelApp, upgrader: Upgrader, check: Preflight) -> None:
        from cpanel_platform.ops.recycle import Progress

        from cpanel.screens.text import TextScreen

        body = "\n".join(check.lines())
        if not check.ok:
            self.flash("upgrade refused: " + "; ".join(check.problems), error=True)
            self.push_screen(TextScreen("Upgrade refused", body))
            return

        def answered(yes: bool | None) -> None:
            if yes:
                op = Operation("upgrade", f"Kubernetes {check.current} → {check.target}",
                               upgrader.recycler, self.clock())
                first = (f"the control plane: {check.current} → {check.target}"
                         if check.current != check.target
                         else f"the control plane runs {check.target} already")
                op.lines.append(Progress("", "upgrade", f"{first}; then every node still on "
                                         "the old version is recycled"))
                self._start(op, partial(_upgrade, upgrader, check))
            else:
                self.flash(f"the upgrade to {check.target} was not started")

        self.push_screen(ConfirmScreen("Upgrade", f"{body}\n\n{FOLLOW}"), answered)

    # -- running --------------------------------------------------------------------------
    def _start(self: CpanelApp, op: Operation, run: Callable[[], str | None]) -> None:
        if self._busy():
            return
        from cpanel_platform.ops import journal

        assert self.session is not None
        self.operation = op
        self._probe_timer = self.set_interval(PROBE_SECONDS, self._probe)
        self._probe()
        who = journal.who(self.session.target.user)
        threading.Thread(target=self._carry_out, args=(op, run, who), name="operation",
                         daemon=True).start()
        self.flash(f"{op.title}: started")
        self.refresh_bindings()
        self._show_operation()
        self.action_operation()

    def _carry_out(self: CpanelApp, op: Operation, run: Callable[[], str | None],
                   who: str) -> None:
        """The operation's own thread: journalled as it starts and ends (an interrupted one
        has a start only); its end, good or bad, is posted to the app."""
        from cpanel_platform.ops import journal
        from cpanel_platform.ops.recycle import RecycleStopped

        journal.record(op.action, op.target, "started", who=who)
        try:
            outcome, result = run() or "", "ok"
        except Exception as err:  # RecycleStopped and the rest: said on the screen
            outcome = message(err)
            result = "stopped" if isinstance(err, RecycleStopped) else "failed"
        if problem := journal.record(op.action, op.target, result, who=who, detail=outcome):
            outcome = f"{outcome or 'done'} (not journalled: {problem})"
        self.post_message(OperationEnded(op.recycler, outcome, result != "ok"))

    def _current(self: CpanelApp, recycler: Recycler | None) -> Operation | None:
        """The running operation of `recycler`; None once the app closes (the operation
        may go on reporting meanwhile)."""
        op = self.operation
        if op is None or op.recycler is not recycler or op.ended or not self.screen_stack:
            return None
        return op

    def on_operation_progress(self: CpanelApp, event: OperationProgress) -> None:
        if op := self._current(event.recycler):
            op.add(event.progress, event.counts)
            self._show_operation()

    def on_operation_ended(self: CpanelApp, event: OperationEnded) -> None:
        if op := self._current(event.recycler):
            op.finish(event.outcome, event.failed)
            self._probe_timer.stop()
            self.flash(f"{op.title}: {op.outcome}", error=op.failed)
            self.refresh_bindings()
            self._show_operation()

    def _progress_closed(self: CpanelApp, _: None) -> None:
        """A finished operation whose outcome has been seen leaves the header."""
        if self.operation is not None and self.operation.ended:
            self.operation = None
            self.refresh_bindings()
            self._show_operation()

    def _show_operation(self: CpanelApp) -> None:
        op = self.operation
        self.header_bar.show_operation(badge(op) if op is not None else None)
        if isinstance(self.screen, ProgressScreen):
            self.screen.show()

    # -- the live availability probe ------------------------------------------------------
    def _probe(self: CpanelApp) -> None:
        op = self.operation
        if op is not None and op.running and not self._probing:  # one probe at a time
            self._probing = True
            self._check_availability(op)

    @work(thread=True, group="availability", exit_on_error=False)
    def _check_availability(self: CpanelApp, op: Operation) -> None:
        from cpanel_platform.ops import availability

        try:
            seen = availability.check(op.recycler.api)
            up, text = seen.up, seen.text
        except Exception as err:  # an unanswered probe is not downtime: it says why
            up, text = None, f"probe failed: {message(err)}"
        self.call_from_thread(self._probed, op, up, text)

    def _probed(self: CpanelApp, op: Operation, up: bool | None, text: str) -> None:
        from cpanel_platform.views.sli import sli_report

        self._probing = False
        if self._current(op.recycler) is not op:
            return
        slo = self.settings.slo
        left = sli_report(self.hub.results, slo.target, slo.window_days,
                          self.clock()).budget_left_minutes
        op.probed(up, text, left)
        self._show_operation()
