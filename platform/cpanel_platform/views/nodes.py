"""The nodes pane: LKE pools and their Linodes merged with the Kubernetes Nodes, and the recent
LKE events (recycles, node creations) that explain what the nodes are doing."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ..linode import LinodeSnapshot, LkeEvent, LkeNode
from ..timestamps import parse_time
from .common import Severity, condition, labels_of, name_of

PROVIDER_PREFIX = "linode://"
_ROLE_PREFIX = "node-role.kubernetes.io/"
_EVENT_SEVERITY = {
    "failed": Severity.ERROR,
    "started": Severity.WARN,
    "scheduled": Severity.WARN,
    "finished": Severity.OK,
}


@dataclass(frozen=True)
class NodeRow:
    key: str  # the node's name: the Kubernetes Node's, else the Linode's label, else the LKE id
    name: str
    pool_id: int | None  # None: a Kubernetes Node in no known pool
    linode_node_id: str  # "12345-6aa78910bc", "" when unknown
    instance_id: int | None
    linode_status: str  # "ready" | "not_ready" | "" when unknown
    instance_status: str  # the Linode's own status: running, booting, provisioning …
    k8s_ready: str  # "True" | "False" | "Unknown" | "-" (no Kubernetes Node yet)
    schedulable: bool
    version: str  # kubelet version
    pods: int  # non-terminated pods bound to the node
    age_seconds: float | None
    roles: str  # as kubectl prints them: "control-plane,worker" or "<none>"
    internal_ip: str
    severity: Severity


@dataclass(frozen=True)
class PoolView:
    id: int
    type: str  # Linode plan, e.g. g6-dedicated-8
    count: int  # the pool's target size
    nodes: tuple[NodeRow, ...]
    autoscaler: bool


@dataclass(frozen=True)
class EventRow:
    key: str  # the Linode event id
    created: float
    age_seconds: float
    action: str  # lke_node_recycle …
    status: str  # scheduled | started | finished | failed | notification
    entity: str
    user: str
    message: str
    severity: Severity


@dataclass(frozen=True)
class NodesView:
    cluster_label: str  # "" without a Linode snapshot
    region: str
    k8s_version: str
    pools: tuple[PoolView, ...]
    unpooled: tuple[NodeRow, ...]  # Kubernetes Nodes that match no pool node (e.g. no token)
    events: tuple[EventRow, ...]  # newest first
    ready_nodes: int  # rows whose Kubernetes Node is Ready
    total_nodes: int  # every row: pool nodes (joined or not) and unpooled Nodes


def _instance_id(node: dict[str, Any]) -> int | None:
    provider = (node.get("spec") or {}).get("providerID") or ""
    if not provider.startswith(PROVIDER_PREFIX):
        return None
    try:
        return int(provider.removeprefix(PROVIDER_PREFIX))
    except ValueError:
        return None


def _roles(node: dict[str, Any]) -> str:
    roles = set()
    for key, value in labels_of(node).items():
        if key.startswith(_ROLE_PREFIX) and key != _ROLE_PREFIX:
            roles.add(key.removeprefix(_ROLE_PREFIX))
        elif key == "kubernetes.io/role" and value:
            roles.add(value)
    return ",".join(sorted(roles)) or "<none>"


def _address(node: dict[str, Any], kind: str) -> str:
    addresses = (node.get("status") or {}).get("addresses") or []
    return next((a.get("address", "") for a in addresses if a.get("type") == kind), "")


def _severity(k8s_ready: str, schedulable: bool, linode_status: str) -> Severity:
    if k8s_ready in ("False", "Unknown") or linode_status == "not_ready":
        return Severity.ERROR
    if k8s_ready == "-" or not schedulable:
        return Severity.WARN  # joining the cluster, or cordoned
    return Severity.OK


def _row(
    node: dict[str, Any] | None,
    lke: LkeNode | None,
    pool_id: int | None,
    pods: Counter[str],
    now: float,
) -> NodeRow:
    name = (
        (name_of(node) if node else "")
        or (lke.instance_label if lke else "")
        or (lke.id if lke else "")
    )
    linode_status = lke.status if lke else ""
    if node is None:
        k8s_ready, schedulable, version, created, roles, ip = "-", False, "", None, "", ""
    else:
        k8s_ready = (condition(node, "Ready") or {}).get("status") or "Unknown"
        schedulable = not (node.get("spec") or {}).get("unschedulable", False)
        version = ((node.get("status") or {}).get("nodeInfo") or {}).get("kubeletVersion", "")
        created = parse_time((node.get("metadata") or {}).get("creationTimestamp"))
        roles, ip = _roles(node), _address(node, "InternalIP")
    return NodeRow(
        key=name,
        name=name,
        pool_id=pool_id,
        linode_node_id=lke.id if lke else "",
        instance_id=lke.instance_id if lke else _instance_id(node or {}),
        linode_status=linode_status,
        instance_status=lke.instance_status if lke else "",
        k8s_ready=k8s_ready,
        schedulable=schedulable,
        version=version,
        pods=pods[name] if node is not None else 0,
        age_seconds=None if created is None else now - created,
        roles=roles,
        internal_ip=ip,
        severity=_severity(k8s_ready, schedulable, linode_status),
    )


def _event_row(event: LkeEvent, now: float) -> EventRow:
    return EventRow(
        key=str(event.id),
        created=event.created,
        age_seconds=now - event.created,
        action=event.action,
        status=event.status,
        entity=event.entity,
        user=event.username,
        message=event.message,
        severity=_EVENT_SEVERITY.get(event.status, Severity.NONE),
    )


def nodes_view(
    nodes: Iterable[dict[str, Any]],
    pods: Iterable[dict[str, Any]],
    linode: LinodeSnapshot | None,
    now: float,
) -> NodesView:
    """Pools with their nodes (each Linode joined to its Kubernetes Node by providerID, else
    by name == the Linode's label), then the Nodes no pool claims."""
    kube_nodes = sorted(nodes, key=name_of)
    by_instance = {i: n for n in kube_nodes if (i := _instance_id(n)) is not None}
    by_name = {name_of(n): n for n in kube_nodes}
    # kubectl describe node counts the pods that are neither Succeeded nor Failed.
    per_node = Counter(
        (p.get("spec") or {}).get("nodeName", "")
        for p in pods
        if (p.get("status") or {}).get("phase") not in ("Succeeded", "Failed")
    )

    cluster = linode.cluster if linode else None
    claimed: set[str] = set()
    pools = []
    for pool in sorted(cluster.pools if cluster else (), key=lambda p: p.id):
        rows = []
        for lke in pool.nodes:
            node = by_instance.get(lke.instance_id) if lke.instance_id is not None else None
            if node is None and lke.instance_label:
                node = by_name.get(lke.instance_label)
            if node is not None:
                claimed.add(name_of(node))
            rows.append(_row(node, lke, pool.id, per_node, now))
        rows.sort(key=lambda r: r.name)
        pools.append(PoolView(pool.id, pool.type, pool.count, tuple(rows), pool.autoscaler))
    unpooled = tuple(
        _row(n, None, None, per_node, now) for n in kube_nodes if name_of(n) not in claimed
    )

    events = sorted(
        (e for e in (linode.events if linode else ()) if e.action.startswith("lke_")),
        key=lambda e: (e.created, e.id),
        reverse=True,
    )
    every = [row for pool in pools for row in pool.nodes] + list(unpooled)
    return NodesView(
        cluster_label=cluster.label if cluster else "",
        region=cluster.region if cluster else "",
        k8s_version=cluster.k8s_version if cluster else "",
        pools=tuple(pools),
        unpooled=unpooled,
        events=tuple(_event_row(e, now) for e in events),
        ready_nodes=sum(row.k8s_ready == "True" for row in every),
        total_nodes=len(every),
    )
