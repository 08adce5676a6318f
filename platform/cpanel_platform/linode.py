"""The Linode side of the cluster: LKE cluster, pools, nodes, volumes and recent LKE events."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LkeNode:
    id: str  # "12345-6aa78910bc"
    instance_id: int | None  # None until the Linode exists
    status: str  # "ready" | "not_ready" (Linode provisioning, not Kubernetes readiness)
    instance_label: str = ""  # the Linode's label (LKE names the Kubernetes Node after it)
    instance_status: str = ""  # the Linode's own status: running, booting, provisioning …


@dataclass(frozen=True)
class LkePool:
    id: int
    type: str
    count: int
    nodes: tuple[LkeNode, ...]
    autoscaler: bool = False


@dataclass(frozen=True)
class LkeCluster:
    id: int
    label: str
    region: str
    k8s_version: str
    high_availability: bool
    status: str
    pools: tuple[LkePool, ...]


@dataclass(frozen=True)
class LkeEvent:
    id: int
    action: str  # lke_node_recycle, lke_pool_recycle, lke_node_create …
    status: str  # scheduled | started | finished | failed | notification
    created: float  # epoch seconds
    entity: str  # the entity's label
    username: str = ""
    message: str = ""


@dataclass(frozen=True)
class Volume:
    id: int
    label: str
    size_gb: int
    status: str
    linode_id: int | None
    linode_label: str
    filesystem_path: str  # /dev/disk/by-id/scsi-0Linode_Volume_<label>


@dataclass(frozen=True)
class LinodeSnapshot:
    """Everything the panes show from Linode, read in one refresh."""

    cluster: LkeCluster | None
    events: tuple[LkeEvent, ...]
    volumes: tuple[Volume, ...]
