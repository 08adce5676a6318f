"""The object store: current objects, a global resourceVersion, and a retained event log.

Everything runs on the server's event loop, so no locks: a write and the notification of its
watchers happen without an await in between, which keeps watch streams exactly ordered.
Stored objects are never mutated; a write stores a new dict, so readers may hold references.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

Key = tuple[str, str]  # (group, plural)
ObjKey = tuple[str, str]  # (namespace, name)


@dataclass(frozen=True)
class Event:
    type: str  # ADDED | MODIFIED | DELETED
    rv: int
    key: Key
    obj: dict[str, Any]
    old: dict[str, Any] | None = None  # the previous object, for MODIFIED


@dataclass(eq=False)
class Subscription:
    """A queue of events for a set of resource keys (None: every key)."""

    keys: frozenset[Key] | None
    queue: asyncio.Queue[Event | None] = field(default_factory=asyncio.Queue)  # None: closed

    def wants(self, key: Key) -> bool:
        return self.keys is None or key in self.keys


class Store:
    def __init__(self, window: int = 20000) -> None:
        self.rv = 0
        self._objects: dict[Key, dict[ObjKey, dict[str, Any]]] = {}
        self._log: deque[Event] = deque(maxlen=window)
        # The oldest resourceVersion a watch may start from and still see every later event.
        self.oldest_rv = 0
        self._subs: set[Subscription] = set()
        self.dirty = False

    # -- reads ---------------------------------------------------------------------------
    def get(self, key: Key, namespace: str, name: str) -> dict[str, Any] | None:
        return self._objects.get(key, {}).get((namespace, name))

    def list(self, key: Key, namespace: str | None = None) -> list[dict[str, Any]]:
        objs = self._objects.get(key, {})
        items = [(k, o) for k, o in objs.items() if namespace is None or k[0] == namespace]
        items.sort(key=lambda kv: kv[0])
        return [o for _, o in items]

    def count(self, key: Key) -> int:
        return len(self._objects.get(key, {}))

    def kinds(self) -> list[Key]:
        return list(self._objects)

    def empty(self) -> bool:
        return not any(self._objects.values())

    # -- writes --------------------------------------------------------------------------
    def next_rv(self) -> int:
        self.rv += 1
        return self.rv

    def put(self, key: Key, obj: dict[str, Any], rv: int) -> None:
        """Store `obj` (already stamped with resourceVersion `rv`) and notify watchers."""
        meta = obj["metadata"]
        okey = (meta.get("namespace", ""), meta["name"])
        bucket = self._objects.setdefault(key, {})
        old = bucket.get(okey)
        bucket[okey] = obj
        self._emit(Event("MODIFIED" if old else "ADDED", rv, key, obj, old))

    def remove(self, key: Key, obj: dict[str, Any], rv: int) -> None:
        meta = obj["metadata"]
        self._objects.get(key, {}).pop((meta.get("namespace", ""), meta["name"]), None)
        self._emit(Event("DELETED", rv, key, obj))

    def _emit(self, event: Event) -> None:
        if len(self._log) == self._log.maxlen:
            self.oldest_rv = self._log[0].rv
        self._log.append(event)
        self.dirty = True
        for sub in self._subs:
            if sub.wants(event.key):
                sub.queue.put_nowait(event)

    # -- watches -------------------------------------------------------------------------
    def subscribe(self, keys: frozenset[Key] | None) -> Subscription:
        sub = Subscription(keys)
        self._subs.add(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        self._subs.discard(sub)

    def events_since(self, key: Key, rv: int) -> list[Event] | None:
        """Retained events for `key` after `rv`, or None when some were already dropped."""
        if rv < self.oldest_rv:
            return None
        return [e for e in self._log if e.rv > rv and e.key == key]

    # -- persistence ---------------------------------------------------------------------
    def snapshot(self) -> dict[str, Any]:
        """A consistent copy cheap to take on the loop (objects are immutable)."""
        return {
            "rv": self.rv,
            "objects": [
                {"group": g, "plural": p, "object": o}
                for (g, p), bucket in self._objects.items()
                for o in bucket.values()
            ],
        }

    def restore(self, snap: dict[str, Any]) -> None:
        self.rv = int(snap["rv"])
        self.oldest_rv = self.rv  # no history survives a restart: older watches get 410
        for item in snap["objects"]:
            obj = item["object"]
            meta = obj["metadata"]
            bucket = self._objects.setdefault((item["group"], item["plural"]), {})
            bucket[(meta.get("namespace", ""), meta["name"])] = obj


def save_snapshot(snap: dict[str, Any], path: Path) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(snap, separators=(",", ":")))
    os.replace(tmp, path)


def load_snapshot(path: Path) -> dict[str, Any] | None:
    if not path.exists():
        return None
    return json.loads(path.read_text())
