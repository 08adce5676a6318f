"""DaemonSet: one pod on every node it fits, pinned there by node affinity for the scheduler to
bind, replaced node by node on a template change within maxUnavailable."""

from __future__ import annotations

import copy
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from ..podstate import available_in, is_ready, is_terminating
from ..scheduling import unfit_reason
from ..selectors import selector_from_dict
from ..store import Event
from .base import Controller, WorkKey, controller_ref, owner_of, resolve_bound
from .history import current_revision, owned_revisions, truncate_history
from .ownership import claim_pods

DS_KEY = ("apps", "daemonsets")
POD_KEY = ("", "pods")
NODE_KEY = ("", "nodes")
HASH_LABEL = "controller-revision-hash"
GENERATION_LABEL = "pod-template-generation"
GENERATION_ANNOTATION = "deprecated.daemonset.template.generation"
# Taints a daemon pod tolerates so node trouble neither evicts it nor keeps it off a node.
_TOLERATIONS = [
    ("node.kubernetes.io/not-ready", "NoExecute"),
    ("node.kubernetes.io/unreachable", "NoExecute"),
    ("node.kubernetes.io/disk-pressure", "NoSchedule"),
    ("node.kubernetes.io/memory-pressure", "NoSchedule"),
    ("node.kubernetes.io/pid-pressure", "NoSchedule"),
    ("node.kubernetes.io/unschedulable", "NoSchedule"),
]
_HOST_NETWORK_TOLERATION = ("node.kubernetes.io/network-unavailable", "NoSchedule")
_OMIT_ZERO = ("updatedNumberScheduled", "numberAvailable", "numberUnavailable")

Pod = dict[str, Any]


def daemon_pod_spec(template_spec: dict[str, Any]) -> dict[str, Any]:
    """The template's pod spec with the tolerations the DaemonSet controller adds."""
    spec = copy.deepcopy(template_spec)
    tolerations = spec.setdefault("tolerations", [])
    wanted = _TOLERATIONS + ([_HOST_NETWORK_TOLERATION] if spec.get("hostNetwork") else [])
    for key, effect in wanted:
        toleration = {"key": key, "operator": "Exists", "effect": effect}
        if toleration not in tolerations:
            tolerations.append(toleration)
    return spec


def pin_to_node(spec: dict[str, Any], node: str) -> None:
    """Require the node by name, replacing any required node terms (they were checked already)."""
    affinity = spec.setdefault("affinity", {}).setdefault("nodeAffinity", {})
    affinity.setdefault("requiredDuringSchedulingIgnoredDuringExecution", {})[
        "nodeSelectorTerms"
    ] = [{"matchFields": [{"key": "metadata.name", "operator": "In", "values": [node]}]}]


def target_node(pod: Pod) -> str | None:
    """The node a daemon pod is on, or the one its affinity pins it to while unscheduled."""
    if pod["spec"].get("nodeName"):
        return pod["spec"]["nodeName"]
    required = ((pod["spec"].get("affinity") or {}).get("nodeAffinity") or {}).get(
        "requiredDuringSchedulingIgnoredDuringExecution"
    ) or {}
    for term in required.get("nodeSelectorTerms") or []:
        for field in term.get("matchFields") or []:
            if (
                field.get("key") == "metadata.name"
                and field.get("operator") == "In"
                and len(field.get("values") or []) == 1
            ):
                return field["values"][0]
    return None


def should_run(spec: dict[str, Any], node: dict[str, Any]) -> bool:
    if spec.get("nodeName") and spec["nodeName"] != node["metadata"]["name"]:
        return False
    return not unfit_reason(spec, node, ignore_cordon=True)


def may_stay(spec: dict[str, Any], node: dict[str, Any]) -> bool:
    """Whether a pod already there may keep running: only the node's selector and affinity and
    its untolerated NoExecute taints send it away (not readiness, nor NoSchedule taints)."""
    taints = [t for t in node["spec"].get("taints") or [] if t.get("effect") == "NoExecute"]
    view = {
        "metadata": node["metadata"],
        "spec": {**node["spec"], "taints": taints},
        "status": {"conditions": [{"type": "Ready", "status": "True"}]},
    }
    return should_run(spec, view)


def _oldest_first(pods: list[Pod]) -> list[Pod]:
    """Bound pods first, then by age, as the real controller picks the one to keep."""
    return sorted(
        pods,
        key=lambda p: (
            not p["spec"].get("nodeName"),
            p["metadata"].get("creationTimestamp", ""),
            p["metadata"]["name"],
        ),
    )


class DaemonSetController(Controller):
    name = "daemonset-controller"
    watches = frozenset({DS_KEY, POD_KEY, NODE_KEY})
    primary = DS_KEY
    owned_by = "DaemonSet"

    def keys_for(self, event: Event) -> Iterable[WorkKey]:
        if event.key == NODE_KEY:
            return self.all_keys()  # a node came, went or changed: every DaemonSet may care
        return super().keys_for(event)

    def reconcile(self, key: WorkKey) -> None:
        ds = self.api.find(*DS_KEY, *key)
        # A DaemonSet being deleted may have lost its history already: leave it be.
        if ds is None or ds["metadata"].get("deletionTimestamp"):
            return
        revision, collisions = current_revision(
            self.api, ds, owned_revisions(self.api, ds), HASH_LABEL
        )
        digest = revision["metadata"]["labels"][HASH_LABEL]
        nodes = self.api.store.list(NODE_KEY)
        spec = daemon_pod_spec(ds["spec"]["template"].get("spec") or {})
        selector = selector_from_dict(ds["spec"].get("selector"))
        by_node = self._by_node(claim_pods(self.api, ds, selector))
        changed = self._manage(ds, spec, nodes, by_node, digest)
        strategy = ds["spec"].get("updateStrategy") or {}
        # As the real controller waits for its creations and deletions to be observed first.
        if not changed and strategy.get("type", "RollingUpdate") == "RollingUpdate":
            self._roll(ds, spec, nodes, by_node, digest)
        by_node = self._by_node(self._pods(ds))
        self._write_status(ds, spec, nodes, by_node, digest, collisions)
        self._truncate(ds, by_node, digest)

    def _truncate(self, ds: dict[str, Any], by_node: dict[str, list[Pod]], digest: str) -> None:
        hashes = {
            (p["metadata"].get("labels") or {}).get(HASH_LABEL)
            for pods in by_node.values()
            for p in pods
        } | {digest}
        revisions = owned_revisions(self.api, ds)
        live = {
            r["metadata"]["name"]
            for r in revisions
            if r["metadata"].get("labels", {}).get(HASH_LABEL) in hashes
        }
        truncate_history(self.api, revisions, live, ds["spec"].get("revisionHistoryLimit"))

    def _pods(self, ds: dict[str, Any]) -> list[Pod]:
        meta = ds["metadata"]
        return [
            p
            for p in self.api.store.list(POD_KEY, meta["namespace"])
            if owner_of(p, "DaemonSet") == meta["uid"]
        ]

    @staticmethod
    def _by_node(pods: list[Pod]) -> dict[str, list[Pod]]:
        grouped: dict[str, list[Pod]] = defaultdict(list)
        for pod in pods:
            node = target_node(pod)
            if node:
                grouped[node].append(pod)
        return grouped

    # -- placement -------------------------------------------------------------------------
    def _manage(
        self,
        ds: dict[str, Any],
        spec: dict[str, Any],
        nodes: list[dict[str, Any]],
        by_node: dict[str, list[Pod]],
        digest: str,
    ) -> bool:
        """Create the missing daemon pods and delete the ones that must go; True if any."""
        create: list[str] = []
        delete: list[Pod] = []
        for node in nodes:
            name = node["metadata"]["name"]
            pods = by_node.get(name, [])
            if should_run(spec, node) and not pods:
                create.append(name)
            elif may_stay(spec, node):
                delete += self._prune(ds, name, pods)
            else:
                delete += [p for p in pods if not is_terminating(p)]
        # A pod pinned to a node that is gone is never scheduled, so nothing else removes it.
        names = {n["metadata"]["name"] for n in nodes}
        delete += [
            p
            for node, pods in by_node.items()
            if node not in names
            for p in pods
            if not p["spec"].get("nodeName")
        ]
        for name in create:
            self._create(ds, spec, name, digest)
        for pod in delete:
            self._delete(ds, pod)
        return bool(create or delete)

    def _prune(self, ds: dict[str, Any], node: str, pods: list[Pod]) -> list[Pod]:
        """Finished pods are replaced; of several running ones only the oldest stays."""
        running = []
        doomed = []
        for pod in pods:
            phase = pod["status"].get("phase")
            where = f"{pod['metadata']['namespace']}/{pod['metadata']['name']} on node {node}"
            if is_terminating(pod):
                continue
            if phase == "Failed":
                self.record(
                    ds,
                    "Warning",
                    "FailedDaemonPod",
                    f"Found failed daemon pod {where}, will try to kill it",
                )
                doomed.append(pod)
            elif phase == "Succeeded":
                self.record(
                    ds,
                    "Normal",
                    "SucceededDaemonPod",
                    f"Found succeeded daemon pod {where}, will try to delete it",
                )
                doomed.append(pod)
            else:
                running.append(pod)
        return doomed + _oldest_first(running)[1:]

    def _roll(
        self,
        ds: dict[str, Any],
        spec: dict[str, Any],
        nodes: list[dict[str, Any]],
        by_node: dict[str, list[Pod]],
        digest: str,
    ) -> None:
        """Delete old pods, unavailable ones first, while at most maxUnavailable nodes that
        should run a daemon pod lack an available one; their replacements follow."""
        min_ready = ds["spec"].get("minReadySeconds", 0)
        wanted = [n["metadata"]["name"] for n in nodes if should_run(spec, n)]
        unavailable = sum(
            1 for n in wanted if not any(self._available(p, min_ready) for p in by_node.get(n, []))
        )
        rolling = (ds["spec"].get("updateStrategy") or {}).get("rollingUpdate") or {}
        # maxUnavailable 0 is valid only with maxSurge, which is not emulated: roll one by one.
        budget = resolve_bound(rolling.get("maxUnavailable", 1), len(wanted), round_up=True) or 1
        old = [
            p
            for pods in by_node.values()
            for p in pods
            if (p["metadata"].get("labels") or {}).get(HASH_LABEL) != digest
            and not is_terminating(p)
        ]
        for pod in sorted(old, key=lambda p: self._available(p, min_ready)):
            if self._available(pod, min_ready):
                if unavailable >= budget:
                    return
                unavailable += 1
            self._delete(ds, pod)

    @staticmethod
    def _available(pod: Pod, min_ready: int) -> bool:
        return not is_terminating(pod) and available_in(pod, min_ready) == 0

    def _create(self, ds: dict[str, Any], spec: dict[str, Any], node: str, digest: str) -> None:
        meta = ds["metadata"]
        template = ds["spec"]["template"]
        tmeta = template.get("metadata") or {}
        generation = (meta.get("annotations") or {}).get(
            GENERATION_ANNOTATION, str(meta.get("generation", 1))
        )
        pod_spec = copy.deepcopy(spec)
        pin_to_node(pod_spec, node)
        pod: Pod = {
            "metadata": {
                "generateName": f"{meta['name']}-",
                "namespace": meta["namespace"],
                "labels": {
                    **(tmeta.get("labels") or {}),
                    HASH_LABEL: digest,
                    GENERATION_LABEL: generation,
                },
                "ownerReferences": [controller_ref(ds)],
            },
            "spec": pod_spec,
        }
        if tmeta.get("annotations"):
            pod["metadata"]["annotations"] = copy.deepcopy(tmeta["annotations"])
        created = self.api.create(self.api.preferred(*POD_KEY), meta["namespace"], pod)
        self.record(ds, "Normal", "SuccessfulCreate", f"Created pod: {created['metadata']['name']}")

    def _delete(self, ds: dict[str, Any], pod: Pod) -> None:
        self.api.delete(
            self.api.preferred(*POD_KEY), pod["metadata"]["namespace"], pod["metadata"]["name"]
        )
        self.record(ds, "Normal", "SuccessfulDelete", f"Deleted pod: {pod['metadata']['name']}")

    # -- status ----------------------------------------------------------------------------
    def _write_status(
        self,
        ds: dict[str, Any],
        spec: dict[str, Any],
        nodes: list[dict[str, Any]],
        by_node: dict[str, list[Pod]],
        digest: str,
        collisions: int,
    ) -> None:
        min_ready = ds["spec"].get("minReadySeconds", 0)
        counts = dict.fromkeys(
            ("desired", "current", "misscheduled", "ready", "available", "updated"), 0
        )
        waits: list[float] = []
        for node in nodes:
            pods = _oldest_first(by_node.get(node["metadata"]["name"], []))
            if not should_run(spec, node):
                counts["misscheduled"] += bool(pods)
                continue
            counts["desired"] += 1
            if not pods:
                continue
            counts["current"] += 1
            pod = pods[0]
            wait = available_in(pod, min_ready)
            counts["ready"] += is_ready(pod)
            counts["available"] += wait == 0
            counts["updated"] += (pod["metadata"].get("labels") or {}).get(HASH_LABEL) == digest
            if wait:
                waits.append(wait)
        status: dict[str, Any] = {
            "currentNumberScheduled": counts["current"],
            "numberMisscheduled": counts["misscheduled"],
            "desiredNumberScheduled": counts["desired"],
            "numberReady": counts["ready"],
            "observedGeneration": ds["metadata"].get("generation", 1),
            "updatedNumberScheduled": counts["updated"],
            "numberAvailable": counts["available"],
            "numberUnavailable": counts["desired"] - counts["available"],
        }
        if collisions:
            status["collisionCount"] = collisions
        status = {k: v for k, v in status.items() if v or k not in _OMIT_ZERO}
        if waits:
            self.enqueue_after(
                min(waits) + 0.05, (ds["metadata"]["namespace"], ds["metadata"]["name"])
            )
        if ds.get("status") != status:
            self.api.update(
                self.api.preferred(*DS_KEY),
                ds["metadata"]["namespace"],
                ds["metadata"]["name"],
                {**ds, "status": status},
                subresource="status",
            )
