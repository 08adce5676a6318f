"""ReplicaSet: keep `replicas` active pods, and report how many are ready and available."""

from __future__ import annotations

import copy
from typing import Any

from ..podstate import available_in, is_active, is_ready
from ..selectors import selector_from_dict
from .base import Controller, WorkKey, controller_ref, owner_of

RS_KEY = ("apps", "replicasets")
POD_KEY = ("", "pods")
_BURST = 500  # pods created or deleted per reconcile, as the real controller's slow start caps


def owned_pods(api: Any, owner: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    uid = owner["metadata"]["uid"]
    return [
        p
        for p in api.store.list(POD_KEY, owner["metadata"]["namespace"])
        if owner_of(p, kind) == uid
    ]


def pod_from_template(owner: dict[str, Any], template: dict[str, Any]) -> dict[str, Any]:
    meta = copy.deepcopy(template.get("metadata") or {})
    pod = {
        "metadata": {
            "generateName": f"{owner['metadata']['name']}-",
            "namespace": owner["metadata"]["namespace"],
            "labels": meta.get("labels") or {},
            "ownerReferences": [controller_ref(owner)],
        },
        "spec": copy.deepcopy(template.get("spec") or {}),
    }
    if meta.get("annotations"):
        pod["metadata"]["annotations"] = meta["annotations"]
    return pod


def deletion_order(pods: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Delete first: unscheduled, then pending, then not ready; among equals the newest."""
    newest_first = sorted(
        pods, key=lambda p: p["metadata"].get("creationTimestamp", ""), reverse=True
    )
    return sorted(
        newest_first,
        key=lambda p: (
            bool(p["spec"].get("nodeName")),
            p["status"].get("phase") == "Running",
            is_ready(p),
        ),
    )


class ReplicaSetController(Controller):
    name = "replicaset-controller"
    watches = frozenset({RS_KEY, POD_KEY})
    primary = RS_KEY
    owned_by = "ReplicaSet"

    def reconcile(self, key: WorkKey) -> None:
        rs = self.api.find(*RS_KEY, *key)
        if rs is None or rs["metadata"].get("deletionTimestamp"):
            return
        pods = owned_pods(self.api, rs, "ReplicaSet")
        active = [p for p in pods if is_active(p)]
        want = rs["spec"].get("replicas", 1)
        pod_rt = self.api.preferred(*POD_KEY)
        if len(active) < want:
            for _ in range(min(want - len(active), _BURST)):
                pod = self.api.create(pod_rt, key[0], pod_from_template(rs, rs["spec"]["template"]))
                self.record(
                    rs, "Normal", "SuccessfulCreate", f"Created pod: {pod['metadata']['name']}"
                )
        elif len(active) > want:
            for pod in deletion_order(active)[: min(len(active) - want, _BURST)]:
                self.api.delete(pod_rt, key[0], pod["metadata"]["name"])
                self.record(
                    rs, "Normal", "SuccessfulDelete", f"Deleted pod: {pod['metadata']['name']}"
                )
        self._status(rs, owned_pods(self.api, rs, "ReplicaSet"))

    def _status(self, rs: dict[str, Any], pods: list[dict[str, Any]]) -> None:
        active = [p for p in pods if is_active(p)]
        min_ready = rs["spec"].get("minReadySeconds", 0)
        waits = [available_in(p, min_ready) for p in active]
        selector = selector_from_dict(rs["spec"].get("selector"))
        template_labels = (rs["spec"]["template"].get("metadata") or {}).get("labels") or {}
        status = {
            "replicas": len(active),
            "fullyLabeledReplicas": sum(
                1
                for p in active
                if selector.matches(p["metadata"].get("labels"))
                and all(
                    p["metadata"].get("labels", {}).get(k) == v for k, v in template_labels.items()
                )
            ),
            "readyReplicas": sum(1 for p in active if is_ready(p)),
            "availableReplicas": sum(1 for w in waits if w == 0),
            "terminatingReplicas": sum(1 for p in pods if p["metadata"].get("deletionTimestamp")),
            "observedGeneration": rs["metadata"].get("generation", 1),
        }
        status = {k: v for k, v in status.items() if v or k in ("replicas", "observedGeneration")}
        pending = [w for w in waits if w]
        if pending:
            self.enqueue_after(
                min(pending) + 0.05, (rs["metadata"]["namespace"], rs["metadata"]["name"])
            )
        if rs.get("status") != status:
            self.api.update(
                self.api.preferred(*RS_KEY),
                rs["metadata"]["namespace"],
                rs["metadata"]["name"],
                {**rs, "status": status},
                subresource="status",
            )
