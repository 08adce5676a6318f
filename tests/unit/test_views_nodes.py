"""The nodes view: LKE pools joined to Kubernetes Nodes, pod counts, severities, LKE events."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from cpanel_platform.linode import LinodeSnapshot, LkeCluster, LkeEvent, LkeNode, LkePool
from cpanel_platform.views.common import Severity
from cpanel_platform.views.nodes import nodes_view

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC).timestamp()


def ts(ago: float) -> str:
    return datetime.fromtimestamp(NOW - ago, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def node(
    name: str,
    instance_id: int | None = None,
    ready: str | None = "True",
    unschedulable: bool = False,
    labels: dict[str, str] | None = None,
) -> dict[str, Any]:
    conditions = [{"type": "MemoryPressure", "status": "False"}]
    if ready is not None:
        conditions.append({"type": "Ready", "status": ready})
    spec: dict[str, Any] = {"unschedulable": unschedulable} if unschedulable else {}
    if instance_id is not None:
        spec["providerID"] = f"linode://{instance_id}"
    return {
        "metadata": {"name": name, "creationTimestamp": ts(7200), "labels": labels or {}},
        "spec": spec,
        "status": {
            "conditions": conditions,
            "addresses": [
                {"type": "Hostname", "address": name},
                {"type": "InternalIP", "address": "192.168.128.10"},
            ],
            "nodeInfo": {"kubeletVersion": "v1.31.4"},
        },
    }


def pod(node_name: str, phase: str = "Running") -> dict[str, Any]:
    return {"metadata": {"name": "p"}, "spec": {"nodeName": node_name}, "status": {"phase": phase}}


def snapshot(pools: tuple[LkePool, ...], events: tuple[LkeEvent, ...] = ()) -> LinodeSnapshot:
    cluster = LkeCluster(
        id=12345,
        label="prod",
        region="us-east",
        k8s_version="1.31",
        high_availability=False,
        status="ready",
        pools=pools,
    )
    return LinodeSnapshot(cluster=cluster, events=events, volumes=())


POOL = LkePool(
    id=7,
    type="g6-dedicated-8",
    count=4,
    nodes=(
        # joined by providerID although the Node's name differs from the Linode's label
        LkeNode("12345-aaa", 101, "ready", "lke12345-7-aaa", "running"),
        # joined by name (the Node has no providerID yet)
        LkeNode("12345-bbb", 102, "ready", "lke12345-7-bbb", "running"),
        # a Linode still booting: no Kubernetes Node yet
        LkeNode("12345-ccc", 103, "not_ready", "lke12345-7-ccc", "booting"),
        # a Linode that does not exist yet
        LkeNode("12345-ddd", None, "not_ready"),
    ),
)


def test_pool_nodes_join_kubernetes_nodes_by_provider_id_then_name() -> None:
    nodes = [
        node("renamed-aaa", instance_id=101, labels={"node-role.kubernetes.io/worker": ""}),
        node("lke12345-7-bbb", unschedulable=True),
    ]
    pods = [pod("renamed-aaa"), pod("renamed-aaa"), pod("renamed-aaa", "Succeeded")]
    view = nodes_view(nodes, pods, snapshot((POOL,)), NOW)
    assert (view.cluster_label, view.region, view.k8s_version) == ("prod", "us-east", "1.31")
    (pool,) = view.pools
    assert (pool.id, pool.type, pool.count, pool.autoscaler) == (7, "g6-dedicated-8", 4, False)
    by_id = {row.linode_node_id: row for row in pool.nodes}

    a = by_id["12345-aaa"]
    assert (a.name, a.key, a.pool_id, a.instance_id) == ("renamed-aaa", "renamed-aaa", 7, 101)
    assert (a.k8s_ready, a.schedulable, a.linode_status, a.instance_status) == (
        "True",
        True,
        "ready",
        "running",
    )
    assert (a.pods, a.version, a.roles, a.internal_ip) == (2, "v1.31.4", "worker", "192.168.128.10")
    assert a.age_seconds == 7200
    assert a.severity is Severity.OK

    b = by_id["12345-bbb"]
    assert (b.name, b.schedulable, b.roles, b.severity) == (
        "lke12345-7-bbb",
        False,
        "<none>",
        Severity.WARN,  # cordoned
    )

    c = by_id["12345-ccc"]
    assert (c.name, c.k8s_ready, c.pods, c.age_seconds) == ("lke12345-7-ccc", "-", 0, None)
    assert c.severity is Severity.ERROR  # the Linode is not_ready

    d = by_id["12345-ddd"]
    assert (d.name, d.instance_id, d.k8s_ready) == ("12345-ddd", None, "-")

    assert view.unpooled == ()
    assert (view.ready_nodes, view.total_nodes) == (2, 4)


def test_a_ready_linode_not_yet_joined_is_a_warning() -> None:
    pool = LkePool(1, "g6-standard-2", 1, (LkeNode("1-x", 5, "ready", "lke1-1-x", "running"),))
    (row,) = nodes_view([], [], snapshot((pool,)), NOW).pools[0].nodes
    assert (row.k8s_ready, row.schedulable, row.severity) == ("-", False, Severity.WARN)


def test_a_node_in_no_pool_is_unpooled() -> None:
    nodes = [node("lke12345-7-aaa", instance_id=101), node("stray", instance_id=999, ready="False")]
    view = nodes_view(nodes, [pod("stray")], snapshot((POOL,)), NOW)
    (stray,) = view.unpooled
    assert (stray.name, stray.pool_id, stray.linode_node_id, stray.instance_id) == (
        "stray",
        None,
        "",
        999,  # read from providerID
    )
    assert (stray.k8s_ready, stray.pods, stray.severity) == ("False", 1, Severity.ERROR)
    assert view.total_nodes == 5


def test_without_a_linode_snapshot_every_node_is_unpooled() -> None:
    nodes = [node("b", ready=None), node("a", instance_id=1)]
    view = nodes_view(nodes, [], None, NOW)
    assert (view.cluster_label, view.region, view.k8s_version) == ("", "", "")
    assert view.pools == () and view.events == ()
    assert [row.name for row in view.unpooled] == ["a", "b"]
    a, b = view.unpooled
    assert (a.linode_status, a.instance_status, a.severity) == ("", "", Severity.OK)
    assert (b.k8s_ready, b.severity) == ("Unknown", Severity.ERROR)  # no Ready condition
    assert (view.ready_nodes, view.total_nodes) == (1, 2)


def test_lke_events_newest_first_with_severity() -> None:
    events = (
        LkeEvent(1, "lke_node_recycle", "finished", NOW - 900, "prod", "ops", "done"),
        LkeEvent(2, "lke_node_recycle", "started", NOW - 60, "prod", "ops"),
        LkeEvent(3, "lke_pool_recycle", "failed", NOW - 300, "prod"),
        LkeEvent(4, "linode_boot", "finished", NOW - 30, "lke12345-7-aaa"),  # not LKE's
        LkeEvent(5, "lke_node_create", "notification", NOW - 120, "prod"),
    )
    view = nodes_view([], [], snapshot((), events), NOW)
    assert [e.key for e in view.events] == ["2", "5", "3", "1"]
    assert [e.severity for e in view.events] == [
        Severity.WARN,
        Severity.NONE,
        Severity.ERROR,
        Severity.OK,
    ]
    latest = view.events[0]
    assert (latest.action, latest.status, latest.entity, latest.user, latest.age_seconds) == (
        "lke_node_recycle",
        "started",
        "prod",
        "ops",
        60,
    )
    assert view.events[-1].message == "done"


def test_snapshot_without_a_cluster() -> None:
    view = nodes_view([node("a")], [], LinodeSnapshot(cluster=None, events=(), volumes=()), NOW)
    assert view.pools == () and [r.name for r in view.unpooled] == ["a"]
