"""The alerting rules a kube-prometheus platform like the story's runs, for the sandbox's
Prometheus: multi-window burn-rate alerts on the ingress availability SLO (Google SRE
workbook, as kube-prometheus writes them for the API server), and the usual alerts of the
Crunchy exporter, cert-manager, node-exporter and blackbox-exporter mixins.

Every alert has a `severity` label: `critical` pages, `warning` makes a ticket.
"""

from __future__ import annotations

from typing import Any

SLO = 0.9999
MIB = 2**20
REQUESTS = "nginx_ingress_controller_requests"
# (long window, short window, burn-rate factor, for, severity), from the SRE workbook's table
# with kube-prometheus's `for` durations.
BURN_RATE_ALERTS = (
    ("1h", "5m", 14.4, "2m", "critical"),
    ("6h", "30m", 6, "15m", "critical"),
    ("1d", "2h", 3, "1h", "warning"),
    ("3d", "6h", 1, "3h", "warning"),
)


def error_ratio_record(window: str) -> str:
    """The recording rule holding the ingress 5xx ratio over `window`."""
    return f"ingress:request_errors:ratio_rate{window}"


def rule_groups(slo: float = SLO) -> dict[str, Any]:
    """The rules file's content (Prometheus's `groups:` format)."""
    budget = f"{1 - slo:.6g}"
    windows = sorted({w for long, short, *_ in BURN_RATE_ALERTS for w in (long, short)})
    records = [
        {
            "record": error_ratio_record(w),
            "expr": f'sum(rate({REQUESTS}{{status=~"5.."}}[{w}])) / sum(rate({REQUESTS}[{w}]))',
        }
        for w in windows
    ]
    burn = [
        {
            "alert": "IngressErrorBudgetBurn",
            "expr": (
                f"{error_ratio_record(long)} > ({factor} * {budget})"
                f" and {error_ratio_record(short)} > ({factor} * {budget})"
            ),
            "for": wait,
            "labels": {"severity": severity, "long": long, "short": short},
            "annotations": {
                "summary": "The ingress is burning its availability error budget too fast.",
                "description": (
                    f"{{{{ $value | humanizePercentage }}}} of requests failed over the last "
                    f"{long} (and over {short}): {factor}x the {slo:.2%} SLO's budget rate."
                ),
            },
        }
        for long, short, factor, wait, severity in BURN_RATE_ALERTS
    ]
    lag = [
        {
            "alert": "PostgresReplicationLagHigh",
            "expr": f"ccp_replication_lag_size_bytes > {mib} * {MIB}",
            "for": "1m",
            "labels": {"severity": severity},
            "annotations": {
                "summary": f"A Postgres replica is more than {mib} MiB behind its primary.",
                "description": (
                    "{{ $labels.pg_cluster }}: replica {{ $labels.replica }} is "
                    "{{ $value | humanize1024 }}B behind."
                ),
            },
        }
        for mib, severity in ((100, "critical"), (50, "warning"))
    ]
    certificates = [
        {
            "alert": "CertificateNotReady",
            "expr": (
                "max by (name, namespace, condition) "
                '(certmanager_certificate_ready_status{condition!="True"} == 1)'
            ),
            "for": "10m",
            "labels": {"severity": "critical"},
            "annotations": {
                "summary": "A certificate is not ready to serve traffic.",
                "description": (
                    "{{ $labels.namespace }}/{{ $labels.name }} has been Ready="
                    "{{ $labels.condition }} for 10 minutes."
                ),
            },
        },
        {
            "alert": "CertificateExpiringSoon",
            "expr": (
                "min by (name, namespace) "
                "(certmanager_certificate_expiration_timestamp_seconds - time()) < 7 * 86400"
            ),
            "for": "1h",
            "labels": {"severity": "warning"},
            "annotations": {
                "summary": "A certificate expires within a week and has not been renewed.",
                "description": (
                    "{{ $labels.namespace }}/{{ $labels.name }} expires in "
                    "{{ $value | humanizeDuration }}."
                ),
            },
        },
    ]
    hosts = [
        {
            "alert": "VolumeIOSaturated",
            "expr": "rate(node_disk_io_time_seconds_total[5m]) >= 0.9",
            "for": "10m",
            "labels": {"severity": "warning"},
            "annotations": {
                "summary": "A disk has been busy at least 90% of the time for 10 minutes.",
                "description": (
                    "{{ $labels.device }} on {{ $labels.instance }} is "
                    "{{ $value | humanizePercentage }} busy."
                ),
            },
        },
        {
            "alert": "ProbeFailing",
            "expr": "probe_success == 0",
            "for": "1m",
            "labels": {"severity": "critical"},
            "annotations": {
                "summary": "A blackbox probe has failed for a minute.",
                "description": "{{ $labels.instance }} does not answer the probe.",
            },
        },
    ]
    return {
        "groups": [
            {"name": "ingress-slo.rules", "rules": records},
            {"name": "ingress-slo.alerts", "rules": burn},
            {"name": "postgres.alerts", "rules": lag},
            {"name": "cert-manager.alerts", "rules": certificates},
            {"name": "node-and-probe.alerts", "rules": hosts},
        ]
    }
