"""The app header: where we are (context, cluster, region, version, user), the SLI now, the
firing alerts, and how fresh each source is."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from ..freshness import Freshness, State
from ..linode import LinodeSnapshot
from ..prom.results import Results
from .common import Severity, answered, instant
from .sli import sli_report

# kube-prometheus alerts that fire all the time on purpose (a dead man's switch, and the
# inhibitor of info-level alerts); they say nothing about the platform.
ALWAYS_FIRING = frozenset({"Watchdog", "InfoInhibitor"})
_ALERT_ORDER = {"critical": 0, "warning": 1, "info": 2}
_FAILING = (State.RECONNECTING, State.STALE)


@dataclass(frozen=True)
class HeaderInfo:
    context: str
    cluster_label: str  # "" when the Linode side is unknown
    region: str
    k8s_version: str  # LKE's "1.31", else the API server's "v1.31.2", else ""
    user: str
    slo_target: float
    sli_30d: float | None
    budget_left_ratio: float | None
    alerts_firing: int | None  # None: Prometheus did not answer
    alerts: tuple[str, ...]  # "KubePodCrashLooping warning (2)", most severe first
    sources: tuple[Freshness, ...]
    severity: Severity


def header_info(
    context: str,
    user: str,
    linode: LinodeSnapshot | None,
    server_version: str | None,
    results: Results | None,
    slo_target: float,
    window_days: int,
    sources: Iterable[Freshness],
    now: float,
) -> HeaderInfo:
    cluster = linode.cluster if linode else None
    report = sli_report(results, slo_target, window_days, now)
    thirty_days = report.window("30d")
    firing = [
        s for s in instant(results, "alerts_firing")
        if s.labels.get("alertname") not in ALWAYS_FIRING
    ]
    counts = Counter(
        (s.labels.get("alertname", "?"), s.labels.get("severity", "")) for s in firing
    )
    ordered = sorted(counts.items(), key=lambda a: (_ALERT_ORDER.get(a[0][1], 3), a[0][0]))
    alerts = tuple(
        " ".join(filter(None, (name, level, f"({n})" if n > 1 else "")))
        for (name, level), n in ordered
    )
    sources = tuple(sources)

    severity = report.severity
    levels = {level for _, level in counts}
    if "critical" in levels:
        severity = Severity.ERROR
    elif "warning" in levels or any(s.state in _FAILING for s in sources):
        severity = max(severity, Severity.WARN)
    return HeaderInfo(
        context=context,
        cluster_label=cluster.label if cluster else "",
        region=cluster.region if cluster else "",
        k8s_version=(cluster.k8s_version if cluster else "") or server_version or "",
        user=user,
        slo_target=slo_target,
        sli_30d=thirty_days.availability if thirty_days else None,
        budget_left_ratio=report.budget_left_ratio,
        alerts_firing=len(firing) if answered(results, "alerts_firing") else None,
        alerts=alerts,
        sources=sources,
        severity=severity,
    )
