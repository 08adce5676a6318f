"""A node whose kubelet falls silent goes NotReady, is tainted, and its pods are evicted once
their toleration runs out; when the kubelet is back, the taints are lifted."""

import datetime as dt

import pytest
from cpanel_platform.sandbox.kubeapi import clock
from cpanel_platform.sandbox.kubeapi.api import Api
from cpanel_platform.sandbox.kubeapi.controllers.nodelifecycle import NodeLifecycleController
from cpanel_platform.sandbox.kubeapi.store import Store
from cpanel_platform.sandbox.seed import node, node_name, seed_cluster

T0 = dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> tuple[Api, list[dt.datetime]]:
    now = [T0]
    monkeypatch.setattr(clock, "now", lambda: now[0])
    api = Api(Store())
    seed_cluster(api, nodes=1)
    api.create(
        api.preferred("coordination.k8s.io", "leases"),
        "kube-node-lease",
        {
            "metadata": {"name": node_name(0)},
            "spec": {"holderIdentity": node_name(0), "renewTime": clock.micro_stamp()},
        },
    )
    api.create(
        api.preferred("", "pods"),
        "default",
        {
            "metadata": {"name": "web"},
            "spec": {"nodeName": node_name(0), "containers": [{"name": "c", "image": "i:1"}]},
        },
    )
    return api, now


def _ready(api: Api) -> str:
    n = api.find("", "nodes", "", node_name(0))
    return next(c["status"] for c in n["status"]["conditions"] if c["type"] == "Ready")


def _taints(api: Api) -> list[str]:
    return [t["effect"] for t in api.find("", "nodes", "", node_name(0))["spec"].get("taints", [])]


def test_silent_node_goes_unknown_then_its_pods_are_evicted(world) -> None:
    api, now = world
    ctl = NodeLifecycleController(api)
    key = ("", node_name(0))
    now[0] = T0 + dt.timedelta(seconds=30)
    ctl.reconcile(key)
    assert _ready(api) == "True" and _taints(api) == []
    now[0] = T0 + dt.timedelta(seconds=41)
    ctl.reconcile(key)
    assert _ready(api) == "Unknown" and _taints(api) == ["NoSchedule", "NoExecute"]
    assert not api.find("", "pods", "default", "web")["metadata"].get("deletionTimestamp")
    now[0] += dt.timedelta(seconds=301)  # the default 300 s toleration of unreachable
    ctl.reconcile(key)
    assert api.find("", "pods", "default", "web")["metadata"]["deletionTimestamp"]


def test_taints_are_lifted_when_the_kubelet_reports_again(world) -> None:
    api, now = world
    ctl = NodeLifecycleController(api)
    key = ("", node_name(0))
    now[0] = T0 + dt.timedelta(seconds=60)
    ctl.reconcile(key)
    assert _taints(api)
    lease = api.find("coordination.k8s.io", "leases", "kube-node-lease", node_name(0))
    api.update(
        api.preferred("coordination.k8s.io", "leases"),
        "kube-node-lease",
        node_name(0),
        {**lease, "spec": {**lease["spec"], "renewTime": clock.micro_stamp()}},
    )
    fresh = api.find("", "nodes", "", node_name(0))
    api.update(
        api.preferred("", "nodes"),
        "",
        node_name(0),
        {**fresh, "status": node(node_name(0), 0, 1)["status"]},
        subresource="status",
    )
    ctl.reconcile(key)
    assert _ready(api) == "True" and _taints(api) == []


def test_pods_of_a_deleted_node_are_removed(world) -> None:
    api, _ = world
    api.delete(api.preferred("", "nodes"), "", node_name(0))
    NodeLifecycleController(api).reconcile(("", node_name(0)))
    assert api.find("", "pods", "default", "web") is None
