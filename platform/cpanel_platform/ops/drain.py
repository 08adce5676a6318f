"""Cordon, uncordon and drain a node as `kubectl drain` does: evictions through the Eviction
API, so PodDisruptionBudgets are honoured; a budget that allows no disruption (HTTP 429) is
waited out with capped exponential backoff, up to a deadline that names what blocked.

Shared by the dashboard's on-call keys and the rolling recycle."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from cpanel_platform.kube import rest
from cpanel_platform.kube.actions import KubeActionError, call
from cpanel_platform.kube.kinds import NODES, PODDISRUPTIONBUDGETS, PODS
from cpanel_platform.kube.rest import ApiError, TransportError
from cpanel_platform.views.filtering import Operator, Requirement

if TYPE_CHECKING:
    from kubernetes.client import ApiClient

BACKOFF_CAP = 10.0  # seconds between two evictions of one pod that a budget refused
MIRROR = "kubernetes.io/config.mirror"
_OPERATORS: dict[str, Operator] = {
    "In": "in", "NotIn": "notin", "Exists": "exists", "DoesNotExist": "!",
}


@dataclass(frozen=True)
class Blocker:
    pod: str  # "namespace/name"
    pdbs: tuple[str, ...]  # "namespace/name" of the PDBs selecting it
    reason: str  # the eviction's 429 message


class DrainStopped(Exception):
    """A drain gave up at its deadline (str(err) names the PDBs and the pods) or was
    stopped."""

    def __init__(self, message: str, blockers: tuple[Blocker, ...] = ()) -> None:
        super().__init__(message)
        self.blockers = blockers


# -- pure parts ---------------------------------------------------------------------------
def selects(selector: Mapping[str, Any] | None, labels: Mapping[str, str]) -> bool:
    """Whether a metav1.LabelSelector selects `labels`: None selects nothing, {} everything
    (policy/v1's reading of a budget's selector)."""
    if selector is None:
        return False
    terms = [Requirement(k, "=", frozenset([str(v)]))
             for k, v in (selector.get("matchLabels") or {}).items()]
    for expr in selector.get("matchExpressions") or ():
        operator = _OPERATORS.get(expr.get("operator", ""))
        if operator is None:  # the API server rejects these; select nothing rather than guess
            return False
        terms.append(Requirement(expr["key"], operator, frozenset(expr.get("values") or ())))
    return all(term.matches(labels) for term in terms)


def matching_budgets(pod: dict[str, Any], budgets: Iterable[dict[str, Any]]) -> list[dict]:
    """The budgets (of any namespace) that guard `pod`: same namespace, selector matches."""
    meta = pod["metadata"]
    labels = meta.get("labels") or {}
    return [b for b in budgets
            if b["metadata"].get("namespace") == meta.get("namespace")
            and selects((b.get("spec") or {}).get("selector"), labels)]


def evictable(pods: Iterable[dict[str, Any]], node: str) -> list[dict]:
    """The pods on `node` that `kubectl drain --ignore-daemonsets --force` evicts: not a
    DaemonSet's, not mirror pods, not finished, not already terminating. Pods without a
    controller are among them, and nothing recreates those."""
    return [
        p for p in pods
        if (p.get("spec") or {}).get("nodeName") == node
        and not p["metadata"].get("deletionTimestamp")
        and MIRROR not in (p["metadata"].get("annotations") or {})
        and (p.get("status") or {}).get("phase") not in ("Succeeded", "Failed")
        and not any(r.get("controller") and r.get("kind") == "DaemonSet"
                    for r in p["metadata"].get("ownerReferences") or ())
    ]


def local_storage(pods: list[dict]) -> list[str]:
    """"ns/name" of the pods with emptyDir volumes, whose data an eviction loses."""
    return [_key(p) for p in pods
            if any("emptyDir" in v for v in (p.get("spec") or {}).get("volumes") or ())]


def _key(pod: dict[str, Any]) -> str:
    return f"{pod['metadata'].get('namespace', '')}/{pod['metadata']['name']}"


def _names(objects: Iterable[dict[str, Any]]) -> tuple[str, ...]:
    return tuple(_key(o) for o in objects)


def holding(blocker: Blocker) -> str:
    """"PDB app/web allows no disruption for app/web-abc"."""
    by = f"PDB {', '.join(blocker.pdbs)}" if blocker.pdbs else "the API server"
    return f"{by} allows no disruption for {blocker.pod}"


def stopped_message(node: str, timeout: float, blockers: Iterable[Blocker],
                    leaving: Iterable[str]) -> str:
    """One paragraph: which budgets held which pods, and which evicted pods never left."""
    parts = [holding(b) for b in blockers]
    leaving = sorted(leaving)
    if leaving:
        parts.append(f"evicted but still on the node: {', '.join(leaving)}")
    return f"drain of {node} stopped after {timeout:.0f} s: {'; '.join(parts)}."


# -- the API ------------------------------------------------------------------------------
def cordon(api: ApiClient, node: str, unschedulable: bool = True) -> bool:
    """Mark the node (un)schedulable; True if that changed it, so callers know whether they
    are the ones who cordoned it."""
    current = call(api, "GET", NODES.object_path(None, node))
    if bool((current.get("spec") or {}).get("unschedulable")) == unschedulable:
        return False
    # As kubectl: uncordoning removes the field rather than writing false.
    patch = {"spec": {"unschedulable": True if unschedulable else None}}
    call(api, "PATCH", NODES.object_path(None, node), body=patch,
         content_type="application/strategic-merge-patch+json")
    return True


def _pods_on(api: ApiClient, node: str) -> list[dict]:
    doc = call(api, "GET", PODS.path(), query={"fieldSelector": f"spec.nodeName={node}"})
    return doc.get("items") or []


def evictable_pods(api: ApiClient, node: str) -> list[dict]:
    """The pods on the node that a drain evicts (see `evictable`)."""
    return evictable(_pods_on(api, node), node)


def budgets_for(api: ApiClient, pod: dict[str, Any]) -> list[dict]:
    """The PodDisruptionBudgets that guard `pod`."""
    doc = call(api, "GET", PODDISRUPTIONBUDGETS.path(pod["metadata"]["namespace"]))
    return matching_budgets(pod, doc.get("items") or [])


def _evict(api: ApiClient, pod: dict[str, Any]) -> str | None:
    """Ask for the pod's eviction: None when granted or the pod is already gone, the
    message when a budget refuses (429). Anything else is a KubeActionError."""
    meta = pod["metadata"]
    body = {"apiVersion": "policy/v1", "kind": "Eviction",
            "metadata": {"name": meta["name"], "namespace": meta["namespace"]}}
    try:
        rest.call(api, "POST", PODS.object_path(meta["namespace"], meta["name"], "eviction"),
                  body=body)
    except ApiError as err:
        if err.code == 429:
            return err.message or "Too Many Requests"
        if err.code == 404:
            return None
        raise KubeActionError(f"evicting {_key(pod)}: {err.message or err.code}") from None
    except TransportError as err:
        raise KubeActionError(f"cannot reach the API server: {err}") from None
    return None


def _blocker(api: ApiClient, pod: dict[str, Any], reason: str) -> Blocker:
    return Blocker(_key(pod), _names(budgets_for(api, pod)), reason)


def drain(api: ApiClient, node: str, *, timeout: float, report: Callable[[str], None],
          stop: threading.Event | None = None, poll: float = 1.0) -> int:
    """Cordon the node, evict every evictable pod, and wait until they have left it; the
    number evicted. DrainStopped at the deadline (naming the budgets and pods that held) or
    when `stop` is set; the node then stays cordoned, as after `kubectl drain`: a caller that
    must put it back calls `cordon` first, whose answer says whether it was the one."""
    stop = stop or threading.Event()
    deadline = time.monotonic() + timeout
    cordon(api, node)
    pending = {_key(p): p for p in evictable_pods(api, node)}
    total = len(pending)
    leaving: dict[str, str] = {}  # evicted pods still on the node: key → uid
    refused: dict[str, str] = {}  # key → the last 429 message
    delay: dict[str, float] = {}
    retry_at: dict[str, float] = {}
    evicted = 0
    while True:
        for key, pod in list(pending.items()):
            if stop.is_set():
                raise DrainStopped("stopped")
            if time.monotonic() < retry_at.get(key, 0.0):
                continue
            refusal = _evict(api, pod)
            if refusal is None:
                del pending[key]
                refused.pop(key, None)
                leaving[key] = pod["metadata"].get("uid", "")
                evicted += 1
                report(f"evicted {pod['metadata']['name']} ({evicted}/{total})")
                continue
            refused[key] = refusal
            delay[key] = min(delay.get(key, poll / 2) * 2, max(BACKOFF_CAP, poll))
            retry_at[key] = time.monotonic() + delay[key]
            report(f"waiting: {holding(_blocker(api, pod, refusal))}")
        if leaving:  # gone, or a new pod of the same name (a StatefulSet's) elsewhere
            here = {_key(p): p["metadata"].get("uid", "") for p in _pods_on(api, node)}
            leaving = {k: uid for k, uid in leaving.items() if here.get(k) == uid}
        if not pending and not leaving:
            return evicted
        if time.monotonic() >= deadline:
            blockers = tuple(_blocker(api, pending[k], refused[k])
                             for k in sorted(pending))
            raise DrainStopped(stopped_message(node, timeout, blockers, leaving), blockers)
        if stop.wait(poll):
            raise DrainStopped("stopped")
