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


async def _linode_flaky(world: World) -> None:
    world.linode.flaky_every = 3


async def _linode_steady(world: World) -> None:
    world.linode.flaky_every = 0


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


APP_IMAGE = "ghcr.io/example/shop"
BAD_TAG = "2.15.0"
LAG_BYTES = 160 * 2**20  # past the critical alert line of 100 MiB


async def _cdn_off(world: World) -> None:
    """Media is served from the volume instead of the CDN: it saturates, latency and 5xx rise."""
    world.monitoring.telemetry.turn(
        utilisation={world.monitoring.media_volume(): 1.0}, error_ratio=0.03, traffic=1.4
    )


async def _cdn_on(world: World) -> None:
    world.monitoring.telemetry.turn(utilisation={}, error_ratio=None, traffic=1.0)


def _replica(world: World) -> str:
    cluster = next(iter(world.postgres.clusters.values()))
    return next(i.name for i in cluster.instances.values() if i.role == "replica")


async def _replica_lag(world: World) -> None:
    """The replica falls behind the primary, past the alert lines."""
    replica = _replica(world)
    world.postgres.lag_bytes[replica] = LAG_BYTES
    world.monitoring.telemetry.turn(replica_lag_bytes={replica: LAG_BYTES})


async def _replica_caught_up(world: World) -> None:
    world.postgres.lag_bytes.clear()
    world.monitoring.telemetry.turn(replica_lag_bytes={})


async def _bad_rollout(world: World) -> None:
    """Keel rolls out an image that crash-loops; the site loses capacity and errors rise."""
    world.kubelets.bad_images.add(f"{APP_IMAGE}:{BAD_TAG}")
    await world.keel.push(APP_IMAGE, BAD_TAG)
    world.monitoring.telemetry.turn(error_ratio=0.08)


async def _rolled_back(world: World) -> None:
    world.kubelets.bad_images.discard(f"{APP_IMAGE}:{BAD_TAG}")
    world.monitoring.telemetry.turn(error_ratio=None)


async def _cert_renewal_failure(world: World) -> None:
    """DNS-01 fails for the production issuer: renewals fail and expiry approaches."""
    world.cert_manager.failing_issuers.add("letsencrypt-prod")


async def _cert_renewal_fixed(world: World) -> None:
    world.cert_manager.failing_issuers.discard("letsencrypt-prod")


async def _prometheus_down(world: World) -> None:
    await world.monitoring.pause_prometheus()


async def _prometheus_up(world: World) -> None:
    await world.monitoring.resume_prometheus()


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
        Incident(
            "linode-flaky",
            "the Linode API answers every third request with 429 or 500",
            _linode_flaky,
            _linode_steady,
        ),
        Incident(
            "cdn-off",
            "media served from the volume: IO saturates, latency and 5xx rise",
            _cdn_off,
            _cdn_on,
        ),
        Incident(
            "replica-lag",
            "the Postgres replica falls 160 MiB behind",
            _replica_lag,
            _replica_caught_up,
        ),
        Incident(
            "bad-rollout", "Keel rolls out an image that crash-loops", _bad_rollout, _rolled_back
        ),
        Incident(
            "cert-renewal-failure",
            "DNS-01 fails; certificates cannot renew",
            _cert_renewal_failure,
            _cert_renewal_fixed,
        ),
        Incident("prometheus-down", "Prometheus stops answering", _prometheus_down, _prometheus_up),
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
