"""The safe rolling recycle (REFERENCE.md): surge one node, then one old node at a time —
cordon, move single-replica workloads, drain through the Eviction API, recycle, wait for the
replacement — and finally shrink back, draining the node that goes.

The invariant: Ready, schedulable nodes never fall below the pools' counts before the
recycle (the surge node covers the one being replaced). Progress is kept in a ConfigMap in
kube-system after every step, so a recycle interrupted by a crash, Ctrl-C or a lost
connection resumes where it stopped, and a Lease keeps a second cpanel out meanwhile.
"""

from __future__ import annotations

import json
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from cpanel_platform.kube.actions import KubeActionError
from cpanel_platform.kube.kinds import Kind
from cpanel_platform.kube.rest import ApiError, TransportError, call
from cpanel_platform.linode import LkePool
from cpanel_platform.ops import drain as draining
from cpanel_platform.ops.lease import Lease
from cpanel_platform.ops.linode_ops import LinodeOps, OpsError
from cpanel_platform.ops.workloads import guarded_single_replicas, move_single_replica
from cpanel_platform.timestamps import parse_time

if TYPE_CHECKING:
    from kubernetes.client import ApiClient

CONFIGMAPS = Kind("", "v1", "configmaps", "ConfigMap", True)
NODES = Kind("", "v1", "nodes", "Node", False)
STATE = ("kube-system", "cpanel-recycle")
POLL = 1.0
DEFAULT_BOOT = 120.0  # seconds a new LKE node takes to join, until we have seen our own


@dataclass(frozen=True)
class Progress:
    """One line of an operation's story: `node` is "" for the operation as a whole."""

    node: str
    step: str  # plan, surge, cordon, move, drain, recycle, wait, done, restore, stopped, error
    message: str
    at: float = field(default_factory=time.time)


Report = Callable[[Progress], None]


@dataclass(frozen=True)
class PlannedNode:
    lke_id: str
    name: str
    pool_id: int
    pods: int


@dataclass(frozen=True)
class RecyclePlan:
    """What a recycle will do, for the confirmation: the order, the pods to move, what may
    block (PDBs, single-replica workloads), pods whose local data goes, and a duration."""

    cluster_id: int
    scope: str  # "pool 412", "node lke1-412-ab", "cluster 1"
    pools: dict[int, int]  # pool id -> its count before the recycle
    nodes: tuple[PlannedNode, ...]
    pdbs: tuple[str, ...]
    single_replica: tuple[str, ...]  # "ns/deployment": moved by a restart, not an eviction
    local_storage: tuple[str, ...]
    seconds_per_node: float

    @property
    def pods(self) -> int:
        return sum(n.pods for n in self.nodes)

    @property
    def estimate(self) -> float:
        # The surge node, each old node, and the drain of the node that goes at the end.
        return (len(self.nodes) + 1) * self.seconds_per_node + 30 * len(self.pools)


@dataclass
class State:
    """What the ConfigMap records: enough to go on from any step after a crash."""

    cluster_id: int
    scope: str
    pools: dict[str, int]  # pool id (JSON keys are strings) -> count before the recycle
    queue: list[str]  # LKE node ids still to recycle, in order
    done: list[str] = field(default_factory=list)
    phase: str = "surge"  # surge, nodes, restore
    current: dict[str, Any] | None = None  # {"id", "name", "step", "before"}
    cordoned: list[str] = field(default_factory=list)  # node names cpanel cordoned
    surge_before: dict[str, list[str]] = field(default_factory=dict)  # pool -> ids before
    surge_nodes: dict[str, list[str]] = field(default_factory=dict)  # pool -> ids it added
    started: float = field(default_factory=time.time)
    history: list[dict[str, Any]] = field(default_factory=list)  # the Progress so far


class RecycleStopped(OpsError):
    """The recycle stopped and rolled back what it could; the message says what and why."""


class Recycler:
    def __init__(
        self,
        api: ApiClient,
        linode: LinodeOps,
        report: Report,
        *,
        drain_timeout: float = 300.0,
        node_timeout: float = 1800.0,
        stop: threading.Event | None = None,
    ) -> None:
        self.api = api
        self.linode = linode
        self._report = report
        self.drain_timeout = drain_timeout
        self.node_timeout = node_timeout
        self.stop = stop or threading.Event()
        self.state: State | None = None
        self._waiting = ""

    # -- planning -------------------------------------------------------------------------
    def plan(
        self,
        cluster_id: int,
        *,
        pool_id: int | None = None,
        node_id: str | None = None,
        only: set[str] | None = None,
    ) -> RecyclePlan:
        """Pool `pool_id`, one node `node_id`, or (neither) every pool of the cluster; `only`
        keeps the nodes of those names (an upgrade's nodes still on the old version)."""
        pools = self.linode.pools(cluster_id)
        if pool_id is not None:
            pools = [p for p in pools if p.id == pool_id]
            if not pools:
                raise OpsError(f"LKE cluster {cluster_id} has no pool {pool_id}")
            scope = f"pool {pool_id}"
        elif node_id is not None:
            pools = [p for p in pools if any(n.id == node_id for n in p.nodes)]
            if not pools:
                raise OpsError(f"LKE cluster {cluster_id} has no node {node_id}")
            scope = f"node {node_id}"
        else:
            scope = f"cluster {cluster_id}"
        planned, boots, all_pods = [], [], []
        for pool in pools:
            for node in pool.nodes:
                if node_id is not None and node.id != node_id:
                    continue
                if node.instance_id is None:
                    raise OpsError(f"node {node.id} has no Linode yet; wait until it is ready")
                instance = self.linode.instance(node.instance_id)
                name = instance["label"]
                if only is not None and name not in only:
                    continue
                pods = draining.evictable_pods(self.api, name)
                all_pods += pods
                planned.append(PlannedNode(node.id, name, pool.id, len(pods)))
                boots.append(self._boot_seconds(name, instance))
        pdbs = sorted({
            f"{b['metadata']['namespace']}/{b['metadata']['name']}"
            for p in all_pods for b in draining.budgets_for(self.api, p)
        })
        seen = [b for b in boots if b is not None]
        touched = {n.pool_id for n in planned}
        return RecyclePlan(
            cluster_id, scope, {p.id: p.count for p in pools if p.id in touched},
            tuple(planned), tuple(pdbs),
            tuple(guarded_single_replicas(self.api, all_pods)),
            tuple(draining.local_storage(all_pods)),
            (statistics.median(seen) if seen else DEFAULT_BOOT) + 15.0,
        )

    def _boot_seconds(self, name: str, instance: dict[str, Any]) -> float | None:
        """How long this node took from its Linode's creation to registering: the boot time
        seen on this account, for the estimate."""
        try:
            node = call(self.api, "GET", NODES.object_path(None, name))
        except (ApiError, TransportError):
            return None
        joined = parse_time(node["metadata"].get("creationTimestamp"))
        created = parse_time(instance.get("created"))
        if joined is None or created is None or joined < created:
            return None
        return joined - created

    # -- carrying it out ------------------------------------------------------------------
    def start(self, plan: RecyclePlan) -> None:
        """Record a new recycle, then run it to the end."""
        if self.pending() is not None:
            raise OpsError("a recycle is already recorded on this cluster; resume it first")
        self.state = State(
            plan.cluster_id, plan.scope, {str(k): v for k, v in plan.pools.items()},
            [n.lke_id for n in plan.nodes],
        )
        self._save()
        self._run()

    def pending(self) -> State | None:
        """The recycle recorded on the cluster, if one was interrupted."""
        try:
            cm = call(self.api, "GET", CONFIGMAPS.object_path(*STATE))
        except ApiError as err:
            if err.code == 404:
                return None
            raise OpsError(f"cannot read the recycle's state: {err.message}") from err
        except TransportError as err:
            raise OpsError(f"the Kubernetes API is unreachable ({err})") from err
        return State(**json.loads(cm["data"]["state"]))

    def resume(self) -> None:
        self.state = self.pending()
        if self.state is None:
            raise OpsError("no recycle to resume on this cluster")
        self._say("", "resume", f"resuming the recycle of {self.state.scope}: "
                  f"{len(self.state.done)} of {len(self.state.done) + len(self.state.queue)} "
                  "nodes done")
        self._run()

    def abort(self) -> None:
        """Roll back the recorded recycle: finish the node being replaced, uncordon, restore
        the count."""
        self.state = self.pending()
        if self.state is None:
            raise OpsError("no recycle to abort on this cluster")
        lease = Lease(self.api, f"abort of the recycle of {self.state.scope}")
        lease.acquire()
        try:
            self._roll_back("aborted on request")
        finally:
            lease.release()

    def _run(self) -> None:
        state = self.state
        assert state is not None
        lease = Lease(self.api, f"recycle of {state.scope}")
        lease.acquire()
        try:
            try:
                if state.phase == "surge":
                    for pool_id, count in state.pools.items():
                        self._surge(int(pool_id), count)
                    state.phase = "nodes"
                    self._save()
                while state.queue and state.phase == "nodes":
                    self._one_node(state.queue[0])
            except (OpsError, draining.DrainStopped, KubeActionError) as err:
                self._roll_back(str(err))
                raise RecycleStopped(
                    f"the recycle of {state.scope} stopped: {err}. Rolled back: nothing is "
                    f"left cordoned by cpanel and the pool count is restored; "
                    f"{len(state.done)} node(s) were recycled."
                ) from err
            self._restore()
            self._say("", "done", f"recycled {len(state.done)} node(s) of {state.scope} in "
                      f"{time.time() - state.started:.0f} s")
            self._forget()
        finally:
            lease.release()

    # -- the steps ------------------------------------------------------------------------
    def _surge(self, pool_id: int, count: int) -> None:
        state = self.state
        assert state is not None
        key = str(pool_id)
        pool = self.linode.pool(state.cluster_id, pool_id)
        if key not in state.surge_before:  # recorded first: a resumed run knows its node
            state.surge_before[key] = [n.id for n in pool.nodes]
            self._save()
        if pool.count == count:
            self._say("", "surge", f"pool {pool_id}: {count} → {count + 1} nodes")
            self.linode.set_count(state.cluster_id, pool_id, count + 1)
        pool = self._wait_pool(pool_id, count + 1)
        state.surge_nodes[key] = [n.id for n in pool.nodes if n.id not in state.surge_before[key]]
        self._step("", "surge", f"pool {pool_id}: surge node {', '.join(state.surge_nodes[key])} "
                   "is Ready")

    def _wait_pool(self, pool_id: int, count: int) -> LkePool:
        """Until the pool has `count` ready Linodes whose Nodes are Ready and schedulable."""
        state = self.state
        assert state is not None
        deadline = time.monotonic() + self.node_timeout
        while True:
            pool = self.linode.pool(state.cluster_id, pool_id)
            ready = [n for n in pool.nodes if n.status == "ready" and n.instance_id]
            if len(pool.nodes) == count and len(ready) == count:
                names = [self.linode.instance_label(n.instance_id or 0) for n in ready]
                waiting = [n for n in names if not self._schedulable(n)]
                if not waiting:
                    return pool
                what = f"Node {', '.join(waiting)} to be Ready"
            else:
                what = f"pool {pool_id}: {len(ready)}/{count} Linodes ready"
            self._wait_a_moment(deadline, "", what)

    def _one_node(self, lke_id: str) -> None:
        state = self.state
        assert state is not None
        current = state.current
        if current is None or current["id"] != lke_id:
            pool = next(p for p in self.linode.pools(state.cluster_id)
                        if any(n.id == lke_id for n in p.nodes))
            node = next(n for n in pool.nodes if n.id == lke_id)
            name = self.linode.instance_label(node.instance_id or 0)
            current = state.current = {"id": lke_id, "name": name, "step": "cordon",
                                       "pool": pool.id, "before": []}
            self._save()
        name = current["name"]
        if current["step"] in ("cordon", "move", "drain"):
            if self.stop.is_set():
                raise OpsError("stopped on request")
            if draining.cordon(self.api, name) and name not in state.cordoned:
                state.cordoned.append(name)
            self._step(name, "cordon", "cordoned")
            self._empty(name, self.stop)
            pool = self.linode.pool(state.cluster_id, current["pool"])
            current["before"] = [n.id for n in pool.nodes]
            current["step"] = "recycle"
            self._save()
        if current["step"] == "recycle":
            if self.linode.recycle_finished(state.cluster_id, lke_id) is None:
                self.linode.recycle_node(state.cluster_id, lke_id)
                self._say(name, "recycle", "recycle requested from LKE")
            current["step"] = "wait"
            self._save()
        self._wait_replacement(current)
        state.done.append(lke_id)
        state.queue.remove(lke_id)
        if name in state.cordoned:  # the Node went with its Linode
            state.cordoned.remove(name)
        state.current = None
        self._save()

    def _empty(self, name: str, stop: threading.Event | None) -> None:
        """Move the node's pods off it (cordoned first, so nothing comes back): single-replica
        workloads a PDB guards by a rolling restart, then the rest through evictions. `stop`
        ends the drain early; a roll-back's own drains pass none, or an abort could never
        finish restoring the count."""
        draining.cordon(self.api, name)
        moved = move_single_replica(self.api, name, timeout=self.drain_timeout,
                                    say=lambda text: self._say(name, "move", text))
        if moved:
            self._step(name, "move", f"moved {', '.join(moved)} by a rolling restart")
        count = draining.drain(self.api, name, timeout=self.drain_timeout,
                               report=lambda text: self._say(name, "drain", text), stop=stop)
        self._step(name, "drain", f"drained: {count} pod(s) evicted")

    def _wait_replacement(self, current: dict[str, Any]) -> None:
        """Until the replacement Linode runs, its Node is Ready and schedulable, and LKE's
        recycle event has finished."""
        state = self.state
        assert state is not None
        deadline = time.monotonic() + self.node_timeout
        name = current["name"]
        while True:
            pool = self.linode.pool(state.cluster_id, current["pool"])
            ids = {n.id for n in pool.nodes}
            fresh = [n for n in pool.nodes if n.id not in current["before"]]
            if current["id"] in ids or not fresh:
                what = "LKE to replace the node"
            elif fresh[0].status != "ready" or not fresh[0].instance_id:
                what = f"the new Linode of {fresh[0].id} to be ready"
            else:
                new = self.linode.instance_label(fresh[0].instance_id)
                if not self._schedulable(new):
                    what = f"Node {new} to be Ready"
                elif not self.linode.recycle_finished(state.cluster_id, current["id"]):
                    what = "LKE's recycle event to finish"
                else:
                    self._step(name, "done", f"replaced by {new}")
                    return
            self._wait_a_moment(deadline, name, what)

    def _restore(self) -> None:
        """Back to the counts before the recycle. A node is drained and then deleted
        (deleting a node shrinks its pool), so nothing is cut off unannounced: the surge node
        first (it holds only pods that moved during the recycle), else the emptiest."""
        state = self.state
        assert state is not None
        state.phase = "restore"
        self._save()
        for pool_id, count in state.pools.items():
            pool = self.linode.pool(state.cluster_id, int(pool_id))
            while pool.count > count:
                self._remove_one(pool, count, state.surge_nodes.get(pool_id, []))
                pool = self.linode.pool(state.cluster_id, int(pool_id))

    def _remove_one(self, pool: LkePool, count: int, surge: list[str]) -> None:
        state = self.state
        assert state is not None
        names = {n.id: self.linode.instance_label(n.instance_id)
                 for n in pool.nodes if n.instance_id}
        candidates = sorted(names, key=lambda i: (
            i not in surge, len(draining.evictable_pods(self.api, names[i]))))
        blocked: list[str] = []
        for lke_id in candidates:
            name = names[lke_id]
            self._say(name, "restore", f"pool {pool.id}: back to {count} nodes without {name}")
            try:
                self._empty(name, None)
            except draining.DrainStopped as err:
                draining.cordon(self.api, name, False)
                blocked.append(str(err))
                continue
            self.linode.delete_node(state.cluster_id, lke_id)
            self._step(name, "done", f"drained and deleted: pool {pool.id} has {count} nodes")
            return
        raise OpsError(f"pool {pool.id} stays at {pool.count} nodes: no node could be drained "
                       f"to remove ({' '.join(blocked)})")

    def _roll_back(self, why: str) -> None:
        """Stop cleanly: uncordon what cpanel cordoned and restore the counts. A node whose
        recycle was requested is waited for first: it cannot be called back."""
        state = self.state
        assert state is not None
        self._say("", "stopped", why)
        if state.current and state.current["step"] in ("recycle", "wait"):
            self._wait_replacement(state.current)
            state.current = None
        for name in list(state.cordoned):
            draining.cordon(self.api, name, False)
            state.cordoned.remove(name)
            self._say(name, "uncordon", "uncordoned")
        state.current = None
        state.queue.clear()
        self._save()
        self._restore()
        self._forget()

    # -- helpers --------------------------------------------------------------------------
    def _schedulable(self, name: str) -> bool:
        try:
            node = call(self.api, "GET", NODES.object_path(None, name))
        except ApiError:
            return False
        except TransportError as err:
            raise OpsError(f"the Kubernetes API is unreachable ({err})") from err
        ready = any(c["type"] == "Ready" and c["status"] == "True"
                    for c in node.get("status", {}).get("conditions", []))
        return ready and not node.get("spec", {}).get("unschedulable")

    def _wait_a_moment(self, deadline: float, node: str, what: str) -> None:
        if time.monotonic() > deadline:
            raise OpsError(f"waited {self.node_timeout:.0f} s for {what}")
        if what != self._waiting:  # each new wait once, not once a second
            self._waiting = what
            self._say(node, "wait", f"waiting for {what}", keep=True)
        time.sleep(POLL)

    def _step(self, node: str, step: str, message: str) -> None:
        self._say(node, step, message, keep=True)
        self._save()

    def _say(self, node: str, step: str, message: str, keep: bool = False) -> None:
        progress = Progress(node, step, message)
        if keep and self.state is not None:
            self.state.history.append(asdict(progress))
        self._report(progress)

    def _save(self) -> None:
        assert self.state is not None
        body = {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": STATE[1], "namespace": STATE[0]},
            "data": {"state": json.dumps(asdict(self.state))},
        }
        path = CONFIGMAPS.object_path(*STATE)
        try:
            call(self.api, "PATCH", path, body=body,
                 query={"fieldManager": "cpanel", "force": True},
                 content_type="application/apply-patch+yaml")
        except ApiError as err:
            raise OpsError(f"cannot record the recycle's progress: {err.message}") from err
        except TransportError as err:
            raise OpsError(f"the Kubernetes API is unreachable ({err})") from err

    def _forget(self) -> None:
        try:
            call(self.api, "DELETE", CONFIGMAPS.object_path(*STATE))
        except ApiError as err:
            if err.code != 404:
                raise OpsError(f"cannot clear the recycle's state: {err.message}") from err
