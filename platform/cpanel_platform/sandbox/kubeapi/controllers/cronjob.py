"""CronJob: a Job from jobTemplate at each due schedule time, with concurrency policies, late
starts bounded by startingDeadlineSeconds, and a history limit for finished Jobs.

Only the most recent missed time is run, as the real controller does; between schedule times
the CronJob sleeps until the next one (enqueue_after) rather than polling.
"""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter

from .. import clock
from ..errors import ApiError
from .base import Controller, WorkKey, controller_ref, owner_of
from .job import finished

CRONJOB_KEY = ("batch", "cronjobs")
JOB_KEY = ("batch", "jobs")
SCHEDULED_ANNOTATION = "batch.kubernetes.io/cronjob-scheduled-timestamp"
MAX_MISSED = 100  # more missed start times than this earns a warning
WAKE_DELTA = 0.1  # seconds past a schedule time to wake, so the time is surely due
_TICK = dt.timedelta(microseconds=1)


def job_name(cronjob: dict[str, Any], scheduled: dt.datetime) -> str:
    """`<cronjob>-<scheduled time in minutes since the epoch>`: one name per schedule time, so a
    time is never run twice."""
    return f"{cronjob['metadata']['name']}-{int(scheduled.timestamp()) // 60}"


def rfc3339(when: dt.datetime) -> str:
    """Seconds precision with the zone's offset, `Z` for a zero offset (Go's time.RFC3339)."""
    text = when.isoformat(timespec="seconds")
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def job_ref(job: dict[str, Any]) -> dict[str, Any]:
    meta = job["metadata"]
    return {
        "apiVersion": job["apiVersion"],
        "kind": job["kind"],
        "name": meta["name"],
        "namespace": meta["namespace"],
        "resourceVersion": meta["resourceVersion"],
        "uid": meta["uid"],
    }


def schedule_error(schedule: str) -> str:
    """Why `schedule` is not a standard five-field cron line or descriptor; "" when it is."""
    fields = schedule.split()
    if len(fields) != 5 and not schedule.startswith("@"):
        return f"expected exactly 5 fields, found {len(fields)}: {fields}"
    try:
        croniter(schedule)
    except ValueError as err:
        return str(err)
    return ""


def most_recent(
    schedule: str, earliest: dt.datetime, now: dt.datetime
) -> tuple[dt.datetime | None, int]:
    """The latest schedule time in (earliest, now] and about how many there were, estimated
    from the first interval as the real controller does rather than walking every one."""
    times = croniter(schedule, earliest)
    first = times.get_next(dt.datetime)
    if first > now:
        return None, 0
    second = times.get_next(dt.datetime)
    if second > now:
        return first, 1
    missed = int((now - first) / (second - first)) + 1
    return croniter(schedule, now + _TICK).get_prev(dt.datetime), missed


class CronJobController(Controller):
    name = "cronjob-controller"
    watches = frozenset({CRONJOB_KEY, JOB_KEY})
    primary = CRONJOB_KEY
    owned_by = "CronJob"

    def reconcile(self, key: WorkKey) -> None:
        cronjob = self.api.find(*CRONJOB_KEY, *key)
        if cronjob is None:
            return
        jobs = [
            j
            for j in self.api.store.list(JOB_KEY, key[0])
            if owner_of(j, "CronJob") == cronjob["metadata"]["uid"]
        ]
        status = copy.deepcopy(cronjob.get("status") or {})
        self._track(cronjob, jobs, status)
        wake = None
        if not cronjob["metadata"].get("deletionTimestamp"):
            wake = self._schedule(cronjob, status)
        self._clean_up(cronjob, jobs, status)
        status = {k: v for k, v in status.items() if v}
        if cronjob.get("status") != status:
            self.api.update(
                self.api.preferred(*CRONJOB_KEY),
                *key,
                {**cronjob, "status": status},
                subresource="status",
            )
        if wake is not None:
            self._wake_at(key, wake)

    def _wake_at(self, key: WorkKey, when: dt.datetime) -> None:
        seconds = (when - clock.now()).total_seconds() + WAKE_DELTA
        self.enqueue_after(seconds, key)

    # -- the Jobs it made ------------------------------------------------------------------
    def _track(
        self, cronjob: dict[str, Any], jobs: list[dict[str, Any]], status: dict[str, Any]
    ) -> None:
        """Keep status.active to the running Jobs and note the latest success."""
        active = list(status.get("active") or [])
        active_uids = {ref.get("uid") for ref in active}
        for job in jobs:
            name, uid, outcome = job["metadata"]["name"], job["metadata"]["uid"], finished(job)
            if uid not in active_uids and not outcome:
                self.record(
                    cronjob,
                    "Warning",
                    "UnexpectedJob",
                    f"Saw a job that the controller did not create or forgot: {name}",
                )
            elif uid in active_uids and outcome:
                active = [ref for ref in active if ref.get("uid") != uid]
                self.record(
                    cronjob,
                    "Normal",
                    "SawCompletedJob",
                    f"Saw completed job: {name}, status: {outcome}",
                )
            completed = (job.get("status") or {}).get("completionTime")
            if outcome == "Complete" and completed:
                status["lastSuccessfulTime"] = max(completed, status.get("lastSuccessfulTime", ""))
        present = {j["metadata"]["uid"] for j in jobs}
        for ref in [r for r in active if r.get("uid") not in present]:
            self.record(cronjob, "Normal", "MissingJob", f"Active job went missing: {ref['name']}")
            active.remove(ref)
        status["active"] = active

    def _clean_up(
        self, cronjob: dict[str, Any], jobs: list[dict[str, Any]], status: dict[str, Any]
    ) -> None:
        """Delete the oldest finished Jobs beyond successfulJobsHistoryLimit and
        failedJobsHistoryLimit."""
        spec = cronjob["spec"]
        for outcome, limit in (
            ("Complete", spec.get("successfulJobsHistoryLimit")),
            ("Failed", spec.get("failedJobsHistoryLimit")),
        ):
            done = [j for j in jobs if finished(j) == outcome]
            if limit is None or len(done) <= limit:
                continue
            # By start time, Jobs that never started last, as the real controller orders them.
            done.sort(
                key=lambda j: (
                    not (j.get("status") or {}).get("startTime"),
                    (j.get("status") or {}).get("startTime", ""),
                    j["metadata"]["name"],
                )
            )
            for job in done[: len(done) - limit]:
                self._delete(cronjob, job, status)

    def _delete(self, cronjob: dict[str, Any], job: dict[str, Any], status: dict[str, Any]) -> None:
        name = job["metadata"]["name"]
        try:
            self.api.delete(
                self.api.preferred(*JOB_KEY),
                job["metadata"]["namespace"],
                name,
                {"propagationPolicy": "Background"},
            )
        except ApiError as err:
            self.record(cronjob, "Warning", "FailedDelete", f"Deleted job: {err.message}")
            return
        status["active"] = [
            r for r in status.get("active") or [] if r.get("uid") != job["metadata"]["uid"]
        ]
        self.record(cronjob, "Normal", "SuccessfulDelete", f"Deleted job {name}")

    # -- starting Jobs ---------------------------------------------------------------------
    def _schedule(self, cronjob: dict[str, Any], status: dict[str, Any]) -> dt.datetime | None:
        """Start the Job for the latest due schedule time, if it may start; return the next
        schedule time (None when nothing is scheduled)."""
        spec = cronjob["spec"]
        zone = self._zone(cronjob)
        if zone is None or spec.get("suspend"):
            return None
        schedule = spec.get("schedule", "")
        error = schedule_error(schedule)
        if error:
            self.record(
                cronjob,
                "Warning",
                "UnparseableSchedule",
                f'unparseable schedule: "{schedule}" : {error}',
            )
            return None
        now = clock.now().astimezone(zone)
        try:
            upcoming = croniter(schedule, now).get_next(dt.datetime)
            scheduled = self._due(cronjob, status, schedule, now)
        except ValueError as err:  # a valid line that never matches a date, like "0 0 30 2 *"
            self.record(
                cronjob, "Warning", "InvalidSchedule", f"invalid schedule: {schedule} : {err}"
            )
            return None
        if scheduled is None:
            return upcoming
        deadline = spec.get("startingDeadlineSeconds")
        if deadline is not None and scheduled + dt.timedelta(seconds=deadline) < now:
            when = scheduled.astimezone(dt.UTC).strftime("%a, %d %b %Y %H:%M:%S +0000")
            self.record(
                cronjob, "Warning", "MissSchedule", f"Missed scheduled time to start a job: {when}"
            )
            return upcoming
        name = job_name(cronjob, scheduled)
        started = clock.stamp(scheduled.astimezone(dt.UTC))
        if (
            any(ref.get("name") == name for ref in status["active"])
            or status.get("lastScheduleTime") == started
        ):
            return upcoming
        if spec.get("concurrencyPolicy") == "Forbid" and status["active"]:
            self.record(
                cronjob,
                "Normal",
                "JobAlreadyActive",
                "Not starting job because prior execution is running and concurrency "
                "policy is Forbid",
            )
            return upcoming
        if spec.get("concurrencyPolicy") == "Replace":
            self._replace_active(cronjob, status)
        job = self._start(cronjob, scheduled.astimezone(zone), name)
        if job is not None:
            status["active"].append(job_ref(job))
            status["lastScheduleTime"] = started
        return upcoming

    def _zone(self, cronjob: dict[str, Any]) -> ZoneInfo | None:
        name = cronjob["spec"].get("timeZone")
        try:
            return ZoneInfo(name or "UTC")
        except (ZoneInfoNotFoundError, ValueError):
            self.record(
                cronjob,
                "Warning",
                "UnknownTimeZone",
                f'invalid timeZone: "{name}": unknown time zone {name}',
            )
            return None

    def _due(
        self, cronjob: dict[str, Any], status: dict[str, Any], schedule: str, now: dt.datetime
    ) -> dt.datetime | None:
        """The latest schedule time since the last one run (or creation), within the
        starting deadline."""
        last = status.get("lastScheduleTime") or cronjob["metadata"]["creationTimestamp"]
        earliest = clock.parse(last) or now
        deadline = cronjob["spec"].get("startingDeadlineSeconds")
        if deadline is not None:
            earliest = max(earliest, now - dt.timedelta(seconds=deadline))
        if earliest > now:
            return None
        scheduled, missed = most_recent(schedule, earliest.astimezone(now.tzinfo), now)
        if missed > MAX_MISSED:
            self.record(
                cronjob,
                "Warning",
                "TooManyMissedTimes",
                f"too many missed start times: {missed}. Set or decrease "
                ".spec.startingDeadlineSeconds or check clock skew",
            )
        return scheduled

    def _replace_active(self, cronjob: dict[str, Any], status: dict[str, Any]) -> None:
        for ref in list(status["active"]):
            job = self.api.find(*JOB_KEY, ref.get("namespace", ""), ref["name"])
            if job is not None:
                self._delete(cronjob, job, status)

    def _start(
        self, cronjob: dict[str, Any], scheduled: dt.datetime, name: str
    ) -> dict[str, Any] | None:
        """Create the Job for a schedule time; an existing one of ours counts as started."""
        template = cronjob["spec"].get("jobTemplate") or {}
        tmeta = template.get("metadata") or {}
        meta = cronjob["metadata"]
        body = {
            "metadata": {
                "name": name,
                "namespace": meta["namespace"],
                "labels": copy.deepcopy(tmeta.get("labels") or {}),
                "annotations": {
                    **(tmeta.get("annotations") or {}),
                    SCHEDULED_ANNOTATION: rfc3339(scheduled),
                },
                "ownerReferences": [controller_ref(cronjob)],
            },
            "spec": copy.deepcopy(template.get("spec") or {}),
        }
        try:
            job = self.api.create(self.api.preferred(*JOB_KEY), meta["namespace"], body)
        except ApiError as err:
            if err.code != 409:
                self.record(
                    cronjob, "Warning", "FailedCreate", f"Error creating job: {err.message}"
                )
                raise
            existing = self.api.find(*JOB_KEY, meta["namespace"], name)
            ours = existing is not None and owner_of(existing, "CronJob") == meta["uid"]
            return existing if ours else None
        self.record(cronjob, "Normal", "SuccessfulCreate", f"Created job {name}")
        return job
