"""The pods table: READY, STATUS and RESTARTS as `kubectl get pods` prints them, with CPU and
memory from Prometheus when it answers."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from ..prom.results import Results, Sample
from ..timestamps import parse_time
from .common import Severity, condition, labels_of, name_of, namespace_of

# Waiting or terminated reasons (alone or after "Init:") that need someone to act.
_ERROR_REASONS = frozenset(
    {
        "CrashLoopBackOff",
        "Error",
        "ErrImagePull",
        "ImagePullBackOff",
        "ErrImageNeverPull",
        "InvalidImageName",
        "CreateContainerConfigError",
        "CreateContainerError",
        "RunContainerError",
        "ContainerCannotRun",
        "OOMKilled",
        "DeadlineExceeded",
        "Failed",
        "Unknown",
        "Evicted",
        "NodeLost",
        "NodeAffinity",
        "OutOfcpu",
        "OutOfmemory",
        "UnexpectedAdmissionError",
        "ContainerStatusUnknown",
        "Shutdown",
        "Terminated",
    }
)


@dataclass(frozen=True)
class PodRow:
    key: str  # "namespace/name"
    namespace: str
    name: str
    ready: str  # "1/2"
    ready_count: int
    container_count: int
    status: str  # kubectl's STATUS column
    restarts: int
    last_restart: float | None  # epoch seconds of the latest container restart
    age_seconds: float | None
    node: str
    ip: str
    cpu_cores: float | None  # None: Prometheus gave no figure for this pod
    memory_bytes: float | None
    labels: Mapping[str, str] = field(hash=False)
    owner: str  # "ReplicaSet/web-7d9c6b5f4", "" for a bare pod
    containers: tuple[str, ...]
    severity: Severity


@dataclass
class _Summary:
    status: str
    ready: int = 0
    total: int = 0
    restarts: int = 0
    last_restart: float | None = None


def _exit(terminated: dict[str, Any], prefix: str = "") -> str:
    if terminated.get("reason"):
        return prefix + terminated["reason"]
    if terminated.get("signal"):
        return f"{prefix}Signal:{terminated['signal']}"
    return f"{prefix}ExitCode:{terminated.get('exitCode') or 0}"


def _restarted(statuses: Iterable[dict[str, Any]]) -> tuple[int, float | None]:
    """Restart count and the latest last-termination time over some container statuses."""
    count, last = 0, None
    for cs in statuses:
        count += cs.get("restartCount") or 0
        terminated = (cs.get("lastState") or {}).get("terminated") or {}
        finished = parse_time(terminated.get("finishedAt"))
        if finished is not None and (last is None or finished > last):
            last = finished
    return count, last


def _summarize(pod: dict[str, Any]) -> _Summary:
    """READY, STATUS and RESTARTS following kubectl's pod printer, step by step: the pod's
    reason or phase, then the first init container that has not finished, then the
    containers (the first one's state wins), then deletion."""
    spec, status = pod.get("spec") or {}, pod.get("status") or {}
    phase = status.get("phase") or ""
    summary = _Summary(status=status.get("reason") or phase)
    scheduled = condition(pod, "PodScheduled") or {}
    if scheduled.get("reason") == "SchedulingGated":
        summary.status = "SchedulingGated"

    init_specs = spec.get("initContainers") or []
    # Sidecars (init containers that restart always) run alongside the main containers.
    sidecars = {c.get("name") for c in init_specs if c.get("restartPolicy") == "Always"}
    summary.total = len(spec.get("containers") or []) + len(sidecars)
    init_statuses = status.get("initContainerStatuses") or []

    initializing = False
    for index, cs in enumerate(init_statuses):
        state = cs.get("state") or {}
        terminated, waiting = state.get("terminated"), state.get("waiting")
        if terminated is not None and not terminated.get("exitCode"):
            continue
        if cs.get("name") in sidecars and cs.get("started"):
            summary.ready += bool(cs.get("ready"))
            continue
        initializing = True
        if terminated is not None:
            summary.status = _exit(terminated, "Init:")
        elif waiting and waiting.get("reason") and waiting["reason"] != "PodInitializing":
            summary.status = "Init:" + waiting["reason"]
        else:
            summary.status = f"Init:{index}/{len(init_specs)}"
        break

    initialized = (condition(pod, "Initialized") or {}).get("status") == "True"
    if initializing and not initialized:
        summary.restarts, summary.last_restart = _restarted(init_statuses)
    else:
        # Once initialized, finished init containers' restarts no longer count.
        statuses = [cs for cs in init_statuses if cs.get("name") in sidecars]
        statuses += status.get("containerStatuses") or []
        summary.restarts, summary.last_restart = _restarted(statuses)
        has_running = False
        for cs in reversed(status.get("containerStatuses") or []):
            state = cs.get("state") or {}
            waiting, terminated = state.get("waiting"), state.get("terminated")
            if waiting and waiting.get("reason"):
                summary.status = waiting["reason"]
            elif terminated is not None:
                summary.status = _exit(terminated)
            elif cs.get("ready") and state.get("running") is not None:
                has_running = True
                summary.ready += 1
        if summary.status == "Completed" and has_running:
            ready = (condition(pod, "Ready") or {}).get("status") == "True"
            summary.status = "Running" if ready else "NotReady"

    if (pod.get("metadata") or {}).get("deletionTimestamp"):
        if status.get("reason") == "NodeLost":
            summary.status = "Unknown"
        elif phase not in ("Succeeded", "Failed"):
            summary.status = "Terminating"
    return summary


def _severity(status: str, ready: int, total: int) -> Severity:
    reason = status.removeprefix("Init:")
    if reason in _ERROR_REASONS or reason.startswith(("ExitCode:", "Signal:")):
        return Severity.ERROR
    if status in ("Completed", "Succeeded"):
        return Severity.NONE
    if status == "Running" and ready == total:
        return Severity.OK
    return Severity.WARN


def _owner(pod: dict[str, Any]) -> str:
    refs = (pod.get("metadata") or {}).get("ownerReferences") or []
    ref = next((r for r in refs if r.get("controller")), refs[0] if refs else None)
    return f"{ref.get('kind', '')}/{ref.get('name', '')}" if ref else ""


def _per_pod(results: Results | None, name: str) -> dict[tuple[str, str], float]:
    answer = (results or {}).get(name) or ()
    return {
        (s.labels.get("namespace", ""), s.labels.get("pod", "")): s.value
        for s in answer
        if isinstance(s, Sample)
    }


def pod_rows(
    pods: Iterable[dict[str, Any]], now: float, results: Results | None = None
) -> tuple[PodRow, ...]:
    """One row per pod, sorted by namespace and name."""
    cpu, memory = _per_pod(results, "pod_cpu"), _per_pod(results, "pod_memory")
    rows = []
    for pod in pods:
        namespace, name = namespace_of(pod), name_of(pod)
        spec, status = pod.get("spec") or {}, pod.get("status") or {}
        summary = _summarize(pod)
        created = parse_time((pod.get("metadata") or {}).get("creationTimestamp"))
        ips = status.get("podIPs") or []
        rows.append(
            PodRow(
                key=f"{namespace}/{name}",
                namespace=namespace,
                name=name,
                ready=f"{summary.ready}/{summary.total}",
                ready_count=summary.ready,
                container_count=summary.total,
                status=summary.status,
                restarts=summary.restarts,
                last_restart=summary.last_restart,
                age_seconds=None if created is None else now - created,
                node=spec.get("nodeName") or "",
                ip=(ips[0].get("ip") if ips else status.get("podIP")) or "",
                cpu_cores=cpu.get((namespace, name)),
                memory_bytes=memory.get((namespace, name)),
                labels=MappingProxyType(dict(labels_of(pod))),
                owner=_owner(pod),
                containers=tuple(c.get("name", "") for c in spec.get("containers") or []),
                severity=_severity(summary.status, summary.ready, summary.total),
            )
        )
    return tuple(sorted(rows, key=lambda r: (r.namespace, r.name)))
