"""The rollouts pane: the workloads Keel manages, their rollout state, the approvals waiting
for votes, and each Deployment's revision history merged with Keel's audit log.

Only Keel-managed workloads are listed (a `keel.sh/policy` label or annotation, whatever its
value): this pane is about Keel's updates; every Deployment is in the generic resource views.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from ..keel import Approval, AuditEntry, KeelSnapshot
from ..timestamps import parse_time
from .common import (
    Severity,
    annotations_of,
    condition,
    labels_of,
    name_of,
    namespace_of,
)

POLICY = "keel.sh/policy"
TRIGGER = "keel.sh/trigger"
APPROVALS = "keel.sh/approvals"
UPDATE_TIME = "keel.sh/update-time"
REVISION = "deployment.kubernetes.io/revision"

RolloutStatus = Literal["progressing", "complete", "stalled", "paused"]

# Keel writes keel.sh/update-time with Go's time.Time.String():
# "2024-05-01 09:00:00.123456789 +0000 UTC m=+12.345" (the monotonic part is optional).
_GO_TIME = re.compile(
    r"^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2})(?:\.(\d+))? ([+-])(\d{2}):?(\d{2})"
)
# "… 2.14.1->2.15.0 …" or "(2.14.1 -> 2.15.0)" in Keel's update and approval messages.
_VERSION_CHANGE = re.compile(r"(\S+)\s*->\s*([^\s)\]]+)")


@dataclass(frozen=True)
class RevisionRow:
    key: str  # the ReplicaSet's name
    revision: int | None
    image: str  # first container's image
    created: float | None
    keel_update_time: float | None  # None: this revision was not Keel's doing
    replicas: int  # desired
    ready_replicas: int
    audit: tuple[AuditEntry, ...]  # Keel's entries about this revision, oldest first


@dataclass(frozen=True)
class RolloutRow:
    key: str  # Keel's identifier: "deployment/app/web"
    kind: str  # Deployment | StatefulSet | DaemonSet
    namespace: str
    name: str
    policy: str
    trigger: str  # default (webhooks) | poll
    approvals_required: int
    image: str  # first container's image
    revision: int | None  # Deployments only
    updated: float | None  # the last Keel update, else the newest ReplicaSet's creation
    status: RolloutStatus
    ready: str  # "3/3"
    pending: tuple[Approval, ...]  # approvals still collecting votes
    history: tuple[RevisionRow, ...]  # newest first; Deployments only (from ReplicaSets)
    severity: Severity


def go_time(value: str | None) -> float | None:
    """keel.sh/update-time as epoch seconds: Go's time.String() form, or RFC 3339."""
    if not value:
        return None
    match = _GO_TIME.match(value)
    if match is None:
        return parse_time(value)
    day, clock, fraction, sign, hours, minutes = match.groups()
    micro = f".{fraction[:6]}" if fraction else ""
    try:
        stamp = datetime.fromisoformat(f"{day}T{clock}{micro}{sign}{hours}:{minutes}")
    except ValueError:
        return None
    return stamp.timestamp()


def _setting(obj: dict[str, Any], key: str) -> str | None:
    """A keel.sh setting as Keel reads it: the label, else the annotation."""
    labels = labels_of(obj)
    return labels[key] if key in labels else annotations_of(obj).get(key)


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _template(obj: dict[str, Any]) -> dict[str, Any]:
    return (obj.get("spec") or {}).get("template") or {}


def _images(obj: dict[str, Any]) -> list[str]:
    containers = (_template(obj).get("spec") or {}).get("containers") or []
    return [c.get("image", "") for c in containers]


def repository(image: str) -> str:
    """An image reference without its tag or digest: ghcr.io:5000/example/shop."""
    image = image.split("@", 1)[0]
    head, _, last = image.rpartition("/")
    return f"{head}/{last.split(':', 1)[0]}" if head else last.split(":", 1)[0]


def _tag(image: str) -> str:
    last = image.split("@", 1)[0].rpartition("/")[2]
    return last.partition(":")[2] or "latest"


def _split_identifier(identifier: str) -> tuple[str, str]:
    """Keel's approval identifier "deployment/app/web:2.15.0" as (resource, version)."""
    head, colon, version = identifier.rpartition(":")
    if colon and "/" not in version:
        return head, version
    return identifier, ""


def _version_of(entry: AuditEntry) -> str:
    """The version an audit entry is about: its identifier's, else the message's "a->b"."""
    version = _split_identifier(entry.identifier)[1]
    if version:
        return version
    match = _VERSION_CHANGE.search(entry.message)
    return match.group(2) if match else ""


@dataclass(frozen=True)
class _Workload:
    kind: str
    obj: dict[str, Any]

    @property
    def identifier(self) -> str:
        return f"{self.kind.lower()}/{namespace_of(self.obj)}/{name_of(self.obj)}"

    def concerns(self, identifier: str) -> bool:
        """Whether a Keel identifier names this workload: by kind/namespace/name (Keel's own
        form), by namespace/name, or by one of its image repositories."""
        resource = _split_identifier(identifier)[0]
        short = f"{namespace_of(self.obj)}/{name_of(self.obj)}"
        return (
            resource.lower() == self.identifier.lower()
            or resource == short
            or resource in {repository(i) for i in _images(self.obj)}
        )


def _status(kind: str, obj: dict[str, Any]) -> tuple[RolloutStatus, str]:
    """The rollout state and the READY column, as `kubectl rollout status` judges them."""
    spec, st = obj.get("spec") or {}, obj.get("status") or {}
    observed = st.get("observedGeneration", 0) >= (obj.get("metadata") or {}).get("generation", 0)
    if kind == "DaemonSet":
        desired = st.get("desiredNumberScheduled", 0)
        done = (
            observed
            and st.get("updatedNumberScheduled", 0) == desired
            and st.get("numberAvailable", 0) == desired
        )
        return ("complete" if done else "progressing"), f"{st.get('numberReady', 0)}/{desired}"
    desired = spec.get("replicas", 1)
    ready = f"{st.get('readyReplicas', 0)}/{desired}"
    updated = st.get("updatedReplicas", 0)
    if kind == "StatefulSet":
        done = (
            observed
            and updated == desired
            and st.get("readyReplicas", 0) == desired
            and st.get("currentRevision") == st.get("updateRevision")
        )
        return ("complete" if done else "progressing"), ready
    if spec.get("paused"):
        return "paused", ready
    progressing = condition(obj, "Progressing")
    reason = (progressing or {}).get("reason")
    if reason == "ProgressDeadlineExceeded":
        return "stalled", ready
    done = (
        observed
        and updated == desired
        and st.get("replicas", 0) == updated
        and st.get("availableReplicas", 0) == updated
        and reason in (None, "NewReplicaSetAvailable")
    )
    return ("complete" if done else "progressing"), ready


def _owned(
    deployment: dict[str, Any], replicasets: Sequence[dict[str, Any]]
) -> list[dict[str, Any]]:
    uid = (deployment.get("metadata") or {}).get("uid")
    namespace, name = namespace_of(deployment), name_of(deployment)

    def owns(ref: dict[str, Any]) -> bool:
        if uid and ref.get("uid"):
            return ref["uid"] == uid
        return ref.get("kind") == "Deployment" and ref.get("name") == name

    return [
        rs
        for rs in replicasets
        if namespace_of(rs) == namespace
        and any(owns(r) for r in (rs.get("metadata") or {}).get("ownerReferences") or [])
    ]


def _start(row: RevisionRow) -> float:
    return row.keel_update_time or row.created or 0.0


def _attach_audit(revisions: list[RevisionRow], entries: Sequence[AuditEntry]) -> list[RevisionRow]:
    """Each audit entry goes to the revision running the version it names (the one nearest
    in time when a forced update repeated a tag); an entry naming no version goes to the
    revision current at its time; one naming a version never rolled out goes nowhere."""
    attached: dict[str, list[AuditEntry]] = {r.key: [] for r in revisions}
    for entry in entries:
        version = _version_of(entry)
        if version:
            candidates = [r for r in revisions if _tag(r.image) == version]
            target = min(candidates, key=lambda r: abs(_start(r) - entry.created), default=None)
        else:
            earlier = [r for r in revisions if _start(r) <= entry.created]
            target = max(earlier, key=_start, default=None)
        if target is not None:
            attached[target.key].append(entry)
    return [
        RevisionRow(
            key=r.key,
            revision=r.revision,
            image=r.image,
            created=r.created,
            keel_update_time=r.keel_update_time,
            replicas=r.replicas,
            ready_replicas=r.ready_replicas,
            audit=tuple(sorted(attached[r.key], key=lambda e: e.created)),
        )
        for r in revisions
    ]


def _history(
    deployment: dict[str, Any],
    replicasets: Sequence[dict[str, Any]],
    audit: Sequence[AuditEntry],
) -> tuple[RevisionRow, ...]:
    revisions = []
    for rs in _owned(deployment, replicasets):
        images = _images(rs)
        revisions.append(
            RevisionRow(
                key=name_of(rs),
                revision=_int(annotations_of(rs).get(REVISION)),
                image=images[0] if images else "",
                created=parse_time((rs.get("metadata") or {}).get("creationTimestamp")),
                keel_update_time=go_time(annotations_of(_template(rs)).get(UPDATE_TIME)),
                replicas=(rs.get("spec") or {}).get("replicas", 0),
                ready_replicas=(rs.get("status") or {}).get("readyReplicas", 0),
                audit=(),
            )
        )
    revisions.sort(key=lambda r: (r.revision or 0, r.created or 0.0), reverse=True)
    return tuple(_attach_audit(revisions, audit))


def _pending(workload: _Workload, approvals: Iterable[Approval], now: float) -> list[Approval]:
    return sorted(
        (
            a
            for a in approvals
            if not a.archived
            and not a.rejected
            and a.votes_received < a.votes_required
            and a.deadline >= now  # Keel drops expired approvals on its next sweep
            and workload.concerns(a.identifier)
        ),
        key=lambda a: a.created,
    )


def _row(
    workload: _Workload,
    replicasets: Sequence[dict[str, Any]],
    keel: KeelSnapshot | None,
    now: float,
) -> RolloutRow:
    obj = workload.obj
    status, ready = _status(workload.kind, obj)
    audit = [e for e in (keel.audit if keel else ()) if workload.concerns(e.identifier)]
    history = _history(obj, replicasets, audit) if workload.kind == "Deployment" else ()
    pending = _pending(workload, keel.approvals if keel else (), now)
    updated = go_time(annotations_of(_template(obj)).get(UPDATE_TIME))
    if updated is None and history:
        updated = max((r.created for r in history if r.created is not None), default=None)
    images = _images(obj)
    if status == "stalled":
        severity = Severity.ERROR
    elif status != "complete" or pending:
        severity = Severity.WARN
    else:
        severity = Severity.OK
    return RolloutRow(
        key=workload.identifier,
        kind=workload.kind,
        namespace=namespace_of(obj),
        name=name_of(obj),
        policy=_setting(obj, POLICY) or "",
        trigger=_setting(obj, TRIGGER) or "default",
        approvals_required=max(0, _int(_setting(obj, APPROVALS)) or 0),
        image=images[0] if images else "",
        revision=_int(annotations_of(obj).get(REVISION)) if workload.kind == "Deployment" else None,
        updated=updated,
        status=status,
        ready=ready,
        pending=tuple(pending),
        history=history,
        severity=severity,
    )


def rollouts_view(
    deployments: Iterable[dict[str, Any]],
    statefulsets: Iterable[dict[str, Any]],
    daemonsets: Iterable[dict[str, Any]],
    replicasets: Iterable[dict[str, Any]],
    keel: KeelSnapshot | None,
    now: float,
) -> tuple[RolloutRow, ...]:
    """One row per Keel-managed workload, sorted by namespace, name and kind."""
    replicasets = list(replicasets)
    workloads = [
        _Workload(kind, obj)
        for kind, objs in (
            ("Deployment", deployments),
            ("StatefulSet", statefulsets),
            ("DaemonSet", daemonsets),
        )
        for obj in objs
        if _setting(obj, POLICY)
    ]
    rows = [_row(w, replicasets, keel, now) for w in workloads]
    return tuple(sorted(rows, key=lambda r: (r.namespace, r.name, r.kind)))
