"""Postgres: every PostgresCluster's instances — role, readiness, node, replication lag in
bytes and seconds — with switchover and backup status."""

from __future__ import annotations

from typing import Any

from cpanel_platform.kube.kinds import PODS, POSTGRESCLUSTERS
from cpanel_platform.views.common import age, size
from cpanel_platform.views.postgres import PgClusterView, PgInstanceRow, PostgresView, postgres_view
from rich.console import RenderableType
from rich.text import Text

from cpanel.panes.base import ObjectRef, TablePane
from cpanel.widgets.cells import ROW_STYLE, TEXT_STYLE, number
from cpanel.widgets.table import Column, Row


class PostgresPane(TablePane):
    pane_id = "postgres"
    title = "Postgres"
    aliases = ("pg", "postgres", "postgresclusters", "postgrescluster", "db")
    kinds = (POSTGRESCLUSTERS, PODS)
    prometheus = True
    offers = frozenset({"describe", "yaml", "logs", "switchover", "backup"})
    detail_height = 4
    columns = (
        Column("cluster", "CLUSTER", 24, sort_letter="C"),
        Column("pod", "POD", 36, sort_letter="P"),
        Column("role", "ROLE", sort_letter="O"),
        Column("ready", "READY", sort_letter="E"),
        Column("node", "NODE", 40, sort_letter="N"),
        Column("lag_bytes", "LAG", align="right", sort_letter="L"),
        Column("lag_seconds", "LAG (s)", align="right", sort_letter="S"),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.view: PostgresView | None = None
        self.clusters: dict[str, PgClusterView] = {}

    def build(self, now: float) -> tuple[PostgresView, list[Row]]:
        view = postgres_view(self.hub.objects(POSTGRESCLUSTERS), self.hub.objects(PODS),
                             self.hub.results, now)
        rows = [self._row(cluster, i) for cluster in view.clusters for i in cluster.instances]
        return view, rows

    def show(self, model: tuple[PostgresView, list[Row]]) -> None:
        self.view, rows = model
        self.clusters = {c.key: c for c in self.view.clusters}
        super().show(rows)

    @staticmethod
    def _row(cluster: PgClusterView, instance: PgInstanceRow) -> Row:
        role = instance.role or "?"
        lag = size(instance.lag_bytes) if instance.lag_bytes is not None else "-"
        cells = (f"{cluster.namespace}/{cluster.name}", instance.pod, role,
                 "yes" if instance.ready else "no", instance.node or "-", lag,
                 number(instance.lag_seconds))
        sort = (cluster.key, instance.pod, role, instance.ready, instance.node,
                instance.lag_bytes, instance.lag_seconds)
        return Row(key=instance.key, cells=cells, sort_values=sort,
                   style=ROW_STYLE[instance.severity],
                   data=(cluster.key, instance))

    def summary(self) -> str:
        if self.view is not None and not self.view.clusters:
            return "[no PostgresClusters]"
        return super().summary()

    def detail(self, row: Row) -> RenderableType:
        cluster = self.clusters.get(row.data[0])
        if cluster is None:
            return ""
        text = Text(f"{cluster.namespace}/{cluster.name}", style="bold")
        text.append(f"  Postgres {cluster.postgres_version or '?'}  ")
        text.append(f"{cluster.ready}/{cluster.desired} ready",
                    style=TEXT_STYLE[cluster.severity])
        text.append(f"  primary {cluster.primary or '-'}\n")
        text.append(f"switchover: {cluster.switchover}    last backup job: "
                    f"{cluster.backup_status}    last full backup: ")
        text.append("-" if cluster.backup_age_seconds is None
                    else f"{age(cluster.backup_age_seconds)} ago")
        text.append(f"\nconditions: {cluster.conditions}")
        if self.view is not None and not self.view.metrics:
            text.append("\nno metrics: Prometheus did not answer (lag unknown)", style="yellow")
        return text

    def ref(self, row: Row) -> ObjectRef:
        instance: PgInstanceRow = row.data[1]
        namespace = row.data[0].split("/", 1)[0]
        return ObjectRef(PODS, namespace, instance.pod, container="database")
