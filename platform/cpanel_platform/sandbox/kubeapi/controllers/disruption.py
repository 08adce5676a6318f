"""PodDisruptionBudget status: how many pods are healthy and how many may be disrupted."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .. import clock
from ..eviction import PDB_KEY
from ..podstate import is_active, is_ready
from ..selectors import selector_from_dict
from ..store import Event
from .base import Controller, WorkKey, resolve_bound

POD_KEY = ("", "pods")
# Controllers whose scale says how many pods a budget should expect.
_SCALABLE = {
    "ReplicaSet": ("apps", "replicasets"),
    "StatefulSet": ("apps", "statefulsets"),
    "Deployment": ("apps", "deployments"),
}


class DisruptionController(Controller):
    name = "disruption-controller"
    watches = frozenset({PDB_KEY, POD_KEY})
    primary = PDB_KEY

    def keys_for(self, event: Event) -> Iterable[WorkKey]:
        if event.key == PDB_KEY:
            return super().keys_for(event)
        # A pod wakes every budget that selects it, before or after a label change.
        meta = event.obj["metadata"]
        labels = meta.get("labels") or {}
        old_labels = (event.old or {}).get("metadata", {}).get("labels") or {}
        return [
            (meta["namespace"], pdb["metadata"]["name"])
            for pdb in self.api.store.list(PDB_KEY, meta["namespace"])
            if any(
                selector_from_dict(pdb["spec"].get("selector")).matches(ls)
                for ls in (labels, old_labels)
            )
        ]

    def _scale_owner(self, pod: dict[str, Any]) -> tuple[str, str, str, str] | None:
        """(group, plural, namespace, name) of the object whose scale the pod counts toward:
        the Deployment for a Deployment's ReplicaSet, else the controller itself."""
        ns = pod["metadata"]["namespace"]
        ref = next(
            (r for r in pod["metadata"].get("ownerReferences") or [] if r.get("controller")), None
        )
        if not ref or ref.get("kind") not in _SCALABLE:
            return None
        if ref["kind"] == "ReplicaSet":
            rs = self.api.find(*_SCALABLE["ReplicaSet"], ns, ref["name"])
            for dref in (rs or {}).get("metadata", {}).get("ownerReferences") or []:
                if dref.get("controller") and dref.get("kind") == "Deployment":
                    return (*_SCALABLE["Deployment"], ns, dref["name"])
        return (*_SCALABLE[ref["kind"]], ns, ref["name"])

    def _expected(self, pods: list[dict[str, Any]]) -> int:
        """Pods the owning controllers want (the sum of their scales), else the pods seen."""
        owners = {o for o in map(self._scale_owner, pods) if o}
        total = sum((self.api.find(*o) or {}).get("spec", {}).get("replicas", 0) for o in owners)
        return total or len(pods)

    def reconcile(self, key: WorkKey) -> None:
        pdb = self.api.find(*PDB_KEY, *key)
        if pdb is None:
            return
        spec = pdb.get("spec") or {}
        selector = selector_from_dict(spec.get("selector"))
        pods = [
            p
            for p in self.api.store.list(POD_KEY, key[0])
            if is_active(p) and selector.matches(p["metadata"].get("labels"))
        ]
        healthy = sum(1 for p in pods if is_ready(p))
        expected = self._expected(pods)
        if spec.get("maxUnavailable") is not None:
            desired = max(0, expected - resolve_bound(spec["maxUnavailable"], expected, True))
        elif spec.get("minAvailable") is not None:
            desired = resolve_bound(spec["minAvailable"], expected, True)
        else:
            desired = expected
        # Evictions already granted count against the budget until those pods are gone.
        granted = (pdb.get("status") or {}).get("disruptedPods", {})
        disrupted = {
            name: when
            for name, when in granted.items()
            if any(p["metadata"]["name"] == name for p in pods)
        }
        allowed = max(0, healthy - desired - len(disrupted))
        status: dict[str, Any] = {
            "observedGeneration": pdb["metadata"].get("generation", 1),
            "disruptionsAllowed": allowed,
            "currentHealthy": healthy,
            "desiredHealthy": desired,
            "expectedPods": expected,
        }
        if disrupted:
            status["disruptedPods"] = disrupted
        ok = "True" if allowed > 0 else "False"
        old = next(
            (
                c
                for c in (pdb.get("status") or {}).get("conditions") or []
                if c["type"] == "DisruptionAllowed"
            ),
            None,
        )
        status["conditions"] = [
            {
                "type": "DisruptionAllowed",
                "status": ok,
                "reason": "SufficientPods" if allowed > 0 else "InsufficientPods",
                "message": "",
                "observedGeneration": status["observedGeneration"],
                "lastTransitionTime": old["lastTransitionTime"]
                if old and old["status"] == ok
                else clock.stamp(),
            }
        ]
        if pdb.get("status") != status:
            self.api.update(
                self.api.preferred(*PDB_KEY),
                key[0],
                key[1],
                {**pdb, "status": status},
                subresource="status",
            )
