"""The StatefulSet, DaemonSet, Job and CronJob controllers, driven one reconcile at a time."""

from __future__ import annotations

import asyncio
import copy
import datetime as dt
from typing import Any

import pytest
from cpanel_platform.sandbox.kubeapi import clock
from cpanel_platform.sandbox.kubeapi.api import Api
from cpanel_platform.sandbox.kubeapi.controllers.base import Controller
from cpanel_platform.sandbox.kubeapi.controllers.cronjob import CronJobController
from cpanel_platform.sandbox.kubeapi.controllers.daemonset import DaemonSetController
from cpanel_platform.sandbox.kubeapi.controllers.job import JobController
from cpanel_platform.sandbox.kubeapi.controllers.statefulset import StatefulSetController
from cpanel_platform.sandbox.kubeapi.scheduling import bind, set_condition
from cpanel_platform.sandbox.kubeapi.store import Store

START = dt.datetime(2025, 6, 1, 10, 0, 30, tzinfo=dt.UTC)
CONTAINERS = [{"name": "app", "image": "nginx:1.27"}]


class FakeClock:
    def __init__(self) -> None:
        self.time = START

    def __call__(self) -> dt.datetime:
        return self.time

    def advance(self, seconds: float) -> None:
        self.time += dt.timedelta(seconds=seconds)


@pytest.fixture
def now(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr(clock, "now", fake)
    return fake


@pytest.fixture
def api() -> Api:
    api = Api(Store())
    api.create(api.preferred("", "namespaces"), "", {"metadata": {"name": "default"}})
    for name in ("node-a", "node-b"):
        add_node(api, name)
    return api


def add_node(api: Api, name: str, ready: bool = True, **spec: Any) -> None:
    condition = {"type": "Ready", "status": "True" if ready else "False"}
    api.create(
        api.preferred("", "nodes"),
        "",
        {"metadata": {"name": name}, "spec": spec, "status": {"conditions": [condition]}},
    )


def reconcile(controller: Controller, name: str) -> None:
    """One reconcile, on a running loop as the controllers' timers need."""

    async def once() -> None:
        controller.reconcile(("default", name))

    asyncio.run(once())


def create(api: Api, group: str, plural: str, body: dict[str, Any]) -> dict[str, Any]:
    return api.create(api.preferred(group, plural), "default", body)


def get(api: Api, group: str, plural: str, name: str) -> dict[str, Any]:
    obj = api.find(group, plural, "default", name)
    assert obj is not None, f"{plural}/{name} is missing"
    return obj


def edit(api: Api, group: str, plural: str, name: str, **spec: Any) -> None:
    obj = copy.deepcopy(get(api, group, plural, name))
    obj["spec"].update(spec)
    api.update(api.preferred(group, plural), "default", name, obj)


def set_status(api: Api, group: str, plural: str, name: str, status: dict[str, Any]) -> None:
    obj = copy.deepcopy(get(api, group, plural, name))
    obj["status"] = status
    api.update(api.preferred(group, plural), "default", name, obj, subresource="status")


def pods(api: Api) -> list[dict[str, Any]]:
    return api.store.list(("", "pods"), "default")


def pod_names(api: Api) -> list[str]:
    return [p["metadata"]["name"] for p in pods(api)]


def set_phase(api: Api, name: str, phase: str, ready: bool = False) -> None:
    pod = copy.deepcopy(get(api, "", "pods", name))
    pod["status"]["phase"] = phase
    set_condition(pod["status"], "Ready", "True" if ready else "False")
    api.update(api.preferred("", "pods"), "default", name, pod, subresource="status")


def events(api: Api, reason: str) -> list[str]:
    return [
        e["message"] for e in api.store.list(("", "events"), "default") if e["reason"] == reason
    ]


def template(labels: dict[str, str], image: str = "nginx:1.27") -> dict[str, Any]:
    return {
        "metadata": {"labels": labels},
        "spec": {"containers": [{"name": "app", "image": image}]},
    }


# --- StatefulSet ------------------------------------------------------------------------------


def statefulset(api: Api, replicas: int = 3, **spec: Any) -> dict[str, Any]:
    body = {
        "metadata": {"name": "web"},
        "spec": {
            "replicas": replicas,
            "serviceName": "nginx",
            "selector": {"matchLabels": {"app": "web"}},
            "template": template({"app": "web"}),
            "volumeClaimTemplates": [
                {
                    "metadata": {"name": "www"},
                    "spec": {
                        "accessModes": ["ReadWriteOnce"],
                        "resources": {"requests": {"storage": "1Gi"}},
                    },
                }
            ],
            **spec,
        },
    }
    return create(api, "apps", "statefulsets", body)


def ready_all(api: Api, controller: Controller, name: str, count: int) -> None:
    """Reconcile and mark each new pod Running and Ready until `count` are."""
    for _ in range(count):
        reconcile(controller, name)
        for pod in pods(api):
            if pod["status"].get("phase") == "Pending":
                set_phase(api, pod["metadata"]["name"], "Running", ready=True)
    reconcile(controller, name)


def test_statefulset_creates_ordinals_in_order_with_their_claims(api: Api) -> None:
    sts = StatefulSetController(api)
    statefulset(api)
    reconcile(sts, "web")
    assert pod_names(api) == ["web-0"]
    pod = get(api, "", "pods", "web-0")
    labels = pod["metadata"]["labels"]
    assert labels["app"] == "web"
    assert labels["statefulset.kubernetes.io/pod-name"] == "web-0"
    assert labels["apps.kubernetes.io/pod-index"] == "0"
    assert labels["controller-revision-hash"].startswith("web-")
    assert (pod["spec"]["hostname"], pod["spec"]["subdomain"]) == ("web-0", "nginx")
    assert pod["spec"]["volumes"] == [
        {"name": "www", "persistentVolumeClaim": {"claimName": "www-web-0"}}
    ]
    pvc = get(api, "", "persistentvolumeclaims", "www-web-0")
    assert pvc["metadata"]["labels"] == {"app": "web"}
    assert not pvc["metadata"].get("ownerReferences")  # Retain: owned by nobody

    set_phase(api, "web-0", "Running", ready=False)
    reconcile(sts, "web")
    assert pod_names(api) == ["web-0"]  # waits for web-0 to be Ready
    set_phase(api, "web-0", "Running", ready=True)
    reconcile(sts, "web")
    assert pod_names(api) == ["web-0", "web-1"]
    ready_all(api, sts, "web", 2)
    assert pod_names(api) == ["web-0", "web-1", "web-2"]
    claims = [c["metadata"]["name"] for c in api.store.list(("", "persistentvolumeclaims"))]
    assert claims == ["www-web-0", "www-web-1", "www-web-2"]
    status = get(api, "apps", "statefulsets", "web")["status"]
    assert status["replicas"] == status["readyReplicas"] == status["availableReplicas"] == 3
    assert (
        status["currentRevision"] == status["updateRevision"] == labels["controller-revision-hash"]
    )
    assert status["observedGeneration"] == 1


def test_statefulset_scales_down_from_the_highest_ordinal_keeping_claims(api: Api) -> None:
    sts = StatefulSetController(api)
    statefulset(api)
    ready_all(api, sts, "web", 3)
    edit(api, "apps", "statefulsets", "web", replicas=1)
    reconcile(sts, "web")
    assert pod_names(api) == ["web-0", "web-1"]
    reconcile(sts, "web")
    assert pod_names(api) == ["web-0"]
    assert len(api.store.list(("", "persistentvolumeclaims"))) == 3
    assert sorted(events(api, "SuccessfulDelete")) == [
        "delete Pod web-1 in StatefulSet web successful",
        "delete Pod web-2 in StatefulSet web successful",
    ]


def test_statefulset_parallel_creates_every_ordinal_at_once(api: Api) -> None:
    sts = StatefulSetController(api)
    statefulset(api, podManagementPolicy="Parallel")
    reconcile(sts, "web")
    assert pod_names(api) == ["web-0", "web-1", "web-2"]


def test_statefulset_does_not_replace_a_terminating_pod_until_it_is_gone(api: Api) -> None:
    sts = StatefulSetController(api)
    statefulset(api, replicas=1)
    ready_all(api, sts, "web", 1)
    bind(api, get(api, "", "pods", "web-0"), "node-a")  # a bound pod terminates gracefully
    old_uid = get(api, "", "pods", "web-0")["metadata"]["uid"]
    api.delete(api.preferred("", "pods"), "default", "web-0")
    reconcile(sts, "web")
    assert get(api, "", "pods", "web-0")["metadata"]["uid"] == old_uid
    api.delete(api.preferred("", "pods"), "default", "web-0", {"gracePeriodSeconds": 0})
    reconcile(sts, "web")
    assert get(api, "", "pods", "web-0")["metadata"]["uid"] != old_uid


def test_statefulset_rolls_from_the_highest_ordinal_down_to_the_partition(api: Api) -> None:
    sts = StatefulSetController(api)
    statefulset(api)
    ready_all(api, sts, "web", 3)
    old = get(api, "apps", "statefulsets", "web")["status"]["updateRevision"]
    edit(
        api,
        "apps",
        "statefulsets",
        "web",
        template=template({"app": "web"}, image="nginx:1.28"),
        updateStrategy={"type": "RollingUpdate", "rollingUpdate": {"partition": 1}},
    )

    def revisions() -> list[str]:
        return [p["metadata"]["labels"]["controller-revision-hash"] for p in pods(api)]

    reconcile(sts, "web")
    assert pod_names(api) == ["web-0", "web-1"]  # web-2 went first
    reconcile(sts, "web")
    new = get(api, "apps", "statefulsets", "web")["status"]["updateRevision"]
    assert new != old
    assert revisions() == [old, old, new]
    reconcile(sts, "web")
    assert pod_names(api) == ["web-0", "web-1", "web-2"]  # waits for web-2 to be Ready
    set_phase(api, "web-2", "Running", ready=True)
    reconcile(sts, "web")
    assert pod_names(api) == ["web-0", "web-2"]
    ready_all(api, sts, "web", 1)
    assert revisions() == [old, new, new]  # the partition keeps web-0 at the old revision
    status = get(api, "apps", "statefulsets", "web")["status"]
    assert (status["currentRevision"], status["updateRevision"]) == (old, new)
    assert (status["currentReplicas"], status["updatedReplicas"]) == (1, 2)
    assert get(api, "", "pods", "web-2")["spec"]["containers"][0]["image"] == "nginx:1.28"
    assert len(api.store.list(("apps", "controllerrevisions"), "default")) == 2


def test_statefulset_on_delete_updates_only_pods_deleted_by_hand(api: Api) -> None:
    sts = StatefulSetController(api)
    statefulset(api, replicas=2, updateStrategy={"type": "OnDelete"})
    ready_all(api, sts, "web", 2)
    edit(api, "apps", "statefulsets", "web", template=template({"app": "web"}, image="nginx:1.28"))
    reconcile(sts, "web")
    assert pod_names(api) == ["web-0", "web-1"]
    api.delete(api.preferred("", "pods"), "default", "web-1")
    reconcile(sts, "web")
    assert get(api, "", "pods", "web-1")["spec"]["containers"][0]["image"] == "nginx:1.28"
    assert get(api, "", "pods", "web-0")["spec"]["containers"][0]["image"] == "nginx:1.27"


# --- DaemonSet --------------------------------------------------------------------------------


def daemonset(api: Api, **spec: Any) -> dict[str, Any]:
    body = {
        "metadata": {"name": "agent"},
        "spec": {
            "selector": {"matchLabels": {"app": "agent"}},
            "template": template({"app": "agent"}),
            **spec,
        },
    }
    return create(api, "apps", "daemonsets", body)


def pods_by_node(api: Api) -> dict[str, str]:
    """Target node → pod name, from the affinity that pins each daemon pod."""
    result = {}
    for pod in pods(api):
        terms = pod["spec"]["affinity"]["nodeAffinity"][
            "requiredDuringSchedulingIgnoredDuringExecution"
        ]["nodeSelectorTerms"]
        result[terms[0]["matchFields"][0]["values"][0]] = pod["metadata"]["name"]
    return result


def test_daemonset_puts_one_pod_on_each_node_it_fits(api: Api) -> None:
    add_node(api, "node-cordoned", unschedulable=True)
    add_node(api, "node-gpu", taints=[{"key": "gpu", "value": "yes", "effect": "NoSchedule"}])
    add_node(api, "node-down", ready=False)
    ds = DaemonSetController(api)
    daemonset(api)
    reconcile(ds, "agent")
    assert sorted(pods_by_node(api)) == ["node-a", "node-b", "node-cordoned"]
    pod = pods(api)[0]
    assert pod["metadata"]["generateName"] == "agent-"
    assert pod["metadata"]["labels"]["pod-template-generation"] == "1"
    assert pod["metadata"]["labels"]["controller-revision-hash"]
    assert not pod["spec"].get("nodeName")  # the scheduler binds it
    tolerated = {(t["key"], t["effect"]) for t in pod["spec"]["tolerations"]}
    assert {
        ("node.kubernetes.io/not-ready", "NoExecute"),
        ("node.kubernetes.io/unreachable", "NoExecute"),
        ("node.kubernetes.io/disk-pressure", "NoSchedule"),
        ("node.kubernetes.io/memory-pressure", "NoSchedule"),
        ("node.kubernetes.io/pid-pressure", "NoSchedule"),
        ("node.kubernetes.io/unschedulable", "NoSchedule"),
    } <= tolerated
    status = get(api, "apps", "daemonsets", "agent")["status"]
    assert status == {
        "currentNumberScheduled": 3,
        "numberMisscheduled": 0,
        "desiredNumberScheduled": 3,
        "numberReady": 0,
        "observedGeneration": 1,
        "updatedNumberScheduled": 3,
        "numberUnavailable": 3,
    }


def test_daemonset_follows_nodes_coming_and_going(api: Api) -> None:
    ds = DaemonSetController(api)
    daemonset(api)
    reconcile(ds, "agent")
    add_node(api, "node-new")
    api.delete(api.preferred("", "nodes"), "", "node-a")
    reconcile(ds, "agent")
    assert sorted(pods_by_node(api)) == ["node-b", "node-new"]
    # An untolerated NoSchedule taint keeps new pods off but lets a running one stay...
    taint(api, "node-b", "NoSchedule")
    reconcile(ds, "agent")
    assert sorted(pods_by_node(api)) == ["node-b", "node-new"]
    # ...while a NoExecute one sends it away.
    taint(api, "node-b", "NoExecute")
    reconcile(ds, "agent")
    assert sorted(pods_by_node(api)) == ["node-new"]


def taint(api: Api, name: str, effect: str) -> None:
    node = copy.deepcopy(api.find("", "nodes", "", name))
    assert node is not None
    node["spec"]["taints"] = [{"key": "maintenance", "effect": effect}]
    api.update(api.preferred("", "nodes"), "", name, node)


def test_daemonset_rolling_update_keeps_within_max_unavailable(api: Api) -> None:
    ds = DaemonSetController(api)
    daemonset(api)
    reconcile(ds, "agent")
    for name in pod_names(api):
        set_phase(api, name, "Running", ready=True)
    edit(api, "apps", "daemonsets", "agent", template=template({"app": "agent"}, "nginx:1.28"))

    def images() -> dict[str, str]:
        by_name = {p["metadata"]["name"]: p["spec"]["containers"][0]["image"] for p in pods(api)}
        return {node: by_name[name] for node, name in pods_by_node(api).items()}

    reconcile(ds, "agent")
    assert len(images()) == 1  # one old pod deleted
    reconcile(ds, "agent")
    assert sorted(images().values()) == ["nginx:1.27", "nginx:1.28"]
    reconcile(ds, "agent")
    assert sorted(images().values()) == ["nginx:1.27", "nginx:1.28"]  # new pod not available yet
    new_pod = next(p for p in pods(api) if p["spec"]["containers"][0]["image"] == "nginx:1.28")
    set_phase(api, new_pod["metadata"]["name"], "Running", ready=True)
    reconcile(ds, "agent")
    reconcile(ds, "agent")
    assert sorted(images().values()) == ["nginx:1.28", "nginx:1.28"]


# --- Job --------------------------------------------------------------------------------------


def job(api: Api, **spec: Any) -> dict[str, Any]:
    body = {
        "metadata": {"name": "pi"},
        "spec": {"template": {"spec": {"containers": CONTAINERS}}, **spec},
    }
    return create(api, "batch", "jobs", body)


def active_pods(api: Api) -> list[str]:
    return [p["metadata"]["name"] for p in pods(api) if p["status"]["phase"] == "Pending"]


def conditions(obj: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [(c["type"], c["status"], c.get("reason", "")) for c in obj["status"]["conditions"]]


def test_job_runs_parallelism_pods_until_completions_succeed(api: Api) -> None:
    jobs = JobController(api)
    uid = job(api, completions=3, parallelism=2)["metadata"]["uid"]
    reconcile(jobs, "pi")
    assert len(active_pods(api)) == 2
    pod = pods(api)[0]
    assert pod["metadata"]["generateName"] == "pi-"
    assert {
        "batch.kubernetes.io/job-name": "pi",
        "job-name": "pi",
        "batch.kubernetes.io/controller-uid": uid,
        "controller-uid": uid,
    }.items() <= pod["metadata"]["labels"].items()
    assert pod["metadata"]["ownerReferences"][0]["uid"] == uid
    assert pod["metadata"]["finalizers"] == ["batch.kubernetes.io/job-tracking"]
    status = get(api, "batch", "jobs", "pi")["status"]
    assert (status["active"], status["ready"]) == (2, 0)
    assert status["startTime"]

    set_phase(api, active_pods(api)[0], "Succeeded")
    reconcile(jobs, "pi")
    assert len(active_pods(api)) == 2  # one more for the remaining two completions
    assert get(api, "batch", "jobs", "pi")["status"]["succeeded"] == 1
    for name in active_pods(api):
        set_phase(api, name, "Succeeded")
    reconcile(jobs, "pi")
    assert not active_pods(api)
    assert len(pods(api)) == 3  # finished pods stay
    assert all(not p["metadata"].get("finalizers") for p in pods(api))
    done = get(api, "batch", "jobs", "pi")
    assert conditions(done) == [
        ("SuccessCriteriaMet", "True", "CompletionsReached"),
        ("Complete", "True", "CompletionsReached"),
    ]
    assert done["status"]["succeeded"] == 3
    assert done["status"]["completionTime"]
    assert "active" not in done["status"]
    assert events(api, "Completed") == ["Job completed"]


def test_job_fails_past_backoff_limit_after_backing_off(api: Api, now: FakeClock) -> None:
    jobs = JobController(api)
    job(api, backoffLimit=1)
    reconcile(jobs, "pi")
    set_phase(api, active_pods(api)[0], "Failed")
    reconcile(jobs, "pi")
    assert not active_pods(api)  # backing off before the next try
    now.advance(11)
    reconcile(jobs, "pi")
    assert len(active_pods(api)) == 1
    set_phase(api, active_pods(api)[0], "Failed")
    reconcile(jobs, "pi")
    failed = get(api, "batch", "jobs", "pi")
    assert conditions(failed) == [
        ("FailureTarget", "True", "BackoffLimitExceeded"),
        ("Failed", "True", "BackoffLimitExceeded"),
    ]
    assert failed["status"]["failed"] == 2
    assert "completionTime" not in failed["status"]
    assert events(api, "BackoffLimitExceeded") == ["Job has reached the specified backoff limit"]


def test_job_suspended_runs_nothing_until_resumed(api: Api) -> None:
    jobs = JobController(api)
    job(api, suspend=True)
    reconcile(jobs, "pi")
    suspended = get(api, "batch", "jobs", "pi")
    assert not pods(api)
    assert conditions(suspended) == [("Suspended", "True", "JobSuspended")]
    assert "startTime" not in suspended["status"]
    edit(api, "batch", "jobs", "pi", suspend=False)
    reconcile(jobs, "pi")
    resumed = get(api, "batch", "jobs", "pi")
    assert len(active_pods(api)) == 1
    assert conditions(resumed) == [("Suspended", "False", "JobResumed")]
    assert resumed["status"]["startTime"]


def test_indexed_job_gives_each_pod_its_completion_index(api: Api) -> None:
    jobs = JobController(api)
    job(api, completions=3, parallelism=3, completionMode="Indexed")
    reconcile(jobs, "pi")
    index_key = "batch.kubernetes.io/job-completion-index"
    by_index = {p["metadata"]["annotations"][index_key]: p for p in pods(api)}
    assert sorted(by_index) == ["0", "1", "2"]
    assert by_index["1"]["spec"]["hostname"] == "pi-1"
    assert by_index["1"]["metadata"]["generateName"] == "pi-1-"
    set_phase(api, by_index["1"]["metadata"]["name"], "Succeeded")
    reconcile(jobs, "pi")
    status = get(api, "batch", "jobs", "pi")["status"]
    assert (status["completedIndexes"], status["succeeded"], status["active"]) == ("1", 1, 2)


# --- CronJob ----------------------------------------------------------------------------------


def cronjob(api: Api, schedule: str = "* * * * *", **spec: Any) -> dict[str, Any]:
    body = {
        "metadata": {"name": "tick"},
        "spec": {
            "schedule": schedule,
            "jobTemplate": {
                "metadata": {"labels": {"app": "tick"}},
                "spec": {"template": {"spec": {"containers": CONTAINERS}}},
            },
            **spec,
        },
    }
    return create(api, "batch", "cronjobs", body)


def job_names(api: Api) -> list[str]:
    return [j["metadata"]["name"] for j in api.store.list(("batch", "jobs"), "default")]


def minutes(hour: int, minute: int) -> int:
    return int(dt.datetime(2025, 6, 1, hour, minute, tzinfo=dt.UTC).timestamp()) // 60


def complete(api: Api, name: str) -> None:
    stamp = clock.stamp()
    done = [{"type": t, "status": "True"} for t in ("SuccessCriteriaMet", "Complete")]
    set_status(api, "batch", "jobs", name, {"conditions": done, "completionTime": stamp})


def test_cronjob_creates_the_job_for_a_due_time(api: Api, now: FakeClock) -> None:
    crons = CronJobController(api)
    uid = cronjob(api)["metadata"]["uid"]
    reconcile(crons, "tick")
    assert not job_names(api)  # created at 10:00:30; 10:01 is not due yet
    now.advance(40)
    reconcile(crons, "tick")
    name = f"tick-{minutes(10, 1)}"
    assert job_names(api) == [name]
    created = get(api, "batch", "jobs", name)
    assert created["metadata"]["annotations"] == {
        "batch.kubernetes.io/cronjob-scheduled-timestamp": "2025-06-01T10:01:00Z"
    }
    labels = created["metadata"]["labels"]
    assert labels["app"] == "tick" and labels["job-name"] == name  # template labels + job identity
    assert created["metadata"]["ownerReferences"][0]["uid"] == uid
    status = get(api, "batch", "cronjobs", "tick")["status"]
    assert status["lastScheduleTime"] == "2025-06-01T10:01:00Z"
    assert [(r["kind"], r["name"]) for r in status["active"]] == [("Job", name)]
    reconcile(crons, "tick")
    assert job_names(api) == [name]  # a schedule time runs once


def test_cronjob_forbid_waits_for_the_running_job(api: Api, now: FakeClock) -> None:
    crons = CronJobController(api)
    cronjob(api, concurrencyPolicy="Forbid")
    now.advance(40)
    reconcile(crons, "tick")
    now.advance(60)
    reconcile(crons, "tick")
    first = f"tick-{minutes(10, 1)}"
    assert job_names(api) == [first]
    assert events(api, "JobAlreadyActive")
    complete(api, first)
    reconcile(crons, "tick")  # the 10:02 run starts late, now that 10:01's is done
    second = f"tick-{minutes(10, 2)}"
    assert job_names(api) == [first, second]
    status = get(api, "batch", "cronjobs", "tick")["status"]
    assert [r["name"] for r in status["active"]] == [second]
    assert status["lastSuccessfulTime"]


def test_cronjob_replace_deletes_the_running_job(api: Api, now: FakeClock) -> None:
    crons = CronJobController(api)
    cronjob(api, concurrencyPolicy="Replace")
    now.advance(40)
    reconcile(crons, "tick")
    now.advance(60)
    reconcile(crons, "tick")
    assert job_names(api) == [f"tick-{minutes(10, 2)}"]


@pytest.mark.parametrize(("late", "runs"), [(20, True), (40, False)])
def test_cronjob_runs_a_late_time_only_within_its_starting_deadline(
    api: Api, now: FakeClock, late: int, runs: bool
) -> None:
    crons = CronJobController(api)
    cronjob(api, "5 10 * * *", startingDeadlineSeconds=30)
    now.advance(4 * 60 + 30 + late)
    reconcile(crons, "tick")
    assert job_names(api) == ([f"tick-{minutes(10, 5)}"] if runs else [])


def test_cronjob_reads_its_schedule_in_its_time_zone(api: Api, now: FakeClock) -> None:
    crons = CronJobController(api)
    cronjob(api, "1 12 * * *", timeZone="Europe/Berlin")  # 12:01 in Berlin is 10:01 UTC in June
    now.advance(40)
    reconcile(crons, "tick")
    created = get(api, "batch", "jobs", f"tick-{minutes(10, 1)}")
    scheduled = created["metadata"]["annotations"][
        "batch.kubernetes.io/cronjob-scheduled-timestamp"
    ]
    assert scheduled == "2025-06-01T12:01:00+02:00"


def test_cronjob_keeps_only_its_job_history_limit(api: Api, now: FakeClock) -> None:
    crons = CronJobController(api)
    cronjob(api, successfulJobsHistoryLimit=1)
    for minute in (1, 2):
        now.advance(60)
        reconcile(crons, "tick")
        complete(api, f"tick-{minutes(10, minute)}")
    reconcile(crons, "tick")
    assert job_names(api) == [f"tick-{minutes(10, 2)}"]
    assert events(api, "SuccessfulDelete") == [f"Deleted job tick-{minutes(10, 1)}"]
