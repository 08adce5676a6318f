"""Named incidents the sandbox can stage, each with a start and an end, for demos, training
and tests: `cpanel sandbox incident NAME [--stop]` or `Incidents.start(NAME)` in Python."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from .world import World

Step = Callable[[World], Coroutine[Any, Any, None]]


class IncidentError(Exception):
    """An incident that does not exist, or cannot start or stop now."""


@dataclass(frozen=True)
class Incident:
    name: str
    summary: str
    start: Step
    stop: Step


async def _node_loss(world: World) -> None:
    """A Linode dies: its kubelet goes silent, the Node goes NotReady, and LKE replaces the
    Linode after a while, as its node health checks do."""
    cluster = world.linode.lke.cluster(world.cluster_id)
    pool = next(iter(cluster.pools.values()))
    victim = pool.nodes[0]
    instance = world.linode.lke.instance(victim.instance_id)
    assert world.kubelets is not None
    world.kubelets.stop_node(instance.label)
    await asyncio.sleep(60 / world.speed)
    world.linode.lke.recycle_node(world.cluster_id, victim.id, "lke-autorepair")


async def _nothing(world: World) -> None:
    return None


async def _all_at_once(world: World) -> None:
    """2020: a pool recycle replaced every node at once."""
    world.linode.lke.recycle_all_at_once = True
    cluster = world.linode.lke.cluster(world.cluster_id)
    for pool_id in cluster.pools:
        world.linode.lke.recycle_pool(world.cluster_id, pool_id, "sandbox")


async def _rolling_again(world: World) -> None:
    world.linode.lke.recycle_all_at_once = False


async def _apiserver_flap(world: World) -> None:
    """The API server drops out for a few seconds at a time, watches and all."""
    while True:
        world.kube_server.unavailable = True
        world.kube_server.close_streams()
        await asyncio.sleep(8 / world.speed)
        world.kube_server.unavailable = False
        await asyncio.sleep(20 / world.speed)


async def _apiserver_steady(world: World) -> None:
    world.kube_server.unavailable = False


CATALOGUE = {
    i.name: i
    for i in (
        Incident(
            "node-loss",
            "a Linode dies; its node goes NotReady; LKE replaces it",
            _node_loss,
            _nothing,
        ),
        Incident(
            "recycle-all-at-once",
            "the 2020 pool recycle: every node replaced at once",
            _all_at_once,
            _rolling_again,
        ),
        Incident(
            "apiserver-flap",
            "the Kubernetes API drops out for seconds at a time",
            _apiserver_flap,
            _apiserver_steady,
        ),
    )
}


class Incidents:
    """The incidents running in one world."""

    def __init__(self, world: World) -> None:
        self.world = world
        self._running: dict[str, asyncio.Task[None]] = {}

    def active(self) -> list[str]:
        return [name for name, task in self._running.items() if not task.cancelled()]

    def start(self, name: str) -> None:
        incident = self._get(name)
        if name in self._running:
            raise IncidentError(f"incident {name} is already running")
        self._running[name] = asyncio.create_task(incident.start(self.world), name=name)

    async def stop(self, name: str) -> None:
        incident = self._get(name)
        task = self._running.pop(name, None)
        if task is None:
            raise IncidentError(f"incident {name} is not running")
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await incident.stop(self.world)

    @staticmethod
    def _get(name: str) -> Incident:
        if name not in CATALOGUE:
            known = ", ".join(sorted(CATALOGUE))
            raise IncidentError(f"no incident called {name!r}; known: {known}")
        return CATALOGUE[name]
