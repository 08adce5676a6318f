"""A Session with no network: the fixtures captured from a seeded sandbox (fixtures/,
see fixtures/capture.py), served as they were at `FIXED`, every source live."""

from __future__ import annotations

import json
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
