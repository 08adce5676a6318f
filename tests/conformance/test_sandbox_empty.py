"""`cpanel sandbox up --empty`: a Linode account without an LKE cluster, where a cluster
created through the Linode API (with linode-api4) is backed by the sandbox's Kubernetes API,
seen through kubectl and the emulators' request logs; and cert-manager and the Postgres
operator, which act only once their controllers run. Sped up 10x."""

from __future__ import annotations

import base64
import dataclasses
import time
from collections.abc import Iterator

import pytest
import yaml
from cpanel_platform.sandbox import baseline, mirror, runner
from linode_api4 import ApiError, LinodeClient
from linode_api4.objects import LKECluster

from tests.conformance.test_lke_recycle import _ready_nodes
from tests.conftest import Sandbox, start_sandbox
from tests.waiting import wait_for

SYSTEM_NAMESPACES = {"default", "kube-system", "kube-public", "kube-node-lease"}
ACTORS = "system:sandbox-actors"  # the sandbox's simulated controllers, as the API knows them
CERTIFICATE = ("Certificate", "wildcard-example-com")
PGO = "postgres-operator.crunchydata.com"


@pytest.fixture(scope="module")
def empty(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    state = tmp_path_factory.mktemp("empty")
    box = start_sandbox(state, speed=10, empty=True)
    yield box
    runner.stop(state)


def _client(box: Sandbox) -> LinodeClient:
    # Without retries, a 503 answers at once: linode-api4 would wait out its Retry-After.
    return LinodeClient(box.env["LINODE_TOKEN"], base_url=box.env["LINODE_API_URL"], retry=False)


def _kubeconfig(client: LinodeClient, cluster_id: int) -> str | None:
    """The cluster's kubeconfig, or None while the API answers that it is not available."""
    try:
        answer = client.get(f"/lke/clusters/{cluster_id}/kubeconfig")
    except ApiError as err:
        assert err.status == 503, err
        return None
    return base64.b64decode(answer["kubeconfig"]).decode()


def _create(client: LinodeClient, label: str, version: str = "1.35") -> LKECluster:
    return client.lke.cluster_create(
        "us-east", label, version, [client.lke.node_pool("g6-standard-2", 2)]
    )


def _kubectl_for(box: Sandbox, cluster: LKECluster) -> Sandbox:
    """kubectl with the cluster's kubeconfig, once the Linode API serves it."""
    text = wait_for(lambda: _kubeconfig(_client(box), cluster.id), timeout=15)
    path = box.state_dir / f"lke{cluster.id}.yaml"
    path.write_text(text)
    return dataclasses.replace(box, kubeconfig=path)


def _namespaces(box: Sandbox) -> set[str]:
    return {ns["metadata"]["name"] for ns in box.json("get", "namespaces")["items"]}


def test_a_cluster_created_through_the_linode_api_gets_the_kubernetes_api(empty: Sandbox) -> None:
    assert empty.linode_cli("lke", "clusters-list") == []
    assert yaml.safe_load(empty.kubeconfig.read_text())["contexts"] == []
    client = _client(empty)
    _, first = empty.requests("linode")

    cluster = _create(client, "t1")
    logged, following = empty.requests("linode", first)
    assert following > first
    assert ("POST", 200, "sandbox") in [
        (r["method"], r["status"], r["user"]) for r in logged if r["path"] == "/v4/lke/clusters"
    ]
    other = _create(client, "t2")  # one cluster at a time: this one gets no API

    box = _kubectl_for(empty, cluster)
    config = yaml.safe_load(box.kubeconfig.read_text())
    name = f"lke{cluster.id}"
    assert config["current-context"] == f"{name}-ctx"
    assert [c["name"] for c in config["clusters"]] == [name]
    assert [u["name"] for u in config["users"]] == [f"{name}-admin"]
    nodes = wait_for(
        lambda: (n := _ready_nodes(box)) and len(n) == 2 and all(n.values()) and n, timeout=20
    )
    assert all(node.startswith(f"{name}-") for node in nodes)
    for node in box.json("get", "nodes")["items"]:
        assert node["status"]["nodeInfo"]["kubeletVersion"].startswith("v1.35.")
    server = box.json("version")["serverVersion"]
    assert server["gitVersion"].startswith("v1.35.")
    assert _namespaces(box) == SYSTEM_NAMESPACES  # no cert-manager, nothing of a platform

    # The second cluster's control plane is up (its API endpoints answer), yet it has no
    # kubeconfig, and its Linodes registered no nodes here.
    wait_for(lambda: client.get(f"/lke/clusters/{other.id}/api-endpoints"), timeout=15)
    assert _kubeconfig(client, other.id) is None
    wait_for(
        lambda: all(
            node["status"] == "ready"
            for pool in client.get(f"/lke/clusters/{other.id}/pools")["data"]
            for node in pool["nodes"]
        ),
        timeout=15,
    )
    assert set(_ready_nodes(box)) == set(nodes)

    _, before = empty.requests("kubernetes")
    box.kubectl("create", "namespace", "mine")
    box.kubectl("create", "namespace", "dry", "--dry-run=server")
    writes = [
        (r["method"], r["path"], r["user"], r["status"], r["dry_run"])
        for r in empty.requests("kubernetes", before)[0]
        if r["user"] != ACTORS and r["method"] != "GET"
    ]
    assert writes == [
        ("POST", "/api/v1/namespaces", "sandbox-admin", 201, False),
        ("POST", "/api/v1/namespaces", "sandbox-admin", 201, True),
    ]

    cluster.delete()
    wait_for(lambda: not box.json("get", "namespaces")["items"], timeout=10)
    assert box.json("get", "nodes")["items"] == []
    other.delete()


def _release(component: str, version: str, controller: str) -> tuple[list[dict], dict]:
    """The stand-in release's namespace and CRDs, and its controller Deployment."""
    text = mirror.release(component, version)
    assert text
    docs = list(yaml.safe_load_all(text))
    (deployment,) = [
        d for d in docs if (d["kind"], d["metadata"]["name"]) == ("Deployment", controller)
    ]
    return [d for d in docs if d["kind"] != "Deployment"], deployment


def _baseline(*wanted: tuple[str, str]) -> list[dict]:
    return [d for d in baseline.documents() if (d["kind"], d["metadata"]["name"]) in wanted]


def _install_without_controller(
    box: Sandbox, release: tuple[str, str, str], resources: list[dict], plural: str
) -> dict:
    """Install the release (component, version, controller Deployment) but its controller,
    and `resources` (in namespace app); wait until the simulated operator watches `plural`,
    so that it would act by now. Returns the controller's Deployment."""
    _, since = box.requests("kubernetes")
    setup, controller = _release(*release)
    box.kubectl("apply", "-f", "-", input=yaml.safe_dump_all(setup))
    box.kubectl("create", "namespace", "app")
    box.kubectl("apply", "-f", "-", input=yaml.safe_dump_all(resources))
    wait_for(
        lambda: any(
            r["path"].endswith(f"/{plural}")
            and "watch=true" in r["query"]
            and (r["user"], r["status"]) == (ACTORS, 200)
            for r in box.requests("kubernetes", since)[0]
        ),
        timeout=10,
    )
    return controller


@pytest.fixture
def lke(empty: Sandbox) -> Iterator[Sandbox]:
    """kubectl for a new LKE cluster with two ready nodes, deleted afterwards."""
    cluster = _create(_client(empty), "lke")
    box = _kubectl_for(empty, cluster)
    wait_for(lambda: (n := _ready_nodes(box)) and len(n) == 2 and all(n.values()), timeout=20)
    yield box
    cluster.delete()


def _status(box: Sandbox, *what: str) -> dict:
    return box.json("get", *what).get("status") or {}


def test_cert_manager_issues_only_while_its_controller_runs(lke: Sandbox) -> None:
    wanted = _baseline(CERTIFICATE, ("ClusterIssuer", "letsencrypt-prod"))
    release = ("cert_manager", "1.16.3", "cert-manager")
    controller = _install_without_controller(lke, release, wanted, "certificates")
    time.sleep(3)  # an ACME issuance takes 2 s here
    assert not _status(lke, "certificate", CERTIFICATE[1], "-n", "app")
    assert not _status(lke, "clusterissuer", "letsencrypt-prod")

    lke.kubectl("apply", "-f", "-", input=yaml.safe_dump(controller))
    wait_for(
        lambda: any(
            (c["type"], c["status"]) == ("Ready", "True")
            for c in _status(lke, "certificate", CERTIFICATE[1], "-n", "app").get("conditions", [])
        ),
        timeout=20,
    )


def test_the_postgres_operator_makes_instances_only_while_it_runs(lke: Sandbox) -> None:
    wanted = _baseline(("PostgresCluster", "db"))
    release = ("postgres", "5.7.4", "pgo")
    controller = _install_without_controller(lke, release, wanted, "postgresclusters")
    time.sleep(1)  # the operator makes an instance's StatefulSet as soon as it looks
    assert lke.json("get", "statefulsets,services", "-n", "app")["items"] == []
    assert not _status(lke, "postgrescluster", "db", "-n", "app")

    lke.kubectl("apply", "-f", "-", input=yaml.safe_dump(controller))
    wait_for(
        lambda: lke.json("get", "pods", "-n", "app", "-l", f"{PGO}/role=master")["items"],
        timeout=30,
    )
