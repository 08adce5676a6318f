"""LKE: clusters, node pools, nodes and the Linodes behind them, driven by simulated time.

A node is one Linode's lifetime in a pool. Its id (`<pool>-<hex>`) shares the hex with the
Linode's label (`lke<cluster>-<pool>-<hex>`), as on LKE, where a recycled node comes back
under a new name: recycling a node replaces it, at the same position in the pool, with a new
node and a new Linode, and the old node id answers 404 from then on.

A node appears with `instance_id` null and status `not_ready`; `create_delay` later its
Linode exists (`provisioning`), half-way through `boot_delay` it is `booting`, and at the
end of it `running`, when the node turns `ready`.

Recycles are rolling: per cluster one node at a time, the next starting only once the
previous node's replacement is running, unless `recycle_all_at_once` (LKE's 2020 behaviour,
every node at once).
"""

from __future__ import annotations

import base64
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import yaml

from . import lke_bodies
from .bodies import object_body, take, take_count, take_strings
from .catalogue import LINODE_TYPES, REGIONS, minor
from .clock import stamp
from .errors import LinodeError, bad_field, bad_request, not_found, unavailable
from .events import SCHEDULED, STARTED, EventLog
from .ids import IdAllocator
from .lke_bodies import MAX_NODES, PoolSpec
from .scheduler import Scheduler

PROVISIONING, BOOTING, RUNNING = "provisioning", "booting", "running"


class Listener(Protocol):
    """What the rest of the sandbox hears about LKE's clusters and Linodes. Called on the
    emulator's event loop; implementations must not block, nor call back into the state."""

    def cluster_created(self, cluster_id: int, cluster: dict[str, Any]) -> str | None:
        """The kubeconfig the new cluster serves once its control plane is up, or None when
        nothing backs it with a Kubernetes API (its kubeconfig then stays unavailable)."""
        ...

    def cluster_deleted(self, cluster_id: int, cluster: dict[str, Any]) -> None:
        """Called after the cluster's Linodes were deleted (and `instance_deleted` heard)."""
        ...

    def instance_running(
        self, cluster_id: int, pool_id: int, node_id: str, instance: dict[str, Any]
    ) -> None: ...

    def instance_deleted(
        self, cluster_id: int, pool_id: int, node_id: str, instance: dict[str, Any]
    ) -> None: ...


@dataclass
class Timings:
    """Simulated seconds: a new node's wait for its Linode, that Linode's boot, and a new
    cluster's wait for its control plane (kubeconfig and API endpoints)."""

    create_delay: float = 2.0
    boot_delay: float = 20.0
    control_plane_delay: float = 30.0


@dataclass
class Instance:
    id: int
    label: str
    type: str
    region: str
    cluster_id: int
    pool_id: int
    node_id: str
    tags: list[str]
    disk_encryption: str
    ipv4: list[str]
    ipv6: str
    host_uuid: str
    created: float
    updated: float
    status: str = PROVISIONING


@dataclass
class Node:
    id: str
    pool_id: int
    instance_id: int | None = None
    # The event that finishes when this node's Linode first runs (its creation or recycle).
    event_id: int | None = None


@dataclass
class Pool:
    id: int
    spec: PoolSpec
    nodes: list[Node] = field(default_factory=list)


@dataclass
class RecycleJob:
    node_id: str
    event_id: int
    # The pool and cluster recycles waiting on this one: each finishes with its last job.
    parent_ids: set[int] = field(default_factory=set)


@dataclass
class Cluster:
    id: int
    label: str
    region: str
    k8s_version: str
    high_availability: bool
    tags: list[str]
    created: float
    updated: float
    ready_at: float
    uid: str
    pools: dict[int, Pool] = field(default_factory=dict)
    control_plane_ready: bool = False
    kubeconfig: str | None = None
    queue: deque[RecycleJob] = field(default_factory=deque)
    in_flight: dict[str, RecycleJob] = field(default_factory=dict)  # by replacement node id


class Lke:
    def __init__(
        self,
        scheduler: Scheduler,
        ids: IdAllocator,
        events: EventLog,
        listener: Listener,
        timings: Timings,
        versions: Sequence[str],
    ) -> None:
        self._scheduler = scheduler
        self._ids = ids
        self._events = events
        self._listener = listener
        self.timings = timings
        self.versions = tuple(sorted(versions, key=minor, reverse=True))
        self.recycle_all_at_once = False
        self.clusters: dict[int, Cluster] = {}
        self.instances: dict[int, Instance] = {}

    # -- lookups -------------------------------------------------------------------------
    def cluster(self, cluster_id: int) -> Cluster:
        cluster = self.clusters.get(cluster_id)
        if cluster is None:
            raise not_found()
        return cluster

    def pool(self, cluster_id: int, pool_id: int) -> tuple[Cluster, Pool]:
        cluster = self.cluster(cluster_id)
        pool = cluster.pools.get(pool_id)
        if pool is None:
            raise not_found()
        return cluster, pool

    def node(self, cluster_id: int, node_id: str) -> tuple[Cluster, Pool, Node]:
        cluster = self.cluster(cluster_id)
        found = _find(cluster, node_id)
        if found is None:
            raise not_found()
        return cluster, *found

    def instance(self, instance_id: int) -> Instance:
        instance = self.instances.get(instance_id)
        if instance is None:
            raise not_found()
        return instance

    # -- JSON ----------------------------------------------------------------------------
    def cluster_json(self, cluster: Cluster) -> dict[str, Any]:
        return {
            "id": cluster.id,
            "label": cluster.label,
            "region": cluster.region,
            "k8s_version": cluster.k8s_version,
            "control_plane": {"high_availability": cluster.high_availability},
            "tags": list(cluster.tags),
            # The real field "is not currently in use": clusters always answer "ready".
            "status": "ready",
            "created": stamp(cluster.created),
            "updated": stamp(cluster.updated),
            "apl_enabled": False,
            "tier": "standard",
        }

    def pool_json(self, pool: Pool) -> dict[str, Any]:
        spec = pool.spec
        return {
            "id": pool.id,
            "label": spec.label,
            "type": spec.type,
            "count": len(pool.nodes),
            "nodes": [self.node_json(n) for n in pool.nodes],
            "autoscaler": dict(spec.autoscaler),
            "tags": list(spec.tags),
            "labels": dict(spec.labels),
            "taints": [dict(t) for t in spec.taints],
            "disk_encryption": spec.disk_encryption,
            "disks": [],
        }

    def node_json(self, node: Node) -> dict[str, Any]:
        instance = self.instances.get(node.instance_id) if node.instance_id else None
        ready = instance is not None and instance.status == RUNNING
        return {
            "id": node.id,
            "instance_id": node.instance_id,
            "pool_id": node.pool_id,
            "status": "ready" if ready else "not_ready",
        }

    def instance_json(self, instance: Instance) -> dict[str, Any]:
        plan = LINODE_TYPES[instance.type]
        return {
            "id": instance.id,
            "label": instance.label,
            "group": "",
            "status": instance.status,
            "type": instance.type,
            "region": instance.region,
            "image": None,
            "ipv4": list(instance.ipv4),
            "ipv6": instance.ipv6,
            "created": stamp(instance.created),
            "updated": stamp(instance.updated),
            "tags": list(instance.tags),
            "lke_cluster_id": instance.cluster_id,
            "hypervisor": "kvm",
            "specs": {k: plan[k] for k in ("disk", "memory", "vcpus", "transfer", "gpus")},
            "alerts": {
                "cpu": 90 * plan["vcpus"],
                "io": 10000,
                "network_in": 10,
                "network_out": 10,
                "transfer_quota": 80,
            },
            "backups": {
                "enabled": False,
                "available": False,
                "schedule": {"day": None, "window": None},
                "last_successful": None,
            },
            "watchdog_enabled": True,
            "host_uuid": instance.host_uuid,
            "disk_encryption": instance.disk_encryption,
            "has_user_data": False,
            "placement_group": None,
            "site_type": "core",
            "capabilities": [],
            "maintenance_policy": "linode/migrate",
            "locks": [],
        }

    def kubeconfig(self, cluster_id: int) -> str:
        """The caller-provided kubeconfig, base64-encoded, once the control plane is up."""
        cluster = self._control_plane(cluster_id, "Cluster kubeconfig")
        if cluster.kubeconfig is None:
            raise self._not_yet(cluster, "Cluster kubeconfig")
        return base64.b64encode(cluster.kubeconfig.encode()).decode()

    def api_endpoints(self, cluster_id: int) -> list[dict[str, str]]:
        """The servers of the cluster's kubeconfig when it has one, so that both agree;
        otherwise LKE-style names."""
        cluster = self._control_plane(cluster_id, "Cluster API endpoints")
        servers = _kubeconfig_servers(cluster.kubeconfig) if cluster.kubeconfig else []
        if not servers:
            host = f"{cluster.uid}.{cluster.region}-2.linodelke.net"
            servers = [f"https://{host}:443", f"https://{host}:6443"]
        return [{"endpoint": server} for server in servers]

    def dashboard_url(self, cluster_id: int) -> str:
        return f"https://{self.cluster(cluster_id).uid}.dashboard.linodelke.net"

    def _control_plane(self, cluster_id: int, what: str) -> Cluster:
        cluster = self.cluster(cluster_id)
        if not cluster.control_plane_ready:
            raise self._not_yet(cluster, what)
        return cluster

    def _not_yet(self, cluster: Cluster, what: str) -> LinodeError:
        wait = max(5.0, cluster.ready_at - self._scheduler.now)
        return unavailable(f"{what} is not yet available. Please try again later.", wait)

    # -- clusters ------------------------------------------------------------------------
    def create_cluster(self, body: Mapping[str, Any], username: str | None) -> Cluster:
        label = self._unique_label(body, None)
        region = take(body, "region", str)
        if region not in REGIONS:
            raise bad_field("region", "region is not valid")
        version = take(body, "k8s_version", str)
        if version not in self.versions:
            raise bad_field("k8s_version", f"Kubernetes version {version} is not supported")
        raw_pools = take(body, "node_pools", list)
        if not raw_pools:
            raise bad_field("node_pools", "At least one node pool is required")
        specs = [
            lke_bodies.pool_spec(object_body(p), f"node_pools[{i}].")
            for i, p in enumerate(raw_pools)
        ]
        control = take(body, "control_plane", dict, {})
        now = self._scheduler.now
        cluster = Cluster(
            id=self._ids.next("cluster"),
            label=label,
            region=region,
            k8s_version=version,
            high_availability=take(control, "high_availability", bool, False, "control_plane."),
            tags=take_strings(body, "tags"),
            created=now,
            updated=now,
            ready_at=now + self.timings.control_plane_delay,
            uid=self._ids.hex(32),
        )
        self.clusters[cluster.id] = cluster
        event = self._events.record("lke_cluster_create", _entity(cluster), username, STARTED)
        for spec in specs:
            self._add_pool(cluster, spec, username)
        cluster.kubeconfig = self._listener.cluster_created(cluster.id, self.cluster_json(cluster))
        self._scheduler.after(
            self.timings.control_plane_delay, lambda: self._control_plane_up(cluster.id, event.id)
        )
        return cluster

    def update_cluster(
        self, cluster_id: int, body: Mapping[str, Any], username: str | None
    ) -> Cluster:
        cluster = self.cluster(cluster_id)
        label = self._unique_label(body, cluster)
        tags = take_strings(body, "tags") if "tags" in body else cluster.tags
        version = take(body, "k8s_version", str, cluster.k8s_version)
        self._check_upgrade(cluster.k8s_version, version)
        control = take(body, "control_plane", dict, {})
        ha = take(control, "high_availability", bool, cluster.high_availability, "control_plane.")
        if cluster.high_availability and not ha:
            raise bad_field(
                "control_plane.high_availability",
                "High availability cannot be disabled once it is enabled",
            )
        before = (cluster.label, cluster.tags, cluster.k8s_version, cluster.high_availability)
        if (label, tags, version, ha) != before:
            cluster.label, cluster.tags, cluster.k8s_version = label, tags, version
            cluster.high_availability = ha
            cluster.updated = self._scheduler.now
            self._events.record("lke_cluster_update", _entity(cluster), username)
        return cluster

    def delete_cluster(self, cluster_id: int, username: str | None) -> None:
        cluster = self.cluster(cluster_id)
        self._drop_recycles(cluster, "The cluster was deleted")
        for pool in cluster.pools.values():
            for node in pool.nodes:
                self._retire(cluster, node, "The cluster was deleted")
        del self.clusters[cluster_id]
        self._events.record("lke_cluster_delete", _entity(cluster), username)
        self._listener.cluster_deleted(cluster_id, self.cluster_json(cluster))

    def _unique_label(self, body: Mapping[str, Any], cluster: Cluster | None) -> str:
        label = lke_bodies.cluster_label(body, cluster.label if cluster else None)
        if any(c.label == label and c is not cluster for c in self.clusters.values()):
            raise bad_field("label", "A cluster with this label already exists")
        return label

    def _check_upgrade(self, current: str, wanted: str) -> None:
        if wanted == current:
            return
        if wanted not in self.versions:
            raise bad_field("k8s_version", f"Kubernetes version {wanted} is not supported")
        major, current_minor = minor(current)
        if minor(wanted) < minor(current):
            raise bad_field("k8s_version", "Kubernetes version cannot be downgraded")
        if minor(wanted) != (major, current_minor + 1):
            raise bad_field(
                "k8s_version",
                f"Kubernetes version {current} can only be upgraded to the next minor version",
            )

    def _control_plane_up(self, cluster_id: int, event_id: int) -> None:
        cluster = self.clusters.get(cluster_id)
        if cluster is None:
            self._events.fail(event_id, "The cluster was deleted")
            return
        cluster.control_plane_ready = True
        self._events.finish(event_id)

    # -- pools and nodes -----------------------------------------------------------------
    def create_pool(self, cluster_id: int, body: Mapping[str, Any], username: str | None) -> Pool:
        cluster = self.cluster(cluster_id)
        return self._add_pool(cluster, lke_bodies.pool_spec(body), username)

    def update_pool(
        self, cluster_id: int, pool_id: int, body: Mapping[str, Any], username: str | None
    ) -> Pool:
        cluster, pool = self.pool(cluster_id, pool_id)
        spec = pool.spec
        count = take_count(body, "count", 1, MAX_NODES, default=len(pool.nodes))
        autoscaler = lke_bodies.autoscaler(body, spec.autoscaler)
        labels = lke_bodies.labels(body, spec.labels)
        taints = lke_bodies.taints(body, spec.taints)
        tags = take_strings(body, "tags") if "tags" in body else spec.tags
        spec.label = take(body, "label", str, spec.label)
        spec.autoscaler, spec.labels, spec.taints, spec.tags = autoscaler, labels, taints, tags
        for _ in range(count, len(pool.nodes)):
            self._remove_node(cluster, pool, pool.nodes[-1], username)
        for _ in range(len(pool.nodes), count):
            self._add_node(cluster, pool, username)
        self._pump(cluster)
        return pool

    def delete_pool(self, cluster_id: int, pool_id: int, username: str | None) -> None:
        cluster, pool = self.pool(cluster_id, pool_id)
        for node in list(pool.nodes):
            self._remove_node(cluster, pool, node, username)
        del cluster.pools[pool_id]
        self._events.record("lke_pool_delete", _entity(cluster, pool=pool_id), username)
        self._pump(cluster)

    def delete_node(self, cluster_id: int, node_id: str, username: str | None) -> None:
        cluster, pool, node = self.node(cluster_id, node_id)
        if len(pool.nodes) == 1:
            raise bad_request("A node pool must keep at least one node; delete the pool instead")
        self._remove_node(cluster, pool, node, username)
        self._pump(cluster)

    def _add_pool(self, cluster: Cluster, spec: PoolSpec, username: str | None) -> Pool:
        pool = Pool(self._ids.next("pool"), spec)
        cluster.pools[pool.id] = pool
        self._events.record("lke_pool_create", _entity(cluster, pool=pool.id), username)
        for _ in range(spec.count):
            self._add_node(cluster, pool, username)
        return pool

    def _add_node(self, cluster: Cluster, pool: Pool, username: str | None) -> None:
        node = self._new_node(cluster, pool)
        entity = _entity(cluster, pool=pool.id, node=node.id)
        node.event_id = self._events.record("lke_node_create", entity, username, STARTED).id
        pool.nodes.append(node)

    def _remove_node(self, cluster: Cluster, pool: Pool, node: Node, username: str | None) -> None:
        pool.nodes.remove(node)
        self._events.record(
            "lke_node_delete", _entity(cluster, pool=pool.id, node=node.id), username
        )
        self._retire(cluster, node, "The node was deleted")

    def _new_node(self, cluster: Cluster, pool: Pool) -> Node:
        node = Node(f"{pool.id}-{self._ids.node_suffix(self._scheduler.now)}", pool.id)
        self._scheduler.after(
            self.timings.create_delay, lambda: self._create_linode(cluster.id, pool.id, node.id)
        )
        return node

    def _retire(self, cluster: Cluster, node: Node, reason: str) -> None:
        """A node leaves its pool: what waited on it fails, and its Linode is deleted."""
        if node.event_id is not None:
            self._events.fail(node.event_id, reason)
            node.event_id = None
        job = cluster.in_flight.pop(node.id, None)
        if job is not None:
            self._finish_parents_if_done(cluster, job)
        instance = self.instances.pop(node.instance_id, None) if node.instance_id else None
        if instance is not None:
            self._listener.instance_deleted(
                cluster.id, node.pool_id, node.id, self.instance_json(instance)
            )

    # -- Linodes -------------------------------------------------------------------------
    def _create_linode(self, cluster_id: int, pool_id: int, node_id: str) -> None:
        cluster = self.clusters.get(cluster_id)
        found = _find(cluster, node_id) if cluster else None
        if cluster is None or found is None:
            return  # the node went away before its Linode was made
        pool, node = found
        now = self._scheduler.now
        instance = Instance(
            id=self._ids.next("linode"),
            label=f"lke{cluster_id}-{node_id}",
            type=pool.spec.type,
            region=cluster.region,
            cluster_id=cluster_id,
            pool_id=pool_id,
            node_id=node_id,
            tags=list(pool.spec.tags),
            disk_encryption=pool.spec.disk_encryption,
            ipv4=[self._ids.public_ipv4(), self._ids.private_ipv4()],
            ipv6=self._ids.ipv6(),
            host_uuid=self._ids.hex(40),
            created=now,
            updated=now,
        )
        self.instances[instance.id] = instance
        node.instance_id = instance.id
        boot = self.timings.boot_delay
        self._scheduler.after(boot / 2, lambda: self._set_status(instance.id, BOOTING))
        self._scheduler.after(boot, lambda: self._set_status(instance.id, RUNNING))

    def _set_status(self, instance_id: int, status: str) -> None:
        instance = self.instances.get(instance_id)
        if instance is None:
            return  # deleted while booting
        instance.status, instance.updated = status, self._scheduler.now
        if status == RUNNING:
            self._node_running(instance)

    def _node_running(self, instance: Instance) -> None:
        cluster = self.clusters[instance.cluster_id]
        found = _find(cluster, instance.node_id)
        assert found is not None, "retiring a node deletes its Linode"
        node = found[1]
        self._listener.instance_running(
            cluster.id, instance.pool_id, node.id, self.instance_json(instance)
        )
        if node.event_id is not None:
            self._events.finish(node.event_id)
            node.event_id = None
        job = cluster.in_flight.pop(node.id, None)
        if job is not None:
            self._finish_parents_if_done(cluster, job)
            self._pump(cluster)

    # -- recycling -----------------------------------------------------------------------
    def recycle_node(self, cluster_id: int, node_id: str, username: str | None) -> None:
        cluster, _, node = self.node(cluster_id, node_id)
        self._enqueue(cluster, [node], username, None)

    def recycle_pool(self, cluster_id: int, pool_id: int, username: str | None) -> None:
        cluster, pool = self.pool(cluster_id, pool_id)
        parent = self._events.record(
            "lke_pool_recycle", _entity(cluster, pool=pool_id), username, STARTED
        )
        self._enqueue(cluster, list(pool.nodes), username, parent.id)

    def recycle_cluster(self, cluster_id: int, username: str | None) -> None:
        cluster = self.cluster(cluster_id)
        parent = self._events.record("lke_cluster_recycle", _entity(cluster), username, STARTED)
        nodes = [node for pool in cluster.pools.values() for node in pool.nodes]
        self._enqueue(cluster, nodes, username, parent.id)

    def _enqueue(
        self, cluster: Cluster, nodes: list[Node], username: str | None, parent_id: int | None
    ) -> None:
        """Queue a recycle of each node. A node already queued, or itself a replacement
        still booting, is not recycled twice: the new request waits on that job instead."""
        pending = {job.node_id: job for job in cluster.queue} | cluster.in_flight
        for node in nodes:
            job = pending.get(node.id)
            if job is None:
                entity = _entity(cluster, pool=node.pool_id, node=node.id)
                event = self._events.record("lke_node_recycle", entity, username, SCHEDULED)
                job = RecycleJob(node.id, event.id)
                cluster.queue.append(job)
            if parent_id is not None:
                job.parent_ids.add(parent_id)
        if parent_id is not None and not nodes:
            self._events.finish(parent_id)  # a cluster without pools: nothing to wait for
        self._pump(cluster)

    def _pump(self, cluster: Cluster) -> None:
        while cluster.queue and (self.recycle_all_at_once or not cluster.in_flight):
            self._start_recycle(cluster, cluster.queue.popleft())

    def _start_recycle(self, cluster: Cluster, job: RecycleJob) -> None:
        found = _find(cluster, job.node_id)
        if found is None:
            self._events.fail(job.event_id, "The node no longer exists")
            self._finish_parents_if_done(cluster, job)
            return
        pool, old = found
        self._events.start(job.event_id)
        new = self._new_node(cluster, pool)
        new.event_id = job.event_id
        cluster.in_flight[new.id] = job
        pool.nodes[pool.nodes.index(old)] = new
        self._retire(cluster, old, "The node was recycled")

    def _finish_parents_if_done(self, cluster: Cluster, done: RecycleJob) -> None:
        jobs = [*cluster.queue, *cluster.in_flight.values()]
        for parent_id in done.parent_ids:
            if all(parent_id not in job.parent_ids for job in jobs):
                self._events.finish(parent_id)

    def _drop_recycles(self, cluster: Cluster, reason: str) -> None:
        for job in [*cluster.queue, *cluster.in_flight.values()]:
            self._events.fail(job.event_id, reason)
            for parent_id in job.parent_ids:
                self._events.fail(parent_id, reason)
        cluster.queue.clear()
        cluster.in_flight.clear()


def _find(cluster: Cluster, node_id: str) -> tuple[Pool, Node] | None:
    for pool in cluster.pools.values():
        for node in pool.nodes:
            if node.id == node_id:
                return pool, node
    return None


def _entity(cluster: Cluster, **extra: Any) -> dict[str, Any]:
    """Events about a cluster name it; `pool` and `node` say which part of it."""
    return {
        "id": cluster.id,
        "label": cluster.label,
        "type": "lkecluster",
        "url": f"/v4/lke/clusters/{cluster.id}",
        **extra,
    }


def _kubeconfig_servers(text: str) -> list[str]:
    try:
        config = yaml.safe_load(text)
    except yaml.YAMLError:
        return []
    clusters = config.get("clusters") if isinstance(config, dict) else None
    return [
        c["cluster"]["server"]
        for c in clusters or []
        if isinstance(c, dict) and isinstance(c.get("cluster"), dict) and c["cluster"].get("server")
    ]
