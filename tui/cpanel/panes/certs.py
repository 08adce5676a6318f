"""Certificates: readiness, expiry and renewal of every cert-manager Certificate, and the
last success of the CronJob that copies the certificate to the CDN."""

from __future__ import annotations

import math
import time
from typing import Any

from cpanel_platform.kube.kinds import CERTIFICATES, CRONJOBS
from cpanel_platform.views.certs import CertificateRow, CertificatesView, certificates_view
from cpanel_platform.views.common import age
from rich.console import Group, RenderableType
from rich.text import Text

from cpanel.panes.base import ObjectRef, TablePane
from cpanel.widgets.cells import ROW_STYLE, TEXT_STYLE
from cpanel.widgets.table import Column, Row


def _date(epoch: float | None) -> str:
    return "-" if epoch is None else time.strftime("%Y-%m-%d", time.gmtime(epoch))


def _days(days: float | None) -> str:
    """Whole days left, rounded down (a certificate with 89.6 days has 89 full days)."""
    if days is None:
        return "-"
    return "expired" if days < 0 else str(math.floor(days))


class CertificatesPane(TablePane):
    pane_id = "certs"
    title = "Certificates"
    aliases = ("certs", "cert", "certificates", "certificate")
    kinds = (CERTIFICATES, CRONJOBS)
    offers = frozenset({"describe", "yaml", "renew"})
    detail_height = 5
    columns = (
        Column("namespace", "NAMESPACE", 20, sort_letter="P"),
        Column("name", "NAME", 36),
        Column("ready", "READY", sort_letter="E"),
        Column("dns", "DNS NAMES", 30),
        Column("issuer", "ISSUER", 28, sort_letter="I"),
        Column("not_after", "NOT AFTER", sort_letter="F"),
        Column("days", "DAYS LEFT", align="right", sort_letter="D"),
        Column("renewal", "RENEWAL", sort_letter="W"),
        Column("failure", "LAST FAILURE", sort_letter="L"),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.view: CertificatesView | None = None
        self.now = 0.0

    def build(self, now: float) -> tuple[CertificatesView, list[Row], float]:
        view = certificates_view(self.hub.objects(CERTIFICATES), self.hub.objects(CRONJOBS), now)
        return view, [self._row(cert, now) for cert in view.rows], now

    def show(self, model: tuple[CertificatesView, list[Row], float]) -> None:
        self.view, rows, self.now = model
        super().show(rows)

    @staticmethod
    def _row(cert: CertificateRow, now: float) -> Row:
        ready = "Issuing" if cert.issuing else cert.ready
        failure = f"{age(now - cert.last_failure)} ago" if cert.last_failure else "-"
        cells = (cert.namespace, cert.name, ready, ",".join(cert.dns_names), cert.issuer,
                 _date(cert.not_after), _days(cert.days_left),
                 _date(cert.renewal_time), failure)
        sort = (cert.namespace, cert.name, ready, ",".join(cert.dns_names), cert.issuer,
                cert.not_after, cert.days_left, cert.renewal_time, cert.last_failure)
        return Row(key=cert.key, cells=cells, sort_values=sort, style=ROW_STYLE[cert.severity],
                   data=cert)

    def detail(self, row: Row) -> RenderableType:
        cert: CertificateRow = row.data
        why = Text(f"{cert.name}: ", style="bold")
        why.append(f"Ready={cert.ready}", style=TEXT_STYLE[cert.severity])
        if cert.reason or cert.message:
            why.append(f" {cert.reason}: {cert.message}")
        why.append(f"   secret {cert.secret_name or '-'}", style="dim")
        return Group(why, self._sync_line())

    def _sync_line(self) -> Text:
        job = self.view.sync_job if self.view else None
        if job is None:
            return Text("Certificate sync: no CronJob found", style="dim")
        line = Text(f"Certificate sync {job.namespace}/{job.name} ({job.schedule}): ",
                    style="bold")
        if job.last_success is None:
            line.append("never succeeded", style=TEXT_STYLE[job.severity])
        else:
            line.append(f"last success {age(self.now - job.last_success)} ago",
                        style=TEXT_STYLE[job.severity])
        if job.suspended:
            line.append("  suspended", style="yellow")
        if job.active:
            line.append(f"  {job.active} running")
        return line

    def ref(self, row: Row) -> ObjectRef:
        cert: CertificateRow = row.data
        return ObjectRef(CERTIFICATES, cert.namespace, cert.name)
