"""linode-cli and linode-api4 (real clients nobody here wrote) against the Linode emulator,
served in-process on a loopback port, with simulated time stepped by the tests."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from cpanel_platform.sandbox.linodeapi import LinodeServer, LinodeState, ManualClock
from cpanel_platform.sandbox.serving import listen
from linode_api4 import ApiError, Event, LinodeClient, LKECluster

LINODE_CLI = str(Path(sys.executable).parent / "linode-cli")
TOKEN = "sandbox-token"
KUBECONFIG = """apiVersion: v1
kind: Config
clusters:
- name: lke-prod
  cluster: {server: "https://127.0.0.1:6443"}
contexts:
- name: lke-prod-ctx
  context: {cluster: lke-prod, user: lke-prod-admin}
current-context: lke-prod-ctx
users:
- name: lke-prod-admin
  user: {token: not-a-secret}
"""
BOOTED = 60.0  # simulated seconds after which a new cluster's control plane and nodes are up


@contextlib.contextmanager
def running(server: LinodeServer) -> Iterator[str]:
    """Serve on a free loopback port from a background thread; yields the base URL."""
    sock = listen()
    loop = asyncio.new_event_loop()
    ready = threading.Event()

    async def main() -> None:
        started = asyncio.Event()
        serving = asyncio.create_task(server.serve(sock, started))
        await started.wait()
        ready.set()
        await serving

    thread = threading.Thread(target=loop.run_until_complete, args=(main(),), daemon=True)
    thread.start()
    assert ready.wait(10), "the emulator did not start"
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        loop.call_soon_threadsafe(server.stop)
        thread.join(10)


@dataclass
class Account:
    url: str
    clock: ManualClock
    cluster_id: int
    home: Path

    def cli(self, *args: Any, check: bool = True) -> subprocess.CompletedProcess[str]:
        env = {
            **os.environ,
            "HOME": str(self.home),
            "XDG_CONFIG_HOME": str(self.home / ".config"),
            "LINODE_CLI_TOKEN": TOKEN,
            "LINODE_CLI_API_HOST": self.url.removeprefix("http://"),
            "LINODE_CLI_API_SCHEME": "http",
            "LINODE_CLI_API_VERSION": "v4",
            "LINODE_CLI_SUPPRESS_VERSION_WARNING": "1",
        }
        # A fresh HOME has no config, hence no defaults to merge and no prompts.
        command = [LINODE_CLI, *map(str, args), "--suppress-warnings"]
        proc = subprocess.run(command, capture_output=True, text=True, env=env, timeout=60)
        if check and proc.returncode != 0:
            raise AssertionError(f"linode-cli {args} failed:\n{proc.stdout}\n{proc.stderr}")
        return proc

    def cli_json(self, *args: Any) -> list[dict[str, Any]]:
        return json.loads(self.cli(*args, "--json").stdout)

    def client(self, token: str = TOKEN) -> LinodeClient:
        return LinodeClient(token, base_url=f"{self.url}/v4")

    def new_cluster(self, label: str, count: int = 3) -> LKECluster:
        """A booted cluster of its own, for a test that changes it."""
        client = self.client()
        cluster = client.lke.cluster_create(
            region="us-east",
            label=label,
            kube_version="1.35",
            node_pools=[client.lke.node_pool("g6-standard-2", count)],
        )
        self.clock.advance(BOOTED)
        return cluster


@pytest.fixture(scope="module")
def account(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Account]:
    clock = ManualClock()
    state = LinodeState(clock=clock, seed=11)
    prod = {
        "label": "prod",
        "region": "us-east",
        "k8s_version": "1.35",
        "node_pools": [{"type": "g6-dedicated-8", "count": 3}],
    }
    cluster = state.lke.create_cluster(prod, "sandbox")
    state.settle()
    state.set_kubeconfig(cluster.id, KUBECONFIG)
    linode_id = next(iter(state.lke.instances))
    state.upsert_volume("pvc5f0c2a9e41b34d", 20, "us-east", linode_id=linode_id)
    with running(LinodeServer(state, {TOKEN: "sandbox"})) as url:
        yield Account(url, clock, cluster.id, tmp_path_factory.mktemp("linode-cli-home"))


# -- linode-cli ------------------------------------------------------------------------------
def test_cli_lists_and_views_clusters_pools_and_nodes(account: Account) -> None:
    clusters = account.cli_json("lke", "clusters-list")
    assert {"prod"} <= {c["label"] for c in clusters}
    view = account.cli_json("lke", "cluster-view", account.cluster_id)[0]
    assert (view["label"], view["region"], view["k8s_version"]) == ("prod", "us-east", "1.35")

    pools = account.cli_json("lke", "pools-list", account.cluster_id)
    assert len(pools) == 1 and pools[0]["count"] == 3
    pool = account.cli_json("lke", "pool-view", account.cluster_id, pools[0]["id"])[0]
    assert pool == pools[0]
    first = pool["nodes"][0]
    node = account.cli_json("lke", "node-view", account.cluster_id, first["id"])[0]
    assert node == first and node["status"] == "ready" and node["instance_id"]


def test_cli_text_output_of_versions(account: Account) -> None:
    out = account.cli("lke", "versions-list", "--text", "--no-headers").stdout
    assert out.split() == ["1.36", "1.35", "1.34"]


def test_cli_kubeconfig_view_decodes_to_the_kubeconfig_given_to_the_state(
    account: Account,
) -> None:
    encoded = account.cli_json("lke", "kubeconfig-view", account.cluster_id)[0]["kubeconfig"]
    assert base64.b64decode(encoded).decode() == KUBECONFIG


def test_cli_get_kubeconfig_finds_the_cluster_by_label(account: Account) -> None:
    # The plugin lists clusters with an X-Filter on the label, then fetches the kubeconfig.
    out = account.cli("get-kubeconfig", "--label", "prod", "--dry-run").stdout
    assert yaml.safe_load(out)["clusters"][0]["cluster"]["server"] == "https://127.0.0.1:6443"
    missing = account.cli("get-kubeconfig", "--label", "nope", "--dry-run", check=False)
    assert missing.returncode != 0 and "does not exist" in missing.stderr


def test_cli_node_recycle_replaces_the_node(account: Account) -> None:
    cluster = account.new_cluster("recycle-cli")
    before = account.cli_json("lke", "pools-list", cluster.id)[0]["nodes"]
    old = before[1]
    account.cli("lke", "node-recycle", cluster.id, old["id"])

    gone = account.cli("lke", "node-view", cluster.id, old["id"], check=False)
    assert (
        gone.returncode != 0 and "404" in gone.stderr and "Not found" in gone.stdout + gone.stderr
    )
    after = account.cli_json("lke", "pools-list", cluster.id)[0]["nodes"]
    assert after[0] == before[0] and after[2] == before[2]
    assert after[1]["id"] != old["id"] and after[1]["status"] == "not_ready"
    recycles = account.cli_json("events", "list", "--action", "lke_node_recycle")
    mine = [e for e in recycles if e["entity"]["label"] == "recycle-cli"]
    assert [e["status"] for e in mine] == ["started"]

    account.clock.advance(BOOTED)
    node = account.cli_json("lke", "node-view", cluster.id, after[1]["id"])[0]
    assert node["status"] == "ready" and node["instance_id"] not in (None, old["instance_id"])
    recycles = account.cli_json("events", "list", "--action", "lke_node_recycle")
    assert [e["status"] for e in recycles if e["entity"]["label"] == "recycle-cli"] == ["finished"]


def test_cli_volumes_list(account: Account) -> None:
    volumes = account.cli_json("volumes", "list")
    assert [v["label"] for v in volumes] == ["pvc5f0c2a9e41b34d"]
    assert volumes[0]["size"] == 20 and volumes[0]["status"] == "active"
    instances = account.cli("linodes", "list", "--text", "--no-headers").stdout
    assert volumes[0]["linode_label"] in instances


def test_cli_domains_and_records(account: Account) -> None:
    domain = account.cli_json(
        "domains",
        "create",
        "--domain",
        "example.net",
        "--type",
        "master",
        "--soa_email",
        "hostmaster@example.net",
    )[0]
    account.cli(
        "domains",
        "records-create",
        domain["id"],
        "--type",
        "A",
        "--name",
        "www",
        "--target",
        "192.0.2.10",
        "--ttl_sec",
        "301",
    )
    records = account.cli_json("domains", "records-list", domain["id"])
    assert [(r["type"], r["name"], r["target"], r["ttl_sec"]) for r in records] == [
        ("A", "www", "192.0.2.10", 3600)
    ]


def test_cli_events_list(account: Account) -> None:
    events = account.cli_json("events", "list")
    created = [e for e in events if e["action"] == "lke_cluster_create"]
    assert any(e["entity"]["label"] == "prod" and e["status"] == "finished" for e in created)


def test_cli_shows_api_errors(account: Account) -> None:
    proc = account.cli("lke", "cluster-view", 999, check=False)
    assert proc.returncode != 0 and "Request failed: 404" in proc.stderr


# -- linode-api4 -----------------------------------------------------------------------------
def test_api4_reads_clusters_pools_nodes_and_versions(account: Account) -> None:
    client = account.client()
    cluster = client.load(LKECluster, account.cluster_id)
    assert (cluster.label, cluster.region.id, cluster.k8s_version.id) == ("prod", "us-east", "1.35")
    assert cluster.id in [c.id for c in client.lke.clusters()]
    pool = cluster.pools[0]
    assert pool.type.id == "g6-dedicated-8" and pool.count == 3
    node = pool.nodes[0]
    assert node.status == "ready"
    assert node.instance.label == f"lke{cluster.id}-{node.id}"
    assert cluster.node_view(node.id).instance_id == node.instance_id
    assert [v.id for v in client.lke.versions()] == ["1.36", "1.35", "1.34"]
    assert base64.b64decode(cluster.kubeconfig).decode() == KUBECONFIG
    assert [e.endpoint for e in cluster.api_endpoints] == ["https://127.0.0.1:6443"]


def test_api4_pool_count_change_boots_a_new_linode(account: Account) -> None:
    pool = account.new_cluster("grow").pools[0]
    pool.count = 4
    pool.save()
    pool.invalidate()
    assert pool.count == 4
    assert [n.status for n in pool.nodes] == ["ready"] * 3 + ["not_ready"]
    assert pool.nodes[3].instance_id is None

    account.clock.advance(BOOTED)
    pool.invalidate()
    assert [n.status for n in pool.nodes] == ["ready"] * 4
    assert pool.nodes[3].instance.status == "running"


def test_api4_node_pool_and_cluster_recycles(account: Account) -> None:
    cluster = account.new_cluster("roll", count=2)
    client = account.client()
    first = cluster.pools[0].nodes[0].id
    cluster.node_recycle(first)
    cluster.pools[0].recycle()
    cluster.cluster_nodes_recycle()
    cluster.invalidate()
    assert first not in [n.id for n in cluster.pools[0].nodes]

    def statuses(action: str) -> list[str]:
        events = client.account.events(Event.action == action)
        return [e.status for e in events if e.entity.label == "roll"]

    # Newest first. The pool and cluster recycles wait on the node recycle already under
    # way (its replacement is fresh) rather than recycling that node again.
    assert statuses("lke_node_recycle") == ["scheduled", "started"]
    assert statuses("lke_pool_recycle") == statuses("lke_cluster_recycle") == ["started"]
    account.clock.advance(BOOTED * 5)
    assert set(statuses("lke_node_recycle")) == {"finished"}
    assert statuses("lke_pool_recycle") == statuses("lke_cluster_recycle") == ["finished"]


def test_api4_upgrade_goes_one_minor_at_a_time(account: Account) -> None:
    cluster = account.new_cluster("upgrade")
    cluster.k8s_version = "1.36"
    cluster.save()
    cluster.invalidate()
    assert cluster.k8s_version.id == "1.36"
    cluster.k8s_version = "1.35"
    with pytest.raises(ApiError) as refused:
        cluster.save()
    assert refused.value.status == 400
    assert refused.value.json["errors"][0]["field"] == "k8s_version"


def test_api4_wrong_token_is_401(account: Account) -> None:
    with pytest.raises(ApiError) as refused:
        account.client("not-the-token").lke.clusters()
    assert refused.value.status == 401 and refused.value.errors == ["Invalid Token"]


def test_api4_unknown_cluster_is_404(account: Account) -> None:
    with pytest.raises(ApiError) as missing:
        account.client().load(LKECluster, 999)
    assert missing.value.status == 404 and missing.value.errors == ["Not found"]


def test_api4_rate_limit_is_429_with_retry_after() -> None:
    server = LinodeServer(LinodeState(clock=ManualClock()), {"a": "ann", "b": "bob"}, rate_limit=3)
    with running(server) as url:
        # linode-api4 retries 429 by default, honouring Retry-After; here it must not.
        ann = LinodeClient("a", base_url=f"{url}/v4", retry=False)
        for _ in range(3):
            ann.lke.clusters()
        with pytest.raises(ApiError) as limited:
            ann.lke.clusters()
        assert limited.value.status == 429
        headers = limited.value.response.headers
        assert 1 <= int(headers["Retry-After"]) <= 60 and headers["X-RateLimit-Remaining"] == "0"
        # The quota is per token.
        assert list(LinodeClient("b", base_url=f"{url}/v4", retry=False).lke.clusters()) == []
