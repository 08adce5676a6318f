"""An API server in a background thread, for tests that drive it or its actors directly."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from cpanel_platform.sandbox.kubeapi.auth import User
from cpanel_platform.sandbox.kubeapi.cluster import KubeCluster
from cpanel_platform.sandbox.seed import K8S_VERSION, seed_cluster
from cpanel_platform.sandbox.serving import listen

TOKEN = "integration-admin"


@dataclass
class Served:
    cluster: KubeCluster
    url: str
    loop: asyncio.AbstractEventLoop

    def call(self, coro: Coroutine[Any, Any, Any], timeout: float = 10) -> Any:
        """Run a coroutine on the server's loop and wait for its result."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)


def serve(cluster: KubeCluster) -> Iterator[Served]:
    sock = listen()
    loop = asyncio.new_event_loop()
    ready = threading.Event()

    async def main() -> None:
        started = asyncio.Event()
        serving = asyncio.create_task(cluster.serve(sock, started))
        await started.wait()
        ready.set()
        await serving

    thread = threading.Thread(target=loop.run_until_complete, args=(main(),), daemon=True)
    thread.start()
    assert ready.wait(10), "the API server did not start"
    yield Served(cluster, f"http://127.0.0.1:{sock.getsockname()[1]}", loop)
    loop.call_soon_threadsafe(cluster.stop)
    thread.join(10)


def make_cluster(**options: Any) -> KubeCluster:
    return KubeCluster(
        {TOKEN: User("admin", "admin")}, lambda: K8S_VERSION, seed=seed_cluster, **options
    )


@pytest.fixture(scope="module")
def bare_cluster() -> Iterator[Served]:
    """No kubelets at all: nodes and pods are whatever the test makes them."""
    yield from serve(make_cluster())
