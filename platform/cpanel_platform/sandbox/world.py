"""The sandbox's living platform: the simulated actors around the Kubernetes API emulator.

For now the world is one LKE pool of nodes whose kubelets run the pods; the Linode API, the
baseline components and their metrics join it here.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from .seed import CLUSTER_ID, node, node_name
from .simulator.kube import Kube
from .simulator.kubelet import ContainerLogs, Kubelets

NODES = 3


class World:
    def __init__(self, kube: Kube, logs: ContainerLogs, nodes: int = NODES) -> None:
        self.kube = kube
        self.kubelets = Kubelets(kube, logs)
        self._machines = [node(node_name(i), i, CLUSTER_ID * 1000 + i) for i in range(nodes)]
        self._tasks: list[asyncio.Task[Any]] = []

    async def start(self) -> None:
        self._tasks.append(asyncio.create_task(self.kubelets.run(), name="kubelets"))
        for machine in self._machines:
            await self.kubelets.start_node(machine)

    async def stop(self) -> None:
        for name in self.kubelets.nodes():
            self.kubelets.stop_node(name)
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.kube.close()
