"""A real Prometheus scraping the sandbox's exporter over backfilled history, queried with
prometheus-api-client as cpanel queries it.

The backfill covers CPANEL_HISTORY_DAYS days (2 by default, to stay quick; 90 exercises the
sandbox's full history). The scrape interval is one second.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cpanel_platform.sandbox.metrics import (
    Backfill,
    MetricsExporter,
    Prometheus,
    PrometheusError,
    Telemetry,
    Volume,
    backfill,
    default_platform,
    find_binaries,
)
from cpanel_platform.sandbox.metrics.model import DAY
from cpanel_platform.sandbox.metrics.prometheus import Binaries
from cpanel_platform.sandbox.serving import listen
from prometheus_api_client import PrometheusConnect

from tests.metric_families import FAMILIES as METRIC_FAMILIES

DAYS = int(os.environ.get("CPANEL_HISTORY_DAYS", "2"))
WINDOW = f"{DAYS + 1}d"  # reaches back past the history's start
MIB = 2**20

FAMILIES = (
    *METRIC_FAMILIES,
    'up{job="node-exporter"}',
    'up{job="kubelet"}',
    'up{job="ingress-nginx-controller-metrics"}',
    'up{job="blackbox"}',
    'up{job="crunchy-postgres-exporter"}',
    'up{job="cert-manager"}',
)


@dataclass
class Stack:
    telemetry: Telemetry
    prom: PrometheusConnect
    history: Backfill
    media: Volume
    knob_turned: float  # time.monotonic() when the media volume's knob went to 1.0

    def value(self, query: str) -> float:
        [result] = self.prom.custom_query(query)
        return float(result["value"][1])

    def values(self, query: str) -> list[float]:
        return [float(r["value"][1]) for r in self.prom.custom_query(query)]


@contextlib.contextmanager
def serving(exporter: MetricsExporter) -> Iterator[str]:
    """The exporter on its own event loop in a thread; yields its host:port."""
    sock = listen()
    loop = asyncio.new_event_loop()
    ready = threading.Event()

    async def main() -> None:
        started = asyncio.Event()
        task = asyncio.create_task(exporter.serve(sock, started))
        await started.wait()
        ready.set()
        await task

    thread = threading.Thread(target=loop.run_until_complete, args=(main(),), daemon=True)
    thread.start()
    assert ready.wait(10), "the exporter did not start"
    try:
        yield f"127.0.0.1:{sock.getsockname()[1]}"
    finally:
        loop.call_soon_threadsafe(exporter.stop)
        thread.join(10)


@pytest.fixture(scope="module")
def binaries() -> Binaries:
    try:
        return find_binaries()
    except PrometheusError as error:
        pytest.skip(f"Prometheus is not installed here: {error}")


@pytest.fixture(scope="module")
def stack(binaries: Binaries, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    root = tmp_path_factory.mktemp("metrics")
    telemetry = Telemetry(default_platform(time.time()), seed=11)
    prometheus = Prometheus(root / "prometheus")
    history = backfill(telemetry, prometheus.data_dir, days=DAYS, cache_dir=root / "cache")
    media = telemetry.platform.volume_for_claim("web", "media")
    with serving(MetricsExporter(telemetry)) as address:
        # The knob turns as live scraping begins; the last test watches it take hold.
        telemetry.turn(utilisation={media.label: 1.0})
        turned = time.monotonic()
        url = prometheus.start([address], scrape_interval=1.0)
        try:
            yield Stack(telemetry, PrometheusConnect(url, disable_ssl=True), history, media, turned)
        finally:
            prometheus.stop()


def wait_for(check: Callable[[], bool], timeout: float, what: str) -> float:
    """Poll `check()` until it is true; returns the seconds it took."""
    began = time.monotonic()
    while not check():
        assert time.monotonic() - began < timeout, f"{what} within {timeout:.0f}s"
        time.sleep(0.5)
    return time.monotonic() - began


def test_the_history_ends_where_live_scraping_begins(stack: Stack) -> None:
    assert stack.history.end == pytest.approx(time.time(), abs=60)
    assert stack.history.end - stack.history.start >= DAYS * DAY
    wait_for(
        lambda: stack.values('count_over_time(up{job="cpanel-sandbox-exporter"}[1m])') >= [2.0],
        30,
        "two live scrapes",
    )
    # A counter that restarted at the boundary would show as a reset.
    for family in ("node_disk_io_time_seconds_total", "nginx_ingress_controller_requests"):
        assert set(stack.values(f"resets({family}[{WINDOW}])")) == {0.0}


@pytest.mark.parametrize("query", FAMILIES)
def test_every_family_answers_now_and_over_the_whole_history(stack: Stack, query: str) -> None:
    assert stack.prom.custom_query(query)
    start = datetime.fromtimestamp(stack.history.start, UTC)
    end = datetime.fromtimestamp(stack.history.end, UTC)
    series = stack.prom.custom_query_range(query, start_time=start, end_time=end, step="1h")
    assert series
    for s in series:
        first, last = s["values"][0][0], s["values"][-1][0]
        assert first <= stack.history.start + 3600 and last >= stack.history.end - 3600


def test_the_history_holds_its_incidents(stack: Stack) -> None:
    outages = [i for i in stack.telemetry.incidents if i.kind == "outage"]
    down = sum(i.end - i.start for i in outages) / 60
    measured = stack.value(f"sum_over_time((1 - probe_success)[{WINDOW}:1m])")
    assert down - 1 <= measured <= down + 2 * len(outages)  # older samples are 2 min apart
    assert stack.value(f"avg_over_time(probe_success[{WINDOW}])") < 0.9999  # the SLO missed
    errors = (
        'sum(rate(nginx_ingress_controller_requests{status=~"5.."}[5m]))'
        " / sum(rate(nginx_ingress_controller_requests[5m]))"
    )
    assert stack.value(f"max_over_time(({errors})[{WINDOW}:5m])") > 0.5
    media = f'instance="{stack.media.node}",device="{stack.media.device}"'
    busy = f"rate(node_disk_io_time_seconds_total{{{media}}}[5m])"
    assert stack.value(f"max_over_time({busy}[{WINDOW}:5m])") >= 0.95
    assert stack.value(f"max_over_time(ccp_replication_lag_size_bytes[{WINDOW}])") > 100 * MIB


def test_a_claim_leads_to_its_device_through_the_labels(stack: Stack) -> None:
    [used] = stack.prom.custom_query(
        'kubelet_volume_stats_used_bytes{persistentvolumeclaim="media"}'
    )
    node = used["metric"]["node"]
    [info] = stack.prom.custom_query(f'node_disk_info{{serial="{stack.media.label}"}}')
    assert (info["metric"]["instance"], info["metric"]["device"]) == (node, stack.media.device)


def test_a_second_start_reuses_the_cached_history(binaries: Binaries, tmp_path: Path) -> None:
    now = time.time()

    def start(data: str) -> tuple[Backfill, tuple[float | None, dict[str, float]]]:
        telemetry = Telemetry(default_platform(now), seed=3)
        made = backfill(telemetry, tmp_path / data, days=1, now=now, cache_dir=tmp_path / "cache")
        return made, telemetry.totals()

    first, totals = start("one")
    second, again = start("two")
    assert (first.cached, second.cached) == (False, True)
    assert second.samples < first.samples
    assert again == totals  # the cache keeps the counters where its history left them


@pytest.mark.slow
def test_turning_the_utilisation_knob_to_one_saturates_the_volume(stack: Stack) -> None:
    media = f'instance="{stack.media.node}",device="{stack.media.device}"'

    def busy(window: str) -> bool:
        rate = stack.values(f"rate(node_disk_io_time_seconds_total{{{media}}}[{window}])")
        return rate != [] and rate[0] >= 0.95

    wait_for(lambda: busy("5s"), 20, "the next scrapes show the disk 100% busy")
    # rate() over a minute reaches 0.95 once 57 of its 60 seconds come after the knob.
    left = 65 - (time.monotonic() - stack.knob_turned)
    wait_for(lambda: busy("1m"), left, "a minute's rate reaches 0.95")
