"""Server-side Table output (meta.k8s.io/v1 Table) as `kubectl get` asks for it.

kubectl prints whatever columns the API server sends, so each built-in kind here mirrors the real
server's printer: column names, types, priorities and cell logic. The real server always renders
the wide columns (priority 1) and kubectl hides them unless `-o wide`, so every row carries them.
Custom resources use their CRD's additionalPrinterColumns, evaluated with a small JSONPath subset.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

Obj = Mapping[str, Any]
Cells = list[Any]
CellsFn = Callable[[Obj, dt.datetime], Cells]
ConditionsFn = Callable[[Obj], list[dict[str, str]]]

_NONE = "<none>"
_UNSET = "<unset>"
_UNKNOWN = "<unknown>"


# --- Ages -------------------------------------------------------------------------------------


def human_duration(seconds: float) -> str:
    """apimachinery's duration.HumanDuration: about two significant units ("3m12s", "2d4h")."""
    whole = int(seconds)  # truncates toward zero, like Go's int(d.Seconds())
    if whole < -1:
        return "<invalid>"
    if whole < 0:  # up to a second in the future is clock skew: call it now
        return "0s"
    if whole < 120:
        return f"{whole}s"
    minutes, hours, days = whole // 60, whole // 3600, whole // 86400
    if minutes < 10:
        return _units(minutes, "m", whole % 60, "s")
    if minutes < 180:
        return f"{minutes}m"
    if hours < 8:
        return _units(hours, "h", minutes % 60, "m")
    if hours < 48:
        return f"{hours}h"
    if days < 8:
        return _units(days, "d", hours % 24, "h")
    if days < 365 * 2:
        return f"{days}d"
    if days < 365 * 8:
        return _units(days // 365, "y", days % 365, "d")
    return f"{days // 365}y"


def _units(major: int, major_unit: str, minor: int, minor_unit: str) -> str:
    return f"{major}{major_unit}{minor}{minor_unit}" if minor else f"{major}{major_unit}"


_RFC3339 = re.compile(r"\d{4}-\d\d-\d\d[Tt]\d\d:\d\d:\d\d(\.\d+)?([Zz]|[+-]\d\d:\d\d)")


def _time(value: Any) -> dt.datetime | None:
    """An RFC 3339 timestamp (metav1.Time or MicroTime), or None if absent or malformed."""
    if not isinstance(value, str) or not _RFC3339.fullmatch(value):
        return None
    return dt.datetime.fromisoformat(value.upper().replace("Z", "+00:00"))


def _since(value: Any, now: dt.datetime) -> str:
    when = _time(value)
    return _UNKNOWN if when is None else human_duration((now - when).total_seconds())


def _age(obj: Obj, now: dt.datetime) -> str:
    return _since(_get(obj, "metadata", "creationTimestamp"), now)


# --- Small readers and formatters -------------------------------------------------------------


def _get(obj: Any, *path: str) -> Any:
    """obj[path[0]][path[1]]..., or None where any step is missing."""
    for key in path:
        if not isinstance(obj, Mapping):
            return None
        obj = obj.get(key)
    return obj


def _name(obj: Obj) -> str:
    return _get(obj, "metadata", "name") or ""


def _terminating(obj: Obj) -> bool:
    return _get(obj, "metadata", "deletionTimestamp") is not None


def _labels(labels: Any) -> str:
    """labels.FormatLabels: sorted k=v pairs, or <none>."""
    return ",".join(f"{k}={v}" for k, v in sorted((labels or {}).items())) or _NONE


def _selector(sel: Any) -> str | None:
    """LabelSelectorAsSelector(sel).String(), requirements sorted by key; None if invalid."""
    if not isinstance(sel, Mapping):
        return ""
    reqs = [(k, f"{k}={v}") for k, v in (sel.get("matchLabels") or {}).items()]
    for expr in sel.get("matchExpressions") or []:
        key, values = expr.get("key", ""), ",".join(sorted(expr.get("values") or []))
        rendered = {
            "In": f"{key} in ({values})",
            "NotIn": f"{key} notin ({values})",
            "Exists": key,
            "DoesNotExist": f"!{key}",
        }.get(expr.get("operator"))
        if rendered is None:
            return None
        reqs.append((key, rendered))
    return ",".join(text for _, text in sorted(reqs, key=lambda req: req[0]))


def _format_selector(sel: Any) -> str:
    """metav1.FormatLabelSelector."""
    text = _selector(sel)
    return "<error>" if text is None else text or _NONE


def _template_containers(template: Any) -> tuple[str, str]:
    """The CONTAINERS and IMAGES cells of a pod template."""
    containers = _get(template, "spec", "containers") or []
    names = ",".join(c.get("name", "") for c in containers)
    return names, ",".join(c.get("image", "") for c in containers)


def _first_condition_true(conditions: Iterable[Obj] | None, kind: str) -> bool:
    """Whether the first condition of this type has status True."""
    for cond in conditions or []:
        if cond.get("type") == kind:
            return cond.get("status") == "True"
    return False


def _int_or_string(value: Any, missing: str) -> str:
    return missing if value is None else str(value)


def _access_modes(modes: Any) -> str:
    """helper.GetAccessModesAsString: abbreviations in a fixed order, duplicates dropped."""
    short = {
        "ReadWriteOnce": "RWO",
        "ReadOnlyMany": "ROX",
        "ReadWriteMany": "RWX",
        "ReadWriteOncePod": "RWOP",
    }
    present = set(modes or [])
    return ",".join(abbr for mode, abbr in short.items() if mode in present)


def _storage_class(obj: Obj, spec_class: Any) -> str:
    # The beta annotation still wins over the spec field when both are set.
    annotation = (_get(obj, "metadata", "annotations") or {}).get(
        "volume.beta.kubernetes.io/storage-class"
    )
    return annotation if annotation is not None else spec_class or ""


def _lb_ingress(status: Any) -> list[str]:
    """Load-balancer ingress points (IP, else hostname), sorted and unique like a Go string set."""
    ingress = _get(status, "loadBalancer", "ingress") or []
    return sorted({i.get("ip") or i.get("hostname") for i in ingress} - {None, ""})


# --- Column definitions -----------------------------------------------------------------------


def _col(name: str, kind: str = "string", desc: str = "", *, wide: bool = False) -> dict[str, Any]:
    return {"name": name, "type": kind, "format": "", "description": desc, "priority": int(wide)}


_NAME = {**_col("Name", desc="Name of the object, unique within its namespace."), "format": "name"}
_AGE = _col("Age", desc="Time since the object was created.")
_TEMPLATE = (
    _col("Containers", desc="Container names in the pod template.", wide=True),
    _col("Images", desc="Container images in the pod template.", wide=True),
)
_SELECTOR = _col("Selector", desc="Label selector for the managed pods.", wide=True)


@dataclass(frozen=True)
class _Printer:
    columns: tuple[dict[str, Any], ...]
    cells: CellsFn
    conditions: ConditionsFn | None = None


_PRINTERS: dict[tuple[str, str], _Printer] = {}


def _printer(
    group: str, plural: str, *columns: dict[str, Any], conditions: ConditionsFn | None = None
) -> Callable[[CellsFn], CellsFn]:
    """Register the decorated cell function as the printer for (group, plural)."""

    def register(cells: CellsFn) -> CellsFn:
        _PRINTERS[(group, plural)] = _Printer(columns, cells, conditions)
        return cells

    return register


# --- core: pods -------------------------------------------------------------------------------


@dataclass
class _Restarts:
    """Restart count and the latest restart (last termination) across some containers."""

    count: int = 0
    last: dt.datetime | None = None

    def add(self, status: Obj) -> None:
        self.count += status.get("restartCount") or 0
        finished = _time(_get(status, "lastState", "terminated", "finishedAt"))
        if finished and (self.last is None or finished > self.last):
            self.last = finished

    def cell(self, now: dt.datetime) -> str:
        if self.count and self.last:
            return f"{self.count} ({human_duration((now - self.last).total_seconds())} ago)"
        return str(self.count)


def _exit_reason(terminated: Obj) -> str:
    signal = terminated.get("signal") or 0
    return f"Signal:{signal}" if signal else f"ExitCode:{terminated.get('exitCode') or 0}"


def _init_reason(index: int, total: int, state: Obj) -> str:
    terminated, waiting = state.get("terminated"), state.get("waiting")
    if terminated is not None:
        return "Init:" + (terminated.get("reason") or _exit_reason(terminated))
    if waiting is not None and waiting.get("reason") not in (None, "", "PodInitializing"):
        return "Init:" + waiting["reason"]
    return f"Init:{index}/{total}"


@dataclass
class _PodSummary:
    """READY, STATUS and RESTARTS of a pod, computed the way the real printer does."""

    reason: str
    ready: int = 0
    total: int = 0
    restarts: _Restarts = field(default_factory=_Restarts)


def _summarize_pod(pod: Obj) -> _PodSummary:
    spec, status = pod.get("spec") or {}, pod.get("status") or {}
    phase = status.get("phase") or ""
    summary = _PodSummary(reason=status.get("reason") or phase)
    if any(
        c.get("type") == "PodScheduled" and c.get("reason") == "SchedulingGated"
        for c in status.get("conditions") or []
    ):
        summary.reason = "SchedulingGated"
    init_specs = spec.get("initContainers") or []
    # Sidecars (restartable init containers) count as containers of the running pod.
    sidecars = {c.get("name") for c in init_specs if c.get("restartPolicy") == "Always"}
    summary.total = len(spec.get("containers") or []) + len(sidecars)

    every, sidecar = _Restarts(), _Restarts()
    initializing = False
    for index, cs in enumerate(status.get("initContainerStatuses") or []):
        every.add(cs)
        is_sidecar = cs.get("name") in sidecars
        if is_sidecar:
            sidecar.add(cs)
        state = cs.get("state") or {}
        terminated = state.get("terminated")
        if terminated is not None and not terminated.get("exitCode"):
            continue
        if is_sidecar and cs.get("started"):
            summary.ready += bool(cs.get("ready"))
            continue
        summary.reason = _init_reason(index, len(init_specs), state)
        initializing = True
        break

    summary.restarts = every
    if not initializing or _first_condition_true(status.get("conditions"), "Initialized"):
        # Once initialized, only sidecar restarts still count among the init containers.
        summary.restarts = sidecar
        _apply_container_statuses(summary, status)
    if _terminating(pod):
        if status.get("reason") == "NodeLost":
            summary.reason = "Unknown"
        elif phase not in ("Succeeded", "Failed"):
            summary.reason = "Terminating"
    return summary


def _apply_container_statuses(summary: _PodSummary, status: Obj) -> None:
    has_running = False
    # In reverse, so the first container's state is the one that sets the reason.
    for cs in reversed(status.get("containerStatuses") or []):
        summary.restarts.add(cs)
        state = cs.get("state") or {}
        waiting, terminated = state.get("waiting"), state.get("terminated")
        if waiting is not None and waiting.get("reason"):
            summary.reason = waiting["reason"]
        elif terminated is not None:
            summary.reason = terminated.get("reason") or _exit_reason(terminated)
        elif cs.get("ready") and state.get("running") is not None:
            has_running = True
            summary.ready += 1
    # A completed container next to running ones does not make the pod Completed.
    if summary.reason == "Completed" and has_running:
        conditions = status.get("conditions") or []
        ready = any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)
        summary.reason = "Running" if ready else "NotReady"


def _readiness_gates(pod: Obj) -> str:
    gates = _get(pod, "spec", "readinessGates") or []
    if not gates:
        return _NONE
    conditions = _get(pod, "status", "conditions")
    passed = sum(_first_condition_true(conditions, g.get("conditionType")) for g in gates)
    return f"{passed}/{len(gates)}"


def _pod_ip(status: Obj) -> str:
    ips = status.get("podIPs") or []
    return (ips[0].get("ip") if ips else status.get("podIP")) or _NONE


def _pod_conditions(pod: Obj) -> list[dict[str, str]]:
    """Row conditions the real server attaches to finished pods."""
    phase = _get(pod, "status", "phase")
    messages = {"Succeeded": "The pod has completed successfully.", "Failed": "The pod failed."}
    if phase not in messages:
        return []
    return [{"type": "Completed", "status": "True", "reason": phase, "message": messages[phase]}]


@_printer(
    "",
    "pods",
    _NAME,
    _col("Ready", desc="Ready containers out of all containers."),
    _col("Status", desc="Aggregate status of the pod's containers."),
    _col("Restarts", desc="Container restarts, and how long ago the last one was."),
    _AGE,
    _col("IP", desc="The pod's primary IP address.", wide=True),
    _col("Node", desc="The node the pod is bound to.", wide=True),
    _col("Nominated Node", desc="The node the scheduler nominated by preemption.", wide=True),
    _col("Readiness Gates", desc="Readiness gates that are satisfied.", wide=True),
    conditions=_pod_conditions,
)
def _pod(pod: Obj, now: dt.datetime) -> Cells:
    summary = _summarize_pod(pod)
    status = pod.get("status") or {}
    return [
        _name(pod),
        f"{summary.ready}/{summary.total}",
        summary.reason,
        summary.restarts.cell(now),
        _age(pod, now),
        _pod_ip(status),
        _get(pod, "spec", "nodeName") or _NONE,
        status.get("nominatedNodeName") or _NONE,
        _readiness_gates(pod),
    ]


# --- core: nodes, namespaces ------------------------------------------------------------------


def _node_status(node: Obj) -> str:
    ready = [c for c in _get(node, "status", "conditions") or [] if c.get("type") == "Ready"]
    if not ready:
        words = ["Unknown"]
    else:  # the last Ready condition wins, as the real printer keys them in a map
        words = ["Ready" if ready[-1].get("status") == "True" else "NotReady"]
    if _get(node, "spec", "unschedulable"):
        words.append("SchedulingDisabled")
    return ",".join(words)


def _node_roles(node: Obj) -> str:
    roles = set()
    for key, value in (_get(node, "metadata", "labels") or {}).items():
        if key.startswith("node-role.kubernetes.io/") and key != "node-role.kubernetes.io/":
            roles.add(key.removeprefix("node-role.kubernetes.io/"))
        elif key == "kubernetes.io/role" and value:
            roles.add(value)
    return ",".join(sorted(roles)) or _NONE


def _node_address(node: Obj, kind: str) -> str:
    addresses = _get(node, "status", "addresses") or []
    return next((a.get("address", "") for a in addresses if a.get("type") == kind), _NONE)


@_printer(
    "",
    "nodes",
    _NAME,
    _col("Status", desc="Readiness of the node, and whether it is cordoned."),
    _col("Roles", desc="Roles from the node's node-role labels."),
    _AGE,
    _col("Version", desc="Kubelet version."),
    _col("Internal-IP", desc="First internal address.", wide=True),
    _col("External-IP", desc="First external address.", wide=True),
    _col("OS-Image", desc="Operating system image.", wide=True),
    _col("Kernel-Version", desc="Kernel version.", wide=True),
    _col("Container-Runtime", desc="Container runtime and version.", wide=True),
)
def _node(node: Obj, now: dt.datetime) -> Cells:
    info = _get(node, "status", "nodeInfo") or {}
    return [
        _name(node),
        _node_status(node),
        _node_roles(node),
        _age(node, now),
        info.get("kubeletVersion", ""),
        _node_address(node, "InternalIP"),
        _node_address(node, "ExternalIP"),
        info.get("osImage") or _UNKNOWN,
        info.get("kernelVersion") or _UNKNOWN,
        info.get("containerRuntimeVersion") or _UNKNOWN,
    ]


@_printer("", "namespaces", _NAME, _col("Status", desc="Phase of the namespace."), _AGE)
def _namespace(ns: Obj, now: dt.datetime) -> Cells:
    return [_name(ns), _get(ns, "status", "phase") or "", _age(ns, now)]


# --- core: services, endpoints ----------------------------------------------------------------


def _service_external_ip(spec: Obj, status: Obj) -> str:
    kind, external = spec.get("type", "ClusterIP"), spec.get("externalIPs") or []
    if kind in ("ClusterIP", "NodePort"):
        return ",".join(external) or _NONE
    if kind == "LoadBalancer":
        # Never clipped: the server renders the wide form and kubectl prints it as is.
        return ",".join(_lb_ingress(status) + external) or "<pending>"
    if kind == "ExternalName":
        return spec.get("externalName", "")
    return _UNKNOWN


def _service_ports(ports: Iterable[Obj]) -> str:
    pieces = []
    for p in ports:
        node_port = f":{p['nodePort']}" if p.get("nodePort") else ""
        pieces.append(f"{p.get('port', 0)}{node_port}/{p.get('protocol', 'TCP')}")
    return ",".join(pieces) or _NONE


@_printer(
    "",
    "services",
    _NAME,
    _col("Type", desc="How the service is exposed."),
    _col("Cluster-IP", desc="The service's cluster IP."),
    _col("External-IP", desc="External addresses, or <pending> for an unassigned load balancer."),
    _col("Port(s)", desc="Service ports, with node ports where allocated."),
    _AGE,
    _col("Selector", desc="Label selector for the backing pods.", wide=True),
)
def _service(svc: Obj, now: dt.datetime) -> Cells:
    spec, status = svc.get("spec") or {}, svc.get("status") or {}
    cluster_ips = spec.get("clusterIPs") or [spec.get("clusterIP")]
    return [
        _name(svc),
        spec.get("type", "ClusterIP"),
        cluster_ips[0] or _NONE,
        _service_external_ip(spec, status),
        _service_ports(spec.get("ports") or []),
        _age(svc, now),
        _labels(spec.get("selector")),
    ]


def _host_port(ip: str, port: Any) -> str:
    return f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"


def _endpoint_addresses(endpoints: Obj) -> str:
    """The first three address:port pairs, then a count of the rest."""
    subsets = endpoints.get("subsets") or []
    if not subsets:
        return _NONE
    every: list[str] = []
    for subset in subsets:
        ips = [a.get("ip", "") for a in subset.get("addresses") or []]
        ports = subset.get("ports") or []
        if not ports:  # a headless service without ports lists bare IPs
            every += ips
        for port in ports:
            every += [_host_port(ip, port.get("port", 0)) for ip in ips]
    shown = ",".join(every[:3])
    return f"{shown} + {len(every) - 3} more..." if len(every) > 3 else shown


@_printer("", "endpoints", _NAME, _col("Endpoints", desc="Ready addresses and ports."), _AGE)
def _endpoints(ep: Obj, now: dt.datetime) -> Cells:
    return [_name(ep), _endpoint_addresses(ep), _age(ep, now)]


# --- core: events -----------------------------------------------------------------------------


def _event_source(event: Obj) -> str:
    component = _get(event, "source", "component") or event.get("reportingComponent") or ""
    host = _get(event, "source", "host") or event.get("reportingInstance") or ""
    return f"{component}, {host}" if host else component


def _event_object(event: Obj) -> str:
    involved = event.get("involvedObject") or {}
    kind, name = (involved.get("kind") or "").lower(), involved.get("name")
    return f"{kind}/{name}" if name else kind


@_printer(
    "",
    "events",
    _col("Last Seen", desc="Time since the event last occurred."),
    _col("Type", desc="Normal or Warning."),
    _col("Reason", desc="Short machine-readable reason."),
    _col("Object", desc="The object the event is about."),
    _col("Subobject", desc="Field path within the object.", wide=True),
    _col("Source", desc="Component (and host) that reported the event.", wide=True),
    _col("Message", desc="Human-readable description."),
    _col("First Seen", desc="Time since the event first occurred.", wide=True),
    _col("Count", desc="Times the event occurred.", wide=True),
    {**_col("Name", desc="Name of the event.", wide=True), "format": "name"},
)
def _event(event: Obj, now: dt.datetime) -> Cells:
    first = event.get("firstTimestamp") or event.get("eventTime")
    last = event.get("lastTimestamp") or first
    count = event.get("count") or 1  # events from the newer API carry no count
    if event.get("series"):
        last, count = event["series"].get("lastObservedTime"), event["series"].get("count", 0)
    return [
        _since(last, now),
        event.get("type", ""),
        event.get("reason", ""),
        _event_object(event),
        _get(event, "involvedObject", "fieldPath") or "",
        _event_source(event),
        (event.get("message") or "").strip(),
        _since(first, now),
        count,
        _name(event),
    ]


# --- core: config and identity ----------------------------------------------------------------


@_printer("", "configmaps", _NAME, _col("Data", desc="Number of data keys."), _AGE)
def _configmap(cm: Obj, now: dt.datetime) -> Cells:
    keys = len(cm.get("data") or {}) + len(cm.get("binaryData") or {})
    return [_name(cm), keys, _age(cm, now)]


@_printer(
    "",
    "secrets",
    _NAME,
    _col("Type", desc="Type of the secret."),
    _col("Data", desc="Number of data keys."),
    _AGE,
)
def _secret(secret: Obj, now: dt.datetime) -> Cells:
    return [_name(secret), secret.get("type", ""), len(secret.get("data") or {}), _age(secret, now)]


@_printer("", "serviceaccounts", _NAME, _col("Secrets", desc="Number of secrets."), _AGE)
def _serviceaccount(sa: Obj, now: dt.datetime) -> Cells:
    return [_name(sa), len(sa.get("secrets") or []), _age(sa, now)]


# --- core: storage ----------------------------------------------------------------------------


@_printer(
    "",
    "persistentvolumeclaims",
    _NAME,
    _col("Status", desc="Phase of the claim."),
    _col("Volume", desc="Bound volume."),
    _col("Capacity", desc="Capacity of the bound volume."),
    _col("Access Modes", desc="Access modes of the bound volume."),
    _col("StorageClass", desc="Storage class of the claim."),
    _col("VolumeAttributesClass", desc="Volume attributes class of the claim."),
    _AGE,
    _col("VolumeMode", desc="Filesystem or Block.", wide=True),
)
def _pvc(pvc: Obj, now: dt.datetime) -> Cells:
    spec, status = pvc.get("spec") or {}, pvc.get("status") or {}
    volume = spec.get("volumeName") or ""
    # Capacity and modes are only shown once bound; a missing quantity prints as zero.
    capacity = ((status.get("capacity") or {}).get("storage") or "0") if volume else ""
    return [
        _name(pvc),
        "Terminating" if _terminating(pvc) else status.get("phase", ""),
        volume,
        capacity,
        _access_modes(status.get("accessModes")) if volume else "",
        _storage_class(pvc, spec.get("storageClassName")),
        spec.get("volumeAttributesClassName") or _UNSET,
        _age(pvc, now),
        spec.get("volumeMode") or _UNSET,
    ]


@_printer(
    "",
    "persistentvolumes",
    _NAME,
    _col("Capacity", desc="Storage capacity."),
    _col("Access Modes", desc="Access modes."),
    _col("Reclaim Policy", desc="What happens to the volume when released."),
    _col("Status", desc="Phase of the volume."),
    _col("Claim", desc="Bound claim as namespace/name."),
    _col("StorageClass", desc="Storage class of the volume."),
    _col("VolumeAttributesClass", desc="Volume attributes class of the volume."),
    _col("Reason", desc="Reason for a failed phase."),
    _AGE,
    _col("VolumeMode", desc="Filesystem or Block.", wide=True),
)
def _pv(pv: Obj, now: dt.datetime) -> Cells:
    spec, status = pv.get("spec") or {}, pv.get("status") or {}
    claim = spec.get("claimRef")
    return [
        _name(pv),
        (spec.get("capacity") or {}).get("storage") or "0",
        _access_modes(spec.get("accessModes")),
        spec.get("persistentVolumeReclaimPolicy", ""),
        "Terminating" if _terminating(pv) else status.get("phase", ""),
        f"{claim.get('namespace', '')}/{claim.get('name', '')}" if claim else "",
        _storage_class(pv, spec.get("storageClassName")),
        spec.get("volumeAttributesClassName") or _UNSET,
        status.get("reason", ""),
        _age(pv, now),
        spec.get("volumeMode") or _UNSET,
    ]


# --- apps -------------------------------------------------------------------------------------


def _replicas(obj: Obj) -> int:
    replicas = _get(obj, "spec", "replicas")
    return 1 if replicas is None else replicas  # the API defaults replicas to 1


@_printer(
    "apps",
    "deployments",
    _NAME,
    _col("Ready", desc="Ready replicas out of desired replicas."),
    _col("Up-to-date", desc="Replicas updated to the current template."),
    _col("Available", desc="Replicas available to serve."),
    _AGE,
    *_TEMPLATE,
    _SELECTOR,
)
def _deployment(deploy: Obj, now: dt.datetime) -> Cells:
    status = deploy.get("status") or {}
    names, images = _template_containers(_get(deploy, "spec", "template"))
    selector = _selector(_get(deploy, "spec", "selector"))
    return [
        _name(deploy),
        f"{status.get('readyReplicas', 0)}/{_replicas(deploy)}",
        status.get("updatedReplicas", 0),
        status.get("availableReplicas", 0),
        _age(deploy, now),
        names,
        images,
        "<invalid>" if selector is None else selector,
    ]


@_printer(
    "apps",
    "replicasets",
    _NAME,
    _col("Desired", "integer", "Desired replicas."),
    _col("Current", "integer", "Current replicas."),
    _col("Ready", "integer", "Ready replicas."),
    _AGE,
    *_TEMPLATE,
    _SELECTOR,
)
def _replicaset(rs: Obj, now: dt.datetime) -> Cells:
    status = rs.get("status") or {}
    names, images = _template_containers(_get(rs, "spec", "template"))
    return [
        _name(rs),
        _replicas(rs),
        status.get("replicas", 0),
        status.get("readyReplicas", 0),
        _age(rs, now),
        names,
        images,
        _format_selector(_get(rs, "spec", "selector")),
    ]


@_printer(
    "apps",
    "statefulsets",
    _NAME,
    _col("Ready", desc="Ready replicas out of desired replicas."),
    _AGE,
    *_TEMPLATE,
)
def _statefulset(sts: Obj, now: dt.datetime) -> Cells:
    names, images = _template_containers(_get(sts, "spec", "template"))
    ready = _get(sts, "status", "readyReplicas") or 0
    return [_name(sts), f"{ready}/{_replicas(sts)}", _age(sts, now), names, images]


@_printer(
    "apps",
    "daemonsets",
    _NAME,
    _col("Desired", "integer", "Nodes that should run the daemon pod."),
    _col("Current", "integer", "Nodes running at least one daemon pod."),
    _col("Ready", "integer", "Nodes with a ready daemon pod."),
    _col("Up-to-date", "integer", "Nodes running the updated daemon pod."),
    _col("Available", "integer", "Nodes with an available daemon pod."),
    _col("Node Selector", desc="Node selector of the pod template."),
    _AGE,
    *_TEMPLATE,
    _SELECTOR,
)
def _daemonset(ds: Obj, now: dt.datetime) -> Cells:
    status = ds.get("status") or {}
    template = _get(ds, "spec", "template")
    names, images = _template_containers(template)
    counts = (
        "desiredNumberScheduled",
        "currentNumberScheduled",
        "numberReady",
        "updatedNumberScheduled",
        "numberAvailable",
    )
    return [
        _name(ds),
        *(status.get(field, 0) for field in counts),
        _labels(_get(template, "spec", "nodeSelector")),
        _age(ds, now),
        names,
        images,
        _format_selector(_get(ds, "spec", "selector")),
    ]


# --- policy, batch ----------------------------------------------------------------------------


@_printer(
    "policy",
    "poddisruptionbudgets",
    _NAME,
    _col("Min Available", desc="Pods that must stay available."),
    _col("Max Unavailable", desc="Pods that may be unavailable."),
    _col("Allowed Disruptions", "integer", "Pods that may be disrupted now."),
    _AGE,
)
def _pdb(pdb: Obj, now: dt.datetime) -> Cells:
    spec = pdb.get("spec") or {}
    return [
        _name(pdb),
        _int_or_string(spec.get("minAvailable"), "N/A"),
        _int_or_string(spec.get("maxUnavailable"), "N/A"),
        _get(pdb, "status", "disruptionsAllowed") or 0,
        _age(pdb, now),
    ]


def _job_status(job: Obj) -> str:
    conditions = _get(job, "status", "conditions")
    for kind in ("Complete", "Failed"):
        if _first_condition_true(conditions, kind):
            return kind
    if _terminating(job):
        return "Terminating"
    for kind in ("Suspended", "FailureTarget"):
        if _first_condition_true(conditions, kind):
            return kind
    return "Running"


def _job_completions(job: Obj) -> str:
    succeeded = _get(job, "status", "succeeded") or 0
    completions = _get(job, "spec", "completions")
    if completions is not None:
        return f"{succeeded}/{completions}"
    parallelism = _get(job, "spec", "parallelism") or 0
    return f"{succeeded}/1 of {parallelism}" if parallelism > 1 else f"{succeeded}/1"


def _job_duration(job: Obj, now: dt.datetime) -> str:
    start = _time(_get(job, "status", "startTime"))
    if start is None:
        return ""
    end = _time(_get(job, "status", "completionTime")) or now
    return human_duration((end - start).total_seconds())


@_printer(
    "batch",
    "jobs",
    _NAME,
    _col("Status", desc="Status of the job."),
    _col("Completions", desc="Succeeded pods out of required completions."),
    _col("Duration", desc="Time the job ran, or has been running."),
    _AGE,
    *_TEMPLATE,
    _SELECTOR,
)
def _job(job: Obj, now: dt.datetime) -> Cells:
    names, images = _template_containers(_get(job, "spec", "template"))
    return [
        _name(job),
        _job_status(job),
        _job_completions(job),
        _job_duration(job, now),
        _age(job, now),
        names,
        images,
        _format_selector(_get(job, "spec", "selector")),
    ]


@_printer(
    "batch",
    "cronjobs",
    _NAME,
    _col("Schedule", desc="Cron schedule."),
    _col("Timezone", desc="Time zone of the schedule."),
    _col("Suspend", "boolean", "Whether new runs are suspended."),
    _col("Active", "integer", "Jobs currently running."),
    _col("Last Schedule", desc="Time since a job was last scheduled."),
    _AGE,
    *_TEMPLATE,
    _SELECTOR,
)
def _cronjob(cj: Obj, now: dt.datetime) -> Cells:
    spec = cj.get("spec") or {}
    job_spec = _get(spec, "jobTemplate", "spec")
    names, images = _template_containers(_get(job_spec, "template"))
    last = _get(cj, "status", "lastScheduleTime")
    suspend = spec.get("suspend")
    return [
        _name(cj),
        spec.get("schedule", ""),
        spec.get("timeZone") or _NONE,
        _UNSET if suspend is None else str(bool(suspend)),  # a string cell, as the server sends
        len(_get(cj, "status", "active") or []),
        _NONE if last is None else _since(last, now),
        _age(cj, now),
        names,
        images,
        _format_selector(_get(job_spec, "selector")),
    ]


# --- storage.k8s.io, coordination.k8s.io, networking.k8s.io, apiextensions.k8s.io --------------

_DEFAULT_CLASS_ANNOTATIONS = (
    "storageclass.kubernetes.io/is-default-class",
    "storageclass.beta.kubernetes.io/is-default-class",
)


@_printer(
    "storage.k8s.io",
    "storageclasses",
    _NAME,
    _col("Provisioner", desc="Volume plugin that provisions volumes."),
    _col("ReclaimPolicy", desc="Reclaim policy of provisioned volumes."),
    _col("VolumeBindingMode", desc="When volumes are bound and provisioned."),
    _col("AllowVolumeExpansion", desc="Whether claims may be expanded."),
    _AGE,
)
def _storageclass(sc: Obj, now: dt.datetime) -> Cells:
    annotations = _get(sc, "metadata", "annotations") or {}
    default = any(annotations.get(key) == "true" for key in _DEFAULT_CLASS_ANNOTATIONS)
    return [
        _name(sc) + (" (default)" if default else ""),
        sc.get("provisioner", ""),
        sc.get("reclaimPolicy") or "Delete",
        sc.get("volumeBindingMode") or "Immediate",
        bool(sc.get("allowVolumeExpansion")),
        _age(sc, now),
    ]


@_printer(
    "storage.k8s.io",
    "volumeattachments",
    _NAME,
    # The real server marks this column as a name too; kubectl only uses the first one.
    {**_col("Attacher", desc="Volume driver that attaches the volume."), "format": "name"},
    _col("PV", desc="Persistent volume being attached."),
    _col("Node", desc="Node the volume is attached to."),
    _col("Attached", "boolean", "Whether the volume is attached."),
    _AGE,
)
def _volumeattachment(va: Obj, now: dt.datetime) -> Cells:
    spec = va.get("spec") or {}
    return [
        _name(va),
        spec.get("attacher", ""),
        _get(spec, "source", "persistentVolumeName") or "",
        spec.get("nodeName", ""),
        bool(_get(va, "status", "attached")),
        _age(va, now),
    ]


@_printer("coordination.k8s.io", "leases", _NAME, _col("Holder", desc="Current holder."), _AGE)
def _lease(lease: Obj, now: dt.datetime) -> Cells:
    return [_name(lease), _get(lease, "spec", "holderIdentity") or "", _age(lease, now)]


def _ingress_hosts(rules: list[Obj]) -> str:
    """The first three hosts; once three are listed, any further rule adds a "more" count."""
    hosts: list[str] = []
    more = False
    for rule in rules:
        if len(hosts) == 3:
            more = True
            break
        if rule.get("host"):
            hosts.append(rule["host"])
    if not hosts:
        return "*"
    # The count is of rules past three, whether or not they name a host (as the real printer).
    return ",".join(hosts) + (f" + {len(rules) - 3} more..." if more else "")


@_printer(
    "networking.k8s.io",
    "ingresses",
    _NAME,
    _col("Class", desc="Ingress class handling this ingress."),
    _col("Hosts", desc="Hosts the rules match."),
    _col("Address", desc="Load-balancer addresses."),
    _col("Ports", desc="Ports served: 80, and 443 with TLS."),
    _AGE,
)
def _ingress(ing: Obj, now: dt.datetime) -> Cells:
    spec = ing.get("spec") or {}
    return [
        _name(ing),
        spec.get("ingressClassName") or _NONE,
        _ingress_hosts(spec.get("rules") or []),
        ",".join(_lb_ingress(ing.get("status"))),
        "80, 443" if spec.get("tls") else "80",
        _age(ing, now),
    ]


@_printer(
    "apiextensions.k8s.io",
    "customresourcedefinitions",
    _NAME,
    _col("Created At", "date", "Creation time of the object."),
)
def _crd(crd: Obj, now: dt.datetime) -> Cells:
    # The generic table of the real server: a timestamp, not an age.
    created = _time(_get(crd, "metadata", "creationTimestamp"))
    stamp = created.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if created else ""
    return [_name(crd), stamp]


# --- Custom resources: additionalPrinterColumns -----------------------------------------------

# A CRD version without printer columns is served with this one.
_DEFAULT_CUSTOM_COLUMNS = (
    {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
)

_STEP = re.compile(
    r"""\.(?P<field>(?:\\.|[^.\[\]\\])+)
      | \[(?P<index>-?\d+)\]
      | \[(?P<all>\*)\]
      | \[(?P<quote>['"])(?P<key>.*?)(?P=quote)\]
      | \[\?\(@(?P<test>(?:\.[^.\s=!)]+)+)\s*==\s*(?P<literal>"[^"]*"|'[^']*'|[^\s)]+)\)\]
    """,
    re.VERBOSE,
)

Step = tuple[str, Any]


def _parse_jsonpath(path: str) -> list[Step] | None:
    """`.a.b`, `.a[0]`, `.a[*].b`, `['k']` and `[?(@.x=="y")]` steps; None if unsupported."""
    path = path.strip().removeprefix("{").removesuffix("}").removeprefix("$")
    steps: list[Step] = []
    pos = 0
    while pos < len(path):
        match = _STEP.match(path, pos)
        if match is None:
            return None
        pos = match.end()
        if match["field"] is not None:
            steps.append(("key", match["field"].replace("\\.", ".")))
        elif match["index"] is not None:
            steps.append(("index", int(match["index"])))
        elif match["all"] is not None:
            steps.append(("all", None))
        elif match["key"] is not None:
            steps.append(("key", match["key"]))
        else:
            test = match["test"].split(".")[1:]
            steps.append(("filter", (test, _literal(match["literal"]))))
    return steps


def _literal(text: str) -> Any:
    if text[0] in "'\"":
        return text[1:-1]
    try:
        return json.loads(text)
    except ValueError:
        return text


def _select(steps: list[Step], root: Any) -> list[Any]:
    """Every value the path reaches; missing keys and out-of-range indexes just yield nothing."""
    current = [root]
    for kind, arg in steps:
        found: list[Any] = []
        for value in current:
            if (kind == "key" and isinstance(value, Mapping) and arg in value) or (
                kind == "index" and isinstance(value, list) and -len(value) <= arg < len(value)
            ):
                found.append(value[arg])
            elif kind == "all" and isinstance(value, list):
                found += value
            elif kind == "filter" and isinstance(value, list):
                test, expected = arg
                found += [item for item in value if _get(item, *test) == expected]
        current = found
    return current


def _go_float(value: float) -> str:
    """A float as Go's %v prints it: shortest digits, exponent form outside 1e-4 <= |x| < 1e6."""
    digits = Decimal(repr(value)).normalize()
    exponent = digits.adjusted()
    if -4 <= exponent < 6:
        return format(digits, "f")
    mantissa = format(digits.scaleb(-exponent), "f")
    return f"{mantissa}e{'+' if exponent >= 0 else '-'}{abs(exponent):02d}"


def _go_text(value: Any) -> str | None:
    """A value as the server's JSONPath printer renders it into a string column."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return _go_float(value)
    if isinstance(value, (dict, list)):  # Go marshals maps and lists as compact, sorted JSON
        text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return str(value)


def _typed_cell(kind: str, value: Any, now: dt.datetime) -> Any:
    """A non-string printer-column cell; None where the value does not fit the type."""
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind == "integer" and number:
        return int(value)
    if kind == "number" and number:
        return float(value)
    if kind == "boolean" and isinstance(value, bool):
        return value
    if kind == "date" and isinstance(value, str):
        # Dates are sent as ages; the column keeps type "date".
        if value in ("", "null"):
            return _UNKNOWN
        return "<invalid>" if _time(value) is None else _since(value, now)
    return None


def _custom_cell(
    column: Mapping[str, Any], steps: list[Step] | None, obj: Obj, now: dt.datetime
) -> Any:
    found = _select(steps, obj) if steps is not None else []
    if not found:
        return None
    # Only the first match is used, even for [*] paths.
    if column.get("type") == "string":
        return _go_text(found[0])
    return _typed_cell(column.get("type", ""), found[0], now)


def _custom_printer(columns: Iterable[Mapping[str, Any]]) -> _Printer:
    columns = list(columns)
    compiled = [_parse_jsonpath(c.get("jsonPath", "")) for c in columns]
    definitions = tuple(
        {
            "name": c.get("name", ""),
            "type": c.get("type", "string"),
            "format": c.get("format", ""),
            "description": c.get("description") or f"Custom resource column {c.get('jsonPath')}",
            "priority": c.get("priority", 0),
        }
        for c in columns
    )

    def cells(obj: Obj, now: dt.datetime) -> Cells:
        values = (_custom_cell(c, s, obj, now) for c, s in zip(columns, compiled, strict=True))
        return [_name(obj), *values]

    return _Printer((_NAME, *definitions), cells)


# --- The table --------------------------------------------------------------------------------


def _row(printer: _Printer, obj: Obj, now: dt.datetime, include_object: str) -> dict[str, Any]:
    row: dict[str, Any] = {"cells": printer.cells(obj, now)}
    conditions = printer.conditions(obj) if printer.conditions else []
    if conditions:
        row["conditions"] = conditions
    if include_object == "Object":
        row["object"] = obj
    elif include_object == "Metadata":
        row["object"] = {
            "kind": "PartialObjectMetadata",
            "apiVersion": "meta.k8s.io/v1",
            "metadata": obj.get("metadata") or {},
        }
    return row


def table(
    group: str,
    plural: str,
    objects: list[dict],
    now: dt.datetime,
    printer_columns: list[dict] | None = None,
    include_object: str = "Metadata",
    with_columns: bool = True,
) -> dict:
    """Render objects of one resource as a meta.k8s.io/v1 Table.

    The caller fills in metadata.resourceVersion/continue. `with_columns=False` leaves out the
    column definitions, as watch events after the first do. `include_object` is the
    includeObject parameter: "None", "Metadata" (PartialObjectMetadata) or "Object".
    """
    if include_object not in ("None", "Metadata", "Object"):
        raise ValueError(f"unknown includeObject {include_object!r}")
    if printer_columns:
        printer = _custom_printer(printer_columns)
    else:
        printer = _PRINTERS.get((group, plural)) or _custom_printer(_DEFAULT_CUSTOM_COLUMNS)
    result: dict[str, Any] = {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {"resourceVersion": ""},
    }
    if with_columns:
        result["columnDefinitions"] = [dict(c) for c in printer.columns]
    result["rows"] = [_row(printer, obj, now, include_object) for obj in objects]
    return result
