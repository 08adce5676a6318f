"""`kubectl describe`-like text for any object: the metadata, a section for the kinds on-call
reads most (Pod, Node, Deployment, Certificate, Secret), the rest as YAML, then the events.

Columns are aligned as kubectl aligns them (Go's tabwriter: cells end with a tab, and a
column's width is set per run of consecutive lines that have a cell in it). Secret values
and the last-applied-configuration annotation (which holds a Secret's data) are never shown.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import yaml

from ..timestamps import parse_time
from .common import age, annotations_of, labels_of, name_of, namespace_of

MAX_ANNOTATION = 140  # characters of an annotation value before it is cut
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
_PADDING = 2
_NONE = "<none>"

Obj = dict[str, Any]


# -- layout ------------------------------------------------------------------------------------
def tabulate(lines: Sequence[str]) -> str:
    """Align tab-separated cells as Go's text/tabwriter does with padding 2 (kubectl's
    settings): a column block is a run of consecutive lines with a tab-ended cell in that
    column, and nested blocks are aligned within it. Trailing blanks are dropped."""
    rows = [line.split("\t") for line in lines]
    out = [""] * len(rows)
    widths: list[int] = []

    def emit(start: int, end: int) -> None:
        for i in range(start, end):
            cells = rows[i]
            padded = [
                c.ljust(widths[j]) if j < len(widths) else c for j, c in enumerate(cells[:-1])
            ]
            out[i] = ("".join(padded) + cells[-1]).rstrip()

    def block(first: int, end: int) -> None:
        column = len(widths)
        line = first
        while line < end:
            if len(rows[line]) - 1 <= column:
                line += 1
                continue
            emit(first, line)
            first = line
            width = 0
            while line < end and len(rows[line]) - 1 > column:
                width = max(width, len(rows[line][column]) + _PADDING)
                line += 1
            widths.append(width)
            block(first, line)
            widths.pop()
            first = line
        emit(first, end)

    block(0, len(rows))
    return "\n".join(out) + "\n"


class _Out:
    """Lines of tab-separated cells, indented two spaces per level, as kubectl writes them."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def __call__(self, level: int, *cells: Any) -> None:
        clean = (str(c).replace("\t", " ").replace("\n", " ") for c in cells)
        self.lines.append("  " * level + "\t".join(clean))

    def multiline(self, level: int, title: str, items: Sequence[str]) -> None:
        """A title with one item per line: "Labels:  a=b" then "        c=d"."""
        if not items:
            self(level, f"{title}:", _NONE)
            return
        self(level, f"{title}:", items[0])
        for item in items[1:]:
            self(level, "", item)

    def table(
        self, level: int, header: Sequence[str], rows: Iterable[Sequence[Any]], rule: bool = True
    ) -> None:
        self(level, *header)
        if rule:
            self(level, *("-" * len(h) for h in header))
        for row in rows:
            self(level, *row)

    def yaml(self, level: int, value: Any) -> None:
        text = yaml.safe_dump(value, sort_keys=False, default_flow_style=False, width=1000)
        for line in text.splitlines():
            self(level, line)


# -- small formats -----------------------------------------------------------------------------
def _get(obj: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(key)
    return obj


def _when(value: str | None) -> str:
    """An API timestamp as kubectl describe prints it (RFC 1123), in UTC."""
    epoch = parse_time(value)
    if epoch is None:
        return _NONE
    return datetime.fromtimestamp(epoch, UTC).strftime("%a, %d %b %Y %H:%M:%S +0000")


def _short(value: str) -> str:
    first, *more = value.splitlines() or [""]
    if len(first) > MAX_ANNOTATION or more:
        return first[:MAX_ANNOTATION] + "..."
    return first


def _ports(ports: Sequence[Obj] | None) -> str:
    return ", ".join(f"{p.get('containerPort')}/{p.get('protocol', 'TCP')}" for p in ports or ())


def _conditions(obj: Obj) -> list[Obj]:
    return _get(obj, "status", "conditions") or []


def _selector(selector: Obj | None) -> str:
    selector = selector or {}
    terms = [f"{k}={v}" for k, v in sorted((selector.get("matchLabels") or {}).items())]
    for e in selector.get("matchExpressions") or []:
        values = ",".join(e.get("values") or [])
        operator = e.get("operator", "")
        if operator in ("In", "NotIn"):
            terms.append(f"{e.get('key')} {operator.lower()} ({values})")
        else:
            terms.append(("!" if operator == "DoesNotExist" else "") + str(e.get("key")))
    return ",".join(terms) or _NONE


# -- kinds -------------------------------------------------------------------------------------
def _state(out: _Out, level: int, title: str, state: Obj) -> None:
    if "running" in state:
        out(level, f"{title}:", "Running")
        out(level + 1, "Started:", _when(_get(state, "running", "startedAt")))
    elif "terminated" in state:
        terminated = state["terminated"]
        out(level, f"{title}:", "Terminated")
        out(level + 1, "Reason:", terminated.get("reason") or _NONE)
        if terminated.get("message"):
            out(level + 1, "Message:", terminated["message"])
        out(level + 1, "Exit Code:", terminated.get("exitCode", 0))
        if terminated.get("signal"):
            out(level + 1, "Signal:", terminated["signal"])
        out(level + 1, "Started:", _when(terminated.get("startedAt")))
        out(level + 1, "Finished:", _when(terminated.get("finishedAt")))
    elif "waiting" in state:
        waiting = state["waiting"] or {}
        out(level, f"{title}:", "Waiting")
        out(level + 1, "Reason:", waiting.get("reason") or _NONE)
        if waiting.get("message"):
            out(level + 1, "Message:", waiting["message"])
    else:
        out(level, f"{title}:", "Waiting" if title == "State" else _NONE)


def _containers(out: _Out, title: str, specs: Sequence[Obj], statuses: Sequence[Obj]) -> None:
    out(0, f"{title}:")
    by_name = {s.get("name"): s for s in statuses}
    for spec in specs:
        status = by_name.get(spec.get("name"), {})
        out(1, f"{spec.get('name')}:")
        if status.get("containerID"):
            out(2, "Container ID:", status["containerID"])
        out(2, "Image:", spec.get("image", ""))
        if status.get("imageID"):
            out(2, "Image ID:", status["imageID"])
        out(2, "Port:", _ports(spec.get("ports")) or _NONE)
        _state(out, 2, "State", status.get("state") or {})
        if status.get("lastState"):
            _state(out, 2, "Last State", status["lastState"])
        out(2, "Ready:", str(bool(status.get("ready"))))
        out(2, "Restart Count:", status.get("restartCount", 0))
        mounts = [
            f"{m.get('mountPath')} from {m.get('name')} ({'ro' if m.get('readOnly') else 'rw'})"
            for m in spec.get("volumeMounts") or []
        ]
        out(2, "Mounts:", "" if mounts else _NONE)
        for mount in mounts:
            out(3, mount)


def _volume(out: _Out, volume: Obj) -> None:
    out(1, f"{volume.get('name')}:")
    if "persistentVolumeClaim" in volume:
        claim = volume["persistentVolumeClaim"]
        out(2, "Type:", "PersistentVolumeClaim (a reference to a PersistentVolumeClaim)")
        out(2, "ClaimName:", claim.get("claimName", ""))
        out(2, "ReadOnly:", str(bool(claim.get("readOnly"))).lower())
    elif "secret" in volume:
        out(2, "Type:", "Secret (a volume populated by a Secret)")
        out(2, "SecretName:", volume["secret"].get("secretName", ""))
    elif "configMap" in volume:
        out(2, "Type:", "ConfigMap (a volume populated by a ConfigMap)")
        out(2, "Name:", volume["configMap"].get("name", ""))
    elif "emptyDir" in volume:
        out(2, "Type:", "EmptyDir (a temporary directory that shares a pod's lifetime)")
        out(2, "Medium:", (volume["emptyDir"] or {}).get("medium", ""))
    elif "hostPath" in volume:
        out(2, "Type:", "HostPath (bare host directory volume)")
        out(2, "Path:", volume["hostPath"].get("path", ""))
    else:
        kind = next((k for k in volume if k != "name"), "")
        out(2, "Type:", kind[:1].upper() + kind[1:] if kind else "<unknown>")


def _pod(out: _Out, pod: Obj, now: float) -> None:
    spec, status = pod.get("spec") or {}, pod.get("status") or {}
    node = spec.get("nodeName")
    out(0, "Node:", f"{node}/{status.get('hostIP', '')}" if node else _NONE)
    out(0, "Start Time:", _when(status.get("startTime")))
    phase = status.get("phase", "")
    deleted = parse_time(_get(pod, "metadata", "deletionTimestamp"))
    if deleted is not None:
        phase = f"Terminating (lasts {age(now - deleted)})"
    out(0, "Status:", phase)
    if status.get("reason"):
        out(0, "Reason:", status["reason"])
    if status.get("message"):
        out(0, "Message:", status["message"])
    out(0, "IP:", status.get("podIP") or "")
    refs = _get(pod, "metadata", "ownerReferences") or []
    owner = next((r for r in refs if r.get("controller")), None)
    if owner:
        out(0, "Controlled By:", f"{owner.get('kind')}/{owner.get('name')}")
    if spec.get("initContainers"):
        _containers(
            out,
            "Init Containers",
            spec["initContainers"],
            status.get("initContainerStatuses") or [],
        )
    _containers(
        out, "Containers", spec.get("containers") or [], status.get("containerStatuses") or []
    )
    out(0, "Conditions:")
    rows = ((c.get("type"), c.get("status")) for c in _conditions(pod))
    out.table(1, ("Type", "Status"), rows, rule=False)
    out(0, "Volumes:", "" if spec.get("volumes") else _NONE)
    for volume in spec.get("volumes") or []:
        _volume(out, volume)


def _node(out: _Out, node: Obj, now: float) -> None:
    spec, status = node.get("spec") or {}, node.get("status") or {}
    prefix = "node-role.kubernetes.io/"
    roles = sorted(k.removeprefix(prefix) for k in labels_of(node) if k.startswith(prefix))
    out(0, "Roles:", ",".join(roles) or _NONE)
    taints = [
        f"{t.get('key')}" + (f"={t['value']}" if t.get("value") else "") + f":{t.get('effect')}"
        for t in spec.get("taints") or []
    ]
    out.multiline(0, "Taints", taints)
    out(0, "Unschedulable:", str(bool(spec.get("unschedulable"))).lower())
    out(0, "Conditions:")
    out.table(
        1,
        ("Type", "Status", "LastHeartbeatTime", "LastTransitionTime", "Reason", "Message"),
        (
            (
                c.get("type"),
                c.get("status"),
                _when(c.get("lastHeartbeatTime")),
                _when(c.get("lastTransitionTime")),
                c.get("reason", ""),
                c.get("message", ""),
            )
            for c in _conditions(node)
        ),
    )
    out(0, "Addresses:")
    for address in status.get("addresses") or []:
        out(1, f"{address.get('type')}:", address.get("address", ""))
    for title in ("capacity", "allocatable"):
        out(0, f"{title.capitalize()}:")
        for resource, quantity in (status.get(title) or {}).items():
            out(1, f"{resource}:", quantity)
    info = status.get("nodeInfo") or {}
    out(0, "System Info:")
    for field, title in (
        ("machineID", "Machine ID"),
        ("systemUUID", "System UUID"),
        ("bootID", "Boot ID"),
        ("kernelVersion", "Kernel Version"),
        ("osImage", "OS Image"),
        ("operatingSystem", "Operating System"),
        ("architecture", "Architecture"),
        ("containerRuntimeVersion", "Container Runtime Version"),
        ("kubeletVersion", "Kubelet Version"),
        ("kubeProxyVersion", "Kube-Proxy Version"),
    ):
        out(1, f"{title}:", info.get(field, ""))
    if spec.get("podCIDR"):
        out(0, "PodCIDR:", spec["podCIDR"])
    if spec.get("providerID"):
        out(0, "ProviderID:", spec["providerID"])


def _deployment(out: _Out, deployment: Obj, now: float) -> None:
    spec, status = deployment.get("spec") or {}, deployment.get("status") or {}
    out(0, "Selector:", _selector(spec.get("selector")))
    out(
        0,
        "Replicas:",
        f"{spec.get('replicas', 1)} desired | {status.get('updatedReplicas', 0)} updated | "
        f"{status.get('replicas', 0)} total | {status.get('availableReplicas', 0)} available | "
        f"{status.get('unavailableReplicas', 0)} unavailable",
    )
    strategy = spec.get("strategy") or {}
    out(0, "StrategyType:", strategy.get("type", "RollingUpdate"))
    out(0, "MinReadySeconds:", spec.get("minReadySeconds", 0))
    if strategy.get("type", "RollingUpdate") == "RollingUpdate":
        rolling = strategy.get("rollingUpdate") or {}
        out(
            0,
            "RollingUpdateStrategy:",
            f"{rolling.get('maxUnavailable', '25%')} max unavailable, "
            f"{rolling.get('maxSurge', '25%')} max surge",
        )
    template = spec.get("template") or {}
    out(0, "Pod Template:")
    out.multiline(1, "Labels", [f"{k}={v}" for k, v in sorted(labels_of(template).items())])
    annotations = annotations_of(template)
    if annotations:
        out.multiline(
            1, "Annotations", [f"{k}: {_short(v)}" for k, v in sorted(annotations.items())]
        )
    out(1, "Containers:")
    for container in _get(template, "spec", "containers") or []:
        out(2, f"{container.get('name')}:")
        out(3, "Image:", container.get("image", ""))
        out(3, "Port:", _ports(container.get("ports")) or _NONE)
    out(0, "Conditions:")
    out.table(
        1,
        ("Type", "Status", "Reason"),
        ((c.get("type"), c.get("status"), c.get("reason", "")) for c in _conditions(deployment)),
    )


def _certificate(out: _Out, cert: Obj, now: float) -> None:
    spec, status = cert.get("spec") or {}, cert.get("status") or {}
    if spec.get("commonName"):
        out(0, "Common Name:", spec["commonName"])
    out.multiline(0, "DNS Names", list(spec.get("dnsNames") or []))
    ref = spec.get("issuerRef") or {}
    out(0, "Issuer:", f"{ref.get('kind') or 'Issuer'}/{ref.get('name', '')}")
    out(0, "Secret Name:", spec.get("secretName", ""))
    if spec.get("renewBefore"):
        out(0, "Renew Before:", spec["renewBefore"])
    out(0, "Status:")
    out(1, "Conditions:", "" if _conditions(cert) else _NONE)
    if _conditions(cert):
        out.table(
            2,
            ("Type", "Status", "Reason", "Last Transition", "Message"),
            (
                (
                    c.get("type"),
                    c.get("status"),
                    c.get("reason", ""),
                    _when(c.get("lastTransitionTime")),
                    c.get("message", ""),
                )
                for c in _conditions(cert)
            ),
        )
    out(1, "Not Before:", _when(status.get("notBefore")))
    not_after = parse_time(status.get("notAfter"))
    left = ""
    if not_after is not None:
        left = (
            f" (in {age(not_after - now)})" if not_after > now else f" ({age(now - not_after)} ago)"
        )
    out(1, "Not After:", _when(status.get("notAfter")) + left)
    out(1, "Renewal Time:", _when(status.get("renewalTime")))
    if status.get("revision") is not None:
        out(1, "Revision:", status["revision"])
    if status.get("lastFailureTime"):
        out(1, "Last Failure Time:", _when(status["lastFailureTime"]))


def _decoded_size(value: str) -> int:
    try:
        return len(base64.b64decode(value, validate=True))
    except (binascii.Error, ValueError):
        return len(value.encode())


def _secret(out: _Out, secret: Obj, now: float) -> None:
    out(0, "")
    out(0, "Type:", secret.get("type", "Opaque"))
    out(0, "")
    out(0, "Data")
    out(0, "====")
    sizes = {k: _decoded_size(v or "") for k, v in (secret.get("data") or {}).items()}
    sizes |= {k: len((v or "").encode()) for k, v in (secret.get("stringData") or {}).items()}
    for key in sorted(sizes):
        out(0, f"{key}:", f"{sizes[key]} bytes")


def _generic(out: _Out, obj: Obj, now: float) -> None:
    for key, value in obj.items():
        if key in ("apiVersion", "kind", "metadata"):
            continue
        title = f"{key[:1].upper()}{key[1:]}:"
        if isinstance(value, dict | list) and value:
            out(0, title)
            out.yaml(1, value)
        else:
            out(0, title, _NONE if value in (None, {}, []) else value)


_SECTIONS: Mapping[str, Callable[[_Out, Obj, float], None]] = {
    "Pod": _pod,
    "Node": _node,
    "Deployment": _deployment,
    "Certificate": _certificate,
    "Secret": _secret,
}


# -- events ------------------------------------------------------------------------------------
def _regarding(event: Obj) -> Obj:
    return event.get("involvedObject") or event.get("regarding") or {}


def _about(event: Obj, obj: Obj, kind: str) -> bool:
    target = _regarding(event)
    uid = _get(obj, "metadata", "uid")
    if uid and target.get("uid"):
        return target["uid"] == uid
    return (
        target.get("kind") == kind
        and target.get("name") == name_of(obj)
        and (target.get("namespace") or "") == namespace_of(obj)
    )


def _last_seen(event: Obj) -> float:
    for value in (
        _get(event, "series", "lastObservedTime"),
        event.get("lastTimestamp"),
        event.get("eventTime"),
        event.get("firstTimestamp"),
        event.get("deprecatedLastTimestamp"),
    ):
        seen = parse_time(value)
        if seen is not None:
            return seen
    return parse_time(_get(event, "metadata", "creationTimestamp")) or 0.0


def _event_age(event: Obj, now: float) -> str:
    last = _last_seen(event)
    count = _get(event, "series", "count") or event.get("count") or 1
    first = parse_time(event.get("firstTimestamp") or event.get("eventTime"))
    if count > 1 and first is not None:
        return f"{age(now - last)} (x{count} over {age(now - first)})"
    return age(now - last)


def _event_source(event: Obj) -> str:
    source = event.get("source") or {}
    component = (
        source.get("component")
        or event.get("reportingComponent")
        or event.get("reportingController")
        or ""
    )
    return f"{component}, {source['host']}" if source.get("host") else component


def _events(out: _Out, obj: Obj, kind: str, events: Iterable[Obj], now: float) -> None:
    mine = sorted((e for e in events if _about(e, obj, kind)), key=_last_seen)
    if not mine:
        out(0, "Events:", _NONE)
        return
    out(0, "Events:")
    out.table(
        1,
        ("Type", "Reason", "Age", "From", "Message"),
        (
            (
                e.get("type", ""),
                e.get("reason", ""),
                _event_age(e, now),
                _event_source(e),
                (e.get("message") or e.get("note") or "").strip(),
            )
            for e in mine
        ),
    )


# -- describe ----------------------------------------------------------------------------------
def describe(
    obj: dict[str, Any], events: Sequence[dict[str, Any]], now: float, kind: str = ""
) -> str:
    """The object as `kubectl describe` shows it, with the events about it (others in
    `events` are ignored). `kind` names the kind when `obj` lacks one, as list items do."""
    kind = obj.get("kind") or kind
    if not kind and "type" in obj and ("data" in obj or "stringData" in obj):
        kind = "Secret"  # a list item that looks like one: never risk printing its values
    out = _Out()
    out(0, "Name:", name_of(obj))
    if namespace_of(obj):
        out(0, "Namespace:", namespace_of(obj))
    out.multiline(0, "Labels", [f"{k}={v}" for k, v in sorted(labels_of(obj).items())])
    annotations = sorted((k, v) for k, v in annotations_of(obj).items() if k != LAST_APPLIED)
    out.multiline(0, "Annotations", [f"{k}: {_short(v)}" for k, v in annotations])
    out(0, "CreationTimestamp:", _when(_get(obj, "metadata", "creationTimestamp")))
    _SECTIONS.get(kind, _generic)(out, obj, now)
    _events(out, obj, kind, events, now)
    return tabulate(out.lines)
