"""The exporter's /metrics in both exposition formats, as Prometheus negotiates them."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import httpx
import pytest
from cpanel_platform.sandbox.metrics import MetricsExporter, Telemetry, default_platform
from prometheus_client.openmetrics.parser import text_string_to_metric_families as parse_om
from prometheus_client.parser import text_string_to_metric_families as parse_text

NOW = 1_790_000_000.0
# What Prometheus 2.42 sends: OpenMetrics first, the classic text format as a fallback.
PROMETHEUS_ACCEPT = (
    "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;"
    "q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"
)


class Clock:
    def __init__(self) -> None:
        self.t = NOW

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def clock() -> Clock:
    return Clock()


Get = Callable[..., httpx.Response]


@pytest.fixture
def get(clock: Clock) -> Get:
    """GET straight into the exporter's ASGI app, no sockets."""
    telemetry = Telemetry(default_platform(NOW), seed=1, clock=clock)
    telemetry.restore(NOW - 60, {})
    transport = httpx.ASGITransport(app=MetricsExporter(telemetry, clock).app)

    def send(path: str, accept: str = PROMETHEUS_ACCEPT) -> httpx.Response:
        async def request() -> httpx.Response:
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                return await client.get(path, headers={"Accept": accept})

        return asyncio.run(request())

    return send


def test_openmetrics_keeps_each_familys_type_and_exact_name(get: Get) -> None:
    answer = get("/metrics")
    assert answer.headers["content-type"].startswith("application/openmetrics-text")
    families = {f.name: f for f in parse_om(answer.text)}
    assert families["node_disk_io_time_seconds"].type == "counter"
    assert families["certmanager_certificate_ready_status"].type == "gauge"
    requests = families["nginx_ingress_controller_requests"]
    assert requests.type == "unknown"
    assert {s.name for s in requests.samples} == {"nginx_ingress_controller_requests"}
    assert {s.labels["status"] for s in requests.samples} >= {"200", "502", "503"}


def test_the_classic_text_format_for_scrapers_that_ask_for_it(get: Get) -> None:
    answer = get("/metrics", "text/plain;version=0.0.4")
    assert answer.headers["content-type"].startswith("text/plain")
    names = {s.name for f in parse_text(answer.text) for s in f.samples}
    assert {"node_disk_io_time_seconds_total", "nginx_ingress_controller_requests", "up"} <= names


def test_every_scrape_moves_the_counters_on_by_the_time_passed(get: Get, clock: Clock) -> None:
    def busy() -> dict[tuple[str, str], float]:
        text = get("/metrics").text
        [family] = [f for f in parse_om(text) if f.name == "node_disk_io_time_seconds"]
        return {(s.labels["instance"], s.labels["device"]): s.value for s in family.samples}

    before = busy()
    clock.t += 15
    after = busy()
    assert before.keys() == after.keys()
    assert all(0 < after[k] - before[k] <= 15 for k in before)


def test_only_metrics_is_served(get: Get) -> None:
    assert get("/").status_code == 404
