"""A Session with no network: the fixtures captured from a seeded sandbox (fixtures/,
see fixtures/capture.py), served as they were at `FIXED`, every source live."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from functools import cache
from pathlib import Path
from typing import Any

from cpanel_platform import config
from cpanel_platform.freshness import Freshness, State
from cpanel_platform.keel import Approval, AuditEntry, KeelSnapshot
from cpanel_platform.kube.client import KubeTarget
from cpanel_platform.kube.kinds import KINDS, Kind
from cpanel_platform.linode import LinodeSnapshot, LkeCluster, LkeEvent, LkeNode, LkePool, Volume
from cpanel_platform.prom.results import Results, Sample, Series

FIXTURES = Path(__file__).parent / "fixtures"


def _read(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


META: dict[str, Any] = _read("meta.json")
FIXED: float = META["captured_at"]  # the fixtures' "now": the tests' clock


def clock() -> float:
    return FIXED


def live(source: str) -> Freshness:
    return Freshness(source, State.LIVE, since=FIXED)


@cache
def objects(kind: Kind) -> tuple[dict[str, Any], ...]:
    """The captured objects of `kind` (none for a kind that was not captured)."""
    path = FIXTURES / "kube" / f"{kind.plural}.json"
    return tuple(json.loads(path.read_text())) if path.exists() else ()


def results() -> Results:
    out: dict[str, tuple[Sample, ...] | tuple[Series, ...]] = {}
    for name, answers in _read("prometheus.json").items():
        out[name] = tuple(
            Sample(a["labels"], a["value"]) if "value" in a
            else Series(a["labels"], tuple((t, v) for t, v in a["points"]))
            for a in answers
        )
    return out


def linode_snapshot() -> LinodeSnapshot:
    doc = _read("linode.json")
    cluster = None
    if doc["cluster"]:
        c = dict(doc["cluster"])
        pools = tuple(
            LkePool(**{**p, "nodes": tuple(LkeNode(**n) for n in p["nodes"])})
            for p in c.pop("pools")
        )
        cluster = LkeCluster(**c, pools=pools)
    return LinodeSnapshot(
        cluster,
        tuple(LkeEvent(**e) for e in doc["events"]),
        tuple(Volume(**v) for v in doc["volumes"]),
    )


def keel_snapshot() -> KeelSnapshot:
    doc = _read("keel.json")
    return KeelSnapshot(
        tuple(Approval(**{**a, "voters": tuple(a["voters"])}) for a in doc["approvals"]),
        tuple(AuditEntry(**e) for e in doc["audit"]),
    )


class FakeCache:
    """A watch cache that never changes: the captured objects, live since FIXED."""

    def __init__(self, kind: Kind, namespace: str | None) -> None:
        self.kind = kind
        self.namespace = namespace
        every = objects(kind)
        self._objects = every if namespace is None else tuple(
            o for o in every if o["metadata"].get("namespace") == namespace)
        self._by_key = {(o["metadata"].get("namespace") or "", o["metadata"]["name"]): o
                        for o in self._objects}
        self.version = 1
        self.synced = True
        self.freshness = live(f"kube/{kind.plural}")

    def objects(self, namespace: str | None = None) -> tuple[dict[str, Any], ...]:
        if namespace is None:
            return self._objects
        return tuple(o for o in self._objects if o["metadata"].get("namespace") == namespace)

    def get(self, namespace: str, name: str) -> dict[str, Any] | None:
        return self._by_key.get((namespace or "", name))

    def subscribe(self, callback: Callable[[Any], None]) -> Callable[[], None]:
        return lambda: None


class FakeCaches:
    def __init__(self) -> None:
        self._caches: dict[tuple[Kind, str | None], FakeCache] = {}

    def get(self, kind: Kind, namespace: str | None = None) -> FakeCache:
        scope = namespace if kind.namespaced else None
        if (kind, scope) not in self._caches:
            self._caches[(kind, scope)] = FakeCache(kind, scope)
        return self._caches[(kind, scope)]

    def freshness(self) -> list[Freshness]:
        return [c.freshness for c in self._caches.values()]

    def stop_all(self, timeout: float = 1.0) -> None:
        self._caches.clear()


class FakeAccess:
    """The sandbox admin: allowed everything."""

    def can_i(self, verb: str, resource: str, **kwargs: Any) -> bool:
        return True


class FakeProm:
    def __init__(self) -> None:
        self.freshness = live("prometheus")
        self.errors: dict[str, str] = {}
        self._results = results()

    def refresh(self, visible: set[str], now: Any = None) -> Results:
        return self._results


class FakeLinode:
    def __init__(self) -> None:
        self.freshness = live("linode")
        self._snapshot = linode_snapshot()

    def refresh(self) -> LinodeSnapshot:
        return self._snapshot


class FakeKeel:
    def __init__(self) -> None:
        self.freshness = live("keel")
        self._snapshot = keel_snapshot()

    def refresh(self) -> KeelSnapshot:
        return self._snapshot


class FakeSession:
    """The Session surface the app uses, over the fixtures. `target.api` is None: what the
    app reads from the API server directly must be patched (see `patch_api`)."""

    def __init__(self, settings: config.Settings | None = None) -> None:
        self.settings = settings or config.Settings()
        self.target = KubeTarget(META["context"], META["cluster"], META["server"],
                                 META["user"], META["namespace"], api=None)  # type: ignore[arg-type]
        self.caches = FakeCaches()
        self.access = FakeAccess()
        self.prom = FakeProm()
        self.linode = FakeLinode()
        self.keel = FakeKeel()

    def server_version(self) -> str | None:
        return META["server_version"]

    def freshness(self) -> list[Freshness]:
        return [live("kubernetes"), self.prom.freshness, self.linode.freshness,
                self.keel.freshness]

    def close(self) -> None:
        self.caches.stop_all()


def related_events(api: Any, obj: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The captured events about `obj`, oldest first, as kube.actions.related_events."""
    meta = obj.get("metadata", {})
    found = [
        e for e in objects(KINDS["events"])
        if e.get("involvedObject", {}).get("name") == meta.get("name")
        and (e.get("involvedObject", {}).get("namespace") or "") == (meta.get("namespace") or "")
    ]
    return sorted(found, key=lambda e: e.get("lastTimestamp") or e.get("eventTime") or "")


def patch_api(monkeypatch: Any) -> None:
    """Route the app's one direct API server read, the describe screen's events, to the
    fixtures."""
    monkeypatch.setattr("cpanel_platform.kube.actions.related_events", related_events)


# --- the provisioning back end, for the Platform pane ------------------------------------------


def platform_plan(**changes: Any) -> Any:
    """A plan for cluster prod: one Linode change; a component drifted, one waiting, one not
    installed and one up to date. `changes` replaces Plan fields."""
    from dataclasses import replace

    from cpanel_platform.provision.kube_apply import FieldChange, ObjectChange
    from cpanel_platform.provision.linode_plan import ActualCluster, Change
    from cpanel_platform.provision.plan import ComponentPlan, Plan

    def obj(kind: str, namespace: str, name: str, action: Any, *fields: FieldChange) -> Any:
        return ObjectChange(kind, namespace, name, action, fields)

    cluster = ActualCluster(1, "prod", "us-east", "1.36", True, "ready", ())
    components = (
        ComponentPlan("ingress_nginx", "1.12.1", "1.12.1", (
            obj("Deployment", "ingress-nginx", "ingress-nginx-controller", "update",
                FieldChange("spec.replicas", "5", "3", outside=True)),
            obj("Service", "ingress-nginx", "ingress-nginx-controller", "unchanged"),
        )),
        ComponentPlan("cert_manager", "1.16.3", "1.16.2", (
            obj("Deployment", "cert-manager", "cert-manager", "update",
                FieldChange("spec.template.spec.containers[0].image",
                            "quay.io/jetstack/cert-manager-controller:v1.16.2",
                            "quay.io/jetstack/cert-manager-controller:v1.16.3")),
        ), ("Deployment cert-manager/cert-manager: 0/1 replicas updated and available",)),
        ComponentPlan("keel", "0.19.1", None, (
            obj("Namespace", "", "keel", "create"),
            obj("Deployment", "keel", "keel", "create"),
        )),
        ComponentPlan("monitoring", "0.14.0", "0.14.0", (
            obj("Deployment", "monitoring", "prometheus-operator", "unchanged"),
        )),
    )
    linode = (Change("resize-pool", "pool 412 (g6-dedicated-8)", "count 3 → 4"),)
    plan = Plan("prod", cluster, linode, (), components, context="lke1-ctx")
    return replace(plan, **changes)


class FakeProvisioning:
    """make_plan and carry_out without a network. make_plan waits while `gate` is clear, then
    returns `plan` or raises `plan_error`; carry_out reports `events`, waits for its stop
    when `until_stopped`, then returns or raises `error`."""

    def __init__(self, plan: Any) -> None:
        import threading

        from cpanel_platform.provision.up import Event

        self.plan = plan
        self.plan_error: Exception | None = None
        self.gate = threading.Event()
        self.gate.set()
        self.planned = 0
        self.applied: list[Any] = []
        self.events = [Event("cluster", "updated pool 412 (g6-dedicated-8): count 3 → 4"),
                       Event("ingress_nginx", "Deployment ingress-nginx/ingress-nginx-controller "
                             "updated (spec.replicas)"),
                       Event("ingress_nginx", "healthy", "done")]
        self.error: Exception | None = None
        self.until_stopped = False

    def make_plan(self, spec: Any, **kwargs: Any) -> Any:
        self.gate.wait(10)
        self.planned += 1
        if self.plan_error is not None:
            raise self.plan_error
        return self.plan

    def carry_out(self, spec: Any, plan: Any, *, report: Callable[[Any], None], stop: Any,
                  **kwargs: Any) -> str:
        self.applied.append(plan)
        for event in self.events:
            report(event)
        if self.until_stopped:
            stop.wait(10)
        if self.error is not None:
            raise self.error
        return plan.context

    def patch(self, monkeypatch: Any) -> FakeProvisioning:
        monkeypatch.setattr("cpanel_platform.provision.plan.make_plan", self.make_plan)
        monkeypatch.setattr("cpanel_platform.provision.up.carry_out", self.carry_out)
        return self


# --- the rolling operations' back end, for the recycle and upgrade keys --------------------------

NODES_412 = tuple(n.instance_label for n in linode_snapshot().cluster.pools[0].nodes)


class FakeRecycler:
    """A Recycler (and, through `upgrader`, an Upgrader) without a network, over pool 412's
    three nodes. `start` reports a fixed story (one line every 20 s from FIXED); at line
    `pause_at` it waits for `gate` (30 s at most) — or for its stop Event, and then stops as
    the real one does: a "stopped" line, then RecycleStopped. `pending_state` is what
    `pending()` finds."""

    def __init__(self) -> None:
        import threading

        self.gate = threading.Event()
        self.pause_at: int | None = None
        self.plan_error: Exception | None = None
        self.pending_state: Any = None
        self.preflight_problems: tuple[str, ...] = ()
        self.planned: list[dict[str, Any]] = []
        self.api = self.linode = None
        self.state: Any = None
        self.stop = threading.Event()
        self.report: Callable[[Any], None] = print

    def make(self, api: Any, settings: config.Settings, report: Callable[[Any], None]) -> Any:
        self.report = report
        return self

    def upgrader(self, recycler: Any, cluster_id: int) -> Any:
        return self

    def patch(self, monkeypatch: Any) -> FakeRecycler:
        from cpanel_platform.ops.availability import Availability

        monkeypatch.setattr("cpanel.operations.make_recycler", self.make)
        monkeypatch.setattr("cpanel.operations.make_upgrader", self.upgrader)
        monkeypatch.setattr("cpanel_platform.ops.availability.check",
                            lambda api: Availability(True, 4, ()))
        return self

    # -- the Recycler ---------------------------------------------------------------------
    def plan(self, cluster_id: int, *, pool_id: int | None = None, node_id: str | None = None,
             only: set[str] | None = None) -> Any:
        from cpanel_platform.ops.recycle import PlannedNode, RecyclePlan

        self.planned.append({"pool_id": pool_id, "node_id": node_id})
        if self.plan_error is not None:
            raise self.plan_error
        scope = (f"pool {pool_id}" if pool_id else f"node {node_id}" if node_id
                 else f"cluster {cluster_id}")
        nodes = tuple(PlannedNode(f"412-{i}", name, 412, 2) for i, name in enumerate(NODES_412))
        return RecyclePlan(cluster_id, scope, {412: 3}, nodes, ("app/web",),
                           ("app/media",), ("app/cache-0",), 180.0)

    def pending(self) -> Any:
        return self.pending_state

    def start(self, plan: Any) -> None:
        from cpanel_platform.ops.recycle import State

        self.state = State(plan.cluster_id, plan.scope, {"412": 3},
                           [n.lke_id for n in plan.nodes])
        self._run()

    def resume(self) -> None:
        from cpanel_platform.ops.recycle import Progress

        self.state, self.pending_state = self.pending_state, None
        self.report(Progress("", "resume", f"resuming the recycle of {self.state.scope}",
                             FIXED))
        self._run()

    def _story(self) -> list[tuple[str, str, str]]:
        lines = [("", "surge", "pool 412: 3 → 4 nodes"),
                 ("", "wait", "waiting for pool 412: 3/4 Linodes ready")]
        for i, lke_id in enumerate(list(self.state.queue)):
            name = NODES_412[int(lke_id.split("-")[1])]
            lines += [(name, "cordon", "cordoned"),
                      (name, "drain", f"evicted web-{i}a (1/2)")]
            if i == 1:
                lines.append((name, "drain", "waiting: PDB app/web allows no disruption for "
                              "app/web-1b"))
            lines += [(name, "drain", f"evicted web-{i}b (2/2)"),
                      (name, "drain", "drained: 2 pod(s) evicted"),
                      (name, "recycle", "recycle requested from LKE"),
                      (name, "wait", "waiting for LKE to replace the node"),
                      (name, "done", f"replaced by lke118447-412-new{i}")]
        return [*lines, ("", "done", f"recycled {len(self.state.queue)} node(s) of "
                         f"{self.state.scope} in 900 s")]

    def _run(self) -> None:
        from cpanel_platform.ops.recycle import Progress, RecycleStopped

        for i, (node, step, text) in enumerate(self._story()):
            if i == self.pause_at:
                deadline = time.monotonic() + 30
                while not self.gate.wait(0.01) and time.monotonic() < deadline:
                    if self.stop.is_set():
                        self.state.queue.clear()  # rolled back
                        self.report(Progress("", "stopped", "stopped on request",
                                             FIXED + 20 * i))
                        raise RecycleStopped(
                            f"the recycle of {self.state.scope} stopped: stopped on request. "
                            "Rolled back: nothing is left cordoned by cpanel and the pool "
                            f"count is restored; {len(self.state.done)} node(s) were "
                            "recycled.")
            if step == "done" and node:
                lke_id = self.state.queue.pop(0)
                self.state.done.append(lke_id)
            self.report(Progress(node, step, text, FIXED + 20 * i))

    # -- the Upgrader ---------------------------------------------------------------------
    @property
    def recycler(self) -> FakeRecycler:
        return self

    def preflight(self, to: str | None, platform_file: Any) -> Any:
        from cpanel_platform.ops.upgrade import Preflight

        return Preflight("1.36", "1.37", self.preflight_problems,
                         ("the Linode API offers 1.37",))

    def run(self, check: Any) -> None:
        self.start(self.plan(118447))
