"""StatefulSet: pods with stable names and storage, created, updated and removed by ordinal.

OrderedReady creates ordinal n only once 0..n-1 are Running and Ready and removes the highest
ordinal first, one at a time; Parallel does both eagerly. RollingUpdate replaces pods from the
highest ordinal down to the partition, one at a time, waiting for each to be available.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from typing import Any

from ..podstate import available_in, is_ready, is_terminating
from ..selectors import selector_from_dict
from .base import Controller, WorkKey, controller_ref, owner_of
from .history import current_revision, owned_revisions, template_of, truncate_history
from .ownership import claim_pods

STS_KEY = ("apps", "statefulsets")
POD_KEY = ("", "pods")
PVC_KEY = ("", "persistentvolumeclaims")
REVISION_LABEL = "controller-revision-hash"
POD_NAME_LABEL = "statefulset.kubernetes.io/pod-name"
POD_INDEX_LABEL = "apps.kubernetes.io/pod-index"
_HISTORY_HASH_LABEL = "controller.kubernetes.io/hash"
_ORDINAL = re.compile(r"^(.*)-([0-9]+)$")
# Status fields the API omits when zero.
_OMIT_ZERO = ("readyReplicas", "currentReplicas", "updatedReplicas")

Pod = dict[str, Any]


def ordinal(set_name: str, pod: Pod) -> int:
    """The pod's ordinal in the set; -1 when its name is not `<set>-<n>`."""
    match = _ORDINAL.match(pod["metadata"]["name"])
    return int(match.group(2)) if match and match.group(1) == set_name else -1


def running_and_ready(pod: Pod) -> bool:
    return pod["status"].get("phase") == "Running" and is_ready(pod)


def available(pod: Pod, min_ready: int) -> bool:
    return running_and_ready(pod) and available_in(pod, min_ready) == 0


def claim_names(sts: dict[str, Any], number: int) -> dict[str, str]:
    """Volume name → PVC name for each volumeClaimTemplate, for the pod with this ordinal."""
    name = sts["metadata"]["name"]
    return {
        t["metadata"]["name"]: f"{t['metadata']['name']}-{name}-{number}"
        for t in sts["spec"].get("volumeClaimTemplates") or []
    }


@dataclass
class _Members:
    """The set's pods split by the ordinal range [start, end) that spec.replicas asks for."""

    start: int
    end: int
    replicas: dict[int, Pod]
    condemned: list[Pod]  # outside the range, highest ordinal first


def _members(sts: dict[str, Any], pods: list[Pod]) -> _Members:
    name = sts["metadata"]["name"]
    start = (sts["spec"].get("ordinals") or {}).get("start", 0)
    end = start + sts["spec"].get("replicas", 1)
    inside = {ordinal(name, p): p for p in pods if start <= ordinal(name, p) < end}
    outside = sorted(
        (p for p in pods if not start <= ordinal(name, p) < end),
        key=lambda p: ordinal(name, p),
        reverse=True,
    )
    return _Members(start, end, inside, outside)


def _partition(sts: dict[str, Any]) -> int:
    return ((sts["spec"].get("updateStrategy") or {}).get("rollingUpdate") or {}).get(
        "partition", 0
    )


def _rolling(sts: dict[str, Any]) -> bool:
    return (sts["spec"].get("updateStrategy") or {}).get("type", "RollingUpdate") == "RollingUpdate"


class StatefulSetController(Controller):
    name = "statefulset-controller"
    watches = frozenset({STS_KEY, POD_KEY})
    primary = STS_KEY
    owned_by = "StatefulSet"

    def reconcile(self, key: WorkKey) -> None:
        sts = self.api.find(*STS_KEY, *key)
        if sts is None:
            return
        selector = selector_from_dict(sts["spec"].get("selector"))
        pods = [p for p in claim_pods(self.api, sts, selector) if ordinal(key[1], p) >= 0]
        update, collisions = current_revision(
            self.api, sts, owned_revisions(self.api, sts), _HISTORY_HASH_LABEL
        )
        revisions = owned_revisions(self.api, sts)
        wanted = (sts.get("status") or {}).get("currentRevision")
        current = next((r for r in revisions if r["metadata"]["name"] == wanted), update)
        if not sts["metadata"].get("deletionTimestamp"):
            self._sync(sts, _members(sts, pods), current, update)
        pods = self._pods(sts)
        self._write_status(sts, pods, current, update, collisions)
        live = {current["metadata"]["name"], update["metadata"]["name"]}
        live |= {p["metadata"].get("labels", {}).get(REVISION_LABEL) for p in pods}
        truncate_history(self.api, revisions, live, sts["spec"].get("revisionHistoryLimit"))

    def _pods(self, sts: dict[str, Any]) -> list[Pod]:
        meta = sts["metadata"]
        return [
            p
            for p in self.api.store.list(POD_KEY, meta["namespace"])
            if owner_of(p, "StatefulSet") == meta["uid"] and ordinal(meta["name"], p) >= 0
        ]

    # -- the ordered steps of one sync; each returns True when the rest must wait ---------
    def _sync(
        self,
        sts: dict[str, Any],
        members: _Members,
        current: dict[str, Any],
        update: dict[str, Any],
    ) -> None:
        monotonic = sts["spec"].get("podManagementPolicy", "OrderedReady") != "Parallel"
        for number in range(members.start, members.end):
            pod = members.replicas.get(number)
            if self._replica(sts, number, pod, current, update, monotonic) and monotonic:
                return
        if self._scale_down(sts, members.condemned, monotonic):
            return
        if _rolling(sts):
            self._roll(sts, members, update)

    def _replica(
        self,
        sts: dict[str, Any],
        number: int,
        pod: Pod | None,
        current: dict[str, Any],
        update: dict[str, Any],
        monotonic: bool,
    ) -> bool:
        if pod is None:
            below_partition = _rolling(sts) and number < _partition(sts)
            self._create(sts, number, current if below_partition else update)
            return True
        if pod["status"].get("phase") in ("Failed", "Succeeded"):
            # A pod that ran to an end is replaced, whatever its exit code; the new one comes
            # once the old one is gone.
            if not is_terminating(pod):
                self._delete(sts, pod)
            return True
        if pod["status"].get("phase") == "Pending":
            self._ensure_claims(sts, pod["metadata"]["name"], number)
        min_ready = sts["spec"].get("minReadySeconds", 0)
        if monotonic and (is_terminating(pod) or not available(pod, min_ready)):
            return True
        self._conform(sts, pod, number)
        self._sync_claim_owners(sts, pod, number, scaled_down=False)
        return False

    def _scale_down(self, sts: dict[str, Any], condemned: list[Pod], monotonic: bool) -> bool:
        min_ready = sts["spec"].get("minReadySeconds", 0)
        name = sts["metadata"]["name"]
        for pod in condemned:
            self._sync_claim_owners(sts, pod, ordinal(name, pod), scaled_down=True)
        first_unavailable = next(
            (p for p in reversed(condemned) if not available(p, min_ready)), None
        )
        for pod in condemned:
            if is_terminating(pod):
                if monotonic:
                    return True
                continue
            if monotonic and not available(pod, min_ready) and pod is not first_unavailable:
                return True
            self._delete(sts, pod)
            if monotonic:
                return True
        return False

    def _roll(self, sts: dict[str, Any], members: _Members, update: dict[str, Any]) -> None:
        """Replace the highest-ordinal pod not at the update revision, at or above the
        partition, once every pod above it is available again."""
        min_ready = sts["spec"].get("minReadySeconds", 0)
        for number in range(members.end - 1, members.start + _partition(sts) - 1, -1):
            pod = members.replicas.get(number)
            if pod is None:
                return
            labels = pod["metadata"].get("labels") or {}
            if labels.get(REVISION_LABEL) != update["metadata"]["name"] and not is_terminating(pod):
                self._delete(sts, pod)
                return
            if not available(pod, min_ready):
                return

    # -- pods and claims -------------------------------------------------------------------
    def _create(self, sts: dict[str, Any], number: int, revision: dict[str, Any]) -> None:
        pod = self._new_pod(sts, template_of(revision), revision["metadata"]["name"], number)
        self._ensure_claims(sts, pod["metadata"]["name"], number)
        self.api.create(self.api.preferred(*POD_KEY), sts["metadata"]["namespace"], pod)
        self._event(sts, "create", f"Pod {pod['metadata']['name']}")

    def _new_pod(
        self, sts: dict[str, Any], template: dict[str, Any], revision: str, number: int
    ) -> Pod:
        meta = sts["metadata"]
        name = f"{meta['name']}-{number}"
        tmeta = template.get("metadata") or {}
        spec = copy.deepcopy(template.get("spec") or {})
        spec["hostname"] = name
        if sts["spec"].get("serviceName"):
            spec["subdomain"] = sts["spec"]["serviceName"]
        claims = claim_names(sts, number)
        volumes = [
            {"name": v, "persistentVolumeClaim": {"claimName": c}} for v, c in claims.items()
        ]
        volumes += [v for v in spec.get("volumes") or [] if v.get("name") not in claims]
        if volumes:
            spec["volumes"] = volumes
        labels = {
            **(tmeta.get("labels") or {}),
            REVISION_LABEL: revision,
            POD_NAME_LABEL: name,
            POD_INDEX_LABEL: str(number),
        }
        pod: Pod = {
            "metadata": {
                "name": name,
                "namespace": meta["namespace"],
                "labels": labels,
                "ownerReferences": [controller_ref(sts)],
            },
            "spec": spec,
        }
        if tmeta.get("annotations"):
            pod["metadata"]["annotations"] = copy.deepcopy(tmeta["annotations"])
        return pod

    def _ensure_claims(self, sts: dict[str, Any], pod_name: str, number: int) -> None:
        """Create the pod's missing PVCs. Existing ones, retained from earlier pods, are reused."""
        namespace = sts["metadata"]["namespace"]
        templates = {
            t["metadata"]["name"]: t for t in sts["spec"].get("volumeClaimTemplates") or []
        }
        match_labels = (sts["spec"].get("selector") or {}).get("matchLabels") or {}
        for volume, claim in claim_names(sts, number).items():
            if self.api.find(*PVC_KEY, namespace, claim) is not None:
                continue
            template = templates[volume]
            tmeta = template.get("metadata") or {}
            body = {
                "metadata": {
                    "name": claim,
                    "namespace": namespace,
                    "labels": {**(tmeta.get("labels") or {}), **match_labels},
                },
                "spec": copy.deepcopy(template.get("spec") or {}),
            }
            if tmeta.get("annotations"):
                body["metadata"]["annotations"] = copy.deepcopy(tmeta["annotations"])
            self.api.create(self.api.preferred(*PVC_KEY), namespace, body)
            self.record(
                sts,
                "Normal",
                "SuccessfulCreate",
                f"create Claim {claim} Pod {pod_name} in StatefulSet "
                f"{sts['metadata']['name']} success",
            )

    def _conform(self, sts: dict[str, Any], pod: Pod, number: int) -> None:
        """Restore the identity labels if someone removed them."""
        labels = pod["metadata"].get("labels") or {}
        identity = {POD_NAME_LABEL: pod["metadata"]["name"], POD_INDEX_LABEL: str(number)}
        if all(labels.get(k) == v for k, v in identity.items()):
            return
        new = copy.deepcopy(pod)
        new["metadata"]["labels"] = {**labels, **identity}
        self.api.update(
            self.api.preferred(*POD_KEY), sts["metadata"]["namespace"], pod["metadata"]["name"], new
        )
        self._event(sts, "update", f"Pod {pod['metadata']['name']}")

    def _sync_claim_owners(
        self, sts: dict[str, Any], pod: Pod, number: int, scaled_down: bool
    ) -> None:
        """Own the pod's PVCs as persistentVolumeClaimRetentionPolicy says, so that the garbage
        collector removes them with the set (whenDeleted) or with a scaled-down pod (whenScaled)."""
        policy = sts["spec"].get("persistentVolumeClaimRetentionPolicy") or {}
        wanted = []
        if policy.get("whenScaled") == "Delete" and scaled_down:
            wanted = [controller_ref(pod)]
        elif policy.get("whenDeleted") == "Delete":
            wanted = [controller_ref(sts)]
        ours = {sts["metadata"]["uid"], pod["metadata"]["uid"]}
        namespace = sts["metadata"]["namespace"]
        for claim in claim_names(sts, number).values():
            pvc = self.api.find(*PVC_KEY, namespace, claim)
            if pvc is None:
                continue
            refs = pvc["metadata"].get("ownerReferences") or []
            new_refs = [r for r in refs if r.get("uid") not in ours] + wanted
            if new_refs != refs:
                new = copy.deepcopy(pvc)
                new["metadata"]["ownerReferences"] = new_refs
                self.api.update(self.api.preferred(*PVC_KEY), namespace, claim, new)

    def _delete(self, sts: dict[str, Any], pod: Pod) -> None:
        self.api.delete(
            self.api.preferred(*POD_KEY), sts["metadata"]["namespace"], pod["metadata"]["name"]
        )
        self._event(sts, "delete", f"Pod {pod['metadata']['name']}")

    def _event(self, sts: dict[str, Any], verb: str, what: str) -> None:
        self.record(
            sts,
            "Normal",
            f"Successful{verb.title()}",
            f"{verb} {what} in StatefulSet {sts['metadata']['name']} successful",
        )

    # -- status ----------------------------------------------------------------------------
    def _write_status(
        self,
        sts: dict[str, Any],
        pods: list[Pod],
        current: dict[str, Any],
        update: dict[str, Any],
        collisions: int,
    ) -> None:
        min_ready = sts["spec"].get("minReadySeconds", 0)
        current_name, update_name = current["metadata"]["name"], update["metadata"]["name"]
        live = [
            (p["metadata"].get("labels") or {}).get(REVISION_LABEL)
            for p in pods
            if not is_terminating(p)
        ]
        status: dict[str, Any] = {
            "observedGeneration": sts["metadata"].get("generation", 1),
            "replicas": len(pods),
            "readyReplicas": sum(1 for p in pods if running_and_ready(p)),
            "currentReplicas": live.count(current_name),
            "updatedReplicas": live.count(update_name),
            "availableReplicas": sum(1 for p in pods if available(p, min_ready)),
            "currentRevision": current_name,
            "updateRevision": update_name,
            "collisionCount": collisions,
        }
        if (
            _rolling(sts)
            and status["updatedReplicas"] == status["replicas"]
            and status["readyReplicas"] == status["replicas"]
        ):
            status["currentReplicas"] = status["updatedReplicas"]
            status["currentRevision"] = update_name
        status = {k: v for k, v in status.items() if v or k not in _OMIT_ZERO}
        waits = [available_in(p, min_ready) for p in pods if running_and_ready(p)]
        if any(waits):
            self.enqueue_after(
                min(w for w in waits if w) + 0.05,
                (sts["metadata"]["namespace"], sts["metadata"]["name"]),
            )
        if sts.get("status") != status:
            self.api.update(
                self.api.preferred(*STS_KEY),
                sts["metadata"]["namespace"],
                sts["metadata"]["name"],
                {**sts, "status": status},
                subresource="status",
            )
