"""ops.drain against a private sandbox (its nodes are disturbed): a drain cordons the node and
moves its pods through the Eviction API; a PodDisruptionBudget that allows no disruption
stops it at the deadline with a message naming the budget and the pod; `stop` stops it."""

from __future__ import annotations

import threading

import pytest
from cpanel_platform.kube import client
from cpanel_platform.ops import drain

from tests.conftest import Sandbox
from tests.waiting import wait_for

pytestmark = pytest.mark.timeout(300)  # a private sandbox starts first; slow on a busy CI

HOLD = """
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: keel-hold, namespace: keel}
spec:
  maxUnavailable: 0
  selector: {matchExpressions: [{key: app, operator: In, values: [keel]}]}
"""


def settled(box: Sandbox) -> list[dict]:
    """The nodes, once every pod of the sandbox runs and is ready."""
    def ready() -> bool:
        pods = box.json("get", "pods", "-A")["items"]
        return bool(pods) and all(
            p["status"].get("phase") == "Succeeded"
            or all(c.get("ready") for c in p["status"].get("containerStatuses") or [{}])
            for p in pods)

    wait_for(ready, timeout=30)
    return box.json("get", "nodes")["items"]


def test_a_drain_moves_the_pods_off_the_node(fresh_sandbox) -> None:
    box = fresh_sandbox()
    node = settled(box)[0]["metadata"]["name"]
    api = client.connect(str(box.kubeconfig)).api
    before = drain.evictable_pods(api, node)
    assert before
    lines: list[str] = []

    assert drain.drain(api, node, timeout=60, report=lines.append, poll=0.2) == len(before)

    assert box.json("get", "node", node)["spec"]["unschedulable"] is True
    assert drain.evictable_pods(api, node) == []
    assert lines[-1].startswith("evicted ") and lines[-1].endswith(f"({len(before)}/{len(before)})")
    web = wait_for(lambda: len(p := [
        p for p in box.json("get", "pods", "-n", "app", "-l", "app=web")["items"]
        if p["status"].get("phase") == "Running" and not p["metadata"].get("deletionTimestamp")
    ]) == 3 and p)
    assert all(p["spec"]["nodeName"] != node for p in web)
    assert drain.cordon(api, node, False) is True  # cordoned by the drain: it changes
    assert drain.cordon(api, node, False) is False
    assert "unschedulable" not in box.json("get", "node", node)["spec"]


def test_a_budget_allowing_no_disruption_stops_the_drain_naming_it(fresh_sandbox) -> None:
    box = fresh_sandbox()
    settled(box)
    box.kubectl("apply", "-f", "-", input=HOLD)
    wait_for(lambda: box.json("get", "pdb", "keel-hold", "-n", "keel").get("status", {}).get(
        "expectedPods") == 1)
    (pod,) = box.json("get", "pods", "-n", "keel", "-l", "app=keel")["items"]
    node, name = pod["spec"]["nodeName"], pod["metadata"]["name"]
    api = client.connect(str(box.kubeconfig)).api

    stop = threading.Event()
    stop.set()
    with pytest.raises(drain.DrainStopped, match=r"^stopped$"):
        drain.drain(api, node, timeout=60, report=lambda line: None, stop=stop, poll=0.2)

    lines: list[str] = []
    with pytest.raises(drain.DrainStopped) as stopped:
        drain.drain(api, node, timeout=2, report=lines.append, poll=0.2)
    message = str(stopped.value)
    assert "\n" not in message
    assert f"PDB keel/keel-hold allows no disruption for keel/{name}" in message
    (blocker,) = stopped.value.blockers
    assert blocker == drain.Blocker(f"keel/{name}", ("keel/keel-hold",), blocker.reason)
    assert "disruption budget" in blocker.reason
    assert f"waiting: PDB keel/keel-hold allows no disruption for keel/{name}" in lines
    assert [p["metadata"]["name"] for p in drain.evictable_pods(api, node)] == [name]
    assert drain.cordon(api, node, False) is True
