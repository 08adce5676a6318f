"""A level-triggered controller loop over the store's events, with a deduplicating work queue."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections.abc import Iterable
from typing import Any

from ..api import Api
from ..errors import ApiError
from ..events import Recorder
from ..store import Event, Key

log = logging.getLogger(__name__)

WorkKey = tuple[str, str]  # (namespace, name) of the object the controller reconciles


def controller_of(obj: dict[str, Any]) -> dict[str, Any] | None:
    """The ownerReference marked as the controller, if any."""
    return next(
        (r for r in obj["metadata"].get("ownerReferences") or [] if r.get("controller")), None
    )


def owner_keys(event: Event, kind: str) -> list[WorkKey]:
    """The owners of `kind` to wake for an event about a dependent, before and after it."""
    keys = []
    for obj in (event.obj, event.old):
        ref = controller_of(obj) if obj else None
        if ref and ref.get("kind") == kind:
            keys.append((obj["metadata"].get("namespace", ""), ref["name"]))
    return list(dict.fromkeys(keys))


def owner_of(obj: dict[str, Any], kind: str) -> str | None:
    """The uid of the controlling owner of the given kind."""
    for ref in obj["metadata"].get("ownerReferences") or []:
        if ref.get("controller") and ref.get("kind") == kind:
            return ref.get("uid")
    return None


def resolve_bound(value: Any, total: int, round_up: bool) -> int:
    """An int-or-percent bound (maxSurge, maxUnavailable, minAvailable) against `total`."""
    if isinstance(value, str) and value.endswith("%"):
        scaled = int(value[:-1]) * total / 100
        return math.ceil(scaled) if round_up else math.floor(scaled)
    return int(value or 0)


def controller_ref(owner: dict[str, Any]) -> dict[str, Any]:
    meta = owner["metadata"]
    return {
        "apiVersion": owner["apiVersion"],
        "kind": owner["kind"],
        "name": meta["name"],
        "uid": meta["uid"],
        "controller": True,
        "blockOwnerDeletion": True,
    }


class Controller:
    """Subclasses set `name` and `watches`, map events to work keys, and reconcile one key.

    By default the work keys are the objects of `primary`, and an event about any other
    watched kind wakes the object's controlling owner of kind `owned_by`."""

    name = "controller"
    watches: frozenset[Key] | None = frozenset()  # None: every kind
    primary: Key | None = None
    owned_by = ""
    resync_seconds = 30.0

    def __init__(self, api: Api) -> None:
        self.api = api
        self.record = Recorder(api, self.name)
        self._queue: asyncio.Queue[WorkKey] = asyncio.Queue()
        self._queued: set[WorkKey] = set()
        self._timers: dict[WorkKey, asyncio.TimerHandle] = {}

    def keys_for(self, event: Event) -> Iterable[WorkKey]:
        if self.primary is None or event.key == self.primary:
            meta = event.obj["metadata"]
            return [(meta.get("namespace", ""), meta["name"])]
        return owner_keys(event, self.owned_by)

    def all_keys(self) -> Iterable[WorkKey]:
        if self.primary is None:
            return []
        return [
            (o["metadata"].get("namespace", ""), o["metadata"]["name"])
            for o in self.api.store.list(self.primary)
        ]

    def reconcile(self, key: WorkKey) -> None:
        raise NotImplementedError

    def enqueue(self, key: WorkKey) -> None:
        if key not in self._queued:
            self._queued.add(key)
            self._queue.put_nowait(key)

    def enqueue_after(self, delay: float, key: WorkKey) -> None:
        """Reconcile `key` again after `delay`; an earlier wake-up already set covers it, so
        reconciles that ask again and again do not pile up timers."""
        loop = asyncio.get_running_loop()
        when = loop.time() + max(0.0, delay)
        pending = self._timers.get(key)
        if pending and not pending.cancelled() and pending.when() <= when:
            return
        if pending:
            pending.cancel()
        self._timers[key] = loop.call_at(when, self._wake, key)

    def _wake(self, key: WorkKey) -> None:
        self._timers.pop(key, None)
        self.enqueue(key)

    async def run(self) -> None:
        sub = self.api.store.subscribe(self.watches)
        feeder = asyncio.create_task(self._feed(sub.queue))
        try:
            while True:
                key = await self._queue.get()
                self._queued.discard(key)
                try:
                    self.reconcile(key)
                except ApiError as err:
                    if err.code != 404:
                        log.debug("%s: %s: %s", self.name, key, err.message)
                    self.enqueue_after(1.0, key)
                except Exception:
                    log.exception("%s failed on %s", self.name, key)
                    self.enqueue_after(5.0, key)
                await asyncio.sleep(0)  # let the server answer between reconciles
        finally:
            feeder.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await feeder
            self.api.store.unsubscribe(sub)

    async def _feed(self, events: asyncio.Queue[Event]) -> None:
        for key in self.all_keys():
            self.enqueue(key)
        while True:
            try:
                event = await asyncio.wait_for(events.get(), self.resync_seconds)
            except TimeoutError:
                for key in self.all_keys():
                    self.enqueue(key)
                continue
            for key in self.keys_for(event):
                self.enqueue(key)
