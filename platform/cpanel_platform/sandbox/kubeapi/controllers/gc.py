"""Garbage collection by ownerReferences: background, foreground and orphan deletion."""

from __future__ import annotations

import copy
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from ..errors import ApiError
from ..store import Event
from .base import Controller, WorkKey

Location = tuple[str, str, str, str]  # group, plural, namespace, name


def _location(key: tuple[str, str], obj: dict[str, Any]) -> Location:
    meta = obj["metadata"]
    return (*key, meta.get("namespace", ""), meta["name"])


class GarbageCollector(Controller):
    """Work keys are ("", owner uid): an owner that is gone or is being deleted."""

    name = "garbage-collector"
    watches = None
    resync_seconds = 60.0

    def __init__(self, api: Any) -> None:
        super().__init__(api)
        self._alive: dict[str, Location] = {}
        self._dependents: dict[str, set[Location]] = defaultdict(set)

    def _index(self, key: tuple[str, str], obj: dict[str, Any], present: bool) -> None:
        loc = _location(key, obj)
        uid = obj["metadata"].get("uid", "")
        if present:
            self._alive[uid] = loc
        else:
            self._alive.pop(uid, None)
        for ref in obj["metadata"].get("ownerReferences") or []:
            deps = self._dependents[ref["uid"]]
            if present:
                deps.add(loc)
            else:
                deps.discard(loc)

    def keys_for(self, event: Event) -> Iterable[WorkKey]:
        if event.old is not None:
            self._index(event.key, event.old, present=False)
        gone = event.type == "DELETED"
        self._index(event.key, event.obj, present=not gone)
        meta = event.obj["metadata"]
        keys = []
        if gone or meta.get("deletionTimestamp"):
            keys.append(("", meta["uid"]))
        # A dependent created after its owner vanished must go too.
        keys += [
            ("", ref["uid"])
            for ref in meta.get("ownerReferences") or []
            if ref["uid"] not in self._alive and not gone
        ]
        return keys

    def all_keys(self) -> Iterable[WorkKey]:
        self._alive.clear()
        self._dependents.clear()
        for key in self.api.store.kinds():
            for obj in self.api.store.list(key):
                self._index(key, obj, present=True)
        return [("", uid) for uid in self._dependents if uid not in self._alive]

    def reconcile(self, key: WorkKey) -> None:
        uid = key[1]
        deps = [
            (loc, self.api.store.get(loc[:2], loc[2], loc[3]))
            for loc in list(self._dependents.get(uid, ()))
        ]
        deps = [(loc, obj) for loc, obj in deps if obj is not None]
        owner_loc = self._alive.get(uid)
        owner = self.api.store.get(owner_loc[:2], owner_loc[2], owner_loc[3]) if owner_loc else None
        if owner is None:
            for loc, obj in deps:
                refs = obj["metadata"].get("ownerReferences") or []
                if all(r["uid"] not in self._alive for r in refs):
                    self._delete(loc, "Background")
            if not deps:
                self._dependents.pop(uid, None)
            return
        finalizers = owner["metadata"].get("finalizers") or []
        if not owner["metadata"].get("deletionTimestamp"):
            return
        if "orphan" in finalizers:
            for loc, obj in deps:
                self._drop_owner(loc, obj, uid)
            self._drop_finalizer(owner_loc, owner, "orphan")
        elif "foregroundDeletion" in finalizers:
            live = [loc for loc, obj in deps if not obj["metadata"].get("deletionTimestamp")]
            for loc in live:
                self._delete(loc, "Foreground")
            if not deps:
                self._drop_finalizer(owner_loc, owner, "foregroundDeletion")
            else:
                self.enqueue_after(0.5, key)

    def _delete(self, loc: Location, policy: str) -> None:
        try:
            self.api.delete(
                self.api.preferred(*loc[:2]), loc[2], loc[3], {"propagationPolicy": policy}
            )
        except ApiError as err:
            if err.code != 404:
                raise

    def _drop_owner(self, loc: Location, obj: dict[str, Any], uid: str) -> None:
        new = copy.deepcopy(obj)
        new["metadata"]["ownerReferences"] = [
            r for r in obj["metadata"].get("ownerReferences") or [] if r["uid"] != uid
        ]
        self.api.update(self.api.preferred(*loc[:2]), loc[2], loc[3], new)

    def _drop_finalizer(self, loc: Location, obj: dict[str, Any], finalizer: str) -> None:
        new = copy.deepcopy(obj)
        new["metadata"]["finalizers"] = [f for f in obj["metadata"]["finalizers"] if f != finalizer]
        self.api.update(self.api.preferred(*loc[:2]), loc[2], loc[3], new)
