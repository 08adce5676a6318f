"""What the simulated operators share: a level-triggered reconcile loop fed by watches, with
wake-ups on the operator's own clock, and the status conventions Kubernetes controllers
follow (conditions, controller owner references, Events)."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import httpx

from .kube import EVENTS, PODS, Kind, Kube, KubeError

log = logging.getLogger(__name__)

Key = tuple[str, ...]
Obj = dict[str, Any]  # an API object as JSON
Clock = Callable[[], dt.datetime]
RETRY_SECONDS = 1.0  # real time before another try after an API error


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def stamp(when: dt.datetime) -> str:
    """RFC 3339 to the second, as the API serialises metav1.Time."""
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")) if text else None


# -- status conventions ----------------------------------------------------------------------
def where(obj: Obj) -> tuple[str, str]:
    """(namespace, name) of an object; the namespace is "" for a cluster-scoped one."""
    return obj["metadata"].get("namespace", ""), obj["metadata"]["name"]


def conditions_of(obj: Obj) -> list[Obj]:
    """An object's status conditions; [] before it has any."""
    return (obj.get("status") or {}).get("conditions") or []


def find_condition(conditions: list[Obj], ctype: str) -> Obj | None:
    return next((c for c in conditions if c.get("type") == ctype), None)


def is_true(conditions: list[Obj], ctype: str) -> bool:
    return (find_condition(conditions, ctype) or {}).get("status") == "True"


def set_condition(
    conditions: list[Obj],
    ctype: str,
    status: str,
    reason: str,
    message: str,
    now: dt.datetime,
    generation: int | None = None,
) -> None:
    """Add or update a condition; its lastTransitionTime moves only when its status does."""
    current = find_condition(conditions, ctype)
    if current is None:
        current = {"type": ctype}
        conditions.append(current)
    if current.get("status") != status:
        current["lastTransitionTime"] = stamp(now)
    current.update(status=status, reason=reason, message=message)
    if generation is not None:
        current["observedGeneration"] = generation


def remove_condition(conditions: list[Obj], ctype: str) -> None:
    conditions[:] = [c for c in conditions if c.get("type") != ctype]


def running_and_ready(pod: Obj) -> bool:
    return (pod.get("status") or {}).get("phase") == "Running" and is_true(
        conditions_of(pod), "Ready"
    )


def controller_ref(owner: Obj) -> Obj:
    """The ownerReference a controller puts on what it creates, so the garbage collector
    deletes it with its owner."""
    return {
        "apiVersion": owner["apiVersion"],
        "kind": owner["kind"],
        "name": owner["metadata"]["name"],
        "uid": owner["metadata"]["uid"],
        "controller": True,
        "blockOwnerDeletion": True,
    }


class Events:
    """core/v1 Events about the objects an operator acts on; a repeat of the same reason and
    message bumps the count of the first one, as client-go's recorder does."""

    def __init__(self, kube: Kube, clock: Clock) -> None:
        self.kube = kube
        self.clock = clock
        self._seen: dict[tuple[str, str, str], tuple[str, str, int]] = {}

    async def record(self, component: str, obj: Obj, kind: str, reason: str, message: str) -> None:
        meta = obj["metadata"]
        namespace = meta.get("namespace") or "default"
        now = stamp(self.clock())
        key = (meta["uid"], reason, message)
        try:
            if key in self._seen:
                ns, name, count = self._seen[key]
                await self.kube.patch(EVENTS, ns, name, {"count": count + 1, "lastTimestamp": now})
                self._seen[key] = (ns, name, count + 1)
                return
            name = f"{meta['name']}.{secrets.token_hex(8)}"
            await self.kube.create(
                EVENTS,
                namespace,
                {
                    "metadata": {"name": name},
                    "involvedObject": {
                        "apiVersion": obj["apiVersion"],
                        "kind": obj["kind"],
                        "name": meta["name"],
                        "namespace": meta.get("namespace", ""),
                        "uid": meta["uid"],
                        "resourceVersion": meta.get("resourceVersion", ""),
                    },
                    "reason": reason,
                    "message": message,
                    "type": kind,
                    "source": {"component": component},
                    "reportingComponent": component,
                    "firstTimestamp": now,
                    "lastTimestamp": now,
                    "count": 1,
                },
            )
            self._seen[key] = (namespace, name, 1)
        except (KubeError, httpx.HTTPError) as err:  # a lost Event must not fail a reconcile
            self._seen.pop(key, None)
            log.debug("event %s about %s: %s", reason, meta["name"], err)


# -- the loop ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Watch:
    """A kind to follow, and which keys an object of it concerns."""

    kind: Kind
    keys: Callable[[Obj], Iterable[Key]]
    params: dict[str, str] = field(default_factory=dict)  # e.g. a labelSelector


@dataclass(frozen=True)
class ControllerPod:
    """Where an operator's own pod runs: its namespace and (some of) its labels."""

    namespace: str
    labels: dict[str, str]

    @property
    def selector(self) -> str:
        return ",".join(f"{k}={v}" for k, v in self.labels.items())


class Reconciler:
    """Subclasses name their watches and reconcile one key at a time. Watch events and
    wake-ups queue keys (each at most once); a reconcile returns when, on the operator's
    clock, it wants to look at its key again.

    With a `controller` pod, the operator is only as alive as that pod: `controller_running`
    says whether one is Running and Ready, and subclasses leave alone what the real operator
    would not do without it. Keys reconciled while it is down are reconciled again once it
    runs (nothing is lost: it catches up from the objects, as a restarted operator does)."""

    def __init__(
        self,
        kube: Kube,
        clock: Clock = utcnow,
        poll: float = 0.2,
        controller: ControllerPod | None = None,
    ) -> None:
        self.kube = kube
        self.clock = clock
        self.poll = poll  # real seconds between looks at the clock for due wake-ups
        self.controller = controller
        self.events = Events(kube, clock)
        self._queue: asyncio.Queue[Key] = asyncio.Queue()
        self._queued: set[Key] = set()
        self._due: dict[Key, dt.datetime] = {}
        self._controller_pods: dict[str, bool] = {}  # name -> Running and Ready
        self._waiting: set[Key] = set()  # reconciled while the controller was down

    def watches(self) -> list[Watch]:
        raise NotImplementedError

    async def reconcile(self, key: Key) -> dt.datetime | None:
        raise NotImplementedError

    @property
    def controller_running(self) -> bool:
        """Whether the operator's pod runs (always true without a `controller` to wait on)."""
        return self.controller is None or any(self._controller_pods.values())

    async def run(self) -> None:
        await asyncio.gather(
            self._work(),
            self._wake(),
            *(self._follow(w) for w in self.watches()),
            *([self._follow_controller(self.controller)] if self.controller else []),
        )

    def enqueue(self, key: Key) -> None:
        if key not in self._queued:
            self._queued.add(key)
            self._queue.put_nowait(key)

    async def _follow(self, watch: Watch) -> None:
        async for _, obj in self.kube.watch(watch.kind, **watch.params):
            for key in watch.keys(obj):
                self.enqueue(key)

    async def _follow_controller(self, controller: ControllerPod) -> None:
        pods = self.kube.watch(PODS, controller.namespace, labelSelector=controller.selector)
        async for event_type, pod in pods:
            name = pod["metadata"]["name"]
            if event_type == "DELETED":
                self._controller_pods.pop(name, None)
            else:
                self._controller_pods[name] = running_and_ready(pod)
            if self.controller_running:
                waiting, self._waiting = self._waiting, set()
                for key in waiting:
                    self.enqueue(key)

    async def _wake(self) -> None:
        while True:
            await asyncio.sleep(self.poll)
            now = self.clock()
            for key, when in list(self._due.items()):
                if when <= now:
                    del self._due[key]
                    self.enqueue(key)

    async def _work(self) -> None:
        while True:
            key = await self._queue.get()
            self._queued.discard(key)
            if not self.controller_running:
                # Before the reconcile, so that a pod starting meanwhile queues it again.
                self._waiting.add(key)
            try:
                due = await self.reconcile(key)
            except KubeError as err:
                if err.code != 409:  # a conflict only means a newer version is on its way
                    log.warning("%s %s: %s", type(self).__name__, "/".join(key), err)
                self._retry_soon(key)
                continue
            except httpx.HTTPError as err:
                log.debug("%s %s: API unreachable: %s", type(self).__name__, "/".join(key), err)
                self._retry_soon(key)
                continue
            except Exception:  # one malformed object must not stop the operator
                log.exception("%s %s", type(self).__name__, "/".join(key))
                continue
            if due is None:
                self._due.pop(key, None)
            else:
                self._due[key] = due

    def _retry_soon(self, key: Key) -> None:
        """Another try after an API error, in real time: the operator's own clock may be one
        that a test moves by hand."""
        asyncio.get_running_loop().call_later(RETRY_SECONDS, self.enqueue, key)
