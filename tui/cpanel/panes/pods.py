"""Pods: K9s' pod view — with describe, YAML, logs, delete and restart of the owner."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from cpanel_platform.kube.kinds import PODS, REPLICASETS, Kind
from cpanel_platform.views.common import age, size
from cpanel_platform.views.pods import PodRow, pod_rows

from cpanel.panes.base import ObjectRef, TablePane
from cpanel.widgets.cells import ROW_STYLE, number
from cpanel.widgets.table import Column, Row

RESTARTS, AGE = 4, 9  # the clock-driven cells' places in a row


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

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._memo: dict[str, _Built] = {}
        self._metrics: tuple[object, object] | None = None

    def build(self, now: float) -> list[Row]:
        """Rows for every pod, reusing the row of a pod that has not changed since the last
        build (only its age moves on): at 5,000 pods a rebuild then costs milliseconds,
        not the 200 ms of reading every pod again."""
        results = self.hub.results or {}
        metrics = (results.get("pod_cpu"), results.get("pod_memory"))
        if metrics != self._metrics:  # new CPU/MEM figures: every row changes
            self._memo.clear()
            self._metrics = metrics
        pods = self.hub.objects(PODS)
        versions = {_key(pod): pod["metadata"].get("resourceVersion", "") for pod in pods}
        changed = [pod for pod in pods
                   if (built := self._memo.get(_key(pod))) is None
                   or built.version != versions[_key(pod)]]
        fresh = {view.key: view for view in pod_rows(changed, now, self.hub.results)}
        memo: dict[str, _Built] = {}
        rows = []
        for key, version in versions.items():
            built = self._memo.get(key)
            if key in fresh:
                built = _Built(version, fresh[key], now, self._row(fresh[key], 0.0, now))
            elif built is not None and _times(built.view, now - built.at, now) != _times_of(
                    built.row):
                built = replace(built, row=self._row(built.view, now - built.at, now))
            if built is not None:
                memo[key] = built
                rows.append(built.row)
        self._memo = memo
        return rows

    @staticmethod
    def _row(pod: PodRow, since: float, now: float) -> Row:
        """The table row of a pod viewed `since` seconds before `now`."""
        restarts, pod_age = _times(pod, since, now)
        cells = (
            pod.namespace, pod.name, pod.ready, pod.status, restarts,
            number(pod.cpu_cores, "{:.2f}"), size(pod.memory_bytes) if pod.memory_bytes else "-",
            pod.ip or "-", pod.node or "-", pod_age,
        )
        sort = (
            pod.namespace, pod.name, pod.ready_count, pod.status, pod.restarts, pod.cpu_cores,
            pod.memory_bytes, pod.ip, pod.node, -(pod.age_seconds or 0) - since,
        )
        return Row(
            key=pod.key, cells=cells, sort_values=sort, style=ROW_STYLE[pod.severity],
            labels=tuple(pod.labels.items()), data=pod,
        )

    def ref(self, row: Row) -> ObjectRef:
        pod: PodRow = row.data
        return ObjectRef(PODS, pod.namespace, pod.name)

    def restart_target(self, ref: ObjectRef) -> tuple[Kind, str, str] | None:
        from cpanel_platform.kube.actions import owner_workload

        pod = self.hub.cache(PODS).get(ref.namespace, ref.name)
        if pod is None:
            return None
        return owner_workload(pod, self.hub.objects(REPLICASETS))


def _key(pod: dict[str, Any]) -> str:
    meta = pod["metadata"]
    return f"{meta.get('namespace', '')}/{meta['name']}"


@dataclass(frozen=True)
class _Built:
    """A pod's view and its row, built at `at` from the object at resourceVersion
    `version`."""

    version: str
    view: PodRow
    at: float
    row: Row


def _times(pod: PodRow, since: float, now: float) -> tuple[str, str]:
    """The two cells that move with the clock: RESTARTS (with "… ago") and AGE, for a view
    built `since` seconds before `now`."""
    restarts = str(pod.restarts)
    if pod.restarts and pod.last_restart is not None:
        restarts += f" ({age(now - pod.last_restart)} ago)"
    return restarts, age(None if pod.age_seconds is None else pod.age_seconds + since)


def _times_of(row: Row) -> tuple[str, str]:
    return row.cells[RESTARTS], row.cells[AGE]  # type: ignore[return-value]
