"""The rolling recycle and upgrade against a sandbox of their own, through the `cpanel`
command, with a watcher that checks the site and the node invariant all along.

The site is the sandbox's app (3 replicas behind a PDB) plus a single-replica Deployment with
`minAvailable: 1` behind an Ingress of its own; the watcher polls what the endpoints
controller would publish (ops.availability) and the Ready, schedulable nodes.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from cpanel_platform.kube.client import connect
from cpanel_platform.ops import availability
from cpanel_platform.sandbox import control, runner

from tests.conftest import Sandbox, start_sandbox

CPANEL = str(Path(sys.executable).parent / "cpanel")
SPEED = 10.0
POOL_NODES = 3
SOLO = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: solo, namespace: app}
spec:
  replicas: 1
  selector: {matchLabels: {app: solo}}
  template:
    metadata: {labels: {app: solo}}
    spec:
      containers: [{name: solo, image: ghcr.io/example/solo:1.0, ports: [{containerPort: 80}]}]
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: solo, namespace: app}
spec:
  minAvailable: 1
  selector: {matchLabels: {app: solo}}
---
apiVersion: v1
kind: Service
metadata: {name: solo, namespace: app}
spec:
  selector: {app: solo}
  ports: [{port: 80}]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: solo, namespace: app}
spec:
  ingressClassName: nginx
  rules:
  - host: solo.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: solo, port: {number: 80}}}}
"""
STUCK = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: stuck, namespace: app}
spec:
  replicas: 3
  selector: {matchLabels: {app: stuck}}
  template:
    metadata: {labels: {app: stuck}}
    spec:
      containers: [{name: stuck, image: ghcr.io/example/stuck:1.0}]
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: stuck, namespace: app}
spec:
  maxUnavailable: 0
  selector: {matchLabels: {app: stuck}}
"""


@dataclass
class Watch:
    """Polls the site and the nodes every 0.2 s until stopped."""

    box: Sandbox
    probes: int = 0
    failed: list[str] = field(default_factory=list)
    fewest_nodes: int = 99
    _stop: threading.Event = field(default_factory=threading.Event)

    def __enter__(self) -> Watch:
        self._api = connect(str(self.box.kubeconfig), "sandbox").api
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        from cpanel_platform.kube.rest import call

        while not self._stop.wait(0.2):
            site = availability.check(self._api)
            self.probes += 1
            if not site.up:
                self.failed.append(f"{time.strftime('%H:%M:%S')} {site.text}")
            nodes = call(self._api, "GET", "/api/v1/nodes")["items"]
            usable = sum(
                1 for n in nodes if not n["spec"].get("unschedulable") and any(
                    c["type"] == "Ready" and c["status"] == "True"
                    for c in n["status"]["conditions"])
            )
            self.fewest_nodes = min(self.fewest_nodes, usable)


@pytest.fixture(scope="module")
def box(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    state = tmp_path_factory.mktemp("recycle-sandbox")
    sandbox = start_sandbox(state, speed=SPEED)
    sandbox.kubectl("apply", "-f", "-", input=SOLO)
    _settle(sandbox)
    yield sandbox
    runner.stop(state)


def _env(box: Sandbox) -> dict[str, str]:
    return {**os.environ, **box.env, "HOME": str(box.home),
            "XDG_STATE_HOME": str(box.home / "state")}


def _cpanel(box: Sandbox, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run([CPANEL, *args], capture_output=True, text=True, timeout=timeout,
                          env=_env(box), stdin=subprocess.DEVNULL)


def _pool(box: Sandbox) -> dict:
    [cluster] = box.linode_cli("lke", "clusters-list")
    [pool] = box.linode_cli("lke", "pools-list", str(cluster["id"]))
    return pool


def _node_names(box: Sandbox) -> set[str]:
    """The Ready nodes (a replaced node's object lingers NotReady until the cloud controller
    manager sees its Linode gone)."""
    return {
        n["metadata"]["name"] for n in box.json("get", "nodes")["items"]
        if any(c["type"] == "Ready" and c["status"] == "True" for c in n["status"]["conditions"])
    }


def _settle(box: Sandbox, timeout: float = 120) -> None:
    """Until the pool's nodes are Ready and every Deployment in app is available."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        nodes = box.json("get", "nodes")["items"]
        ready = [n for n in nodes if any(c["type"] == "Ready" and c["status"] == "True"
                                         for c in n["status"]["conditions"])]
        deployments = box.json("get", "deployments", "-n", "app")["items"]
        if len(ready) == len(nodes) == POOL_NODES and all(
            d["status"].get("availableReplicas", 0) >= d["spec"]["replicas"]
            for d in deployments
        ):
            return
        time.sleep(1)
    raise AssertionError("the sandbox did not settle")


def _site_up(box: Sandbox) -> bool:
    return availability.check(connect(str(box.kubeconfig), "sandbox").api).up


def _journal(box: Sandbox) -> list[dict]:
    path = box.home / "state" / "cpanel" / "journal.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()]


def _recycle_events(box: Sandbox) -> list[dict]:
    events = box.linode_cli("events", "list")
    return [e for e in events if e["action"] == "lke_node_recycle"]


def test_a_pool_recycle_keeps_the_site_up_and_never_loses_a_node(box: Sandbox) -> None:
    pool = _pool(box)
    before = _node_names(box)
    with Watch(box) as watch:
        started = time.monotonic()
        proc = _cpanel(box, "recycle", "--pool", str(pool["id"]), "--yes",
                       "--drain-timeout", "120")
        took = time.monotonic() - started
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "moved app/solo by a rolling restart" in proc.stdout
    assert watch.probes > 50
    assert watch.failed == []
    assert watch.fewest_nodes >= POOL_NODES  # with the surge node it never dropped at all
    _settle(box)  # the replaced nodes' kubelets have stopped: their Nodes go NotReady, then away
    after = _node_names(box)
    assert len(after) == POOL_NODES and not before & after  # every node replaced
    assert {n["status"]["nodeInfo"]["kubeletVersion"] for n in box.json("get", "nodes")["items"]
            if n["metadata"]["name"] in after} == {"v1.36.2"}
    assert _pool(box)["count"] == POOL_NODES
    assert box.kubectl("get", "configmap", "-n", "kube-system", "cpanel-recycle",
                       check=False).returncode != 0  # nothing left recorded
    assert _journal(box)[-1]["action"] == "recycle" and _journal(box)[-1]["outcome"] == "ok"
    print(f"\nrolling recycle of {POOL_NODES} nodes: {took:.0f} s, {watch.probes} probes, "
          f"0 failed, fewest usable nodes {watch.fewest_nodes}")


def test_the_2020_recycle_all_at_once_takes_the_site_down(box: Sandbox) -> None:
    _settle(box)
    info = runner.read_runtime(box.state_dir)
    token = runner.admin_token(box.state_dir)
    with Watch(box) as watch:
        control.call(info, token, "POST", "/incidents/recycle-all-at-once")
        try:  # until the outage is seen and over, or 25 s
            deadline = time.monotonic() + 25
            while time.monotonic() < deadline and not (watch.failed and _site_up(box)):
                time.sleep(0.5)
        finally:
            control.call(info, token, "DELETE", "/incidents/recycle-all-at-once")
    assert watch.failed, "recycling every node at once should have taken the site down"
    print(f"\nall at once: {len(watch.failed)} of {watch.probes} probes failed, fewest usable "
          f"nodes {watch.fewest_nodes}; first failure: {watch.failed[0]}")
    _settle(box, timeout=180)


def test_killed_mid_recycle_it_resumes_and_a_second_cpanel_is_refused(box: Sandbox) -> None:
    _settle(box)
    pool = _pool(box)
    first = subprocess.Popen(
        [CPANEL, "recycle", "--pool", str(pool["id"]), "--yes"], stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True, env=_env(box), stdin=subprocess.DEVNULL,
    )
    assert first.stdout is not None
    seen = []
    for line in first.stdout:
        seen.append(line)
        if "replaced by" in line:  # one node finished: the next is under way
            break
    second = _cpanel(box, "recycle", "--pool", str(pool["id"]), "--yes")
    assert second.returncode == 1
    assert "another cpanel" in second.stderr and "recycle of pool" in second.stderr
    first.send_signal(signal.SIGKILL)
    first.wait()
    done_before_kill = sum("replaced by" in line for line in seen)
    recorded = json.loads(box.json("get", "configmap", "-n", "kube-system",
                                   "cpanel-recycle")["data"]["state"])
    assert len(recorded["done"]) == done_before_kill == 1

    resumed = _cpanel(box, "recycle", "--yes")
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert "resuming the recycle of pool" in resumed.stdout
    assert resumed.stdout.count("replaced by") == POOL_NODES - done_before_kill
    # LKE was asked to recycle each node once: none twice, the finished one not again.
    per_node: dict[str, int] = {}
    for event in _recycle_events(box):
        node = (event.get("entity") or {}).get("node") or event.get("secondary_entity")
        per_node[str(node)] = per_node.get(str(node), 0) + 1
    assert per_node and max(per_node.values()) == 1, per_node
    assert _pool(box)["count"] == POOL_NODES


def test_a_pdb_that_never_allows_eviction_stops_at_the_deadline(box: Sandbox) -> None:
    _settle(box)
    box.kubectl("apply", "-f", "-", input=STUCK)
    _settle(box)
    pool = _pool(box)
    try:
        proc = _cpanel(box, "recycle", "--pool", str(pool["id"]), "--yes",
                       "--drain-timeout", "8")
        assert proc.returncode == 1, proc.stdout + proc.stderr
        assert "app/stuck" in proc.stderr and "stuck-" in proc.stderr  # the PDB and a pod
        assert "Rolled back" in proc.stderr
        entry = _journal(box)[-1]
        assert (entry["action"], entry["outcome"]) == ("recycle", "failed")
        assert "app/stuck" in entry["detail"]
        _settle(box)  # the node deleted to restore the count goes away with its Linode
        nodes = box.json("get", "nodes")["items"]
        assert not [n["metadata"]["name"] for n in nodes if n["spec"].get("unschedulable")]
        assert _pool(box)["count"] == POOL_NODES
        assert box.kubectl("get", "configmap", "-n", "kube-system", "cpanel-recycle",
                           check=False).returncode != 0
    finally:
        box.kubectl("delete", "-f", "-", input=STUCK)


def test_an_upgrade_through_a_flaky_linode_api_ends_on_the_new_version(box: Sandbox) -> None:
    _settle(box)
    info = runner.read_runtime(box.state_dir)
    token = runner.admin_token(box.state_dir)
    spec = box.home / "platform.yaml"
    from cpanel_platform.provision.template import TEMPLATE

    spec.write_text(TEMPLATE)
    control.call(info, token, "POST", "/incidents/linode-flaky")
    try:
        with Watch(box) as watch:
            proc = _cpanel(box, "upgrade", "--yes", "-f", str(spec))
    finally:
        control.call(info, token, "DELETE", "/incidents/linode-flaky")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "rate limited (429)" in proc.stdout and "HTTP 500" in proc.stdout  # retried
    versions = {n["status"]["nodeInfo"]["kubeletVersion"] for n in
                box.json("get", "nodes")["items"]}
    assert versions == {"v1.37.2"}
    assert box.json("version")["serverVersion"]["gitVersion"].startswith("v1.37.2")
    assert watch.failed == []


def test_stopping_mid_recycle_rolls_back_to_a_consistent_cluster(box: Sandbox) -> None:
    """What the dashboard's `a` does: the stop event, set once the first node is done."""
    from cpanel_platform.ops.linode_ops import LinodeOps
    from cpanel_platform.ops.recycle import Progress, Recycler, RecycleStopped

    _settle(box)
    pool = _pool(box)
    api = connect(str(box.kubeconfig), "sandbox").api
    stop = threading.Event()
    seen: list[Progress] = []

    def report(progress: Progress) -> None:
        seen.append(progress)
        if progress.step == "done" and progress.node:
            stop.set()

    linode = LinodeOps(box.env["LINODE_TOKEN"], box.env["LINODE_API_URL"], print)
    recycler = Recycler(api, linode, report, drain_timeout=60, stop=stop)
    cluster_id = int(box.linode_cli("lke", "clusters-list")[0]["id"])
    with pytest.raises(RecycleStopped, match="stopped on request") as stopped:
        recycler.start(recycler.plan(cluster_id, pool_id=pool["id"]))
    assert "1 node(s) were recycled" in str(stopped.value)
    assert recycler.pending() is None
    _settle(box)
    assert _pool(box)["count"] == POOL_NODES
    assert not [n for n in box.json("get", "nodes")["items"] if n["spec"].get("unschedulable")]
