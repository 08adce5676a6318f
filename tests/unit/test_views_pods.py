"""The pods view: kubectl's READY, STATUS and RESTARTS, severities, and Prometheus figures."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from cpanel_platform.prom.results import Sample
from cpanel_platform.views.common import Severity
from cpanel_platform.views.pods import pod_rows

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC).timestamp()


def ts(ago: float) -> str:
    return datetime.fromtimestamp(NOW - ago, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def running(name: str = "web", ready: bool = True, restarts: int = 0) -> dict[str, Any]:
    return {
        "name": name,
        "ready": ready,
        "started": True,
        "restartCount": restarts,
        "state": {"running": {"startedAt": ts(300)}},
    }


def waiting(reason: str, name: str = "web", restarts: int = 0) -> dict[str, Any]:
    return {
        "name": name,
        "ready": False,
        "restartCount": restarts,
        "state": {"waiting": {"reason": reason}},
    }


def terminated(name: str = "web", **fields: Any) -> dict[str, Any]:
    return {"name": name, "ready": False, "restartCount": 0, "state": {"terminated": fields}}


def pod(
    name: str = "web-7d9c6b5f4-abcde",
    namespace: str = "app",
    statuses: list[dict[str, Any]] | None = None,
    containers: tuple[str, ...] = ("web",),
    phase: str = "Running",
    **extra: Any,
) -> dict[str, Any]:
    status = {
        "phase": phase,
        "podIP": "10.2.0.7",
        "podIPs": [{"ip": "10.2.0.7"}],
        "conditions": [
            {"type": "Initialized", "status": "True"},
            {"type": "Ready", "status": "True"},
        ],
        "containerStatuses": statuses if statuses is not None else [running()],
        **extra.pop("status", {}),
    }
    return {
        "metadata": {
            "name": name,
            "namespace": namespace,
            "creationTimestamp": ts(3600),
            "labels": {"app": "web"},
            "ownerReferences": [
                {"kind": "ReplicaSet", "name": "web-7d9c6b5f4", "controller": True, "uid": "r1"}
            ],
            **extra.pop("metadata", {}),
        },
        "spec": {
            "nodeName": "lke1-pool1-a",
            "containers": [{"name": c, "image": "ghcr.io/example/shop:2.14.1"} for c in containers],
            **extra.pop("spec", {}),
        },
        "status": status,
    }


def one(p: dict[str, Any], **kwargs: Any):
    (row,) = pod_rows([p], NOW, **kwargs)
    return row


def test_running_ready_pod_carries_everything_a_pane_shows() -> None:
    row = one(pod())
    assert row.key == "app/web-7d9c6b5f4-abcde"
    assert (row.status, row.ready, row.ready_count, row.container_count) == ("Running", "1/1", 1, 1)
    assert row.severity is Severity.OK
    assert row.age_seconds == 3600
    assert (row.node, row.ip, row.owner) == ("lke1-pool1-a", "10.2.0.7", "ReplicaSet/web-7d9c6b5f4")
    assert row.containers == ("web",)
    assert row.labels == {"app": "web"}
    assert (row.restarts, row.last_restart) == (0, None)
    assert (row.cpu_cores, row.memory_bytes) == (None, None)  # no Prometheus results


def test_crash_loop_counts_restarts_and_the_latest_one() -> None:
    crashing = waiting("CrashLoopBackOff", restarts=4)
    crashing["lastState"] = {"terminated": {"exitCode": 1, "finishedAt": ts(90)}}
    row = one(pod(statuses=[crashing]))
    assert (row.status, row.ready, row.restarts) == ("CrashLoopBackOff", "0/1", 4)
    assert row.last_restart == NOW - 90
    assert row.severity is Severity.ERROR


def test_first_container_state_sets_the_status() -> None:
    statuses = [waiting("ImagePullBackOff", name="web"), running(name="proxy")]
    row = one(pod(statuses=statuses, containers=("web", "proxy")))
    assert (row.status, row.ready) == ("ImagePullBackOff", "1/2")
    assert row.severity is Severity.ERROR


@pytest.mark.parametrize(
    ("statuses", "phase", "status", "severity"),
    [
        ([waiting("ContainerCreating")], "Pending", "ContainerCreating", Severity.WARN),
        ([], "Pending", "Pending", Severity.WARN),
        ([running(ready=False)], "Running", "Running", Severity.WARN),
        ([terminated(exitCode=0, reason="Completed")], "Succeeded", "Completed", Severity.NONE),
        ([terminated(exitCode=1, reason="Error")], "Failed", "Error", Severity.ERROR),
        ([terminated(exitCode=137)], "Failed", "ExitCode:137", Severity.ERROR),
        ([terminated(exitCode=0, signal=9)], "Failed", "Signal:9", Severity.ERROR),
        ([waiting("ErrImagePull")], "Pending", "ErrImagePull", Severity.ERROR),
    ],
)
def test_container_states(
    statuses: list[dict[str, Any]], phase: str, status: str, severity: Severity
) -> None:
    row = one(pod(statuses=statuses, phase=phase))
    assert (row.status, row.severity) == (status, severity)


def test_a_completed_container_beside_a_running_one_is_not_completed() -> None:
    statuses = [terminated(name="migrate", exitCode=0, reason="Completed"), running()]
    row = one(pod(statuses=statuses, containers=("migrate", "web")))
    assert (row.status, row.ready) == ("Running", "1/2")
    not_ready = pod(statuses=statuses, containers=("migrate", "web"))
    not_ready["status"]["conditions"][1]["status"] = "False"
    assert one(not_ready).status == "NotReady"


def test_evicted_pod_shows_the_reason() -> None:
    row = one(pod(statuses=[], phase="Failed", status={"reason": "Evicted"}))
    assert (row.status, row.severity) == ("Evicted", Severity.ERROR)


def test_terminating_pod() -> None:
    row = one(pod(metadata={"deletionTimestamp": ts(5)}))
    assert (row.status, row.severity) == ("Terminating", Severity.WARN)


def test_finished_pod_being_deleted_keeps_its_status() -> None:
    done = [terminated(exitCode=0, reason="Completed")]
    row = one(pod(statuses=done, phase="Succeeded", metadata={"deletionTimestamp": ts(5)}))
    assert row.status == "Completed"


def test_pod_on_a_lost_node_is_unknown() -> None:
    lost = pod(metadata={"deletionTimestamp": ts(5)}, status={"reason": "NodeLost"})
    assert (one(lost).status, one(lost).severity) == ("Unknown", Severity.ERROR)
    # Before the node controller deletes it, kubectl shows the reason itself.
    assert one(pod(status={"reason": "NodeLost"}, statuses=[])).status == "NodeLost"


def _initializing(init_statuses: list[dict[str, Any]]) -> dict[str, Any]:
    p = pod(
        statuses=[waiting("PodInitializing")],
        phase="Pending",
        spec={"initContainers": [{"name": "migrate"}, {"name": "warm-cache"}]},
        status={
            "initContainerStatuses": init_statuses,
            "conditions": [{"type": "Initialized", "status": "False"}],
        },
    )
    return p


def test_init_progress() -> None:
    done = terminated(name="migrate", exitCode=0, reason="Completed")
    row = one(_initializing([done, running(name="warm-cache", ready=False)]))
    assert (row.status, row.severity) == ("Init:1/2", Severity.WARN)
    waiting_init = waiting("PodInitializing", name="migrate")
    assert one(_initializing([waiting_init, waiting_init])).status == "Init:0/2"


def test_init_crash_loop_counts_init_restarts() -> None:
    crashing = waiting("CrashLoopBackOff", name="migrate", restarts=3)
    row = one(_initializing([crashing, waiting("PodInitializing", name="warm-cache")]))
    assert (row.status, row.restarts, row.severity) == (
        "Init:CrashLoopBackOff",
        3,
        Severity.ERROR,
    )


def test_failed_init_container() -> None:
    failed = terminated(name="migrate", exitCode=2, reason="Error")
    assert one(_initializing([failed])).status == "Init:Error"
    bare = terminated(name="migrate", exitCode=2)
    assert one(_initializing([bare])).status == "Init:ExitCode:2"


def test_finished_init_restarts_no_longer_count_but_sidecars_do() -> None:
    init = terminated(name="migrate", exitCode=0, reason="Completed")
    init["restartCount"] = 5
    sidecar = running(name="proxy", restarts=2)
    p = pod(
        statuses=[running()],
        spec={
            "initContainers": [{"name": "migrate"}, {"name": "proxy", "restartPolicy": "Always"}]
        },
        status={"initContainerStatuses": [init, sidecar]},
    )
    row = one(p)
    assert (row.status, row.ready, row.restarts) == ("Running", "2/2", 2)
    assert row.severity is Severity.OK


def test_scheduling_gated() -> None:
    gated = pod(
        statuses=[],
        phase="Pending",
        status={"conditions": [{"type": "PodScheduled", "reason": "SchedulingGated"}]},
    )
    assert one(gated).status == "SchedulingGated"


def test_prometheus_figures_by_namespace_and_pod() -> None:
    results = {
        "pod_cpu": (
            Sample({"namespace": "app", "pod": "web-7d9c6b5f4-abcde"}, 0.25),
            Sample({"namespace": "other", "pod": "web-7d9c6b5f4-abcde"}, 9.0),
        ),
        "pod_memory": (Sample({"namespace": "app", "pod": "web-7d9c6b5f4-abcde"}, 2.5e8),),
    }
    rows = pod_rows([pod(), pod(name="db-0")], NOW, results)
    db, web = rows
    assert (web.cpu_cores, web.memory_bytes) == (0.25, 2.5e8)
    assert (db.cpu_cores, db.memory_bytes) == (None, None)  # Prometheus has no series for it
    only_memory = pod_rows([pod()], NOW, {"pod_memory": results["pod_memory"]})[0]
    assert (only_memory.cpu_cores, only_memory.memory_bytes) == (None, 2.5e8)


def test_rows_are_sorted_and_bare_pods_have_no_owner() -> None:
    bare = pod(name="debug", namespace="default", metadata={"ownerReferences": []})
    rows = pod_rows([pod(name="b"), pod(name="a"), bare], NOW)
    assert [r.key for r in rows] == ["app/a", "app/b", "default/debug"]
    assert rows[-1].owner == ""
