"""Kubeconfig wiring, kinds' paths and owner lookup: no API server needed."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest
import yaml
from cpanel_platform.kube import client, kinds
from cpanel_platform.kube.actions import owner_workload
from cpanel_platform.kube.client import KubeConfigError

TOKEN = "s3cret-token-value"


def config(**overrides: Any) -> dict[str, Any]:
    doc = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": "lke-prod",
                "cluster": {
                    "server": "https://abc.us-east-1.linodelke.net:443",
                    "certificate-authority-data": base64.b64encode(b"not a real CA").decode(),
                },
            }
        ],
        "users": [
            {"name": "lke-admin", "user": {"token": TOKEN}},
            {"name": "cert-user", "user": {"client-certificate": "c.crt", "client-key": "c.key"}},
        ],
        "contexts": [
            {"name": "prod", "context": {"cluster": "lke-prod", "user": "lke-admin"}},
            {
                "name": "prod-ops",
                "context": {"cluster": "lke-prod", "user": "cert-user", "namespace": "ops"},
            },
        ],
        "current-context": "prod",
    }
    doc.update(overrides)
    return doc


def write(tmp_path: Path, doc: Any, name: str = "config") -> str:
    path = tmp_path / name
    path.write_text(doc if isinstance(doc, str) else yaml.safe_dump(doc))
    return str(path)


def test_connect_reads_the_current_context_without_the_network(tmp_path: Path) -> None:
    target = client.connect(write(tmp_path, config()))
    assert (target.context, target.cluster, target.user, target.namespace) == (
        "prod",
        "lke-prod",
        "lke-admin",
        "default",
    )
    assert target.server == "https://abc.us-east-1.linodelke.net:443"
    assert TOKEN not in repr(target)


def test_a_named_context_and_its_namespace(tmp_path: Path) -> None:
    (tmp_path / "c.crt").write_text("cert")
    (tmp_path / "c.key").write_text("key")
    target = client.connect(write(tmp_path, config()), "prod-ops")
    assert (target.user, target.namespace) == ("cert-user", "ops")
    proxy = client.service_proxy(target, "monitoring", "prometheus-k8s", "web")
    assert proxy.cert == (str(tmp_path / "c.crt"), str(tmp_path / "c.key"))
    assert "Authorization" not in proxy.headers


def test_kubeconfig_comes_from_the_environment_like_kubectl(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = write(tmp_path, config(**{"current-context": "prod-ops"}), "other")
    (tmp_path / "c.crt").write_text("cert")
    (tmp_path / "c.key").write_text("key")
    monkeypatch.setenv("KUBECONFIG", f"{tmp_path / 'missing'}:{other}")
    assert client.contexts() == (["prod", "prod-ops"], "prod-ops")
    assert client.connect().context == "prod-ops"
    monkeypatch.setenv("KUBECONFIG", "")
    monkeypatch.setenv("HOME", str(tmp_path))
    with pytest.raises(KubeConfigError, match=r"no kubeconfig at .*\.kube/config"):
        client.connect()


def test_the_service_proxy_carries_the_token_and_the_ca(tmp_path: Path) -> None:
    target = client.connect(write(tmp_path, config()))
    proxy = client.service_proxy(target, "keel", "keel", "9300")
    assert proxy.url == (
        "https://abc.us-east-1.linodelke.net:443/api/v1/namespaces/keel/services/keel:9300/proxy"
    )
    assert proxy.headers == {"Authorization": f"Bearer {TOKEN}"}
    assert isinstance(proxy.verify, str) and Path(proxy.verify).read_bytes() == b"not a real CA"
    assert proxy.via == "service proxy" and TOKEN not in proxy.describe()


def test_a_missing_kubeconfig(tmp_path: Path) -> None:
    with pytest.raises(KubeConfigError, match=f"^no kubeconfig at {tmp_path}/nope$"):
        client.connect(str(tmp_path / "nope"))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("clusters: [\n  - name: a\n", r"is not valid YAML \(line 2, column 3\)"),
        ("just a string\n", r"is not a kubeconfig \(expected a mapping\)"),
        ("", r"is empty"),
        ("contexts: {a: b}\n", r"is malformed: contexts must be a list of named entries"),
    ],
)
def test_a_malformed_kubeconfig(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(KubeConfigError, match=message) as err:
        client.connect(write(tmp_path, text))
    assert "\n" not in str(err.value)


def test_an_unknown_context_lists_the_known_ones(tmp_path: Path) -> None:
    with pytest.raises(KubeConfigError, match=r"no context 'staging' in .*known: prod, prod-ops"):
        client.connect(write(tmp_path, config()), "staging")


def test_no_current_context(tmp_path: Path) -> None:
    path = write(tmp_path, config(**{"current-context": ""}))
    with pytest.raises(KubeConfigError, match=r"sets no current context.*known: prod, prod-ops"):
        client.connect(path)
    assert client.contexts(path) == (["prod", "prod-ops"], None)


def test_a_context_naming_a_missing_cluster_or_certificate(tmp_path: Path) -> None:
    doc = config(contexts=[{"name": "bad", "context": {"cluster": "gone", "user": "lke-admin"}}])
    with pytest.raises(KubeConfigError, match=r"context 'bad' names cluster 'gone', which .* not"):
        client.connect(write(tmp_path, doc), "bad")
    with pytest.raises(KubeConfigError, match=r"context 'prod-ops': File does not exist: .*c\.crt"):
        client.connect(write(tmp_path, config()), "prod-ops")


def test_kind_paths() -> None:
    assert kinds.PODS.path("app") == "/api/v1/namespaces/app/pods"
    assert kinds.PODS.path(None) == "/api/v1/pods"
    assert kinds.NODES.path("app") == "/api/v1/nodes"
    assert kinds.CERTIFICATES.path("app") == "/apis/cert-manager.io/v1/namespaces/app/certificates"
    assert kinds.DEPLOYMENTS.object_path("app", "web", "scale") == (
        "/apis/apps/v1/namespaces/app/deployments/web/scale"
    )
    assert kinds.POSTGRESCLUSTERS.api_version == "postgres-operator.crunchydata.com/v1beta1"
    assert kinds.KINDS["poddisruptionbudgets"].group == "policy"
    assert len(kinds.KINDS) == 19


def owned(kind: str, name: str, api_version: str = "apps/v1", ns: str = "app") -> dict:
    return {
        "metadata": {
            "name": f"{name}-x",
            "namespace": ns,
            "ownerReferences": [
                {"apiVersion": api_version, "kind": kind, "name": name, "controller": True}
            ],
        }
    }


def test_owner_workload() -> None:
    rs = owned("Deployment", "web")
    rs["metadata"]["name"] = "web-abc"
    pod = owned("ReplicaSet", "web-abc")
    assert owner_workload(pod, [rs]) == (kinds.DEPLOYMENTS, "app", "web")
    assert owner_workload(pod, []) is None  # its ReplicaSet is not known
    other_ns = {**rs, "metadata": {**rs["metadata"], "namespace": "keel"}}
    assert owner_workload(pod, [other_ns]) is None
    assert owner_workload(owned("StatefulSet", "db"), []) == (kinds.STATEFULSETS, "app", "db")
    assert owner_workload(owned("DaemonSet", "ne"), []) == (kinds.DAEMONSETS, "app", "ne")
    assert owner_workload(owned("Job", "backup", "batch/v1"), []) is None
    assert owner_workload({"metadata": {"name": "bare"}}, []) is None
    bare_rs = owned("ReplicaSet", "lonely")
    assert owner_workload(bare_rs, [{"metadata": {"name": "lonely", "namespace": "app"}}]) is None
