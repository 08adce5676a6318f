"""Crunchy PostgresClusters (PGO v5): each cluster's instances, who leads, replication lag,
switchover and backup state."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ..prom.results import Results, Sample
from ..timestamps import parse_time
from .common import (
    Severity,
    age,
    answered,
    condition,
    finite,
    instant,
    labels_of,
    name_of,
    namespace_of,
    size,
)

GROUP = "postgres-operator.crunchydata.com"
CLUSTER_LABEL = f"{GROUP}/cluster"
INSTANCE_LABEL = f"{GROUP}/instance"
INSTANCE_SET_LABEL = f"{GROUP}/instance-set"
ROLE_LABEL = f"{GROUP}/role"
TRIGGER_SWITCHOVER = f"{GROUP}/trigger-switchover"

# The Crunchy exporter's stock alerts on replication lag.
LAG_WARN = 50 * 2**20
LAG_ERROR = 100 * 2**20
# Full backups are scheduled weekly in the baseline; a day's grace before it counts as missed.
BACKUP_STALE = 8 * 86400
_METRICS = ("pg_lag_bytes", "pg_replay_seconds", "pg_backup_age")


@dataclass(frozen=True)
class PgInstanceRow:
    key: str  # "<namespace>/<pod>"
    pod: str
    instance: str  # the instance (its StatefulSet), e.g. "db-instance1-52pj"
    instance_set: str
    role: str  # "primary" | "replica" | "" (not labelled by Patroni yet)
    ready: bool
    node: str
    ip: str
    lag_bytes: float | None  # replicas only, as the primary reports it
    lag_seconds: float | None  # replicas only: since the last WAL replay
    severity: Severity


@dataclass(frozen=True)
class PgClusterView:
    key: str  # "<namespace>/<name>"
    namespace: str
    name: str
    postgres_version: str
    instances: tuple[PgInstanceRow, ...]
    ready: int
    desired: int
    primary: str | None  # the primary's pod
    switchover: str  # "none", "enabled", "requested → db-instance1-rn4l"
    backup_age_seconds: float | None  # since the newest full backup completed
    backup_status: str  # "scheduled full complete 5h ago", "manual running", "none"
    conditions: str  # "ok", or the false conditions: "PGBackRestReplicaCreate: RepoBackup…"
    problem: str  # the worst thing about the cluster in a few words, "" when all is well
    severity: Severity


@dataclass(frozen=True)
class PostgresView:
    clusters: tuple[PgClusterView, ...]
    metrics: bool  # False: Prometheus did not answer, lag and backup figures are unknown


def postgres_view(
    clusters: Iterable[dict[str, Any]],
    pods: Iterable[dict[str, Any]],
    results: Results | None,
    now: float,
) -> PostgresView:
    """Every PostgresCluster with its instance pods (those labelled with a cluster and an
    instance; backup Jobs and the repo host are not instances)."""
    members: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for pod in pods:
        labels = labels_of(pod)
        if CLUSTER_LABEL in labels and INSTANCE_LABEL in labels:
            members.setdefault((namespace_of(pod), labels[CLUSTER_LABEL]), []).append(pod)
    views = sorted(
        (_cluster(pg, members.get((namespace_of(pg), name_of(pg)), []), results, now)
         for pg in clusters),
        key=lambda c: (c.namespace, c.name),
    )
    return PostgresView(tuple(views), answered(results, *_METRICS))


def _cluster(
    pg: dict[str, Any], pods: list[dict[str, Any]], results: Results | None, now: float
) -> PgClusterView:
    namespace, name = namespace_of(pg), name_of(pg)
    spec, status = pg.get("spec") or {}, pg.get("status") or {}
    mine = _ClusterMetrics(results, namespace, name)
    rows = tuple(
        sorted(
            (_instance(pod, mine) for pod in pods),
            key=lambda r: (r.instance_set, r.pod),
        )
    )
    primary = next((r.pod for r in rows if r.role == "primary"), None)
    desired = sum(int(s.get("replicas", 1)) for s in spec.get("instances") or [])
    ready = sum(1 for r in rows if r.ready)
    backup_age = mine.backup_age()
    backup_status, backup_failed = _backup_status(status.get("pgbackrest") or {}, now)
    false_conditions = [
        f"{c.get('type')}: {c.get('reason') or 'False'}"
        for c in status.get("conditions") or []
        if c.get("status") == "False"
    ]

    # Each problem with its severity; the worst one is the cluster's (the first on a tie).
    problems = [
        (Severity.ERROR, "no primary") if primary is None else None,
        *((r.severity, _instance_problem(r)) for r in rows if r.severity > Severity.OK),
        (Severity.WARN, f"{ready}/{desired} instances ready") if ready < desired else None,
        *((Severity.WARN, c) for c in false_conditions),
        (Severity.WARN, f"backup: {backup_status}") if backup_failed else None,
        (Severity.WARN, f"last full backup {age(backup_age)} ago")
        if backup_age is not None and backup_age > BACKUP_STALE
        else None,
    ]
    severity, problem = max(
        (p for p in problems if p is not None), key=lambda p: p[0], default=(Severity.OK, "")
    )
    if spec.get("shutdown"):  # scaled to zero on purpose: nothing is expected to run
        severity, problem = Severity.NONE, "shut down"
    return PgClusterView(
        key=f"{namespace}/{name}",
        namespace=namespace,
        name=name,
        postgres_version=str(spec.get("postgresVersion", "")),
        instances=rows,
        ready=ready,
        desired=desired,
        primary=primary,
        switchover=_switchover(pg),
        backup_age_seconds=backup_age,
        backup_status=backup_status,
        conditions="; ".join(false_conditions) or "ok",
        problem=problem,
        severity=severity,
    )


class _ClusterMetrics:
    """The exporter's samples for one cluster (labels `kubernetes_namespace`, `cluster`)."""

    def __init__(self, results: Results | None, namespace: str, name: str) -> None:
        def ours(sample: Sample) -> bool:
            labels = sample.labels
            return (
                labels.get("kubernetes_namespace") == namespace and labels.get("cluster") == name
            )

        self.lag = [s for s in instant(results, "pg_lag_bytes") if ours(s)]
        self.replay = [s for s in instant(results, "pg_replay_seconds") if ours(s)]
        self.recovery = [s for s in instant(results, "pg_in_recovery") if ours(s)]
        self.backups = [s for s in instant(results, "pg_backup_age") if ours(s)]

    def lag_bytes(self, ip: str) -> float | None:
        """The primary reports one sample per replica, labelled with the replica's IP."""
        values = [finite(s.value) for s in self.lag if ip and s.labels.get("replica") == ip]
        return max((v for v in values if v is not None), default=None)

    def lag_seconds(self, pod: str) -> float | None:
        return _first(s.value for s in self.replay if s.labels.get("pod") == pod)

    def in_recovery(self, pod: str) -> bool | None:
        # ccp_is_in_recovery_status: 1 in recovery (a replica), 2 not (the primary).
        value = _first(s.value for s in self.recovery if s.labels.get("pod") == pod)
        return None if value is None else value == 1

    def backup_age(self) -> float | None:
        """Since the newest full backup in any repository."""
        ages = [v for v in (finite(s.value) for s in self.backups) if v is not None]
        return min(ages, default=None)


def _first(values: Iterable[float]) -> float | None:
    return next((v for v in map(finite, values) if v is not None), None)


def _instance(pod: dict[str, Any], metrics: _ClusterMetrics) -> PgInstanceRow:
    labels = labels_of(pod)
    name = name_of(pod)
    status = pod.get("status") or {}
    ip = status.get("podIP") or ""
    role = {"master": "primary", "replica": "replica"}.get(labels.get(ROLE_LABEL, ""), "")
    if not role:
        # Patroni labels a member once it is healthy; until then ask Postgres itself.
        recovery = metrics.in_recovery(name)
        role = "" if recovery is None else ("replica" if recovery else "primary")
    ready = (condition(pod, "Ready") or {}).get("status") == "True"
    replica = role == "replica"
    lag = metrics.lag_bytes(ip) if replica else None
    severity = Severity.OK
    if not ready or (lag is not None and lag > LAG_ERROR):
        severity = Severity.ERROR
    elif lag is not None and lag > LAG_WARN:
        severity = Severity.WARN
    return PgInstanceRow(
        key=f"{namespace_of(pod)}/{name}",
        pod=name,
        instance=labels.get(INSTANCE_LABEL, ""),
        instance_set=labels.get(INSTANCE_SET_LABEL, ""),
        role=role,
        ready=ready,
        node=(pod.get("spec") or {}).get("nodeName") or "",
        ip=ip,
        lag_bytes=lag,
        lag_seconds=metrics.lag_seconds(name) if replica else None,
        severity=severity,
    )


def _instance_problem(row: PgInstanceRow) -> str:
    return f"{row.pod} not ready" if not row.ready else f"{row.pod} lag {size(row.lag_bytes)}"


def _switchover(pg: dict[str, Any]) -> str:
    """PGO switches over when spec.patroni.switchover is enabled and the trigger annotation
    differs from status.patroni.switchover (the trigger it last carried out)."""
    wanted = ((pg.get("spec") or {}).get("patroni") or {}).get("switchover") or {}
    if not wanted.get("enabled"):
        return "none"
    trigger = ((pg.get("metadata") or {}).get("annotations") or {}).get(TRIGGER_SWITCHOVER)
    done = (((pg.get("status") or {}).get("patroni")) or {}).get("switchover")
    if not trigger or trigger == done:
        return "enabled"
    kind = "failover" if wanted.get("type") == "Failover" else "requested"
    target = wanted.get("targetInstance")
    return f"{kind} → {target}" if target else kind


def _backup_status(pgbackrest: dict[str, Any], now: float) -> tuple[str, bool]:
    """The latest backup Job PGO reports (manual or scheduled) in a few words, and whether it
    failed."""
    entries = []
    manual = pgbackrest.get("manualBackup")
    if manual:
        entries.append(("manual", manual))
    entries += [
        (f"scheduled {b.get('type', '')}".rstrip(), b)
        for b in pgbackrest.get("scheduledBackups") or []
    ]
    if not entries:
        return "none", False
    kind, latest = max(
        entries, key=lambda e: parse_time(e[1].get("startTime")) or float("inf")
    )
    finished = parse_time(latest.get("completionTime"))
    if latest.get("succeeded"):
        state = "complete"
    elif latest.get("failed") and not latest.get("active"):
        state = "failed"
    elif latest.get("active"):
        state = "running"
    else:
        state = "pending"
    ago = f" {age(now - finished)} ago" if finished is not None and state == "complete" else ""
    return f"{kind} {state}{ago}", state == "failed"

