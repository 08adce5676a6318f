"""Rollouts: Keel-managed workloads — policy, trigger, image, revision, status, pending
approvals — and the selected one's revision history merged with Keel's audit."""

from __future__ import annotations

import time
from typing import Any

from cpanel_platform.kube.kinds import DAEMONSETS, DEPLOYMENTS, KINDS, REPLICASETS, STATEFULSETS
from cpanel_platform.views.common import Severity, age
from cpanel_platform.views.rollouts import RolloutRow, rollouts_view
from rich.console import RenderableType
from rich.table import Table
from rich.text import Text

from cpanel.panes.base import ObjectRef, TablePane
from cpanel.widgets.cells import ROW_STYLE, TEXT_STYLE
from cpanel.widgets.table import Column, Row

STATUS = {"complete": Severity.OK, "progressing": Severity.WARN, "paused": Severity.WARN,
          "stalled": Severity.ERROR}


class RolloutsPane(TablePane):
    pane_id = "rollouts"
    title = "Rollouts"
    aliases = ("rollouts", "ro", "keel", "deploy", "deployments", "dp")
    kinds = (DEPLOYMENTS, STATEFULSETS, DAEMONSETS, REPLICASETS)
    keel = True
    offers = frozenset({"describe", "yaml", "restart", "rollback", "approve", "reject"})
    detail_height = 8
    columns = (
        Column("workload", "WORKLOAD", 40, sort_letter="W"),
        Column("policy", "POLICY", sort_letter="P"),
        Column("trigger", "TRIGGER", sort_letter="T"),
        Column("image", "IMAGE", 48, sort_letter="I"),
        Column("revision", "REV", align="right", sort_letter="V"),
        Column("ready", "READY", sort_letter="E"),
        Column("status", "STATUS", sort_letter="S"),
        Column("approvals", "APPROVALS", sort_letter="A"),
        Column("updated", "UPDATED", align="right", sort_letter="U"),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.now = 0.0

    def build(self, now: float) -> tuple[list[Row], float]:
        rows = rollouts_view(self.hub.objects(DEPLOYMENTS), self.hub.objects(STATEFULSETS),
                             self.hub.objects(DAEMONSETS), self.hub.objects(REPLICASETS),
                             self.hub.keel, now)
        return [self._row(r, now) for r in rows], now

    def show(self, model: tuple[list[Row], float]) -> None:
        rows, self.now = model
        super().show(rows)

    @staticmethod
    def _row(r: RolloutRow, now: float) -> Row:
        pending = f"{len(r.pending)} pending" if r.pending else "-"
        updated = f"{age(now - r.updated)} ago" if r.updated else "-"
        cells = (f"{r.kind.lower()}/{r.namespace}/{r.name}", r.policy, r.trigger, r.image,
                 str(r.revision) if r.revision is not None else "-", r.ready,
                 Text(r.status, style=TEXT_STYLE[STATUS.get(r.status, Severity.NONE)]), pending,
                 updated)
        sort = (r.key, r.policy, r.trigger, r.image, r.revision, r.ready, r.status,
                len(r.pending), -(r.updated or 0))
        return Row(key=r.key, cells=cells, sort_values=sort, style=ROW_STYLE[r.severity], data=r)

    def detail(self, row: Row) -> RenderableType:
        r: RolloutRow = row.data
        table = Table(box=None, pad_edge=False, header_style="bold", title_justify="left",
                      title=f"{r.namespace}/{r.name}: revisions (newest first)"
                      + (f" — {len(r.pending)} approval(s) pending" if r.pending else ""))
        for name in ("REV", "IMAGE", "CREATED", "KEEL UPDATE", "READY", "KEEL AUDIT"):
            table.add_column(name, no_wrap=True)
        for p in r.pending:
            votes = f"{p.votes_received}/{p.votes_required} votes"
            deadline = time.strftime("%H:%M", time.localtime(p.deadline))
            table.add_row("→", f"{p.current_version} → {p.new_version}", "", "", "",
                          Text(f"awaiting approval {votes}, deadline {deadline}",
                               style="yellow"))
        for h in r.history:
            audit = "; ".join(f"{e.action} by {e.username}" if e.username else e.action
                              for e in h.audit)
            table.add_row(str(h.revision or "-"), h.image,
                          f"{age(self.now - h.created)} ago" if h.created else "-",
                          f"{age(self.now - h.keel_update_time)} ago"
                          if h.keel_update_time else "-",
                          f"{h.ready_replicas}/{h.replicas}", audit or "-")
        return table

    def ref(self, row: Row) -> ObjectRef:
        r: RolloutRow = row.data
        return ObjectRef(KINDS[f"{r.kind.lower()}s"], r.namespace, r.name)

    def restart_target(self, ref: ObjectRef) -> tuple[Any, str, str]:
        return ref.kind, ref.namespace, ref.name
