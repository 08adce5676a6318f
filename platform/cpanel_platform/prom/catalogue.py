"""The PromQL catalogue: one named query per figure a pane shows.

Each query names the panes that show it, so the client refreshes a query only while one of
them is visible ("header" is always visible). The queries are written for the exporters a
kube-prometheus platform runs (node-exporter, kubelet, ingress-nginx, blackbox, the Crunchy
exporter), so they work unchanged against production and the sandbox.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

SliSource = Literal["requests", "probe"]

HEADER = "header"
# The windows the SLI pane reports and the burn-rate alerts of the SRE workbook use.
BURN_WINDOWS = ("5m", "30m", "1h", "2h", "6h", "1d", "3d")
REPORT_WINDOWS = ("1h", "1d", "30d")
IO_WINDOW = "5m"
UTILISATION_HISTORY = 6 * 3600  # seconds of the volumes pane's sparkline
UTILISATION_STEP = 300
DAILY_SPAN = 30 * 86400
HOURLY_SPAN = 7 * 86400


@dataclass(frozen=True)
class Query:
    """A named PromQL expression. A range query has `span` and `step` (seconds)."""

    name: str
    promql: str
    panes: frozenset[str]
    span: float = 0.0
    step: float = 0.0

    @property
    def is_range(self) -> bool:
        return self.span > 0


def error_ratio(source: SliSource, window: str) -> str:
    """The share of bad events over `window`: 5xx answers, or failed probes."""
    if source == "probe":
        return f"1 - avg(avg_over_time(probe_success[{window}]))"
    requests = "nginx_ingress_controller_requests"
    return (
        f'sum(rate({requests}{{status=~"5.."}}[{window}]))'
        f" / sum(rate({requests}[{window}]))"
    )


def year_to_date(now: datetime) -> str:
    """A PromQL duration from 1 January (UTC) to `now`, at least one minute."""
    start = datetime(now.year, 1, 1, tzinfo=UTC)
    return f"{max(60, int((now - start).total_seconds()))}s"


def queries(source: SliSource = "requests", now: datetime | None = None) -> tuple[Query, ...]:
    """Every query of the catalogue, with the year-to-date window as of `now`."""
    now = now or datetime.now(UTC)

    def q(name: str, promql: str, *panes: str, span: float = 0, step: float = 0) -> Query:
        return Query(name, promql, frozenset(panes), span, step)

    sli = [
        q(f"error_ratio_{w}", error_ratio(source, w), "sli")
        for w in BURN_WINDOWS
        if w not in REPORT_WINDOWS
    ]
    sli += [
        q(f"error_ratio_{w}", error_ratio(source, w), "sli", "overview", HEADER)
        for w in REPORT_WINDOWS
    ]
    sli += [
        q("error_ratio_ytd", error_ratio(source, year_to_date(now)), "sli"),
        q("error_ratio_daily", error_ratio(source, "1d"), "sli", span=DAILY_SPAN, step=86400),
        q("error_ratio_hourly", error_ratio(source, "1h"), "sli", span=HOURLY_SPAN, step=3600),
        q("alerts_firing", 'ALERTS{alertstate="firing"}', HEADER, "overview"),
    ]
    io = ("volumes", "overview")
    disk = [
        q("disk_utilisation", f"rate(node_disk_io_time_seconds_total[{IO_WINDOW}])",
          *io),
        q("disk_saturation", f"rate(node_disk_io_time_weighted_seconds_total[{IO_WINDOW}])",
          *io),
        q("disk_read_bytes", f"rate(node_disk_read_bytes_total[{IO_WINDOW}])", *io),
        q("disk_written_bytes", f"rate(node_disk_written_bytes_total[{IO_WINDOW}])", *io),
        q("disk_reads", f"rate(node_disk_reads_completed_total[{IO_WINDOW}])", *io),
        q("disk_writes", f"rate(node_disk_writes_completed_total[{IO_WINDOW}])", *io),
        q("disk_info", "node_disk_info", *io),
        q("disk_utilisation_history", f"rate(node_disk_io_time_seconds_total[{IO_WINDOW}])",
          "volumes", span=UTILISATION_HISTORY, step=UTILISATION_STEP),
        q("volume_used_bytes", "kubelet_volume_stats_used_bytes", *io),
        q("volume_capacity_bytes", "kubelet_volume_stats_capacity_bytes", "volumes",
          "overview"),
    ]
    postgres = [
        q("pg_lag_bytes", "ccp_replication_lag_size_bytes", "postgres", "overview"),
        q("pg_replay_seconds", "ccp_replication_lag_replay_time", "postgres", "overview"),
        q("pg_in_recovery", "ccp_is_in_recovery_status", "postgres", "overview"),
        q("pg_backup_age", "ccp_backrest_last_full_backup_time_since_completion_seconds",
          "postgres", "overview"),
    ]
    pods = [
        q("pod_cpu", 'sum by (namespace, pod) '
          '(rate(container_cpu_usage_seconds_total{container!=""}[5m]))', "pods"),
        q("pod_memory", 'sum by (namespace, pod) '
          '(container_memory_working_set_bytes{container!=""})', "pods"),
    ]
    return (*sli, *disk, *postgres, *pods)


def for_panes(all_queries: tuple[Query, ...], visible: set[str]) -> tuple[Query, ...]:
    """The queries to refresh while `visible` panes (plus the header) are on screen."""
    wanted = visible | {HEADER}
    return tuple(query for query in all_queries if query.panes & wanted)
