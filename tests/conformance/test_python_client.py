"""The official `kubernetes` Python client against the sandbox Kubernetes API."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator

import pytest
from cpanel_platform.sandbox import runner
from kubernetes import client, config, watch
from kubernetes.client.rest import ApiException

from tests.conftest import Sandbox


def api_client(box: Sandbox) -> client.ApiClient:
    return config.new_client_from_config(str(box.kubeconfig))


@pytest.fixture
def core(sandbox: Sandbox) -> client.CoreV1Api:
    return client.CoreV1Api(api_client(sandbox))


@pytest.fixture
def ns(core: client.CoreV1Api) -> Iterator[str]:
    name = f"py-{uuid.uuid4().hex[:8]}"
    core.create_namespace({"metadata": {"name": name}})
    yield name


def _pod(name: str) -> dict:
    return {
        "metadata": {"name": name, "labels": {"app": "probe"}},
        "spec": {"containers": [{"name": "main", "image": "busybox:1.36"}]},
    }


def _wait_running(core: client.CoreV1Api, ns: str, name: str) -> None:
    deadline = time.monotonic() + 15
    while core.read_namespaced_pod(name, ns).status.phase != "Running":
        assert time.monotonic() < deadline, f"{name} never ran"
        time.sleep(0.1)


def test_list_then_watch_from_the_list_resource_version(core: client.CoreV1Api, ns: str) -> None:
    core.create_namespaced_config_map(ns, {"metadata": {"name": "before"}})
    listed = core.list_namespaced_config_map(ns)
    names = [i.metadata.name for i in listed.items]
    assert "before" in names

    def later() -> None:
        time.sleep(0.3)
        core.create_namespaced_config_map(ns, {"metadata": {"name": "after"}})
        core.patch_namespaced_config_map("after", ns, {"data": {"k": "v"}})
        core.delete_namespaced_config_map("after", ns)

    threading.Thread(target=later).start()
    seen = []
    w = watch.Watch()
    for event in w.stream(
        core.list_namespaced_config_map,
        ns,
        resource_version=listed.metadata.resource_version,
        timeout_seconds=10,
    ):
        seen.append((event["type"], event["object"].metadata.name))
        if event["type"] == "DELETED":
            w.stop()
    assert seen == [("ADDED", "after"), ("MODIFIED", "after"), ("DELETED", "after")]


def test_watch_resumes_across_a_restart_without_loss_or_duplicates(fresh_sandbox) -> None:
    box = fresh_sandbox()
    core = client.CoreV1Api(api_client(box))
    core.create_namespace({"metadata": {"name": "resume"}})
    for i in range(3):
        core.create_namespaced_config_map("resume", {"metadata": {"name": f"cm-{i}"}})
    listed = core.list_namespaced_config_map("resume")
    known = {i.metadata.name: i.metadata.resource_version for i in listed.items}
    rv = listed.metadata.resource_version
    core.create_namespaced_config_map("resume", {"metadata": {"name": "cm-3"}})
    runner.stop(box.state_dir)
    box = fresh_sandbox()  # the same state directory: same store, a new process and port
    core = client.CoreV1Api(api_client(box))
    core.create_namespaced_config_map("resume", {"metadata": {"name": "cm-4"}})
    # The old resourceVersion predates the new process's event window: 410, then relist.
    with pytest.raises(ApiException) as gone:
        for _ in watch.Watch().stream(
            core.list_namespaced_config_map, "resume", resource_version=rv, timeout_seconds=2
        ):
            pass
    assert gone.value.status == 410
    relisted = core.list_namespaced_config_map("resume")
    names = sorted(i.metadata.name for i in relisted.items if i.metadata.name.startswith("cm-"))
    assert names == [f"cm-{i}" for i in range(5)]
    for item in relisted.items:
        if item.metadata.name in known:
            assert item.metadata.resource_version == known[item.metadata.name]
    assert int(relisted.metadata.resource_version) > int(rv)


def test_strategic_merge_patch_of_a_deployment(sandbox: Sandbox, ns: str) -> None:
    apps = client.AppsV1Api(api_client(sandbox))
    apps.create_namespaced_deployment(
        ns,
        {
            "metadata": {"name": "api"},
            "spec": {
                "replicas": 1,
                "selector": {"matchLabels": {"app": "api"}},
                "template": {
                    "metadata": {"labels": {"app": "api"}},
                    "spec": {
                        "containers": [
                            {"name": "app", "image": "app:1", "env": [{"name": "A", "value": "1"}]},
                            {"name": "sidecar", "image": "proxy:1"},
                        ]
                    },
                },
            },
        },
    )
    patched = apps.patch_namespaced_deployment(
        "api",
        ns,
        {
            "spec": {
                "template": {
                    "spec": {
                        "containers": [
                            {"name": "app", "image": "app:2", "env": [{"name": "B", "value": "2"}]}
                        ]
                    }
                }
            }
        },
    )
    containers = {c.name: c for c in patched.spec.template.spec.containers}
    assert set(containers) == {"app", "sidecar"}
    assert containers["app"].image == "app:2"
    assert {e.name for e in containers["app"].env} == {"A", "B"}
    assert patched.metadata.generation == 2


def test_status_patch_changes_only_status(sandbox: Sandbox, ns: str) -> None:
    custom = client.CustomObjectsApi(api_client(sandbox))
    ext = client.ApiextensionsV1Api(api_client(sandbox))
    ext.create_custom_resource_definition(
        {
            "metadata": {"name": "gadgets.example.org"},
            "spec": {
                "group": "example.org",
                "scope": "Namespaced",
                "names": {"plural": "gadgets", "singular": "gadget", "kind": "Gadget"},
                "versions": [
                    {
                        "name": "v1",
                        "served": True,
                        "storage": True,
                        "subresources": {"status": {}},
                        "schema": {
                            "openAPIV3Schema": {
                                "type": "object",
                                "x-kubernetes-preserve-unknown-fields": True,
                            }
                        },
                    }
                ],
            },
        }
    )
    custom.create_namespaced_custom_object(
        "example.org",
        "v1",
        ns,
        "gadgets",
        {
            "apiVersion": "example.org/v1",
            "kind": "Gadget",
            "metadata": {"name": "g"},
            "spec": {"size": 1},
            "status": {"phase": "ignored on create"},
        },
    )
    obj = custom.patch_namespaced_custom_object_status(
        "example.org",
        "v1",
        ns,
        "gadgets",
        "g",
        {"spec": {"size": 99}, "status": {"phase": "Ready"}},
    )
    assert obj["status"] == {"phase": "Ready"} and obj["spec"]["size"] == 1
    assert obj["metadata"]["generation"] == 1
    main = custom.patch_namespaced_custom_object(
        "example.org", "v1", ns, "gadgets", "g", {"spec": {"size": 2}, "status": {"phase": "x"}}
    )
    assert main["spec"]["size"] == 2 and main["status"] == {"phase": "Ready"}
    assert main["metadata"]["generation"] == 2


def test_eviction_deletes_the_pod(core: client.CoreV1Api, ns: str) -> None:
    core.create_namespaced_pod(ns, _pod("victim"))
    _wait_running(core, ns, "victim")
    core.create_namespaced_pod_eviction(
        "victim",
        ns,
        {
            "apiVersion": "policy/v1",
            "kind": "Eviction",
            "metadata": {"name": "victim", "namespace": ns},
        },
    )
    deadline = time.monotonic() + 10
    while True:
        try:
            pod = core.read_namespaced_pod("victim", ns)
        except ApiException as err:
            assert err.status == 404
            break
        assert pod.metadata.deletion_timestamp is not None
        assert time.monotonic() < deadline
        time.sleep(0.1)


def test_eviction_blocked_by_budget_is_429(
    sandbox: Sandbox, core: client.CoreV1Api, ns: str
) -> None:
    core.create_namespaced_pod(ns, _pod("precious"))
    _wait_running(core, ns, "precious")
    policy = client.PolicyV1Api(api_client(sandbox))
    policy.create_namespaced_pod_disruption_budget(
        ns,
        {
            "metadata": {"name": "keep"},
            "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": "probe"}}},
        },
    )
    deadline = time.monotonic() + 10
    while (
        policy.read_namespaced_pod_disruption_budget("keep", ns).status
        or client.V1PodDisruptionBudgetStatus(
            current_healthy=0, desired_healthy=0, disruptions_allowed=0, expected_pods=0
        )
    ).current_healthy != 1:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    with pytest.raises(ApiException) as blocked:
        core.create_namespaced_pod_eviction(
            "precious",
            ns,
            {"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": "precious"}},
        )
    assert blocked.value.status == 429
    assert "disruption budget" in blocked.value.body
    assert core.read_namespaced_pod("precious", ns).metadata.deletion_timestamp is None


def test_update_with_a_stale_resource_version_is_409(core: client.CoreV1Api, ns: str) -> None:
    cm = core.create_namespaced_config_map(ns, {"metadata": {"name": "cas"}, "data": {"v": "1"}})
    cm.data = {"v": "2"}
    core.replace_namespaced_config_map("cas", ns, cm)
    cm.data = {"v": "3"}  # still carries the old resourceVersion
    with pytest.raises(ApiException) as conflict:
        core.replace_namespaced_config_map("cas", ns, cm)
    assert conflict.value.status == 409
    assert "the object has been modified" in conflict.value.body
    assert core.read_namespaced_config_map("cas", ns).data == {"v": "2"}
