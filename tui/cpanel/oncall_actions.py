"""The on-call actions of the panes: renew a certificate; switch a Postgres cluster over to
the replica under the cursor, or back it up; roll a Deployment back to a chosen revision;
approve or reject its pending Keel update; cordon, uncordon and drain a node.

Each asks first, runs in a thread worker through `cpanel_platform.ops`, flashes its outcome
and lands in the audit journal (`ops.journal`). Whether a key is offered at all (the pane,
read-only mode, RBAC) is ObjectActions.check_action's business."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from cpanel_platform.kube.kinds import POSTGRESCLUSTERS
from cpanel_platform.views.common import age
from textual import work
from textual.worker import get_current_worker

from cpanel.panes.base import ObjectRef
from cpanel.screens.choose import ChooseScreen
from cpanel.screens.confirm import ConfirmScreen

if TYPE_CHECKING:
    from cpanel_platform.keel import Approval
    from cpanel_platform.views.postgres import PgInstanceRow
    from cpanel_platform.views.rollouts import RolloutRow

    from cpanel.app import CpanelApp

DRAIN_TIMEOUT = 300.0  # seconds a drain waits on PodDisruptionBudgets before it gives up


def target(kind: str, namespace: str, name: str) -> str:
    """How the journal names an object: "Deployment/app/web", "Node/lke1-412-a"."""
    return f"{kind}/{namespace}/{name}" if namespace else f"{kind}/{name}"


class OnCallActions:
    """Mixed into CpanelApp, next to ObjectActions."""

    # -- the shared path: ask, run in a worker, flash, journal --------------------------
    def change(self: CpanelApp, title: str, question: str, action: str, what: str,
               run: Callable[[], str]) -> None:
        """Ask `question`; on yes, `run` (it returns the line to show, e.g. "renewing …")
        in a thread worker. Every attempt is journalled with its outcome; a declined one is
        not, since nothing was done."""
        if self.readonly:
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self._change(action, what, run)

        self.push_screen(ConfirmScreen(title, question), answered)

    @work(thread=True, group="act")
    def _change(self: CpanelApp, action: str, what: str, run: Callable[[], str]) -> None:
        from cpanel_platform.keel_source import KeelError
        from cpanel_platform.kube.actions import KubeActionError
        from cpanel_platform.ops.drain import DrainStopped

        try:
            done = run()
        except DrainStopped as err:
            self._outcome(action, what, "stopped", str(err), f"{action} {what}: {err}")
        except (KubeActionError, KeelError) as err:
            self._outcome(action, what, "failed", str(err), f"{action} {what} failed: {err}")
        else:
            self._outcome(action, what, "ok", done, done)

    def _outcome(self: CpanelApp, action: str, what: str, outcome: str, detail: str,
                 line: str) -> None:
        """Journal an attempt (worker thread) and flash `line`."""
        from cpanel_platform.ops import journal

        assert self.session is not None
        problem = journal.record(action, what, outcome,
                                 who=journal.who(self.session.target.user), detail=detail)
        if problem:
            line += f" (not journalled: {problem})"
        self._say(line, outcome != "ok" or bool(problem))

    def _say(self: CpanelApp, line: str, error: bool = False) -> None:
        """Flash from a worker thread; a long drain can outlive the app."""
        if self.is_running:
            self.call_from_thread(self.flash, line, error)

    def _selected(self: CpanelApp) -> Any:
        """The data of the row under the cursor (what the pane built it from)."""
        row = self.pane.table.current  # type: ignore[attr-defined]  # table panes only
        if row is None:
            self.flash("nothing selected", error=True)
        return None if row is None else row.data

    # -- certificates ---------------------------------------------------------------------
    def action_renew(self: CpanelApp) -> None:
        ref = self._ref()
        if ref is None:
            return

        def run() -> str:
            from cpanel_platform.ops import oncall

            oncall.renew_certificate(self.api, ref.namespace, ref.name)
            return f"renewing Certificate {ref.namespace}/{ref.name} (Issuing=True)"

        self.change("Renew", f"Renew Certificate {ref.namespace}/{ref.name} now?\n"
                    "(Issuing=True, reason ManuallyTriggered, as `cmctl renew`)",
                    "renew", ref_target(ref), run)

    # -- Postgres -------------------------------------------------------------------------
    def action_switchover(self: CpanelApp) -> None:
        data = self._selected()
        if data is None:
            return
        cluster_key: str = data[0]
        instance: PgInstanceRow = data[1]
        namespace, cluster = cluster_key.split("/", 1)
        if instance.role != "replica":
            self.flash(f"{instance.pod} is not a replica: put the cursor on the replica to "
                       "promote", error=True)
            return

        def run() -> str:
            from cpanel_platform.ops import oncall

            oncall.postgres_switchover(self.api, namespace, cluster, instance.instance)
            return f"switchover of {cluster_key} to {instance.instance} requested"

        self.change("Switchover", f"Switch PostgresCluster {cluster_key} over to replica "
                    f"{instance.instance} (pod {instance.pod})?\nThe primary steps down and "
                    "becomes a replica; clients reconnect.",
                    "switchover", target(POSTGRESCLUSTERS.kind, namespace, cluster), run)

    def action_backup(self: CpanelApp) -> None:
        data = self._selected()
        if data is None:
            return
        cluster_key = data[0]
        namespace, cluster = cluster_key.split("/", 1)

        def run() -> str:
            from cpanel_platform.ops import oncall

            how = oncall.postgres_backup(self.api, namespace, cluster)
            return f"backup of {cluster_key} requested ({how})"

        self.change("Backup", f"Start a manual pgBackRest backup of PostgresCluster "
                    f"{cluster_key}?", "backup",
                    target(POSTGRESCLUSTERS.kind, namespace, cluster), run)

    # -- rollouts -------------------------------------------------------------------------
    def action_rollback(self: CpanelApp) -> None:
        r: RolloutRow | None = self._selected()
        if r is None:
            return
        if r.kind != "Deployment":
            self.flash(f"only Deployments have revisions to roll back to, not {r.kind}s",
                       error=True)
            return
        now = self.clock()
        earlier = [h for h in r.history if h.revision is not None and h.revision != r.revision]
        if not earlier:
            self.flash(f"{r.namespace}/{r.name} has no other revision", error=True)
            return
        images = {str(h.revision): h.image for h in earlier}

        def chosen(revision: str | None) -> None:
            if revision is None:
                return

            def run() -> str:
                from cpanel_platform.ops import oncall

                oncall.rollback(self.api, r.namespace, r.name, int(revision))
                return f"rolling {r.namespace}/{r.name} back to revision {revision}"

            self.change("Roll back", f"Roll Deployment {r.namespace}/{r.name} back to revision "
                        f"{revision} ({images[revision]})?\nIt rolls out as a new revision, as "
                        "`kubectl rollout undo --to-revision`.",
                        "rollback", target(r.kind, r.namespace, r.name), run)

        self.push_screen(ChooseScreen(
            f"Roll {r.namespace}/{r.name} back to (now revision {r.revision}):",
            [(str(h.revision), f"{h.revision:>4}  {h.image}  "
              f"{age(now - h.created) + ' old' if h.created else ''}") for h in earlier],
        ), chosen)

    def action_approve(self: CpanelApp) -> None:
        self._vote("approve")

    def action_reject(self: CpanelApp) -> None:
        self._vote("reject")

    def _vote(self: CpanelApp, action: str) -> None:
        """A Keel vote on the selected workload's pending approval (chosen if several)."""
        r: RolloutRow | None = self._selected()
        if r is None:
            return
        if not r.pending:
            self.flash(f"no Keel approval pending for {r.key}", error=True)
            return
        by_id = {a.id: a for a in r.pending}

        def chosen(approval_id: str | None) -> None:
            if approval_id is None:
                return
            approval = by_id[approval_id]

            def run() -> str:
                from cpanel_platform.ops import journal

                assert self.session is not None
                keel = self.session.keel
                voter = journal.who(self.session.target.user)
                after: Approval = getattr(keel, action)(approval, voter)
                self.hub.refresh_keel()
                state = "rejected" if after.rejected else (
                    f"{after.votes_received}/{after.votes_required} votes")
                return f"voted to {action} {approval.identifier}: {state}"

            self.change(action.capitalize(),
                        f"{action.capitalize()} Keel's update of {r.key}: "
                        f"{approval.current_version} → {approval.new_version}?",
                        action, f"Approval/{approval.identifier}", run)

        if len(r.pending) == 1:
            chosen(r.pending[0].id)
            return
        self.push_screen(ChooseScreen(
            f"{action.capitalize()} which update of {r.key}?",
            [(a.id, f"{a.current_version} → {a.new_version}  {a.votes_received}/"
              f"{a.votes_required} votes") for a in r.pending],
        ), chosen)

    # -- nodes ----------------------------------------------------------------------------
    def action_cordon(self: CpanelApp) -> None:
        self._cordon(True)

    def action_uncordon(self: CpanelApp) -> None:
        self._cordon(False)

    def _cordon(self: CpanelApp, unschedulable: bool) -> None:
        ref = self._ref()
        if ref is None:
            return
        verb = "cordon" if unschedulable else "uncordon"

        def run() -> str:
            from cpanel_platform.ops import drain

            changed = drain.cordon(self.api, ref.name, unschedulable)
            return f"{verb}ed node {ref.name}" if changed else f"{ref.name} was {verb}ed already"

        effect = ("no new pods are scheduled on it; the pods it runs stay" if unschedulable
                  else "pods can be scheduled on it again")
        self.change(verb.capitalize(), f"{verb.capitalize()} node {ref.name}?\n({effect})",
                    verb, ref_target(ref), run)

    def action_drain(self: CpanelApp) -> None:
        ref = self._ref()
        if ref is not None and not self.readonly:
            self._drain_preview(ref)

    @work(thread=True, group="act")
    def _drain_preview(self: CpanelApp, ref: ObjectRef) -> None:
        """What the drain would evict, read fresh, for the confirmation."""
        from cpanel_platform.kube.actions import KubeActionError
        from cpanel_platform.ops import drain

        try:
            pods = drain.evictable_pods(self.api, ref.name)
        except KubeActionError as err:
            self._say(f"drain {ref.name}: {err}", error=True)
            return
        question = (f"Drain node {ref.name}?\nCordons it, then evicts its {len(pods)} pod(s) "
                    "through the Eviction API (DaemonSet pods stay); PodDisruptionBudgets are "
                    f"honoured, for up to {DRAIN_TIMEOUT:.0f} s.")
        lost = drain.local_storage(pods)
        if lost:
            question += f"\nemptyDir data is lost for {', '.join(lost)}."

        def run() -> str:
            started = time.monotonic()

            count = drain.drain(self.api, ref.name, timeout=DRAIN_TIMEOUT,
                                report=lambda line: self._say(f"drain {ref.name}: {line}"),
                                stop=get_current_worker().cancelled_event)
            return (f"drained node {ref.name}: {count} pod(s) evicted in "
                    f"{time.monotonic() - started:.0f} s")

        self.call_from_thread(self.change, "Drain", question, "drain", ref_target(ref), run)


def ref_target(ref: ObjectRef) -> str:
    return target(ref.kind.kind, ref.namespace, ref.name)
