"""`make bench`: the Kubernetes API emulator at scale — 100 nodes and 5,000 pods.

Measures `kubectl get pods -A` wall time and how fast a watch delivers a change. A benchmark
with figures to read, not a test with thresholds.
"""

from __future__ import annotations

import base64
import json
import os
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import yaml
from cpanel_platform.sandbox import runner
from cpanel_platform.sandbox.seed import node, node_name

NODES = 100
PODS = 5000
NAMESPACES = 20


def _client(state: Path) -> httpx.Client:
    cfg = yaml.safe_load(runner.Paths(state).kubeconfig.read_text())
    ca = state / "bench-ca.pem"
    ca.write_bytes(base64.b64decode(cfg["clusters"][0]["cluster"]["certificate-authority-data"]))
    return httpx.Client(
        base_url=cfg["clusters"][0]["cluster"]["server"],
        verify=ssl.create_default_context(cafile=str(ca)),
        headers={"Authorization": f"Bearer {cfg['users'][0]['user']['token']}"},
        timeout=30,
    )


def load(http: httpx.Client) -> float:
    start = time.perf_counter()
    for i in range(3, NODES):
        http.post("/api/v1/nodes", json=node(node_name(i), i, 61000000 + i)).raise_for_status()
    for n in range(NAMESPACES):
        http.post("/api/v1/namespaces", json={"metadata": {"name": f"load-{n}"}}).raise_for_status()
    for i in range(PODS):
        ns = f"load-{i % NAMESPACES}"
        pod = {
            "metadata": {"name": f"pod-{i}", "labels": {"app": f"app-{i % 50}"}},
            "spec": {
                "nodeName": node_name(i % NODES),
                "containers": [{"name": "main", "image": "nginx:1.27"}],
            },
        }
        http.post(f"/api/v1/namespaces/{ns}/pods", json=pod).raise_for_status()
    return time.perf_counter() - start


def time_kubectl(state: Path, runs: int = 5) -> list[float]:
    kubectl = str(Path(sys.executable).parent / "kubectl")
    env = {**os.environ, "KUBECONFIG": str(runner.Paths(state).kubeconfig), "HOME": str(state)}
    subprocess.run([kubectl, "get", "ns"], env=env, capture_output=True, check=True)  # warm cache
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        out = subprocess.run(
            [kubectl, "get", "pods", "-A"], env=env, capture_output=True, text=True, check=True
        ).stdout
        times.append(time.perf_counter() - start)
        assert out.count("\n") >= PODS + 1, "missing rows"
    return times


def watch_latency(http: httpx.Client, samples: int = 30) -> list[float]:
    ns = "load-0"
    rv = http.get(f"/api/v1/namespaces/{ns}/pods?limit=1").json()["metadata"]["resourceVersion"]
    latencies: list[float] = []
    sent: dict[str, float] = {}
    done = threading.Event()

    def read() -> None:
        with http.stream(
            "GET",
            f"/api/v1/namespaces/{ns}/pods?watch=true&resourceVersion={rv}&timeoutSeconds=120",
        ) as stream:
            for line in stream.iter_lines():
                event = json.loads(line)
                mark = (event["object"]["metadata"].get("labels") or {}).get("mark")
                if mark in sent:
                    latencies.append(time.perf_counter() - sent.pop(mark))
                    if len(latencies) == samples:
                        done.set()
                        return

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    time.sleep(0.5)
    for i in range(samples):
        mark = f"m{i}"
        sent[mark] = time.perf_counter()
        http.patch(
            f"/api/v1/namespaces/{ns}/pods/pod-0",
            content=json.dumps({"metadata": {"labels": {"mark": mark}}}),
            headers={"Content-Type": "application/merge-patch+json"},
        ).raise_for_status()
        time.sleep(0.05)
    done.wait(30)
    return latencies


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        state = Path(tmp)
        runner.start_detached(state)
        try:
            http = _client(state)
            loaded = load(http)
            print(f"loaded {NODES} nodes and {PODS} pods in {loaded:.1f}s")
            time.sleep(3)  # let the kubelet start the pods
            times = time_kubectl(state)
            print(
                f"kubectl get pods -A: median {statistics.median(times):.2f}s, "
                f"max {max(times):.2f}s over {len(times)} runs"
            )
            lat = sorted(watch_latency(http))
            print(
                f"watch delivery: median {statistics.median(lat) * 1000:.1f}ms, "
                f"p95 {lat[int(len(lat) * 0.95) - 1] * 1000:.1f}ms over {len(lat)} changes"
            )
        finally:
            runner.stop(state)


if __name__ == "__main__":
    main()
