"""The simulated kubelets over HTTP: node registration, pod life, crash loops, logs."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from cpanel_platform.sandbox.seed import node, node_name
from cpanel_platform.sandbox.simulator.kube import NODES, PODS, Kind, Kube
from cpanel_platform.sandbox.simulator.kubelet import Kubelets, Timings

from tests.integration.conftest import TOKEN, Served
from tests.waiting import wait_for

DEPLOYMENTS = Kind("apps", "v1", "deployments")
FAST = Timings(
    create=0.05,
    ready=0.05,
    run_to_completion=0.1,
    crash_after=0.1,
    backoff=0.2,
    stop=0.05,
    heartbeat=0.5,
)


@pytest.fixture(scope="module")
def world(bare_cluster: Served) -> Iterator[tuple[Served, Kubelets]]:
    async def start() -> Kubelets:
        kubelets = Kubelets(
            Kube(bare_cluster.url, TOKEN, None, "test"), bare_cluster.cluster.logs, FAST
        )
        kubelets.bad_images.add("app:broken")
        bare_cluster.loop.create_task(kubelets.run())
        for i in range(2):
            kubelets.start_node(node(node_name(i), i, 1000 + i))
        return kubelets

    kubelets = bare_cluster.call(start())
    yield bare_cluster, kubelets

    async def stop() -> None:
        for name in kubelets.nodes():
            kubelets.stop_node(name)

    bare_cluster.call(stop())


def _pods(served: Served, kube: Kube, label: str) -> list[dict]:
    return served.call(kube.list(PODS, "default", labelSelector=label))["items"]


def test_nodes_register_and_heartbeat(world) -> None:
    served, kubelets = world
    kube = kubelets.kube
    names = wait_for(
        lambda: (
            len(items := served.call(kube.list(NODES))["items"]) == 2
            and sorted(n["metadata"]["name"] for n in items)
        )
    )
    assert names == [node_name(0), node_name(1)]
    lease = wait_for(
        lambda: served.cluster.api.find(
            "coordination.k8s.io", "leases", "kube-node-lease", node_name(0)
        )
    )
    assert lease["spec"]["holderIdentity"] == node_name(0)


def _deploy(served: Served, kube: Kube, name: str, image: str) -> None:
    served.call(
        kube.create(
            DEPLOYMENTS,
            "default",
            {
                "metadata": {"name": name},
                "spec": {
                    "replicas": 2,
                    "selector": {"matchLabels": {"app": name}},
                    "template": {
                        "metadata": {"labels": {"app": name}},
                        "spec": {"containers": [{"name": "app", "image": image}]},
                    },
                },
            },
        )
    )


def test_pods_go_through_container_creating_to_ready(world) -> None:
    served, kubelets = world
    _deploy(served, kubelets.kube, "good", "app:1.0")
    pods = wait_for(
        lambda: [
            p
            for p in _pods(served, kubelets.kube, "app=good")
            if any(
                c["type"] == "Ready" and c["status"] == "True"
                for c in p["status"].get("conditions", [])
            )
        ]
    )
    assert len(wait_for(lambda: len(_pods(served, kubelets.kube, "app=good")) == 2 and pods)) >= 1
    pod = pods[0]
    assert pod["status"]["phase"] == "Running" and pod["status"]["podIP"].startswith("10.2.")
    uid = pod["metadata"]["uid"]
    assert [line for _, line in served.cluster.logs.lines(uid, "app")][:2] == [
        "starting app:1.0",
        "ready to serve",
    ]


def test_a_bad_image_crash_loops_with_growing_restarts(world) -> None:
    served, kubelets = world
    _deploy(served, kubelets.kube, "bad", "app:broken")

    def backing_off() -> dict | None:
        for pod in _pods(served, kubelets.kube, "app=bad"):
            cs = pod["status"].get("containerStatuses", [{}])[0]
            if cs.get("restartCount", 0) >= 2 and "waiting" in cs.get("state", {}):
                return cs
        return None

    cs = wait_for(backing_off)
    assert cs["state"]["waiting"]["reason"] == "CrashLoopBackOff"
    assert cs["lastState"]["terminated"]["exitCode"] == 1
    assert not cs["ready"]


def test_a_stopped_node_stops_heartbeating(world) -> None:
    served, kubelets = world
    before = served.cluster.api.find(
        "coordination.k8s.io", "leases", "kube-node-lease", node_name(1)
    )["spec"]["renewTime"]
    served.loop.call_soon_threadsafe(kubelets.stop_node, node_name(1))
    time.sleep(1.2)
    after = served.cluster.api.find(
        "coordination.k8s.io", "leases", "kube-node-lease", node_name(1)
    )["spec"]["renewTime"]
    assert after == before or node_name(1) not in kubelets.nodes()
    assert node_name(1) not in kubelets.nodes()
