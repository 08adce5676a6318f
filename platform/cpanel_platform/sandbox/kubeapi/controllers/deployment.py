"""Deployment: ReplicaSets per pod template, RollingUpdate and Recreate, revisions, status."""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Iterable
from typing import Any

from .. import clock
from ..store import Event
from .base import (
    Controller,
    WorkKey,
    controller_of,
    controller_ref,
    owner_keys,
    owner_of,
    resolve_bound,
)
from .replicaset import RS_KEY, owned_pods

DEPLOY_KEY = ("apps", "deployments")
POD_KEY = ("", "pods")
REVISION = "deployment.kubernetes.io/revision"
HASH_LABEL = "pod-template-hash"
_SAFE = "bcdfghjklmnpqrstvwxz2456789"
# Annotations a ReplicaSet does not inherit from its Deployment.
_NOT_COPIED = {
    REVISION,
    "kubectl.kubernetes.io/last-applied-configuration",
    "deployment.kubernetes.io/desired-replicas",
    "deployment.kubernetes.io/max-replicas",
}


def template_hash(template: dict[str, Any], collisions: int = 0) -> str:
    digest = hashlib.sha256(
        json.dumps(template, sort_keys=True).encode() + str(collisions).encode()
    ).digest()
    return "".join(_SAFE[b % len(_SAFE)] for b in digest[:10])


def _without_hash(template: dict[str, Any]) -> dict[str, Any]:
    t = copy.deepcopy(template)
    labels = (t.get("metadata") or {}).get("labels") or {}
    labels.pop(HASH_LABEL, None)
    return t


def revision(rs: dict[str, Any]) -> int:
    try:
        return int((rs["metadata"].get("annotations") or {}).get(REVISION, "0"))
    except ValueError:
        return 0


def _condition(
    status: dict[str, Any],
    ctype: str,
    value: str,
    reason: str,
    message: str,
    previous: list[dict[str, Any]],
) -> None:
    now = clock.stamp()
    old = next((c for c in previous if c["type"] == ctype), None)
    same = old and old["status"] == value and old.get("reason") == reason
    status.setdefault("conditions", []).append(
        {
            "type": ctype,
            "status": value,
            "lastUpdateTime": old["lastUpdateTime"]
            if same and old.get("message") == message
            else now,
            "lastTransitionTime": old["lastTransitionTime"]
            if old and old["status"] == value
            else now,
            "reason": reason,
            "message": message,
        }
    )


class DeploymentController(Controller):
    name = "deployment-controller"
    watches = frozenset({DEPLOY_KEY, RS_KEY, POD_KEY})
    primary = DEPLOY_KEY
    owned_by = "Deployment"

    def keys_for(self, event: Event) -> Iterable[WorkKey]:
        if event.key != POD_KEY:
            return super().keys_for(event)
        # Pods matter only to Recreate, which waits for the old ones to be gone.
        meta = event.obj["metadata"]
        rs_ref = controller_of(event.obj)
        if event.type != "DELETED" or not rs_ref or rs_ref.get("kind") != "ReplicaSet":
            return []
        rs = self.api.find(*RS_KEY, meta["namespace"], rs_ref["name"])
        return owner_keys(Event("DELETED", event.rv, RS_KEY, rs), "Deployment") if rs else []

    # -- reconcile -----------------------------------------------------------------------
    def reconcile(self, key: WorkKey) -> None:
        d = self.api.find(*DEPLOY_KEY, *key)
        if d is None or d["metadata"].get("deletionTimestamp"):
            return
        uid = d["metadata"]["uid"]
        rss = sorted(
            (rs for rs in self.api.store.list(RS_KEY, key[0]) if owner_of(rs, "Deployment") == uid),
            key=lambda rs: (rs["metadata"].get("creationTimestamp", ""), rs["metadata"]["name"]),
        )
        template = d["spec"]["template"]
        new = next((rs for rs in rss if _without_hash(rs["spec"]["template"]) == template), None)
        olds = [rs for rs in rss if rs is not new]
        if not d["spec"].get("paused"):
            new = self._ensure_new(d, new, olds)
            if d["spec"].get("strategy", {}).get("type") == "Recreate":
                self._recreate(d, new, olds)
            else:
                self._rolling(d, new, olds)
            self._prune(d, olds)
        self._status(d, new, olds)

    def _ensure_new(
        self, d: dict[str, Any], new: dict[str, Any] | None, olds: list[dict[str, Any]]
    ) -> dict[str, Any]:
        next_rev = max((revision(rs) for rs in olds), default=0) + 1
        if new is not None:
            if revision(new) < next_rev:  # an old template came back: a rollback or undo
                new = self._annotate(new, {REVISION: str(next_rev)})
            self._stamp_revision(d, revision(new))
            return new
        meta = d["metadata"]
        collisions = d.get("status", {}).get("collisionCount", 0)
        h = template_hash(d["spec"]["template"], collisions)
        template = copy.deepcopy(d["spec"]["template"])
        template.setdefault("metadata", {}).setdefault("labels", {})[HASH_LABEL] = h
        selector = copy.deepcopy(d["spec"]["selector"])
        selector.setdefault("matchLabels", {})[HASH_LABEL] = h
        annotations = {
            k: v for k, v in (meta.get("annotations") or {}).items() if k not in _NOT_COPIED
        }
        annotations[REVISION] = str(next_rev)
        rs = {
            "metadata": {
                "name": f"{meta['name']}-{h}",
                "namespace": meta["namespace"],
                "labels": {**(template["metadata"].get("labels") or {})},
                "annotations": annotations,
                "ownerReferences": [controller_ref(d)],
            },
            "spec": {
                "replicas": 0,
                "minReadySeconds": d["spec"].get("minReadySeconds", 0),
                "selector": selector,
                "template": template,
            },
        }
        created = self.api.create(self.api.preferred(*RS_KEY), meta["namespace"], rs)
        self._stamp_revision(d, next_rev)
        return created

    def _stamp_revision(self, d: dict[str, Any], rev: int) -> None:
        current = self.api.find(*DEPLOY_KEY, d["metadata"]["namespace"], d["metadata"]["name"])
        if current and (current["metadata"].get("annotations") or {}).get(REVISION) != str(rev):
            self._annotate(current, {REVISION: str(rev)}, DEPLOY_KEY)

    def _annotate(
        self, obj: dict[str, Any], annotations: dict[str, str], key: tuple[str, str] = RS_KEY
    ) -> dict[str, Any]:
        new = copy.deepcopy(obj)
        new["metadata"].setdefault("annotations", {}).update(annotations)
        return self.api.update(
            self.api.preferred(*key), obj["metadata"]["namespace"], obj["metadata"]["name"], new
        )

    def _scale(self, d: dict[str, Any], rs: dict[str, Any], replicas: int) -> dict[str, Any]:
        old = rs["spec"].get("replicas", 0)
        if old == replicas:
            return rs
        new = copy.deepcopy(rs)
        new["spec"]["replicas"] = replicas
        surge = resolve_bound(
            d["spec"].get("strategy", {}).get("rollingUpdate", {}).get("maxSurge"),
            d["spec"]["replicas"],
            True,
        )
        new["metadata"].setdefault("annotations", {}).update(
            {
                "deployment.kubernetes.io/desired-replicas": str(d["spec"]["replicas"]),
                "deployment.kubernetes.io/max-replicas": str(d["spec"]["replicas"] + surge),
            }
        )
        updated = self.api.update(
            self.api.preferred(*RS_KEY), rs["metadata"]["namespace"], rs["metadata"]["name"], new
        )
        verb = "up" if replicas > old else "down"
        self.record(
            d,
            "Normal",
            "ScalingReplicaSet",
            f"Scaled {verb} replica set {rs['metadata']['name']} from {old} to {replicas}",
        )
        return updated

    def _rolling(self, d: dict[str, Any], new: dict[str, Any], olds: list[dict[str, Any]]) -> None:
        replicas = d["spec"]["replicas"]
        ru = d["spec"].get("strategy", {}).get("rollingUpdate") or {}
        surge = resolve_bound(ru.get("maxSurge", "25%"), replicas, True)
        unavailable = resolve_bound(ru.get("maxUnavailable", "25%"), replicas, False)
        if surge == 0 and unavailable == 0:
            unavailable = 1
        total = sum(rs["spec"].get("replicas", 0) for rs in [new, *olds])
        want_new = new["spec"].get("replicas", 0)
        if want_new > replicas or not olds:
            want_new = replicas
        elif want_new < replicas and total < replicas + surge:
            want_new = min(replicas, want_new + replicas + surge - total)
        new = self._scale(d, new, want_new)
        self._scale_down_olds(d, new, olds, replicas - unavailable)

    def _scale_down_olds(
        self, d: dict[str, Any], new: dict[str, Any], olds: list[dict[str, Any]], min_available: int
    ) -> None:
        live = [rs for rs in olds if rs["spec"].get("replicas", 0) > 0]
        if not live:
            return
        everyone = [new, *live]
        all_pods = sum(rs["spec"].get("replicas", 0) for rs in everyone)
        new_unavailable = new["spec"].get("replicas", 0) - new.get("status", {}).get(
            "availableReplicas", 0
        )
        # First drop old pods that are not available anyway: that costs no availability.
        budget = all_pods - min_available - max(0, new_unavailable)
        for i, rs in enumerate(live):
            if budget <= 0:
                break
            unhealthy = rs["spec"]["replicas"] - rs.get("status", {}).get("availableReplicas", 0)
            cut = min(budget, max(0, unhealthy))
            if cut:
                live[i] = self._scale(d, rs, rs["spec"]["replicas"] - cut)
                budget -= cut
        available = sum(rs.get("status", {}).get("availableReplicas", 0) for rs in [new, *live])
        budget = available - min_available
        for rs in live:
            if budget <= 0:
                break
            cut = min(budget, rs["spec"]["replicas"])
            if cut:
                self._scale(d, rs, rs["spec"]["replicas"] - cut)
                budget -= cut

    def _recreate(self, d: dict[str, Any], new: dict[str, Any], olds: list[dict[str, Any]]) -> None:
        if any(rs["spec"].get("replicas", 0) for rs in olds):
            for rs in olds:
                self._scale(d, rs, 0)
            return
        if any(owned_pods(self.api, rs, "ReplicaSet") for rs in olds):
            return  # wait until every old pod is gone
        self._scale(d, new, d["spec"]["replicas"])

    def _prune(self, d: dict[str, Any], olds: list[dict[str, Any]]) -> None:
        limit = d["spec"].get("revisionHistoryLimit", 10)
        idle = [
            rs
            for rs in olds
            if not rs["spec"].get("replicas") and not rs.get("status", {}).get("replicas")
        ]
        for rs in sorted(idle, key=revision)[: max(0, len(idle) - limit)]:
            self.api.delete(
                self.api.preferred(*RS_KEY), rs["metadata"]["namespace"], rs["metadata"]["name"]
            )

    # -- status --------------------------------------------------------------------------
    def _status(
        self, d: dict[str, Any], new: dict[str, Any] | None, olds: list[dict[str, Any]]
    ) -> None:
        d = self.api.find(*DEPLOY_KEY, d["metadata"]["namespace"], d["metadata"]["name"]) or d
        rss = [rs for rs in [new, *olds] if rs]
        fresh = [
            self.api.find(*RS_KEY, rs["metadata"]["namespace"], rs["metadata"]["name"]) or rs
            for rs in rss
        ]
        new_now = fresh[0] if new else None

        def total(field: str, sets: list[dict[str, Any]]) -> int:
            return sum(rs.get("status", {}).get(field, 0) for rs in sets)

        replicas = d["spec"]["replicas"]
        available = total("availableReplicas", fresh)
        updated = new_now.get("status", {}).get("replicas", 0) if new_now else 0
        status: dict[str, Any] = {
            "observedGeneration": d["metadata"].get("generation", 1),
            "replicas": total("replicas", fresh),
            "updatedReplicas": updated,
            "readyReplicas": total("readyReplicas", fresh),
            "availableReplicas": available,
            "unavailableReplicas": max(0, replicas - available),
        }
        status = {k: v for k, v in status.items() if v or k == "observedGeneration"}
        ru = d["spec"].get("strategy", {}).get("rollingUpdate") or {}
        max_unavailable = resolve_bound(ru.get("maxUnavailable", 0), replicas, False)
        previous = d.get("status", {}).get("conditions") or []
        if available >= replicas - max_unavailable:
            _condition(
                status,
                "Available",
                "True",
                "MinimumReplicasAvailable",
                "Deployment has minimum availability.",
                previous,
            )
        else:
            _condition(
                status,
                "Available",
                "False",
                "MinimumReplicasUnavailable",
                "Deployment does not have minimum availability.",
                previous,
            )
        self._progressing(d, status, new_now, previous)
        if d.get("status", {}).get("collisionCount"):
            status["collisionCount"] = d["status"]["collisionCount"]
        if d.get("status") != status:
            self.api.update(
                self.api.preferred(*DEPLOY_KEY),
                d["metadata"]["namespace"],
                d["metadata"]["name"],
                {**d, "status": status},
                subresource="status",
            )

    def _progressing(
        self,
        d: dict[str, Any],
        status: dict[str, Any],
        new: dict[str, Any] | None,
        previous: list[dict[str, Any]],
    ) -> None:
        if new is None:
            return
        name = new["metadata"]["name"]
        replicas = d["spec"]["replicas"]
        complete = (
            status.get("updatedReplicas", 0) == replicas
            and status.get("replicas", 0) == replicas
            and status.get("availableReplicas", 0) >= replicas
        )
        if d["spec"].get("paused"):
            _condition(
                status,
                "Progressing",
                "Unknown",
                "DeploymentPaused",
                "Deployment is paused",
                previous,
            )
            return
        if complete:
            _condition(
                status,
                "Progressing",
                "True",
                "NewReplicaSetAvailable",
                f'ReplicaSet "{name}" has successfully progressed.',
                previous,
            )
            return
        old = next((c for c in previous if c["type"] == "Progressing"), None)
        deadline = d["spec"].get("progressDeadlineSeconds", 600)
        since = clock.parse(old["lastUpdateTime"]) if old else None
        if old and old.get("reason") == "ProgressDeadlineExceeded":
            status.setdefault("conditions", []).append(old)
        elif (
            since
            and old.get("reason") == "ReplicaSetUpdated"
            and ((clock.now() - since).total_seconds() > deadline)
        ):
            _condition(
                status,
                "Progressing",
                "False",
                "ProgressDeadlineExceeded",
                f'ReplicaSet "{name}" has timed out progressing.',
                previous,
            )
        else:
            message = f'ReplicaSet "{name}" is progressing.'
            keep = (
                old and old.get("reason") == "ReplicaSetUpdated" and old.get("message") == message
            )
            _condition(
                status,
                "Progressing",
                "True",
                "ReplicaSetUpdated",
                message,
                previous if keep else [],
            )
            self.enqueue_after(deadline + 1, (d["metadata"]["namespace"], d["metadata"]["name"]))
