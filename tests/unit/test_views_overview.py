"""The overview's cards, each built from its pane's view."""

from __future__ import annotations

from dataclasses import replace

import pytest
from cpanel_platform.keel import Approval
from cpanel_platform.prom.results import Sample
from cpanel_platform.views.certs import CertificateRow, CertificatesView, CronJobRow
from cpanel_platform.views.common import Severity
from cpanel_platform.views.nodes import EventRow, NodeRow, NodesView, PoolView
from cpanel_platform.views.overview import overview
from cpanel_platform.views.pods import PodRow
from cpanel_platform.views.postgres import PgClusterView, PgInstanceRow, PostgresView
from cpanel_platform.views.rollouts import RolloutRow
from cpanel_platform.views.sli import sli_report
from cpanel_platform.views.volumes import VolumeRow, VolumesView

NOW = 1_795_600_000.0
MiB = 2**20

POD = PodRow(
    key="app/web-79h76lpztw-7j2nb", namespace="app", name="web-79h76lpztw-7j2nb", ready="1/1",
    ready_count=1, container_count=1, status="Running", restarts=0, last_restart=None,
    age_seconds=3600, node="lke1-412-aaaa", ip="10.2.0.28", cpu_cores=None, memory_bytes=None,
    labels={"app": "web"}, owner="ReplicaSet/web-79h76lpztw", containers=("web",),
    severity=Severity.OK,
)
NODE = NodeRow(
    key="lke1-412-aaaa", name="lke1-412-aaaa", pool_id=412, linode_node_id="412-6b07d9f70a5d",
    instance_id=5501, linode_status="ready", instance_status="running", k8s_ready="True",
    schedulable=True, version="v1.31.2", pods=12, age_seconds=86400, roles="<none>",
    internal_ip="192.168.183.130", severity=Severity.OK,
)
CERT = CertificateRow(
    key="app/wildcard", namespace="app", name="wildcard", dns_names=("*.example.com",),
    issuer="ClusterIssuer/letsencrypt-prod", ready="True", reason="Ready", message="",
    not_after=NOW + 60 * 86400, days_left=60.0, renewal_time=NOW + 30 * 86400,
    last_failure=None, issuing=False, secret_name="wildcard-tls", severity=Severity.OK,
)
SYNC = CronJobRow(
    key="app/cert-sync", namespace="app", name="cert-sync", schedule="0 9 * * *",
    last_schedule=NOW - 3600, last_success=NOW - 3600, suspended=False, active=0,
    severity=Severity.OK,
)
PRIMARY = PgInstanceRow(
    key="app/db-instance1-52pj-0", pod="db-instance1-52pj-0", instance="db-instance1-52pj",
    instance_set="instance1", role="primary", ready=True, node="lke1-412-aaaa",
    ip="10.2.0.31", lag_bytes=None, lag_seconds=None, severity=Severity.OK,
)
REPLICA = replace(
    PRIMARY, key="app/db-instance1-rn4l-0", pod="db-instance1-rn4l-0",
    instance="db-instance1-rn4l", role="replica", ip="10.2.0.32", lag_bytes=173_000.0,
    lag_seconds=0.4,
)
DB = PgClusterView(
    key="app/db", namespace="app", name="db", postgres_version="16",
    instances=(PRIMARY, REPLICA), ready=2, desired=2, primary=PRIMARY.pod, switchover="none",
    backup_age_seconds=366_501, backup_status="none", conditions="ok", problem="",
    severity=Severity.OK,
)
MEDIA = VolumeRow(
    key="app/media", namespace="app", claim="media", phase="Bound",
    storage_class="linode-block-storage-retain", pv="pvc-705615ea", volume_id=4310201,
    volume_label="pvc705615ea5509491e93c4784f5e44a", node="lke1-412-aaaa", device="sdd",
    device_path="/dev/disk/by-id/scsi-0Linode_Volume_pvc705615ea5509491e93c4784f5e44a",
    capacity_bytes=200 * 2**30, used_bytes=110 * 2**30, used_ratio=0.55, utilisation=0.34,
    saturation=0.4, read_bps=1e6, write_bps=1e5, read_iops=100, write_iops=10,
    history=(0.3, 0.34), saturated=False, note="", severity=Severity.OK,
)
ROLLOUT = RolloutRow(
    key="deployment/app/web", kind="Deployment", namespace="app", name="web", policy="minor",
    trigger="default", approvals_required=1, image="example/web:2.14.1", revision=7,
    updated=NOW - 86400, status="complete", ready="3/3", pending=(), history=(),
    severity=Severity.OK,
)


def nodes_view(*rows: NodeRow, events: tuple[EventRow, ...] = ()) -> NodesView:
    ready = sum(1 for r in rows if r.k8s_ready == "True")
    return NodesView(
        cluster_label="prod", region="us-east", k8s_version="1.31",
        pools=(PoolView(412, "g6-dedicated-8", len(rows), rows, False),), unpooled=(),
        events=events, ready_nodes=ready, total_nodes=len(rows),
    )


def cards(**views: object) -> dict[str, tuple[str, str, Severity]]:
    healthy: dict[str, object] = {
        "pods": [POD, replace(POD, key="app/web-2", name="web-2")],
        "nodes": nodes_view(NODE, replace(NODE, key="b", name="lke1-412-bbbb")),
        "certs": CertificatesView((CERT,), SYNC),
        "postgres": PostgresView((DB,), True),
        "volumes": VolumesView((MEDIA,), True),
        "sli": sli_report({"error_ratio_30d": (Sample({}, 0.000028),)}, 0.9999, 30, NOW),
        "rollouts": [ROLLOUT],
    }
    built = overview(**{**healthy, **views})  # type: ignore[arg-type]
    return {c.pane: (c.headline, c.detail, c.severity) for c in built}


def test_all_well() -> None:
    built = cards()

    assert built == {
        "pods": ("2/2 running", "all running", Severity.OK),
        "nodes": ("2/2 nodes ready", "all schedulable", Severity.OK),
        "certs": ("min 60d left", "all ready, none within 21d", Severity.OK),
        "postgres": ("lag 169KiB", "db primary db-instance1-52pj-0", Severity.OK),
        "volumes": ("max util 34%", "busiest media on lke1-412-aaaa", Severity.OK),
        "sli": ("99.997% · budget 72%", "1.21 of 4.32 bad minutes in 30d", Severity.OK),
        "rollouts": ("1/1 complete", "all up to date", Severity.OK),
    }


def test_no_data_yet() -> None:
    built = overview(None, None, None, None, None, None, None)

    assert [c.pane for c in built] == [
        "pods", "nodes", "certs", "postgres", "volumes", "sli", "rollouts"
    ]
    assert {(c.headline, c.detail, c.severity) for c in built} == {
        ("…", "no data", Severity.NONE)
    }
    assert built[0].key == "pods" and built[0].title == "Pods"


def test_the_worst_thing_of_each_pane() -> None:
    crashing = replace(POD, key="app/web-abc", name="web-abc", ready="0/1", ready_count=0,
                       status="CrashLoopBackOff", restarts=7, severity=Severity.ERROR)
    completed = replace(POD, key="app/db-backup", name="db-backup", ready="0/1", ready_count=0,
                        status="Completed", severity=Severity.NONE)
    lagging = replace(REPLICA, lag_bytes=120 * MiB, severity=Severity.ERROR)
    saturated = replace(MEDIA, utilisation=1.0, saturated=True, severity=Severity.ERROR)
    approval = Approval(
        id="a1", identifier="deployment/app/web:2.15.0", provider="kubernetes",
        current_version="2.14.1", new_version="2.15.0", votes_required=1, votes_received=0,
        voters=(), rejected=False, archived=False, deadline=NOW + 86400, created=NOW - 60,
    )
    built = cards(
        pods=[POD, crashing, completed],
        nodes=nodes_view(NODE, replace(NODE, name="lke1-412-bbbb", k8s_ready="False",
                                       severity=Severity.ERROR)),
        certs=CertificatesView(
            (CERT, replace(CERT, name="api", days_left=5.7, severity=Severity.ERROR)), SYNC
        ),
        postgres=PostgresView(
            (replace(DB, instances=(PRIMARY, lagging), problem=f"{lagging.pod} lag 120MiB",
                     severity=Severity.ERROR),),
            True,
        ),
        volumes=VolumesView((saturated,), True),
        sli=sli_report({"error_ratio_30d": (Sample({}, 0.0002),)}, 0.9999, 30, NOW),
        rollouts=[replace(ROLLOUT, pending=(approval,), severity=Severity.WARN)],
    )

    assert built["pods"] == ("1/2 running", "web-abc CrashLoopBackOff (7 restarts)",
                             Severity.ERROR)
    assert built["nodes"] == ("1/2 nodes ready", "lke1-412-bbbb NotReady", Severity.ERROR)
    assert built["certs"] == ("min 5d left", "api expires in 5d", Severity.ERROR)
    assert built["postgres"] == (
        "lag 120MiB", "db: db-instance1-rn4l-0 lag 120MiB", Severity.ERROR
    )
    assert built["volumes"] == ("max util 100%", "media 100% busy (saturated)", Severity.ERROR)
    assert built["sli"] == (
        "99.980% · budget spent", "8.64 of 4.32 bad minutes in 30d", Severity.ERROR
    )
    assert built["rollouts"] == (
        "1 pending approval", "web 2.14.1 → 2.15.0: 0/1 votes", Severity.WARN
    )


def test_page_burn_and_no_metrics() -> None:
    windows = {"error_ratio_30d": 0.00001, "error_ratio_1h": 0.002, "error_ratio_5m": 0.003}
    burning = sli_report({k: (Sample({}, v),) for k, v in windows.items()}, 0.9999, 30, NOW)
    no_metrics = replace(DB, instances=(PRIMARY, replace(REPLICA, lag_bytes=None)))
    built = cards(
        sli=burning,
        postgres=PostgresView((no_metrics,), False),
        volumes=VolumesView((replace(MEDIA, utilisation=None, note="no metrics"),), False),
    )

    assert built["sli"] == (
        "99.999% · budget 90%", "page: burn 20.0x over 1h, 30.0x over 5m", Severity.ERROR
    )
    assert built["postgres"] == ("2/2 ready", "db primary db-instance1-52pj-0 · no metrics",
                                 Severity.OK)
    assert built["volumes"] == ("1 volume", "no metrics", Severity.OK)
    assert cards(sli=sli_report(None, 0.9999, 30, NOW))["sli"] == (
        "no metrics", "SLO 99.99%", Severity.NONE
    )


@pytest.mark.parametrize(
    ("pane", "empty", "headline"),
    [
        ("pods", [], "no pods"),
        ("postgres", PostgresView((), True), "no clusters"),
        ("volumes", VolumesView((), True), "no volumes"),
        ("rollouts", [], "no Keel workloads"),
    ],
)
def test_empty_sources(pane: str, empty: object, headline: str) -> None:
    assert cards(**{pane: empty})[pane] == (headline, "", Severity.NONE)


def test_certificate_cards() -> None:
    expired = replace(CERT, days_left=-2.0, severity=Severity.ERROR)
    assert cards(certs=CertificatesView((expired,), SYNC))["certs"] == (
        "expired", "wildcard expired", Severity.ERROR
    )
    failing = replace(CERT, ready="False", reason="DoesNotExist", severity=Severity.ERROR)
    assert cards(certs=CertificatesView((failing,), None))["certs"] == (
        "min 60d left", "wildcard not ready: DoesNotExist", Severity.ERROR
    )
    stale = replace(SYNC, last_success=NOW - 3 * 86400, severity=Severity.WARN)
    assert cards(certs=CertificatesView((CERT,), stale))["certs"] == (
        "min 60d left", "cert-sync: no success in 36h", Severity.WARN
    )
