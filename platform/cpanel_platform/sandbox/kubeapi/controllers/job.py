"""Job: run pods until enough succeed, or give up after too many failures.

Pods carry the `batch.kubernetes.io/job-tracking` finalizer until the controller has counted
them, so a pod deleted or garbage collected after it finished is still counted exactly once.
A finishing Job first gets the interim SuccessCriteriaMet or FailureTarget condition, and the
terminal Complete or Failed one once none of its pods is still terminating.
"""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

from .. import clock
from ..podstate import is_active, is_ready, is_terminating
from ..selectors import LabelSelector, selector_from_dict
from .base import Controller, WorkKey, controller_of, controller_ref
from .ownership import claim_pods

JOB_KEY = ("batch", "jobs")
POD_KEY = ("", "pods")
TRACKING_FINALIZER = "batch.kubernetes.io/job-tracking"
INDEX_KEY = "batch.kubernetes.io/job-completion-index"
UID_LABELS = ("batch.kubernetes.io/controller-uid", "controller-uid")
NAME_LABELS = ("batch.kubernetes.io/job-name", "job-name")
BACKOFF_SECONDS = 10.0  # the first delay after a failed pod, doubling per failure
MAX_BACKOFF_SECONDS = 360.0
COMPLETIONS_REACHED = ("CompletionsReached", "Reached expected number of succeeded pods")
BACKOFF_EXCEEDED = ("BackoffLimitExceeded", "Job has reached the specified backoff limit")
DEADLINE_EXCEEDED = ("DeadlineExceeded", "Job was active longer than specified deadline")
# The terminal condition each interim one leads to.
_TERMINAL = {"SuccessCriteriaMet": "Complete", "FailureTarget": "Failed"}
_OMIT_ZERO = ("active", "succeeded", "failed", "completedIndexes")

Pod = dict[str, Any]
Ending = tuple[str, str, str]  # interim condition type, reason, message


def condition(status: dict[str, Any], ctype: str) -> dict[str, Any] | None:
    return next(
        (
            c
            for c in status.get("conditions") or []
            if c["type"] == ctype and c.get("status") == "True"
        ),
        None,
    )


def finished(job: dict[str, Any]) -> str:
    """The terminal condition type of a Job that is over ("Complete" or "Failed"), else ""."""
    status = job.get("status") or {}
    return next((t for t in ("Complete", "Failed") if condition(status, t)), "")


def set_condition(
    status: dict[str, Any], ctype: str, value: str, reason: str, message: str
) -> bool:
    """Set a Job condition as the real controller does (probe and transition time both now);
    a condition that was never there is not added as False. True if anything changed."""
    conditions = list(status.get("conditions") or [])
    now = clock.stamp()
    new = {
        "type": ctype,
        "status": value,
        "lastProbeTime": now,
        "lastTransitionTime": now,
        "reason": reason,
        "message": message,
    }
    for i, old in enumerate(conditions):
        if old["type"] == ctype:
            if (old["status"], old.get("reason"), old.get("message")) == (value, reason, message):
                return False
            conditions[i] = new
            break
    else:
        if value == "False":
            return False
        conditions.append(new)
    status["conditions"] = conditions
    return True


def job_selector(job: dict[str, Any]) -> LabelSelector:
    selector = job["spec"].get("selector")
    if selector is None:  # the API server sets it on create; older objects may lack it
        selector = {"matchLabels": {UID_LABELS[0]: job["metadata"]["uid"]}}
    return selector_from_dict(selector)


def parse_indexes(text: str | None) -> set[int]:
    """`status.completedIndexes` ("1,3-5") as a set."""
    indexes: set[int] = set()
    for part in (text or "").split(","):
        if part:
            low, _, high = part.partition("-")
            indexes.update(range(int(low), int(high or low) + 1))
    return indexes


def format_indexes(indexes: set[int]) -> str:
    runs: list[list[int]] = []
    for i in sorted(indexes):
        if runs and runs[-1][1] == i - 1:
            runs[-1][1] = i
        else:
            runs.append([i, i])
    return ",".join(str(a) if a == b else f"{a}-{b}" for a, b in runs)


def completion_index(pod: Pod) -> int | None:
    try:
        return int((pod["metadata"].get("annotations") or {})[INDEX_KEY])
    except (KeyError, ValueError):
        return None


def _indexed(job: dict[str, Any]) -> bool:
    return job["spec"].get("completionMode") == "Indexed"


def _suspended(job: dict[str, Any]) -> bool:
    return bool(job["spec"].get("suspend"))


def _tracked(pod: Pod) -> bool:
    return TRACKING_FINALIZER in (pod["metadata"].get("finalizers") or [])


def _failed(job: dict[str, Any], pod: Pod) -> bool:
    """Failed, or deleted before it succeeded (unless only failed pods are to be replaced)."""
    phase = pod["status"].get("phase")
    if phase == "Failed":
        return True
    if job["spec"].get("podReplacementPolicy") == "Failed":
        return False
    return is_terminating(pod) and phase != "Succeeded"


def _still_terminating(pod: Pod) -> bool:
    return is_terminating(pod) and pod["status"].get("phase") not in ("Succeeded", "Failed")


def _removal_order(pods: list[Pod]) -> list[Pod]:
    """Surplus pods go earliest-stage first: unscheduled, pending, not ready."""
    return sorted(
        pods,
        key=lambda p: (
            bool(p["spec"].get("nodeName")),
            p["status"].get("phase") == "Running",
            is_ready(p),
        ),
    )


class JobController(Controller):
    name = "job-controller"
    watches = frozenset({JOB_KEY, POD_KEY})
    primary = JOB_KEY
    owned_by = "Job"

    def __init__(self, api: Any) -> None:
        super().__init__(api)
        # Per Job: failures since the last success and when the latest was counted.
        self._backoff: dict[WorkKey, tuple[int, dt.datetime]] = {}

    def reconcile(self, key: WorkKey) -> None:
        job = self.api.find(*JOB_KEY, *key)
        if job is None or finished(job):
            self._backoff.pop(key, None)
            self._release_orphans(key, job)
            return
        status = copy.deepcopy(job.get("status") or {})
        if not status.get("startTime") and not _suspended(job):
            status["startTime"] = clock.stamp()
        pods = claim_pods(self.api, job, job_selector(job), TRACKING_FINALIZER)
        self._count(job, pods, status)
        ending = self._failure(job, pods, status)
        if ending is None and not job["metadata"].get("deletionTimestamp"):
            self._manage(job, pods, status)
            ending = self._success(job, status)
        if ending is not None:
            self._finish(job, status, ending)
        self._write_status(job, status)

    # -- counting --------------------------------------------------------------------------
    def _count(self, job: dict[str, Any], pods: list[Pod], status: dict[str, Any]) -> None:
        """Count the finished pods not yet counted, and let them go (drop the finalizer)."""
        key = (job["metadata"]["namespace"], job["metadata"]["name"])
        deleting = bool(job["metadata"].get("deletionTimestamp"))
        indexes = parse_indexes(status.get("completedIndexes"))
        completions = job["spec"].get("completions")
        succeeded = failed = 0
        for pod in pods:
            if not _tracked(pod):
                continue
            if pod["status"].get("phase") == "Succeeded":
                succeeded += 1
                index = completion_index(pod)
                if index is not None and completions is not None and index < completions:
                    indexes.add(index)
            elif _failed(job, pod):
                failed += 1
            elif not deleting:
                continue
            self._release(pod)
        if _indexed(job):
            status["completedIndexes"] = format_indexes(indexes)
            status["succeeded"] = len(indexes)
        else:
            status["succeeded"] = status.get("succeeded", 0) + succeeded
        status["failed"] = status.get("failed", 0) + failed
        self._note_backoff(key, succeeded, failed)

    def _note_backoff(self, key: WorkKey, succeeded: int, failed: int) -> None:
        count, last = self._backoff.get(key, (0, clock.now()))
        if succeeded:
            count = 0
        if failed:
            count, last = count + failed, clock.now()
        if count:
            self._backoff[key] = (count, last)
        else:
            self._backoff.pop(key, None)

    def _backoff_remaining(self, key: WorkKey) -> float:
        if key not in self._backoff:
            return 0.0
        count, last = self._backoff[key]
        delay = min(BACKOFF_SECONDS * 2 ** (count - 1), MAX_BACKOFF_SECONDS)
        return max(0.0, delay - (clock.now() - last).total_seconds())

    # -- deciding the outcome --------------------------------------------------------------
    def _failure(
        self, job: dict[str, Any], pods: list[Pod], status: dict[str, Any]
    ) -> Ending | None:
        """An ending already under way, or a failure the counters or the clock now call for."""
        for interim in _TERMINAL:
            cond = condition(status, interim)
            if cond:
                return interim, cond.get("reason", ""), cond.get("message", "")
        spec = job["spec"]
        if status["failed"] > spec.get("backoffLimit", 6) or self._restarts_exceed(job, pods):
            return ("FailureTarget", *BACKOFF_EXCEEDED)
        deadline = spec.get("activeDeadlineSeconds")
        started = clock.parse(status.get("startTime"))
        if deadline is None or started is None or _suspended(job):
            return None
        left = deadline - (clock.now() - started).total_seconds()
        if left <= 0:
            return ("FailureTarget", *DEADLINE_EXCEEDED)
        self.enqueue_after(left, (job["metadata"]["namespace"], job["metadata"]["name"]))
        return None

    @staticmethod
    def _restarts_exceed(job: dict[str, Any], pods: list[Pod]) -> bool:
        """With restartPolicy OnFailure the kubelet restarts containers instead of failing the
        pod, so the restarts of running pods count against backoffLimit."""
        if job["spec"]["template"].get("spec", {}).get("restartPolicy") != "OnFailure":
            return False
        restarts = sum(
            cs.get("restartCount", 0)
            for p in pods
            if p["status"].get("phase") in ("Pending", "Running")
            for cs in (p["status"].get("initContainerStatuses") or [])
            + (p["status"].get("containerStatuses") or [])
        )
        limit = job["spec"].get("backoffLimit", 6)
        return restarts > 0 if limit == 0 else restarts >= limit

    def _success(self, job: dict[str, Any], status: dict[str, Any]) -> Ending | None:
        active = sum(1 for p in self._pods(job) if is_active(p))
        completions = job["spec"].get("completions")
        if completions is None:
            # A work queue: done once any pod succeeded and the rest have stopped.
            done = status["succeeded"] > 0 and active == 0
        else:
            done = status["succeeded"] >= completions and active == 0
        return ("SuccessCriteriaMet", *COMPLETIONS_REACHED) if done else None

    # -- pods ------------------------------------------------------------------------------
    def _manage(self, job: dict[str, Any], pods: list[Pod], status: dict[str, Any]) -> None:
        active = [p for p in pods if is_active(p)]
        if _suspended(job):
            for pod in active:
                self._remove(job, pod)
            if set_condition(status, "Suspended", "True", "JobSuspended", "Job suspended"):
                self.record(job, "Normal", "Suspended", "Job suspended")
            return
        if set_condition(status, "Suspended", "False", "JobResumed", "Job resumed"):
            self.record(job, "Normal", "Resumed", "Job resumed")
            # The deadline counts from when the Job last started running.
            status["startTime"] = clock.stamp()
        want = self._wanted(job, status, len(active))
        if len(active) > want:
            for pod in _removal_order(active)[: len(active) - want]:
                self._remove(job, pod)
            return
        missing = want - len(active)
        if job["spec"].get("podReplacementPolicy") == "Failed":
            missing -= sum(1 for p in pods if _still_terminating(p))
        if missing <= 0:
            return
        key = (job["metadata"]["namespace"], job["metadata"]["name"])
        wait = self._backoff_remaining(key)
        if wait > 0:
            self.enqueue_after(wait, key)
            return
        for index in self._next_indexes(job, status, active, missing):
            self._create(job, index)

    @staticmethod
    def _wanted(job: dict[str, Any], status: dict[str, Any], active: int) -> int:
        parallelism = job["spec"].get("parallelism", 1)
        completions = job["spec"].get("completions")
        if completions is None:
            # Once one pod succeeded, the others are left to finish and none is added.
            return active if status["succeeded"] > 0 else parallelism
        return max(0, min(parallelism, completions - status["succeeded"]))

    @staticmethod
    def _next_indexes(
        job: dict[str, Any], status: dict[str, Any], active: list[Pod], count: int
    ) -> list[int | None]:
        """The completion indexes to start, lowest first; None for each pod of a NonIndexed Job."""
        if not _indexed(job):
            return [None] * count
        taken = parse_indexes(status.get("completedIndexes"))
        taken |= {i for p in active if (i := completion_index(p)) is not None}
        free: list[int | None] = [i for i in range(job["spec"]["completions"]) if i not in taken]
        return free[:count]

    def _create(self, job: dict[str, Any], index: int | None) -> None:
        meta = job["metadata"]
        template = job["spec"]["template"]
        tmeta = template.get("metadata") or {}
        labels = dict(tmeta.get("labels") or {})
        labels.update(dict.fromkeys(UID_LABELS, meta["uid"]))
        labels.update(dict.fromkeys(NAME_LABELS, meta["name"]))
        pod: Pod = {
            "metadata": {
                "generateName": f"{meta['name']}-",
                "namespace": meta["namespace"],
                "labels": labels,
                "finalizers": [TRACKING_FINALIZER],
                "ownerReferences": [controller_ref(job)],
            },
            "spec": copy.deepcopy(template.get("spec") or {}),
        }
        if tmeta.get("annotations"):
            pod["metadata"]["annotations"] = copy.deepcopy(tmeta["annotations"])
        if index is not None:
            _add_index(pod, meta["name"], index)
        created = self.api.create(self.api.preferred(*POD_KEY), meta["namespace"], pod)
        self.record(
            job, "Normal", "SuccessfulCreate", f"Created pod: {created['metadata']['name']}"
        )

    def _remove(self, job: dict[str, Any], pod: Pod) -> None:
        """Delete a pod the Job no longer wants; it was not a failure, so it is not counted."""
        self._release(pod)
        self._delete(job, pod)

    def _delete(self, job: dict[str, Any], pod: Pod) -> None:
        self.api.delete(
            self.api.preferred(*POD_KEY), pod["metadata"]["namespace"], pod["metadata"]["name"]
        )
        self.record(job, "Normal", "SuccessfulDelete", f"Deleted pod: {pod['metadata']['name']}")

    def _release(self, pod: Pod) -> None:
        current = self.api.find(*POD_KEY, pod["metadata"]["namespace"], pod["metadata"]["name"])
        if current is None or not _tracked(current):
            return
        new = copy.deepcopy(current)
        new["metadata"]["finalizers"] = [
            f for f in current["metadata"]["finalizers"] if f != TRACKING_FINALIZER
        ]
        self.api.update(
            self.api.preferred(*POD_KEY), pod["metadata"]["namespace"], pod["metadata"]["name"], new
        )

    def _release_orphans(self, key: WorkKey, job: dict[str, Any] | None) -> None:
        """Let go of pods whose Job is gone or over, which nothing else would count."""
        for pod in self.api.store.list(POD_KEY, key[0]):
            ref = controller_of(pod)
            if (
                _tracked(pod)
                and ref
                and ref.get("kind") == "Job"
                and ref["name"] == key[1]
                and (job is None or ref.get("uid") == job["metadata"]["uid"])
            ):
                self._release(pod)

    def _pods(self, job: dict[str, Any]) -> list[Pod]:
        uid = job["metadata"]["uid"]
        return [
            p
            for p in self.api.store.list(POD_KEY, job["metadata"]["namespace"])
            if (controller_of(p) or {}).get("uid") == uid
        ]

    # -- finishing and status --------------------------------------------------------------
    def _finish(self, job: dict[str, Any], status: dict[str, Any], ending: Ending) -> None:
        """Record the interim condition, stop the active pods (counting them as failed), and
        once no pod is terminating, the terminal condition."""
        interim, reason, message = ending
        set_condition(status, interim, "True", reason, message)
        for pod in self._pods(job):
            if is_active(pod):
                self._delete(job, pod)
        self._count(job, self._pods(job), status)
        if any(_still_terminating(p) for p in self._pods(job)):
            return
        terminal = _TERMINAL[interim]
        set_condition(status, terminal, "True", reason, message)
        if terminal == "Complete":
            status["completionTime"] = clock.stamp()
            self.record(job, "Normal", "Completed", "Job completed")
        else:
            self.record(job, "Warning", reason, message)
        self._backoff.pop((job["metadata"]["namespace"], job["metadata"]["name"]), None)

    def _write_status(self, job: dict[str, Any], status: dict[str, Any]) -> None:
        pods = self._pods(job)
        active = [p for p in pods if is_active(p)]
        status.update(
            {
                "active": len(active),
                "ready": sum(1 for p in active if is_ready(p)),
                "terminating": sum(1 for p in pods if _still_terminating(p)),
                "uncountedTerminatedPods": {},
            }
        )
        status = {k: v for k, v in status.items() if v or k not in _OMIT_ZERO}
        if job.get("status") != status:
            self.api.update(
                self.api.preferred(*JOB_KEY),
                job["metadata"]["namespace"],
                job["metadata"]["name"],
                {**job, "status": status},
                subresource="status",
            )


def _add_index(pod: Pod, job_name: str, index: int) -> None:
    """What an Indexed Job adds to each pod: the index as annotation, label, hostname and env."""
    meta = pod["metadata"]
    meta["generateName"] = f"{job_name}-{index}-"
    meta.setdefault("annotations", {})[INDEX_KEY] = str(index)
    meta["labels"][INDEX_KEY] = str(index)
    spec = pod["spec"]
    spec["hostname"] = f"{job_name}-{index}"
    env = {
        "name": "JOB_COMPLETION_INDEX",
        "valueFrom": {
            "fieldRef": {"apiVersion": "v1", "fieldPath": f"metadata.annotations['{INDEX_KEY}']"}
        },
    }
    for container in (spec.get("initContainers") or []) + (spec.get("containers") or []):
        variables = container.setdefault("env", [])
        if not any(v.get("name") == env["name"] for v in variables):
            variables.append(copy.deepcopy(env))
