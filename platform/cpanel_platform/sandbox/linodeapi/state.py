"""The emulated Linode account: LKE, Linodes, volumes, DNS and the event log, on one clock.

Everything is deterministic given the seed and the clock: ids come from a monotonic
allocator, random parts of names and addresses from one seeded generator, and time-driven
changes run from a scheduler that `tick()` (or `advance()` with a ManualClock) moves on.

Hooks for the rest of the sandbox:
- `listener` hears when an LKE cluster is created or deleted, and when an LKE Linode starts
  running or is deleted (see `Listener`); the kubeconfig a new cluster serves is its answer;
- `set_kubeconfig(cluster_id, text)` gives the kubeconfig the API serves for a cluster made
  before the listener was set;
- `upsert_volume(...)` and `delete_volume(id)` mirror PersistentVolumes as Block Storage.
Domains and records are written through the HTTP API, as external-dns does.
"""

from __future__ import annotations

import asyncio
import zlib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from .catalogue import DEFAULT_K8S_VERSIONS
from .clock import Clock, ManualClock, SystemClock
from .dns import Dns
from .errors import LinodeError, too_many_requests
from .events import EventLog
from .ids import IdAllocator
from .lke import Listener, Lke, Timings
from .scheduler import Scheduler
from .volumes import Volumes


class LinodeState:
    def __init__(
        self,
        clock: Clock | None = None,
        seed: int = 0,
        timings: Timings | None = None,
        versions: Sequence[str] = DEFAULT_K8S_VERSIONS,
        listener: Listener | None = None,
        recycle_all_at_once: bool = False,
        id_starts: Mapping[str, int] | None = None,
    ) -> None:
        self.clock = clock or SystemClock()
        self.listener = listener
        self.scheduler = Scheduler(self.clock)
        self.ids = IdAllocator(seed, id_starts)
        self.events = EventLog(self.ids, self.scheduler)
        self.lke = Lke(
            self.scheduler, self.ids, self.events, _Relay(self), timings or Timings(), versions
        )
        self.lke.recycle_all_at_once = recycle_all_at_once
        self.volumes = Volumes(self.ids, self.scheduler, self._linode_label)
        self.dns = Dns(self.ids, self.scheduler)
        # Every `flaky_every`-th authenticated request fails, 429 and 500 in turn (0: none).
        self.flaky_every = 0
        self._flaky_count = 0

    def fault(self) -> LinodeError | None:
        """The failure the next authenticated request meets, if the API is flaky now."""
        if not self.flaky_every:
            return None
        self._flaky_count += 1
        if self._flaky_count % self.flaky_every:
            return None
        if (self._flaky_count // self.flaky_every) % 2:
            return too_many_requests(1.0)
        return LinodeError(500, "An unexpected error occurred; please try again")

    # -- time ----------------------------------------------------------------------------
    def tick(self) -> None:
        """Run every change that is due by now."""
        self.scheduler.tick()

    def advance(self, seconds: float) -> None:
        """Move a ManualClock on and run what falls due: stepped time for tests."""
        if not isinstance(self.clock, ManualClock):
            raise TypeError("advance() needs a ManualClock")
        self.clock.advance(seconds)
        self.tick()

    def settle(self) -> None:
        """Finish every pending change at once (e.g. boot a seeded cluster before serving)."""
        self.scheduler.settle()

    async def run(self, interval: float = 0.5) -> None:
        """Tick forever, so that listeners hear of changes even when nobody asks the API."""
        while True:
            self.tick()
            await asyncio.sleep(interval)

    # -- hooks ---------------------------------------------------------------------------
    def set_kubeconfig(self, cluster_id: int, text: str) -> None:
        """The kubeconfig YAML to serve for a cluster (KeyError if there is no such cluster)."""
        self.lke.clusters[cluster_id].kubeconfig = text

    def upsert_volume(
        self,
        label: str,
        size: int,
        region: str,
        linode_id: int | None = None,
        status: str = "active",
        tags: Iterable[str] = (),
    ) -> dict[str, Any]:
        """Register or update the volume with this label; returns it as the API shows it."""
        return self.volumes.upsert(label, size, region, linode_id, status, tags)

    def delete_volume(self, volume_id: int) -> None:
        self.volumes.delete(volume_id)

    # -- account -------------------------------------------------------------------------
    def profile(self, username: str) -> dict[str, Any]:
        code = f"{zlib.crc32(username.encode()):08x}"
        return {
            "username": username,
            "email": f"{username}@example.com",
            "uid": 100_000 + int(code, 16) % 900_000,
            "timezone": "UTC",
            "restricted": False,
            "two_factor_auth": False,
            "tfa_enforced": False,
            "email_notifications": True,
            "ip_whitelist_enabled": False,
            "lish_auth_method": "keys_only",
            "authentication_type": "password",
            "authorized_keys": None,
            "verified_phone_number": None,
            "referrals": {
                "code": code,
                "url": f"https://www.linode.com/?r={code}",
                "total": 0,
                "completed": 0,
                "pending": 0,
                "credit": 0,
            },
        }

    def _linode_label(self, linode_id: int) -> str | None:
        instance = self.lke.instances.get(linode_id)
        return instance.label if instance else None


class _Relay:
    """LKE's listener: keeps volumes in step with Linodes, then tells the sandbox's."""

    def __init__(self, state: LinodeState) -> None:
        self._state = state

    def cluster_created(self, cluster_id: int, cluster: dict[str, Any]) -> str | None:
        if self._state.listener is None:
            return None
        return self._state.listener.cluster_created(cluster_id, cluster)

    def cluster_deleted(self, cluster_id: int, cluster: dict[str, Any]) -> None:
        if self._state.listener is not None:
            self._state.listener.cluster_deleted(cluster_id, cluster)

    def instance_running(
        self, cluster_id: int, pool_id: int, node_id: str, instance: dict[str, Any]
    ) -> None:
        if self._state.listener is not None:
            self._state.listener.instance_running(cluster_id, pool_id, node_id, instance)

    def instance_deleted(
        self, cluster_id: int, pool_id: int, node_id: str, instance: dict[str, Any]
    ) -> None:
        self._state.volumes.detach_from(instance["id"])
        if self._state.listener is not None:
            self._state.listener.instance_deleted(cluster_id, pool_id, node_id, instance)
