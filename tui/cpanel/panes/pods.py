"""Pods: K9s' pod view — with describe, YAML, logs, delete and restart of the owner."""

from __future__ import annotations

from cpanel_platform.kube.actions import owner_workload
from cpanel_platform.kube.kinds import PODS, REPLICASETS, Kind
from cpanel_platform.views.common import age, size
from cpanel_platform.views.pods import PodRow, pod_rows

from cpanel.panes.base import ObjectRef, TablePane
from cpanel.widgets.cells import ROW_STYLE, number
from cpanel.widgets.table import Column, Row


class PodsPane(TablePane):
    pane_id = "pods"
    title = "Pods"
    aliases = ("pods", "po", "pod")
    kinds = (PODS, REPLICASETS)
    prometheus = True
    offers = frozenset({"describe", "yaml", "logs", "delete", "restart"})
    columns = (
        Column("namespace", "NAMESPACE", 24, sort_letter="P"),
        Column("name", "NAME", 56),
        Column("ready", "READY", sort_letter="E"),
        Column("status", "STATUS", 28),
        Column("restarts", "RESTARTS", align="right", sort_letter="T"),
        Column("cpu", "CPU", align="right"),
        Column("memory", "MEM", align="right"),
        Column("ip", "IP", sort_letter="I"),
        Column("node", "NODE", 40, sort_letter="O"),
        Column("age", "AGE", align="right"),
    )

    def build(self, now: float) -> list[Row]:
        pods = pod_rows(self.hub.objects(PODS), now, self.hub.results)
        return [self._row(pod, now) for pod in pods]

    @staticmethod
    def _row(pod: PodRow, now: float) -> Row:
        restarts = str(pod.restarts)
        if pod.restarts and pod.last_restart is not None:
            restarts += f" ({age(now - pod.last_restart)} ago)"
        cells = (
            pod.namespace, pod.name, pod.ready, pod.status, restarts,
            number(pod.cpu_cores, "{:.2f}"), size(pod.memory_bytes) if pod.memory_bytes else "-",
            pod.ip or "-", pod.node or "-", age(pod.age_seconds),
        )
        sort = (
            pod.namespace, pod.name, pod.ready_count, pod.status, pod.restarts, pod.cpu_cores,
            pod.memory_bytes, pod.ip, pod.node, -(pod.age_seconds or 0),
        )
        return Row(
            key=pod.key, cells=cells, sort_values=sort, style=ROW_STYLE[pod.severity],
            labels=tuple(pod.labels.items()), data=pod,
        )

    def ref(self, row: Row) -> ObjectRef:
        pod: PodRow = row.data
        return ObjectRef(PODS, pod.namespace, pod.name)

    def restart_target(self, ref: ObjectRef) -> tuple[Kind, str, str] | None:
        pod = self.hub.cache(PODS).get(ref.namespace, ref.name)
        if pod is None:
            return None
        return owner_workload(pod, self.hub.objects(REPLICASETS))
