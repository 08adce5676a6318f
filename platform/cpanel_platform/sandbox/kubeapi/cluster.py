"""The Kubernetes API emulator assembled: store, API, HTTP server, controllers, persistence."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..serving import AppServer
from .api import Api
from .auth import User
from .controllers.base import Controller
from .controllers.deployment import DeploymentController
from .controllers.disruption import DisruptionController
from .controllers.gc import GarbageCollector
from .controllers.namespace import NamespaceController
from .controllers.nodelifecycle import GRACE_SECONDS as NODE_GRACE_SECONDS
from .controllers.nodelifecycle import NodeLifecycleController
from .controllers.replicaset import ReplicaSetController
from .controllers.scheduler import Scheduler
from .logs import LogBook
from .server import KubeServer
from .store import Store, load_snapshot, save_snapshot

log = logging.getLogger(__name__)
SAVE_EVERY_SECONDS = 5.0


def _workload_controllers() -> list[type[Controller]]:
    from .controllers.cronjob import CronJobController
    from .controllers.daemonset import DaemonSetController
    from .controllers.job import JobController
    from .controllers.statefulset import StatefulSetController

    return [StatefulSetController, DaemonSetController, JobController, CronJobController]


class KubeCluster:
    """One emulated cluster: the API server and its controllers. `seed` fills an empty store;
    pods run only where kubelets (the sandbox's simulated ones) register nodes. `git_version`
    is asked whenever a client wants the version (e.g. "v1.36.2")."""

    def __init__(
        self,
        tokens: dict[str, User],
        git_version: Callable[[], str],
        state_file: Path | None = None,
        seed: Callable[[Api], None] | None = None,
        bookmark_interval: float = 30.0,
        watch_window: int = 20000,
        node_grace: float = NODE_GRACE_SECONDS,
        names_seed: int | None = None,
    ) -> None:
        self.store = Store(window=watch_window)
        self.state_file = state_file
        snap = load_snapshot(state_file) if state_file else None
        if snap:
            self.store.restore(snap)
        self.api = Api(self.store, names_seed)
        if seed and self.store.empty():  # new, or saved after its LKE cluster was deleted
            seed(self.api)
        self.logs = LogBook()
        self.server = KubeServer(self.api, tokens, self.logs, git_version, bookmark_interval)
        kinds: list[Any] = [
            Scheduler,
            ReplicaSetController,
            DeploymentController,
            DisruptionController,
            GarbageCollector,
            NamespaceController,
            *_workload_controllers(),
        ]
        self.controllers: list[Controller] = [k(self.api) for k in kinds]
        self.controllers.append(NodeLifecycleController(self.api, node_grace))
        self._app_server = AppServer(self.server.app)

    async def serve(
        self,
        sock: socket.socket,
        ready: asyncio.Event | None = None,
        tls: tuple[Path, Path] | None = None,
    ) -> None:
        """Serve on `sock` (HTTPS when `tls` gives a certificate and key file), with the
        controllers running for as long as the server does."""
        companions = [c.run() for c in self.controllers]
        if self.state_file:
            companions.append(self._saver())
        try:
            await self._app_server.serve(sock, ready, tls, companions)
        finally:
            await self.server.proxy.close()
            self.save()

    def stop(self) -> None:
        """Begin a graceful shutdown: end streams, then let the server finish."""
        self.server.close_streams()
        self._app_server.stop()

    async def _saver(self) -> None:
        while True:
            await asyncio.sleep(SAVE_EVERY_SECONDS)
            if self.store.dirty:
                self.store.dirty = False
                snap = self.store.snapshot()
                await asyncio.to_thread(save_snapshot, snap, self.state_file)  # type: ignore[arg-type]

    def save(self) -> None:
        if self.state_file:
            save_snapshot(self.store.snapshot(), self.state_file)
