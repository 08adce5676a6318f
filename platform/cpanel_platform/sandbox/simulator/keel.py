"""Keel, as the platform's Helm chart runs it: it tracks Deployments, StatefulSets and
DaemonSets and, when an image is pushed, moves every workload whose `keel.sh/policy` allows
the new tag. An update patches the container image and stamps `keel.sh/update-time` into the
pod template, so each Keel rollout is a new ReplicaSet revision. A workload with
`keel.sh/approvals: N` gets an approval request instead, and updates once N voters approve.

Pushes arrive through webhooks (DockerHub, native) or, for `keel.sh/trigger: poll` workloads,
from polling the registry on `keel.sh/pollSchedule`: the registry here is the record of
`push()` calls. Approvals, the audit log and the resource list are kept in Keel's own JSON
shapes, which keel_api serves.
"""

from __future__ import annotations

import asyncio
import copy
import datetime as dt
import logging
import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from .keel_policy import (
    DEFAULT_POLL_SCHEDULE,
    ImageRef,
    Policy,
    parse_image,
    policy_for,
    seconds_to_next_poll,
)
from .kube import Kind, Kube, KubeError

log = logging.getLogger(__name__)

DEPLOYMENTS = Kind("apps", "v1", "deployments")
STATEFULSETS = Kind("apps", "v1", "statefulsets")
DAEMONSETS = Kind("apps", "v1", "daemonsets")
KIND_NAMES = {DEPLOYMENTS: "deployment", STATEFULSETS: "statefulset", DAEMONSETS: "daemonset"}

APPROVALS = "keel.sh/approvals"
APPROVAL_DEADLINE = "keel.sh/approvalDeadline"
TRIGGER = "keel.sh/trigger"
POLL_SCHEDULE = "keel.sh/pollSchedule"
MONITOR_CONTAINERS = "keel.sh/monitorContainers"
UPDATE_TIME = "keel.sh/update-time"
CHANGE_CAUSE = "kubernetes.io/change-cause"
DEFAULT_DEADLINE_HOURS = 24
PROVIDER = "kubernetes"
EXPIRY_SWEEP = 3600.0  # Keel looks for approvals past their deadline hourly

# Keel's status block per kind: (replicas, updated, ready, available, unavailable) fields.
_STATUS_FIELDS = {
    "deployment": (
        "replicas",
        "updatedReplicas",
        "readyReplicas",
        "availableReplicas",
        "unavailableReplicas",
    ),
    "statefulset": ("replicas", "updatedReplicas", "readyReplicas", "currentReplicas", ""),
    "daemonset": (
        "desiredNumberScheduled",
        "updatedNumberScheduled",
        "numberReady",
        "numberAvailable",
        "numberUnavailable",
    ),
}
# "unavailableReplica" (sic) is how Keel's JSON spells it.
_STATUS_KEYS = (
    "replicas",
    "updatedReplicas",
    "readyReplicas",
    "availableReplicas",
    "unavailableReplica",
)


class ApprovalNotFound(LookupError):
    """No active approval has that identifier (or no approval at all has that id)."""


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def rfc3339(t: dt.datetime) -> str:
    """How Go's encoding/json writes a time (RFC 3339 with trailing zeros trimmed)."""
    return _trimmed(t, "T") + "Z"


def _go_time(t: dt.datetime) -> str:
    """How Go's time.Time.String() reads; Keel writes keel.sh/update-time with it."""
    return _trimmed(t, " ") + " +0000 UTC"


def _trimmed(t: dt.datetime, sep: str) -> str:
    return t.astimezone(dt.UTC).strftime(f"%Y-%m-%d{sep}%H:%M:%S.%f").rstrip("0").rstrip(".")


# -- workloads -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Workload:
    kind: Kind
    obj: dict[str, Any]

    @property
    def kind_name(self) -> str:
        return KIND_NAMES[self.kind]

    @property
    def namespace(self) -> str:
        return self.obj["metadata"]["namespace"]

    @property
    def name(self) -> str:
        return self.obj["metadata"]["name"]

    @property
    def identifier(self) -> str:
        return f"{self.kind_name}/{self.namespace}/{self.name}"

    @property
    def labels(self) -> dict[str, str]:
        return self.obj["metadata"].get("labels") or {}

    @property
    def annotations(self) -> dict[str, str]:
        return self.obj["metadata"].get("annotations") or {}

    @property
    def policy(self) -> Policy:
        return policy_for(self.labels, self.annotations)

    def setting(self, key: str) -> str | None:
        """A keel.sh setting, from the labels or else the annotations."""
        return self.labels.get(key, self.annotations.get(key))

    def containers(self) -> list[dict[str, Any]]:
        """The containers Keel watches: those keel.sh/monitorContainers matches (all if unset)."""
        pattern = self.setting(MONITOR_CONTAINERS) or ".*"
        try:
            monitored = re.compile(pattern)
        except re.error:
            monitored = re.compile(".*")
        spec = self.obj["spec"]["template"]["spec"]
        return [c for c in spec.get("containers") or [] if monitored.search(c["name"])]

    def images(self) -> list[str]:
        return [c["image"] for c in self.containers()]

    def resource(self) -> dict[str, Any]:
        """The workload as Keel's /v1/resources shows it."""
        status = self.obj.get("status") or {}
        fields = _STATUS_FIELDS[self.kind_name]
        return {
            "provider": PROVIDER,
            "identifier": self.identifier,
            "name": self.name,
            "namespace": self.namespace,
            "kind": self.kind_name,
            "policy": self.policy.name,
            "images": self.images(),
            "labels": self.labels,
            "annotations": self.annotations,
            "status": {k: status.get(f, 0) for k, f in zip(_STATUS_KEYS, fields, strict=True)},
        }


@dataclass(frozen=True)
class Plan:
    """One workload's update: new images by container name, and the tag change."""

    workload: Workload
    images: dict[str, str]
    current: str
    new: str

    @property
    def approval_identifier(self) -> str:
        return f"{self.workload.identifier}:{self.new}"


def plan_update(workload: Workload, pushed: ImageRef, tag: str) -> Plan | None:
    """The update a push of `pushed:tag` asks of the workload, if its policy allows one."""
    policy = workload.policy
    images: dict[str, str] = {}
    current = ""
    for container in workload.containers():
        ref = parse_image(container["image"])
        if ref.repository == pushed.repository and policy.should_update(ref.tag, tag):
            images[container["name"]] = ref.with_tag(tag)
            current = ref.tag
    return Plan(workload, images, current, tag) if images else None


def _update_patch(plan: Plan, now: dt.datetime) -> dict[str, Any]:
    """The new images, and a fresh keel.sh/update-time in the pod template: the template
    changes even when a forced update keeps the tag, so every update is a new revision."""
    cause = (
        f"keel automated update, version {plan.current} -> {plan.new} "
        f"[{now.strftime('%Y-%m-%dT%H:%M:%SZ')}]"
    )
    containers = [{"name": name, "image": image} for name, image in plan.images.items()]
    return {
        "metadata": {"annotations": {CHANGE_CAUSE: cause}},
        "spec": {
            "template": {
                "metadata": {"annotations": {UPDATE_TIME: _go_time(now)}},
                "spec": {"containers": containers},  # merged by container name
            }
        },
    }


def _number(workload: Workload, key: str) -> int:
    """An integer setting, 0 when unset (ValueError when it is not a number)."""
    value = workload.setting(key)
    return int(value) if value is not None else 0


def _event(repository: str, tag: str, trigger: str, at: dt.datetime) -> dict[str, Any]:
    return {
        "repository": {"host": "", "name": repository, "tag": tag, "digest": ""},
        "createdAt": rfc3339(at),
        "triggerName": trigger,
    }


def _status(approval: dict[str, Any]) -> str:
    if approval["rejected"]:
        return "rejected"
    return "approved" if approval["votesReceived"] >= approval["votesRequired"] else "pending"


def _resource_version(workload: Workload | None) -> int:
    return int(workload.obj["metadata"].get("resourceVersion") or 0) if workload else 0


# -- Keel ----------------------------------------------------------------------------------
class Keel:
    """`speed` > 1 runs poll schedules and the approval expiry sweep that many times faster;
    `clock` gives the wall-clock time stamped on approvals and audit entries."""

    def __init__(
        self, kube: Kube, speed: float = 1.0, clock: Callable[[], dt.datetime] = utcnow
    ) -> None:
        self.kube = kube
        self.speed = speed
        self.clock = clock
        self._workloads: dict[str, Workload] = {}  # by identifier
        self._approvals: dict[str, dict[str, Any]] = {}  # by id
        self._audit: list[dict[str, Any]] = []  # oldest first
        self._registry: dict[str, list[str]] = {}  # repository -> tags, oldest push first
        self._pushed_as: dict[str, str] = {}  # repository -> its name as pushed
        self._next_poll: dict[str, float] = {}  # identifier -> loop time of its next poll
        self._lock = asyncio.Lock()  # Keel handles one event at a time

    async def run(self) -> None:
        await asyncio.gather(
            *(self._watch(kind) for kind in KIND_NAMES), self._poll_loop(), self._expiry_loop()
        )

    # -- pushes ----------------------------------------------------------------------------
    async def push(self, image_repo: str, tag: str, webhook: str | None = "dockerhub") -> list[str]:
        """An image pushed to its registry, e.g. push("example/app", "1.4.0"). `webhook` names
        the webhook that tells Keel at once ("dockerhub", "native"); with None only workloads
        that poll notice, on their schedule. Returns the identifiers of the workloads updated
        now (those awaiting approval are not among them)."""
        ref = parse_image(image_repo)
        tags = self._registry.setdefault(ref.repository, [])
        if tag in tags:
            tags.remove(tag)  # a re-pushed tag is the newest again
        tags.append(tag)
        self._pushed_as[ref.repository] = image_repo
        if webhook is None:
            return []
        return await self._process(_event(image_repo, tag, webhook, self.clock()))

    async def _process(self, event: dict[str, Any], only: str | None = None) -> list[str]:
        pushed = parse_image(event["repository"]["name"])
        tag = event["repository"]["tag"]
        updated = []
        async with self._lock:
            for workload in list(self._workloads.values()):
                if only and workload.identifier != only:
                    continue
                plan = plan_update(workload, pushed, tag)
                if plan and self._approved(event, plan) and await self._apply(plan):
                    updated.append(workload.identifier)
        return updated

    async def _apply(self, plan: Plan) -> bool:
        w, change = plan.workload, f"{plan.current}->{plan.new}"
        body = _update_patch(plan, self.clock())
        try:
            obj = await self.kube.patch(w.kind, w.namespace, w.name, body, patch_type="strategic")
        except (KubeError, httpx.HTTPError) as err:
            log.warning("keel: updating %s %s failed: %s", w.identifier, change, err)
            message = f"{w.kind_name} {w.namespace}/{w.name} update {change} failed, error: {err}"
            self._record_update(w, message)
            return False
        updated = self._workloads[w.identifier] = Workload(w.kind, obj)
        approval = self._active(plan.approval_identifier)
        if approval:
            self._set_archived(approval)
        images = ", ".join(updated.images())
        self._record_update(
            updated,
            f"Successfully updated {w.kind_name} {w.namespace}/{w.name} {change} ({images})",
        )
        return True

    # -- approvals -------------------------------------------------------------------------
    def _approved(self, event: dict[str, Any], plan: Plan) -> bool:
        """Whether the plan may go ahead; asks for approval the first time it may not."""
        try:
            required = _number(plan.workload, APPROVALS)
        except ValueError:
            log.warning("keel: %s: %s is not a number", plan.workload.identifier, APPROVALS)
            return False
        if required == 0:
            return True
        existing = self._active(plan.approval_identifier)
        if existing is None:
            # An approval's own event must not ask again, or workloads sharing the image
            # would request approvals in a loop.
            if event["triggerName"] != "approval":
                self._request_approval(event, plan, required)
            return False
        return _status(existing) == "approved"

    def _request_approval(self, event: dict[str, Any], plan: Plan, required: int) -> None:
        try:
            hours = _number(plan.workload, APPROVAL_DEADLINE) or DEFAULT_DEADLINE_HOURS
        except ValueError:
            hours = DEFAULT_DEADLINE_HOURS
        now = self.clock()
        w = plan.workload
        approval = {
            "id": str(uuid.uuid4()),
            "archived": False,
            "provider": PROVIDER,
            "identifier": plan.approval_identifier,
            "event": event,
            "message": f"New image is available for resource {w.namespace}/{w.name} "
            f"({plan.current} -> {plan.new}).",
            "currentVersion": plan.current,
            "newVersion": plan.new,
            "digest": "",
            "votesRequired": required,
            "votesReceived": 0,
            "voters": {},
            "rejected": False,
            "deadline": rfc3339(now + dt.timedelta(hours=hours)),
            "createdAt": rfc3339(now),
            "updatedAt": rfc3339(now),
        }
        self._approvals[approval["id"]] = approval
        log.info("keel: approval requested for %s", plan.approval_identifier)

    def approvals(self) -> list[dict[str, Any]]:
        """Every approval, archived ones too, the most recently changed first."""
        ordered = sorted(self._approvals.values(), key=lambda a: a["updatedAt"], reverse=True)
        return copy.deepcopy(ordered)

    async def approve(self, identifier: str, voter: str) -> dict[str, Any]:
        """A vote for the active approval `identifier` (e.g. "deployment/prod/web:1.4.0");
        the vote that reaches votesRequired performs the update before this returns. Returns
        the approval as it stood after the vote."""
        approval = self._require(identifier)
        if voter in approval["voters"]:
            return copy.deepcopy(approval)  # one vote per voter
        was_approved = _status(approval) == "approved"
        now = self.clock()
        approval["voters"][voter] = rfc3339(now)
        approval["votesReceived"] += 1
        approval["updatedAt"] = rfc3339(now)
        self._record_approval(approval, "approved", voter)
        answer = copy.deepcopy(approval)
        if not was_approved and _status(approval) == "approved":
            await self._process({**approval["event"], "triggerName": "approval"})
        return answer

    def reject(self, identifier: str) -> dict[str, Any]:
        """Turn the approval down: it never updates, whatever votes follow."""
        approval = self._require(identifier)
        approval["rejected"] = True
        approval["updatedAt"] = rfc3339(self.clock())
        self._record_approval(approval, "rejected")
        return copy.deepcopy(approval)

    def archive(self, identifier: str) -> dict[str, Any]:
        approval = self._require(identifier)
        self._set_archived(approval)
        return copy.deepcopy(approval)

    def delete(self, approval_id: str = "", identifier: str = "") -> None:
        """Forget an approval, by id or else by the identifier of an active one."""
        if not approval_id and (active := self._active(identifier)):
            approval_id = active["id"]
        approval = self._approvals.pop(approval_id, None)
        if approval is None:
            raise ApprovalNotFound(approval_id or identifier)
        self._record_approval(approval, "deleted")

    def expire_approvals(self) -> None:
        """Delete the active approvals past their deadline, as Keel's hourly sweep does."""
        now = self.clock()
        for approval in list(self._approvals.values()):
            if not approval["archived"] and dt.datetime.fromisoformat(approval["deadline"]) < now:
                self.delete(approval["id"])
                self._record_approval(approval, "expired")

    def _set_archived(self, approval: dict[str, Any]) -> None:
        approval["archived"] = True
        approval["updatedAt"] = rfc3339(self.clock())
        self._record_approval(approval, "archived")

    def _active(self, identifier: str) -> dict[str, Any] | None:
        return next(
            (
                a
                for a in self._approvals.values()
                if a["identifier"] == identifier and not a["archived"]
            ),
            None,
        )

    def _require(self, identifier: str) -> dict[str, Any]:
        approval = self._active(identifier)
        if approval is None:
            raise ApprovalNotFound(identifier)
        return approval

    # -- the audit log ---------------------------------------------------------------------
    def audit(self, limit: int = 0, offset: int = 0, kinds: Sequence[str] = ()) -> dict[str, Any]:
        """Keel's /v1/audit answer: newest first; `limit` 0 means all; `kinds` filters by
        resourceKind (empty or "*": every kind)."""
        every = not kinds or "*" in kinds
        entries = [e for e in reversed(self._audit) if every or e["resourceKind"] in kinds]
        page = entries[offset : offset + limit] if limit > 0 else entries[offset:]
        return {
            "data": copy.deepcopy(page),
            "total": len(entries),
            "limit": limit,
            "offset": offset,
        }

    def _record(
        self, action: str, kind: str, identifier: str, user: str, message: str, **meta: str
    ) -> None:
        at = rfc3339(self.clock())
        self._audit.append(
            {
                "id": str(uuid.uuid4()),
                "createdAt": at,
                "updatedAt": at,
                "accountId": user,
                "username": user,
                "email": "",
                "action": action,
                "resourceKind": kind,
                "identifier": identifier,
                "message": message,
                "payload": "",
                "payloadType": "",
                "metadata": meta,
            }
        )

    def _record_update(self, w: Workload, message: str) -> None:
        # Keel's auditor files every workload update under the "deployment update" action.
        self._record(
            "deployment update",
            w.kind_name,
            w.identifier,
            "system",
            message,
            provider=PROVIDER,
            namespace=w.namespace,
            name=w.name,
        )

    def _record_approval(self, approval: dict[str, Any], action: str, voter: str = "") -> None:
        self._record(
            action,
            "approval",
            approval["identifier"],
            voter,
            "",
            provider=PROVIDER,
            approval_id=approval["id"],
            new_version=approval["newVersion"],
            current_version=approval["currentVersion"],
            votes_required=str(approval["votesRequired"]),
            votes_received=str(approval["votesReceived"]),
        )

    # -- what Keel tracks ------------------------------------------------------------------
    def resources(self) -> list[dict[str, Any]]:
        """Every workload Keel watches, with its policy ("nil policy" when it has none)."""
        return [self._workloads[i].resource() for i in sorted(self._workloads)]

    async def _watch(self, kind: Kind) -> None:
        async for event_type, obj in self.kube.watch(kind):
            seen = Workload(kind, obj)
            if event_type == "DELETED":
                self._workloads.pop(seen.identifier, None)
                self._next_poll.pop(seen.identifier, None)
            elif _resource_version(seen) >= _resource_version(self._workloads.get(seen.identifier)):
                # An update Keel made is cached at once; an older event must not undo it.
                self._workloads[seen.identifier] = seen

    # -- polling ---------------------------------------------------------------------------
    async def _poll_loop(self) -> None:
        while True:
            await asyncio.sleep(1.0 / self.speed)
            await self.poll_due()

    async def poll_due(self) -> None:
        """Poll the registry for every `keel.sh/trigger: poll` workload whose schedule is due
        (a newly seen one at once), moving it to the tag its policy picks."""
        now = asyncio.get_running_loop().time()
        for workload in list(self._workloads.values()):
            if workload.setting(TRIGGER) != "poll":
                continue
            if self._next_poll.get(workload.identifier, now) > now:
                continue
            schedule = workload.annotations.get(POLL_SCHEDULE, DEFAULT_POLL_SCHEDULE)
            delay = seconds_to_next_poll(schedule, self.clock()) / self.speed
            self._next_poll[workload.identifier] = now + delay
            await self._poll(workload)

    async def _poll(self, workload: Workload) -> None:
        for container in workload.containers():
            ref = parse_image(container["image"])
            tag = workload.policy.pick(ref.tag, self._registry.get(ref.repository, []))
            if tag is not None:
                event = _event(self._pushed_as[ref.repository], tag, "poll", self.clock())
                await self._process(event, only=workload.identifier)

    async def _expiry_loop(self) -> None:
        while True:
            self.expire_approvals()
            await asyncio.sleep(EXPIRY_SWEEP / self.speed)
