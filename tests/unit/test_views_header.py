"""The header: where we are, the SLI now, firing alerts and the sources' freshness."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from cpanel_platform.freshness import Freshness, State
from cpanel_platform.linode import LinodeSnapshot, LkeCluster
from cpanel_platform.prom.results import Sample
from cpanel_platform.views.common import Severity
from cpanel_platform.views.header import header_info

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC).timestamp()
LINODE = LinodeSnapshot(
    cluster=LkeCluster(
        id=118447, label="prod", region="us-east", k8s_version="1.31",
        high_availability=True, status="ready", pools=(),
    ),
    events=(),
    volumes=(),
)
LIVE = (Freshness("kubernetes", State.LIVE, NOW - 60), Freshness("prometheus", State.LIVE, NOW))


def alert(name: str, severity: str, **labels: str) -> Sample:
    return Sample({"alertname": name, "alertstate": "firing", "severity": severity, **labels}, 1)


def results(*alerts: Sample, ratio_30d: float = 0.00005) -> dict[str, tuple[Sample, ...]]:
    return {"error_ratio_30d": (Sample({}, ratio_30d),), "alerts_firing": alerts}


def test_header_from_lke_and_prometheus() -> None:
    answer = results(
        alert("Watchdog", "none"),
        alert("KubePodCrashLooping", "warning", pod="web-1"),
        alert("KubePodCrashLooping", "warning", pod="web-2"),
        alert("CCPReplicationLagCritical", "critical"),
        alert("CertificateExpiringSoon", "info"),
    )
    header = header_info("lke118447-ctx", "ops@example.com", LINODE, "v1.31.2", answer,
                         0.9999, 30, LIVE, NOW)

    assert (header.context, header.user) == ("lke118447-ctx", "ops@example.com")
    assert (header.cluster_label, header.region, header.k8s_version) == ("prod", "us-east", "1.31")
    assert header.slo_target == 0.9999
    assert header.sli_30d == pytest.approx(0.99995)
    assert header.budget_left_ratio == pytest.approx(0.5)
    assert header.alerts_firing == 4  # Watchdog fires on purpose and is not counted
    assert header.alerts == (
        "CCPReplicationLagCritical critical",
        "KubePodCrashLooping warning (2)",
        "CertificateExpiringSoon info",
    )
    assert header.sources == LIVE
    assert header.severity is Severity.ERROR


def test_without_linode_the_api_servers_version() -> None:
    header = header_info("ctx", "me", None, "v1.31.2", results(), 0.9999, 30, LIVE, NOW)

    assert (header.cluster_label, header.region, header.k8s_version) == ("", "", "v1.31.2")
    assert header.alerts_firing == 0 and header.alerts == ()
    assert header.severity is Severity.OK


def test_no_prometheus() -> None:
    sources = (Freshness("prometheus", State.RECONNECTING, NOW - 30, "connection refused"),)
    header = header_info("ctx", "me", LINODE, None, None, 0.9999, 30, sources, NOW)

    assert header.sli_30d is None and header.budget_left_ratio is None
    assert header.alerts_firing is None and header.alerts == ()
    assert header.severity is Severity.WARN  # a source is failing


def test_budget_spent_shows_in_the_header() -> None:
    header = header_info("ctx", "me", LINODE, None, results(ratio_30d=0.0002), 0.9999, 30,
                         LIVE, NOW)

    assert header.budget_left_ratio == pytest.approx(-1.0)
    assert header.severity is Severity.ERROR
