"""Single-replica workloads behind a PodDisruptionBudget: an eviction of their only pod is
refused for as long as the budget holds, so a drain would wait forever. They are moved the
way they can be without downtime: with the node cordoned, a rolling restart starts the new
pod elsewhere and stops the old one only once the new one is Ready."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from cpanel_platform.kube.actions import KubeActionError, restart_rollout
from cpanel_platform.kube.kinds import Kind
from cpanel_platform.kube.rest import ApiError, TransportError, call
from cpanel_platform.ops import drain as draining
from cpanel_platform.ops.linode_ops import OpsError

if TYPE_CHECKING:
    from kubernetes.client import ApiClient

DEPLOYMENTS = Kind("apps", "v1", "deployments", "Deployment", True)
REPLICASETS = Kind("apps", "v1", "replicasets", "ReplicaSet", True)
PODS = Kind("", "v1", "pods", "Pod", True)


def _get(api: ApiClient, path: str) -> dict[str, Any] | None:
    try:
        return call(api, "GET", path)  # type: ignore[no-any-return]
    except ApiError as err:
        if err.code == 404:
            return None
        raise OpsError(f"reading {path}: {err.message}") from err
    except TransportError as err:
        raise OpsError(f"the Kubernetes API is unreachable ({err})") from err


def deployment_of(api: ApiClient, pod: dict[str, Any]) -> dict[str, Any] | None:
    """The Deployment that owns `pod` through its ReplicaSet, if any."""
    namespace = pod["metadata"]["namespace"]
    owner = next((o for o in pod["metadata"].get("ownerReferences", [])
                  if o.get("kind") == "ReplicaSet"), None)
    if owner is None:
        return None
    rs = _get(api, REPLICASETS.object_path(namespace, owner["name"]))
    parent = next((o for o in (rs or {}).get("metadata", {}).get("ownerReferences", [])
                   if o.get("kind") == "Deployment"), None)
    return _get(api, DEPLOYMENTS.object_path(namespace, parent["name"])) if parent else None


def _guarded(api: ApiClient, pod: dict[str, Any]) -> dict[str, Any] | None:
    """The pod's single-replica Deployment when a budget refuses to let its pod go."""
    deployment = deployment_of(api, pod)
    if deployment is None or deployment["spec"].get("replicas", 1) != 1:
        return None
    budgets = draining.budgets_for(api, pod)
    if not any(b.get("status", {}).get("disruptionsAllowed", 0) == 0 for b in budgets):
        return None
    return deployment


def guarded_single_replicas(api: ApiClient, pods: list[dict[str, Any]]) -> list[str]:
    """"ns/name" of the single-replica Deployments among `pods`' owners that a PDB guards."""
    found = []
    for pod in pods:
        deployment = _guarded(api, pod)
        if deployment is not None:
            meta = deployment["metadata"]
            found.append(f"{meta['namespace']}/{meta['name']}")
    return sorted(set(found))


def move_single_replica(
    api: ApiClient, node: str, *, timeout: float, say: Callable[[str], None]
) -> list[str]:
    """Restart each guarded single-replica Deployment with a pod on the (cordoned) `node`
    and wait until its pod runs elsewhere; the "ns/name" of those moved."""
    moved = []
    for pod in draining.evictable_pods(api, node):
        deployment = _guarded(api, pod)
        if deployment is None:
            continue
        namespace, name = deployment["metadata"]["namespace"], deployment["metadata"]["name"]
        say(f"{namespace}/{name} has one replica and a PDB: restarting it onto another node")
        try:
            restart_rollout(api, DEPLOYMENTS, namespace, name)
        except KubeActionError as err:
            raise OpsError(f"could not restart {namespace}/{name}: {err}") from err
        _wait_moved(api, pod, node, timeout)
        moved.append(f"{namespace}/{name}")
    return moved


def _wait_moved(api: ApiClient, pod: dict[str, Any], node: str, timeout: float) -> None:
    namespace, name = pod["metadata"]["namespace"], pod["metadata"]["name"]
    deadline = time.monotonic() + timeout
    while _get(api, PODS.object_path(namespace, name)) is not None:
        if time.monotonic() > deadline:
            raise OpsError(
                f"{namespace}/{name} was still on {node} {timeout:.0f} s after its rolling "
                "restart; is there room for its replacement on another node?"
            )
        time.sleep(1.0)
