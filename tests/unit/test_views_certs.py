"""The certificates view: cert-manager v1 status read into rows, and the CDN sync CronJob."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from cpanel_platform.views.certs import certificates_view
from cpanel_platform.views.common import Severity

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC).timestamp()
DAY = 86400


def ts(ago: float) -> str:
    return datetime.fromtimestamp(NOW - ago, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def cert(
    name: str = "wildcard-example-com",
    status: dict[str, Any] | None = None,
    issuer: dict[str, str] | None = None,
) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "apiVersion": "cert-manager.io/v1",
        "kind": "Certificate",
        "metadata": {"name": name, "namespace": "app"},
        "spec": {
            "secretName": f"{name}-tls",
            "dnsNames": ["example.com", "*.example.com"],
            "issuerRef": issuer or {"name": "letsencrypt-prod", "kind": "ClusterIssuer"},
        },
    }
    if status is not None:
        obj["status"] = status
    return obj


def issued(days_left: float = 60, **more: Any) -> dict[str, Any]:
    """The status of a certificate issued 30 days ago, renewing with a third of its life left."""
    return {
        "conditions": [
            {
                "type": "Ready",
                "status": "True",
                "reason": "Ready",
                "message": "Certificate is up to date and has not expired",
                "lastTransitionTime": ts(30 * DAY),
            }
        ],
        "notBefore": ts((90 - days_left) * DAY),
        "notAfter": ts(-days_left * DAY),
        "renewalTime": ts(-(days_left - 30) * DAY),
        "revision": 2,
        **more,
    }


def row_of(c: dict[str, Any]):
    (row,) = certificates_view([c], [], NOW).rows
    return row


def test_healthy_certificate() -> None:
    row = row_of(cert(status=issued()))
    assert row.key == "app/wildcard-example-com"
    assert row.dns_names == ("example.com", "*.example.com")
    assert row.issuer == "ClusterIssuer/letsencrypt-prod"
    assert (row.ready, row.reason, row.issuing, row.secret_name) == (
        "True",
        "Ready",
        False,
        "wildcard-example-com-tls",
    )
    assert row.not_after == NOW + 60 * DAY
    assert row.days_left == pytest.approx(60)
    assert row.renewal_time == NOW + 30 * DAY
    assert row.last_failure is None
    assert row.severity is Severity.OK


def test_never_issued_certificate() -> None:
    row = row_of(cert(issuer={"name": "selfsigned"}))
    assert (row.ready, row.reason, row.not_after, row.days_left) == (
        "Unknown",
        "not issued yet",
        None,
        None,
    )
    assert row.issuer == "Issuer/selfsigned"  # kind defaults to a namespaced Issuer
    assert row.severity is Severity.WARN


def test_not_ready_certificate_is_an_error() -> None:
    status = {
        "conditions": [
            {
                "type": "Ready",
                "status": "False",
                "reason": "DoesNotExist",
                "message": "Issuing certificate as Secret does not exist",
            },
            {"type": "Issuing", "status": "True", "reason": "DoesNotExist"},
        ]
    }
    row = row_of(cert(status=status))
    assert (row.ready, row.reason, row.issuing) == ("False", "DoesNotExist", True)
    assert row.message == "Issuing certificate as Secret does not exist"
    assert row.severity is Severity.ERROR


@pytest.mark.parametrize(
    ("days_left", "severity"),
    [(60, Severity.OK), (20.5, Severity.WARN), (8, Severity.WARN), (6.9, Severity.ERROR)],
)
def test_expiry_thresholds(days_left: float, severity: Severity) -> None:
    assert row_of(cert(status=issued(days_left))).severity is severity


def test_renewal_in_progress_is_a_warning() -> None:
    status = issued()
    status["conditions"].append(
        {"type": "Issuing", "status": "True", "reason": "ManuallyTriggered"}
    )
    row = row_of(cert(status=status))
    assert (row.issuing, row.severity) == (True, Severity.WARN)


def test_failed_renewal_says_why_while_still_ready() -> None:
    error = "Failed to wait for order resource to become ready: NXDOMAIN"
    status = issued(25, lastFailureTime=ts(600), failedIssuanceAttempts=1)
    status["conditions"].append(
        {"type": "Issuing", "status": "False", "reason": "Failed", "message": error}
    )
    row = row_of(cert(status=status))
    assert (row.ready, row.reason, row.message) == ("True", "Failed", error)
    assert row.last_failure == NOW - 600
    assert row.severity is Severity.WARN


def test_expired_certificate() -> None:
    status = issued(-1)
    status["conditions"][0].update(status="False", reason="Expired")
    row = row_of(cert(status=status))
    assert row.days_left == pytest.approx(-1)
    assert (row.reason, row.severity) == ("Expired", Severity.ERROR)


def cronjob(
    name: str,
    namespace: str = "app",
    last_success: float | None = None,
    suspend: bool = False,
    active: int = 0,
) -> dict[str, Any]:
    status: dict[str, Any] = {"lastScheduleTime": ts(3 * 3600)}
    if last_success is not None:
        status["lastSuccessfulTime"] = ts(last_success)
    if active:
        status["active"] = [{"kind": "Job", "name": f"{name}-{i}"} for i in range(active)]
    return {
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"schedule": "0 9 * * *", "suspend": suspend, "jobTemplate": {}},
        "status": status,
    }


def test_sync_job_prefers_a_cert_sync_name() -> None:
    jobs = [
        cronjob("backup"),
        cronjob("cert-cleanup", namespace="a"),
        cronjob("fastly-cert-sync", last_success=3 * 3600, active=1),
    ]
    job = certificates_view([], jobs, NOW).sync_job
    assert job is not None
    assert (job.key, job.schedule, job.active, job.suspended) == (
        "app/fastly-cert-sync",
        "0 9 * * *",
        1,
        False,
    )
    assert (job.last_schedule, job.last_success) == (NOW - 3 * 3600, NOW - 3 * 3600)
    assert job.severity is Severity.OK
    # Without a cert-sync, any name with "cert" in it.
    fallback = certificates_view([], jobs[:2], NOW).sync_job
    assert fallback is not None and fallback.name == "cert-cleanup"


def test_sync_job_by_name() -> None:
    jobs = [cronjob("fastly-cert-sync"), cronjob("copy-tls", namespace="cdn")]
    by_name = certificates_view([], jobs, NOW, sync_job_name="copy-tls").sync_job
    by_path = certificates_view([], jobs, NOW, sync_job_name="cdn/copy-tls").sync_job
    assert by_name == by_path and by_name is not None and by_name.key == "cdn/copy-tls"
    assert certificates_view([], jobs, NOW, sync_job_name="missing").sync_job is None
    assert certificates_view([], [cronjob("backup")], NOW).sync_job is None


@pytest.mark.parametrize(
    ("last_success", "suspend", "severity"),
    [
        (35 * 3600, False, Severity.OK),
        (37 * 3600, False, Severity.WARN),  # a daily run was missed
        (None, False, Severity.WARN),  # never succeeded
        (3600, True, Severity.WARN),  # suspended: the CDN stops getting renewals
    ],
)
def test_sync_job_severity(last_success: float | None, suspend: bool, severity: Severity) -> None:
    jobs = [cronjob("fastly-cert-sync", last_success=last_success, suspend=suspend)]
    job = certificates_view([], jobs, NOW).sync_job
    assert job is not None and job.severity is severity


def test_rows_sorted_by_namespace_and_name() -> None:
    view = certificates_view([cert("b"), cert("a")], [], NOW)
    assert [r.name for r in view.rows] == ["a", "b"]
