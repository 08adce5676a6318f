"""The certificates pane: cert-manager v1 Certificates (readiness, expiry, renewal, failures) and
the CronJob that copies the wildcard certificate to the CDN."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ..timestamps import parse_time
from .common import Severity, condition, name_of, namespace_of

DAY = 86400.0
EXPIRY_ERROR_DAYS = 7
EXPIRY_WARN_DAYS = 21
# The sync runs daily; a day and a half without success means at least one run was missed.
SYNC_STALE_SECONDS = 36 * 3600
NOT_ISSUED = "not issued yet"


@dataclass(frozen=True)
class CertificateRow:
    key: str  # "namespace/name"
    namespace: str
    name: str
    dns_names: tuple[str, ...]
    issuer: str  # "ClusterIssuer/letsencrypt-prod"
    ready: str  # "True" | "False" | "Unknown"
    reason: str
    message: str
    not_after: float | None  # epoch seconds
    days_left: float | None  # negative once expired
    renewal_time: float | None
    last_failure: float | None
    issuing: bool
    secret_name: str
    severity: Severity


@dataclass(frozen=True)
class CronJobRow:
    key: str  # "namespace/name"
    namespace: str
    name: str
    schedule: str
    last_schedule: float | None
    last_success: float | None
    suspended: bool
    active: int  # jobs running now
    severity: Severity


@dataclass(frozen=True)
class CertificatesView:
    rows: tuple[CertificateRow, ...]
    sync_job: CronJobRow | None  # None when no CronJob matches


def _severity(
    ready: str, days_left: float | None, issuing: bool, failed: bool, reported: bool
) -> Severity:
    if not reported:  # cert-manager has not looked at it yet
        return Severity.WARN
    if ready != "True" or (days_left is not None and days_left < EXPIRY_ERROR_DAYS):
        return Severity.ERROR
    if (days_left is not None and days_left < EXPIRY_WARN_DAYS) or issuing or failed:
        return Severity.WARN
    return Severity.OK


def certificate_row(cert: dict[str, Any], now: float) -> CertificateRow:
    namespace, name = namespace_of(cert), name_of(cert)
    spec, status = cert.get("spec") or {}, cert.get("status") or {}
    ref = spec.get("issuerRef") or {}
    ready_condition = condition(cert, "Ready")
    issuing_condition = condition(cert, "Issuing") or {}
    reported = bool(status.get("conditions") or status.get("notAfter"))
    ready = (ready_condition or {}).get("status") or "Unknown"
    reason = (ready_condition or {}).get("reason") or ("" if reported else NOT_ISSUED)
    message = (ready_condition or {}).get("message") or ""
    last_failure = parse_time(status.get("lastFailureTime"))
    # A failed renewal leaves Ready=True until expiry: say why the renewal is failing.
    if last_failure is not None and issuing_condition.get("status") != "True" and ready == "True":
        reason = issuing_condition.get("reason") or "Failed"
        message = issuing_condition.get("message") or message
    not_after = parse_time(status.get("notAfter"))
    days_left = None if not_after is None else (not_after - now) / DAY
    issuing = issuing_condition.get("status") == "True"
    return CertificateRow(
        key=f"{namespace}/{name}",
        namespace=namespace,
        name=name,
        dns_names=tuple(spec.get("dnsNames") or ()),
        issuer=f"{ref.get('kind') or 'Issuer'}/{ref.get('name', '')}",
        ready=ready,
        reason=reason,
        message=message,
        not_after=not_after,
        days_left=days_left,
        renewal_time=parse_time(status.get("renewalTime")),
        last_failure=last_failure,
        issuing=issuing,
        secret_name=spec.get("secretName", ""),
        severity=_severity(ready, days_left, issuing, last_failure is not None, reported),
    )


def cronjob_row(cronjob: dict[str, Any], now: float) -> CronJobRow:
    namespace, name = namespace_of(cronjob), name_of(cronjob)
    spec, status = cronjob.get("spec") or {}, cronjob.get("status") or {}
    last_success = parse_time(status.get("lastSuccessfulTime"))
    suspended = bool(spec.get("suspend"))
    stale = last_success is None or now - last_success > SYNC_STALE_SECONDS
    return CronJobRow(
        key=f"{namespace}/{name}",
        namespace=namespace,
        name=name,
        schedule=spec.get("schedule", ""),
        last_schedule=parse_time(status.get("lastScheduleTime")),
        last_success=last_success,
        suspended=suspended,
        active=len(status.get("active") or ()),
        severity=Severity.WARN if stale or suspended else Severity.OK,
    )


def _sync_job(cronjobs: Iterable[dict[str, Any]], name: str | None) -> dict[str, Any] | None:
    """The CronJob named `name` ("name" or "namespace/name"); without a name, the first (by
    namespace/name) whose name contains "cert-sync", else the first containing "cert"."""
    ordered = sorted(cronjobs, key=lambda c: (namespace_of(c), name_of(c)))
    if name:
        return next(
            (c for c in ordered if name in (name_of(c), f"{namespace_of(c)}/{name_of(c)}")), None
        )
    for fragment in ("cert-sync", "cert"):
        found = next((c for c in ordered if fragment in name_of(c)), None)
        if found is not None:
            return found
    return None


def certificates_view(
    certificates: Iterable[dict[str, Any]],
    cronjobs: Iterable[dict[str, Any]],
    now: float,
    sync_job_name: str | None = None,
) -> CertificatesView:
    rows = sorted((certificate_row(c, now) for c in certificates), key=lambda r: r.key)
    job = _sync_job(cronjobs, sync_job_name)
    return CertificatesView(tuple(rows), cronjob_row(job, now) if job is not None else None)
