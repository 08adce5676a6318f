"""Node lifecycle: a node whose kubelet stops renewing its Lease goes NotReady (Unknown) and is
tainted unreachable; its pods are evicted once their toleration runs out; pods bound to a
node that no longer exists are removed (the pod garbage collector's job)."""

from __future__ import annotations

import copy
from typing import Any

from .. import clock
from ..scheduling import node_ready, set_condition
from .base import Controller, WorkKey

NODE_KEY = ("", "nodes")
POD_KEY = ("", "pods")
LEASE_KEY = ("coordination.k8s.io", "leases")
LEASE_NS = "kube-node-lease"
GRACE_SECONDS = 40.0  # the real node-monitor-grace-period
UNREACHABLE = "node.kubernetes.io/unreachable"


class NodeLifecycleController(Controller):
    name = "node-controller"
    watches = frozenset({NODE_KEY})
    primary = NODE_KEY
    resync_seconds = 5.0

    def __init__(self, api: Any, grace_seconds: float = GRACE_SECONDS) -> None:
        super().__init__(api)
        self.grace = grace_seconds

    def reconcile(self, key: WorkKey) -> None:
        name = key[1]
        node = self.api.find(*NODE_KEY, "", name)
        if node is None:
            self._remove_orphans(name)
            return
        lease = self.api.find(*LEASE_KEY, LEASE_NS, name)
        renewed = clock.parse((lease or {}).get("spec", {}).get("renewTime")) or clock.parse(
            node["metadata"].get("creationTimestamp")
        )
        silent = renewed is not None and (clock.now() - renewed).total_seconds() > self.grace
        if silent:
            self._mark_unknown(node)
            self._evict_expired(node)
        elif node_ready(node):
            self._clear_unreachable(node)

    def _mark_unknown(self, node: dict[str, Any]) -> None:
        new = copy.deepcopy(node)
        status = new.setdefault("status", {})
        for ctype in ("Ready", "MemoryPressure", "DiskPressure", "PIDPressure"):
            set_condition(
                status,
                ctype,
                "Unknown",
                "NodeStatusUnknown",
                "Kubelet stopped posting node status.",
            )
        for cond in status["conditions"]:
            cond.pop("lastProbeTime", None)
        taints = new["spec"].setdefault("taints", [])
        if not any(t.get("key") == UNREACHABLE for t in taints):
            taints += [
                {"key": UNREACHABLE, "effect": e, "timeAdded": clock.stamp()}
                for e in ("NoSchedule", "NoExecute")
            ]
        if new != node:
            self.api.replace(self.api.preferred(*NODE_KEY), new)

    def _clear_unreachable(self, node: dict[str, Any]) -> None:
        """The kubelet is back and reports Ready: lift the taints this controller set."""
        taints = node["spec"].get("taints") or []
        kept = [t for t in taints if t.get("key") != UNREACHABLE]
        if kept != taints:
            new = copy.deepcopy(node)
            new["spec"]["taints"] = kept
            self.api.replace(self.api.preferred(*NODE_KEY), new)

    def _evict_expired(self, node: dict[str, Any]) -> None:
        added = next(
            (
                clock.parse(t.get("timeAdded"))
                for t in node["spec"].get("taints") or []
                if t.get("key") == UNREACHABLE and t.get("effect") == "NoExecute"
            ),
            None,
        )
        if added is None:
            return
        waited = (clock.now() - added).total_seconds()
        name = node["metadata"]["name"]
        for pod in self.api.list(self.api.preferred(*POD_KEY), None):
            if pod["spec"].get("nodeName") != name or pod["metadata"].get("deletionTimestamp"):
                continue
            tolerated = [
                t.get("tolerationSeconds")
                for t in pod["spec"].get("tolerations") or []
                if t.get("key") in (UNREACHABLE, None)
                and t.get("effect") in ("NoExecute", None)
                and t.get("operator") == "Exists"
            ]
            if tolerated and None in tolerated:
                continue  # tolerates forever (DaemonSet pods)
            if waited >= min((s for s in tolerated if s is not None), default=0):
                meta = pod["metadata"]
                self.api.delete(self.api.preferred(*POD_KEY), meta["namespace"], meta["name"])
                self.record(
                    pod,
                    "Normal",
                    "TaintManagerEviction",
                    f"Marking for deletion Pod {meta['namespace']}/{meta['name']}",
                )

    def _remove_orphans(self, node_name: str) -> None:
        rt = self.api.preferred(*POD_KEY)
        for pod in self.api.store.list(POD_KEY):
            if pod["spec"].get("nodeName") == node_name:
                meta = pod["metadata"]
                self.api.delete(rt, meta["namespace"], meta["name"], {"gracePeriodSeconds": 0})
