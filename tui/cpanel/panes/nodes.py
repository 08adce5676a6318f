"""Nodes & pools: each LKE pool's nodes, the Linode view (node id, instance, provisioning
status) merged with the Kubernetes view (Ready, schedulable, version, pods), and recent LKE
events underneath."""

from __future__ import annotations

from typing import Any

from cpanel_platform.kube.kinds import NODES, PODS
from cpanel_platform.views.common import age
from cpanel_platform.views.nodes import NodeRow, NodesView, nodes_view
from rich.console import RenderableType
from rich.table import Table
from rich.text import Text

from cpanel.panes.base import ObjectRef, TablePane
from cpanel.widgets.cells import ROW_STYLE, TEXT_STYLE
from cpanel.widgets.table import Column, Row


class NodesPane(TablePane):
    pane_id = "nodes"
    title = "Nodes"
    aliases = ("nodes", "no", "node", "pools", "pool", "lke")
    kinds = (NODES, PODS)
    linode = True
    offers = frozenset({"describe", "yaml", "recycle", "cordon", "uncordon", "drain",
                        "recycle_node", "recycle_cluster", "upgrade"})
    detail_height = 9
    columns = (
        Column("pool", "POOL", 30, sort_letter="L"),
        Column("name", "NAME", 40),
        Column("status", "STATUS", 28, sort_letter="S"),
        Column("linode", "LINODE", 24, sort_letter="I"),
        Column("lke", "LKE NODE", 20, sort_letter="K"),
        Column("version", "VERSION", sort_letter="V"),
        Column("pods", "PODS", align="right", sort_letter="P"),
        Column("ip", "INTERNAL-IP", sort_letter="T"),
        Column("age", "AGE", align="right"),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.view: NodesView | None = None

    def build(self, now: float) -> tuple[NodesView, list[Row]]:
        view = nodes_view(self.hub.objects(NODES), self.hub.objects(PODS), self.hub.linode, now)
        rows = []
        for pool in view.pools:
            label = f"{pool.id} {pool.type} ×{pool.count}" + (" (autoscale)"
                                                              if pool.autoscaler else "")
            rows += [self._row(node, label) for node in pool.nodes]
        rows += [self._row(node, "-") for node in view.unpooled]
        return view, rows

    def show(self, model: tuple[NodesView, list[Row]]) -> None:
        self.view = model[0]
        super().show(model[1])

    @staticmethod
    def _row(node: NodeRow, pool: str) -> Row:
        status = {"True": "Ready", "False": "NotReady", "Unknown": "Unknown"}.get(
            node.k8s_ready, "not joined")
        if not node.schedulable and node.k8s_ready != "-":
            status += ",SchedulingDisabled"
        linode = node.linode_status or "-"
        if node.instance_id is not None:
            linode = f"{node.instance_id} {node.instance_status or node.linode_status}"
        cells = (pool, node.name, status, linode, node.linode_node_id or "-",
                 node.version or "-", str(node.pods), node.internal_ip or "-",
                 age(node.age_seconds))
        sort = (pool, node.name, status, linode, node.linode_node_id, node.version, node.pods,
                node.internal_ip, -(node.age_seconds or 0))
        return Row(key=node.key, cells=cells, sort_values=sort, style=ROW_STYLE[node.severity],
                   data=node)

    def summary(self) -> str:
        if self.view is None:
            return super().summary()
        view = self.view
        where = f" {view.cluster_label} {view.region} {view.k8s_version}" if (
            view.cluster_label) else ""
        return f"[{view.ready_nodes}/{view.total_nodes} ready]{where}"

    def detail(self, row: Row) -> RenderableType:
        table = Table(box=None, pad_edge=False, header_style="bold", title="LKE events",
                      title_justify="left", title_style="bold")
        for name in ("AGE", "ACTION", "STATUS", "ENTITY", "USER", "MESSAGE"):
            table.add_column(name, no_wrap=True)
        events = self.view.events if self.view else ()
        for event in events[:6]:
            table.add_row(age(event.age_seconds), event.action,
                          Text(event.status, style=TEXT_STYLE[event.severity]), event.entity,
                          event.user, event.message)
        if not events:
            reason = "" if self.hub.linode else " (no Linode data: see the header's badge)"
            table.add_row("-", f"no recent LKE events{reason}", "", "", "", "")
        return table

    def ref(self, row: Row) -> ObjectRef | None:
        node: NodeRow = row.data
        return ObjectRef(NODES, "", node.name) if node.k8s_ready != "-" else None

    def current_node(self) -> NodeRow | None:
        """The node under the cursor, for the recycle keys (joined or not)."""
        row = self.table.current
        return row.data if row is not None else None
