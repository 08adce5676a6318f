"""The metrics exporter: one `/metrics` endpoint that publishes what node-exporter, the
kubelet, ingress-nginx, blackbox-exporter, the Crunchy exporter and cert-manager would.

Every sample carries its real exporter's `job` and `instance` labels, and Prometheus keeps
them (`honor_labels`), so queries written for the real exporters work unchanged. The text
is whichever format the scraper asks for: OpenMetrics or the classic text format.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Callable, Iterator

import uvicorn
from prometheus_client import CollectorRegistry
from prometheus_client.exposition import choose_encoder
from prometheus_client.metrics_core import Metric
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..serving import QuietServer
from .signals import Family
from .telemetry import Telemetry


class TelemetryCollector:
    """A prometheus-client collector: each collect is a live sample of the telemetry."""

    def __init__(self, telemetry: Telemetry, clock: Callable[[], float]) -> None:
        self.telemetry = telemetry
        self.clock = clock

    def collect(self) -> Iterator[Metric]:
        metrics: dict[Family, Metric] = {}
        for sample in self.telemetry.sample(self.clock()):
            family = sample.family
            if family not in metrics:
                metrics[family] = Metric(family.name, family.help, family.type)
            metrics[family].add_sample(sample.name, sample.labels, sample.value)
        yield from metrics.values()


class MetricsExporter:
    def __init__(self, telemetry: Telemetry, clock: Callable[[], float] = time.time) -> None:
        self.registry = CollectorRegistry()
        self.registry.register(TelemetryCollector(telemetry, clock))
        # A plain `def` endpoint: Starlette runs it in a worker thread, off the event loop.
        self.app = Starlette(routes=[Route("/metrics", self._metrics)])
        self._uvicorn: uvicorn.Server | None = None

    def _metrics(self, request: Request) -> Response:
        encode, content_type = choose_encoder(request.headers.get("accept", ""))
        return Response(encode(self.registry), headers={"Content-Type": content_type})

    async def serve(self, sock: socket.socket, ready: asyncio.Event | None = None) -> None:
        """Serve plain HTTP on `sock` (see serving.listen) until `stop`."""
        config = uvicorn.Config(
            self.app,
            log_level="warning",
            access_log=False,
            timeout_graceful_shutdown=1,
            lifespan="off",
        )
        server = self._uvicorn = QuietServer(config)
        serving = asyncio.create_task(server.serve(sockets=[sock]))
        while not server.started and not serving.done():
            await asyncio.sleep(0.01)
        if ready:
            ready.set()
        await serving

    def stop(self) -> None:
        if self._uvicorn:
            self._uvicorn.should_exit = True
