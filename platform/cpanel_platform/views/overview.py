"""The overview: one card per pane, with a headline figure and the worst thing in that pane.

Every card is built from the pane's own view, so the overview never disagrees with the pane.
None for a view means its source has not answered yet.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from .certs import EXPIRY_WARN_DAYS, SYNC_STALE_SECONDS, CertificatesView
from .common import Severity, age, percent, size
from .nodes import NodeRow, NodesView
from .pods import PodRow
from .postgres import PostgresView
from .rollouts import RolloutRow
from .sli import SliReport
from .volumes import VolumesView

Pane = Literal["pods", "nodes", "certs", "postgres", "volumes", "sli", "rollouts"]
TITLES: dict[Pane, str] = {
    "pods": "Pods",
    "nodes": "Nodes",
    "certs": "Certificates",
    "postgres": "Postgres",
    "volumes": "Volume IO",
    "sli": "Availability",
    "rollouts": "Rollouts",
}


@dataclass(frozen=True)
class Card:
    pane: Pane
    title: str
    headline: str  # "22/23 running"
    detail: str  # one line: the worst thing, or that all is well
    severity: Severity

    @property
    def key(self) -> str:
        return self.pane


def _card(pane: Pane, headline: str, detail: str, severity: Severity) -> Card:
    return Card(pane, TITLES[pane], headline, detail, severity)


def _count(n: int, thing: str) -> str:
    return f"{n} {thing}" + ("" if n == 1 else "s")


def _no_data(pane: Pane) -> Card:
    return _card(pane, "…", "no data", Severity.NONE)


def pods_card(pods: Sequence[PodRow] | None) -> Card:
    if pods is None:
        return _no_data("pods")
    live = [p for p in pods if p.severity is not Severity.NONE]  # not finished Job pods
    if not live:
        return _card("pods", "no pods", "", Severity.NONE)
    running = sum(1 for p in live if p.status == "Running" and p.ready_count == p.container_count)
    worst = max(live, key=lambda p: (p.severity, p.restarts))
    detail = "all running"
    if worst.severity > Severity.OK:
        restarts = f" ({worst.restarts} restarts)" if worst.restarts else ""
        detail = f"{worst.name} {worst.status}{restarts}"
    return _card("pods", f"{running}/{len(live)} running", detail, worst.severity)


def _node_problem(node: NodeRow) -> str:
    if node.k8s_ready == "-":
        return "not joined yet"
    if node.k8s_ready != "True":
        return "NotReady"
    if not node.schedulable:
        return "cordoned"
    return f"Linode {node.linode_status or node.instance_status}"


def nodes_card(nodes: NodesView | None) -> Card:
    if nodes is None:
        return _no_data("nodes")
    rows = [n for pool in nodes.pools for n in pool.nodes] + list(nodes.unpooled)
    headline = f"{nodes.ready_nodes}/{nodes.total_nodes} nodes ready"
    worst = max(rows, key=lambda n: n.severity, default=None)
    severity = worst.severity if worst else Severity.NONE
    if nodes.ready_nodes < nodes.total_nodes:
        severity = max(severity, Severity.WARN)
    busy = [e for e in nodes.events if e.status in ("scheduled", "started")]
    if worst is not None and worst.severity > Severity.OK:
        detail = f"{worst.name} {_node_problem(worst)}"
    elif busy:
        detail = f"{busy[0].action} {busy[0].status}: {busy[0].entity}"
    else:
        detail = "all schedulable" if rows else ""
    return _card("nodes", headline, detail, severity)


def _days(days_left: float | None) -> float:
    return math.inf if days_left is None else days_left


def certs_card(certs: CertificatesView | None) -> Card:
    if certs is None:
        return _no_data("certs")
    days = [r.days_left for r in certs.rows if r.days_left is not None]
    if not days:
        headline = _count(len(certs.rows), "certificate")
    elif min(days) < 0:
        headline = "expired"
    else:
        headline = f"min {math.floor(min(days))}d left"  # whole days actually left
    severity = max((r.severity for r in certs.rows), default=Severity.NONE)
    worst = max(certs.rows, key=lambda r: (r.severity, -_days(r.days_left)), default=None)
    sync = certs.sync_job
    if worst is not None and worst.severity > Severity.OK and worst.ready != "True":
        detail = f"{worst.name} not ready: {worst.reason or worst.ready}"
    elif worst is not None and worst.severity > Severity.OK:
        left = worst.days_left
        if left is None:
            detail = f"{worst.name} {worst.reason}"
        elif left < 0:
            detail = f"{worst.name} expired"
        else:
            detail = f"{worst.name} expires in {math.floor(left)}d"
        detail += " (renewing)" if worst.issuing else ""
    elif sync is not None and sync.suspended:
        detail = f"{sync.name} suspended"
    elif sync is not None and sync.severity > Severity.OK:
        detail = f"{sync.name}: no success in {age(SYNC_STALE_SECONDS)}"
    else:
        detail = f"all ready, none within {EXPIRY_WARN_DAYS}d" if certs.rows else ""
    if sync is not None:
        severity = max(severity, sync.severity)
    return _card("certs", headline, detail, severity)


def postgres_card(postgres: PostgresView | None) -> Card:
    if postgres is None:
        return _no_data("postgres")
    if not postgres.clusters:
        return _card("postgres", "no clusters", "", Severity.NONE)
    instances = [i for c in postgres.clusters for i in c.instances]
    lags = [i.lag_bytes for i in instances if i.lag_bytes is not None]
    if lags:
        headline = f"lag {size(max(lags))}"
    else:
        ready = sum(c.ready for c in postgres.clusters)
        headline = f"{ready}/{sum(c.desired for c in postgres.clusters)} ready"
    cluster = max(postgres.clusters, key=lambda c: c.severity)
    if cluster.problem:
        detail = f"{cluster.name}: {cluster.problem}"
    else:
        detail = f"{cluster.name} primary {cluster.primary}"
    if not postgres.metrics:
        detail += " · no metrics"
    return _card("postgres", headline, detail, cluster.severity)


def volumes_card(volumes: VolumesView | None) -> Card:
    if volumes is None:
        return _no_data("volumes")
    if not volumes.rows:
        return _card("volumes", "no volumes", "", Severity.NONE)
    measured = [r for r in volumes.rows if r.utilisation is not None]
    severity = max(r.severity for r in volumes.rows)
    busiest = max(measured, key=lambda r: r.utilisation or 0, default=None)
    if busiest is not None:
        headline = f"max util {percent(busiest.utilisation)}"
    else:
        headline = _count(len(volumes.rows), "volume")
    worst = max(volumes.rows, key=lambda r: (r.severity, r.utilisation or 0))
    if worst.severity > Severity.OK:
        if worst.saturated:
            what = f"{percent(worst.utilisation)} busy (saturated)"
        elif worst.note:
            what = worst.note
        elif worst.used_ratio is not None and worst.utilisation is not None:
            what = f"{percent(worst.used_ratio)} full, {percent(worst.utilisation)} busy"
        else:
            what = f"{percent(worst.used_ratio)} full"
        detail = f"{worst.claim} {what}"
    elif busiest is not None:
        detail = f"busiest {busiest.claim} on {busiest.node}"
    else:
        detail = "no metrics" if not volumes.metrics else "no IO figures"
    return _card("volumes", headline, detail, severity)


def sli_card(sli: SliReport | None) -> Card:
    if sli is None:
        return _no_data("sli")
    if not sli.metrics:
        return _card("sli", "no metrics", f"SLO {percent(sli.target, 2)}", Severity.NONE)
    window = sli.window("30d")
    availability = percent(window.availability if window else None, 3)
    left = sli.budget_left_ratio
    if left is None:
        budget = "budget -"
    elif left < 0:
        budget = "budget spent"
    else:
        budget = f"budget {percent(left)}"
    alerting = [p for p in sli.burn_pairs if p.alerting]
    if alerting:
        pair = alerting[0]  # the pairs come most urgent first
        detail = (
            f"{pair.alert}: burn {pair.long_rate:.1f}x over {pair.long}, "
            f"{pair.short_rate:.1f}x over {pair.short}"
        )
    elif sli.budget_left_minutes is not None:
        spent = sli.budget_total_minutes - sli.budget_left_minutes
        detail = (
            f"{spent:.2f} of {sli.budget_total_minutes:.2f} bad minutes in {sli.window_days}d"
        )
    else:
        detail = "no traffic"
    return _card("sli", f"{availability} · {budget}", detail, sli.severity)


def rollouts_card(rollouts: Sequence[RolloutRow] | None) -> Card:
    if rollouts is None:
        return _no_data("rollouts")
    if not rollouts:
        return _card("rollouts", "no Keel workloads", "", Severity.NONE)
    pending = sum(len(r.pending) for r in rollouts)
    by_status = {s: [r for r in rollouts if r.status == s] for s in ("stalled", "progressing")}
    if pending:
        headline = _count(pending, "pending approval")
    elif by_status["stalled"]:
        headline = f"{len(by_status['stalled'])} stalled"
    elif by_status["progressing"]:
        headline = f"{len(by_status['progressing'])} progressing"
    else:
        complete = sum(1 for r in rollouts if r.status == "complete")
        headline = f"{complete}/{len(rollouts)} complete"
    worst = max(rollouts, key=lambda r: (r.severity, len(r.pending)))
    if worst.severity <= Severity.OK:
        detail = "all up to date"
    elif worst.status != "stalled" and worst.pending:
        approval = worst.pending[0]
        detail = (
            f"{worst.name} {approval.current_version} → {approval.new_version}: "
            f"{approval.votes_received}/{approval.votes_required} votes"
        )
    else:
        detail = f"{worst.name} {worst.status}"
    return _card("rollouts", headline, detail, max(r.severity for r in rollouts))


def overview(
    pods: Sequence[PodRow] | None,
    nodes: NodesView | None,
    certs: CertificatesView | None,
    postgres: PostgresView | None,
    volumes: VolumesView | None,
    sli: SliReport | None,
    rollouts: Sequence[RolloutRow] | None,
) -> tuple[Card, ...]:
    """The overview's cards, in the panes' order."""
    return (
        pods_card(pods),
        nodes_card(nodes),
        certs_card(certs),
        postgres_card(postgres),
        volumes_card(volumes),
        sli_card(sli),
        rollouts_card(rollouts),
    )
