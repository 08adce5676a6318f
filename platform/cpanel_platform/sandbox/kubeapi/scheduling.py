"""Where a pod may run: node readiness, cordon, taints and tolerations, selectors, affinity.

Shared by the scheduler and the DaemonSet controller, and the one place that binds a pod.
"""

from __future__ import annotations

import copy
from typing import Any

from . import clock
from .api import Api


def node_ready(node: dict[str, Any]) -> bool:
    for cond in (node.get("status") or {}).get("conditions") or []:
        if cond.get("type") == "Ready":
            return cond.get("status") == "True"
    return False


def tolerates(tolerations: list[dict[str, Any]], taint: dict[str, Any]) -> bool:
    for tol in tolerations:
        if tol.get("effect") and tol["effect"] != taint.get("effect"):
            continue
        if tol.get("operator") == "Exists":
            if not tol.get("key") or tol["key"] == taint.get("key"):
                return True
        elif tol.get("key") == taint.get("key") and tol.get("value", "") == taint.get("value", ""):
            return True
    return False


def _node_terms_match(node: dict[str, Any], terms: list[dict[str, Any]]) -> bool:
    labels = node["metadata"].get("labels") or {}
    fields = {"metadata.name": node["metadata"]["name"]}

    def req_ok(req: dict[str, Any], values: dict[str, str]) -> bool:
        key, op, vals = req.get("key"), req.get("operator"), req.get("values") or []
        present = key in values
        if op == "In":
            return present and values[key] in vals
        if op == "NotIn":
            return not present or values[key] not in vals
        if op == "Exists":
            return present
        if op == "DoesNotExist":
            return not present
        if op in ("Gt", "Lt") and present and vals:
            try:
                a, b = int(values[key]), int(vals[0])
            except ValueError:
                return False
            return a > b if op == "Gt" else a < b
        return False

    return any(
        all(req_ok(r, labels) for r in term.get("matchExpressions") or [])
        and all(req_ok(r, fields) for r in term.get("matchFields") or [])
        for term in terms
    )


def unfit_reason(
    pod_spec: dict[str, Any], node: dict[str, Any], ignore_cordon: bool = False
) -> str:
    """Why a pod cannot go to a node, in the scheduler's words; "" when it can."""
    if not node_ready(node):
        return "node(s) had untolerated taint {node.kubernetes.io/not-ready: }"
    if node["spec"].get("unschedulable") and not ignore_cordon:
        unschedulable = {"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}
        if not tolerates(pod_spec.get("tolerations") or [], unschedulable):
            return "node(s) were unschedulable"
    for taint in node["spec"].get("taints") or []:
        if taint.get("effect") in ("NoSchedule", "NoExecute") and not tolerates(
            pod_spec.get("tolerations") or [], taint
        ):
            return f"node(s) had untolerated taint {{{taint.get('key')}: {taint.get('value', '')}}}"
    labels = node["metadata"].get("labels") or {}
    for key, value in (pod_spec.get("nodeSelector") or {}).items():
        if labels.get(key) != value:
            return "node(s) didn't match Pod's node affinity/selector"
    required = (
        ((pod_spec.get("affinity") or {}).get("nodeAffinity") or {}).get(
            "requiredDuringSchedulingIgnoredDuringExecution"
        )
        or {}
    ).get("nodeSelectorTerms")
    if required and not _node_terms_match(node, required):
        return "node(s) didn't match Pod's node affinity/selector"
    return ""


def set_condition(
    status: dict[str, Any], ctype: str, value: str, reason: str = "", message: str = ""
) -> None:
    """Set a pod-style condition, keeping lastTransitionTime when the status is unchanged."""
    conditions = status.setdefault("conditions", [])
    now = clock.stamp()
    for cond in conditions:
        if cond["type"] == ctype:
            if cond.get("status") != value:
                cond["lastTransitionTime"] = now
            cond["status"] = value
            cond.pop("reason", None)
            cond.pop("message", None)
            break
    else:
        cond = {"type": ctype, "status": value, "lastProbeTime": None, "lastTransitionTime": now}
        conditions.append(cond)
    if reason:
        cond["reason"] = reason
    if message:
        cond["message"] = message


def bind(api: Api, pod: dict[str, Any], node: str) -> dict[str, Any]:
    """What the binding subresource does: set the node and the PodScheduled condition."""
    rt = api.preferred("", "pods")
    new = copy.deepcopy(pod)
    new["spec"]["nodeName"] = node
    set_condition(new["status"], "PodScheduled", "True")
    return api.replace(rt, new)
