"""A node recycle through the Linode API, seen end to end through kubectl (sped up 8x)."""

from __future__ import annotations

from tests.conftest import Sandbox
from tests.waiting import wait_for


def _ready_nodes(box: Sandbox) -> dict[str, bool]:
    return {
        n["metadata"]["name"]: any(
            c["type"] == "Ready" and c["status"] == "True" for c in n["status"]["conditions"]
        )
        for n in box.json("get", "nodes")["items"]
    }


def test_recycling_a_node_replaces_it_and_moves_its_pods(fresh_sandbox) -> None:
    box: Sandbox = fresh_sandbox(speed=8)
    (cluster,) = box.linode_cli("lke", "clusters-list")
    (pool,) = box.linode_cli("lke", "pools-list", str(cluster["id"]))
    assert cluster["label"] == "prod" and pool["count"] == 3
    before = wait_for(
        lambda: (nodes := _ready_nodes(box)) and len(nodes) == 3 and all(nodes.values()) and nodes
    )
    box.kubectl("create", "deployment", "web", "--image=nginx:1.27", "--replicas=6")
    box.kubectl("rollout", "status", "deployment/web", "--timeout=30s")
    victim_node = pool["nodes"][0]
    instance = box.linode_cli("linodes", "view", str(victim_node["instance_id"]))[0]
    victim = instance["label"]
    assert victim in before
    moved = [
        p["metadata"]["name"]
        for p in box.json("get", "pods")["items"]
        if p["spec"]["nodeName"] == victim
    ]
    assert moved, "the deployment should have pods on every node"

    box.linode_cli("lke", "node-recycle", str(cluster["id"]), victim_node["id"])

    after = wait_for(
        lambda: (
            (nodes := _ready_nodes(box))
            and victim not in nodes
            and len(nodes) == 3
            and all(nodes.values())
            and nodes
        ),
        timeout=90,
    )
    assert len(set(after) - set(before)) == 1
    pods = wait_for(
        lambda: (
            (items := box.json("get", "pods")["items"])
            and len(items) == 6
            and all(p["status"].get("phase") == "Running" for p in items)
            and items
        )
    )
    assert not {p["metadata"]["name"] for p in pods} & set(moved)
    assert all(p["spec"]["nodeName"] in after for p in pods)
    events = box.linode_cli("events", "list")
    recycle = next(e for e in events if e["action"] == "lke_node_recycle")
    assert recycle["status"] == "finished"
    (pool,) = box.linode_cli("lke", "pools-list", str(cluster["id"]))
    assert all(n["status"] == "ready" for n in pool["nodes"])
    assert victim_node["id"] not in {n["id"] for n in pool["nodes"]}
