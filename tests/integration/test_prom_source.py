"""PromSource against the sandbox's real Prometheus: the whole catalogue, by URL and through
the Kubernetes service proxy, a refused query, and Prometheus going away and coming back."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from cpanel_platform.config import PrometheusSettings, Settings
from cpanel_platform.freshness import State
from cpanel_platform.kube.client import connect
from cpanel_platform.prom import client as prom_client
from cpanel_platform.prom.catalogue import Query, queries
from cpanel_platform.prom.client import PromSource, resolve
from cpanel_platform.prom.results import Sample, Series
from cpanel_platform.sandbox import control, runner

from tests.conftest import Sandbox
from tests.waiting import wait_for

PANES = {"overview", "sli", "volumes", "postgres", "pods"}
MUST_HAVE_DATA = {"header", "sli", "volumes", "postgres"}
MAY_BE_EMPTY = {"alerts_firing"}  # nothing fires in a calm sandbox


def _source(box: Sandbox, **kw: object) -> PromSource:
    return PromSource(resolve(Settings(), box.env, None), **kw)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def settled(sandbox: Sandbox) -> Sandbox:
    """The sandbox once the Postgres exporters publish (their pods start after Prometheus)."""
    source = _source(sandbox)
    wait_for(lambda: source.refresh({"postgres"}).get("pg_lag_bytes"), timeout=60, every=0.5)
    return sandbox


@pytest.mark.parametrize("sli", ["requests", "probe"])
def test_every_catalogue_query_is_valid_and_the_panes_have_data(settled: Sandbox, sli) -> None:
    source = _source(settled, source=sli)
    results = source.refresh(PANES)
    assert source.errors == {}
    assert source.freshness.state is State.LIVE
    catalogue = queries(sli)
    assert set(results) == {q.name for q in catalogue}
    for query in catalogue:
        answer = results[query.name]
        kind = Series if query.is_range else Sample
        assert all(isinstance(item, kind) for item in answer), query.name
        if query.panes & MUST_HAVE_DATA and query.name not in MAY_BE_EMPTY:
            assert answer, f"{query.name} returned no data"
    [daily] = results["error_ratio_daily"]
    assert isinstance(daily, Series) and len(daily.points) >= 2  # a day of history
    assert {s.labels["device"] for s in results["disk_utilisation"]} >= {"sda", "sdc"}


def test_only_the_visible_panes_are_queried_and_the_rest_kept(settled: Sandbox) -> None:
    source = _source(settled)
    everything = source.refresh(PANES)
    later = datetime.now(UTC) + timedelta(seconds=5)
    header_only = source.refresh(set(), now=later)
    assert set(header_only) == set(everything)  # the volumes pane keeps its last figures
    assert header_only["disk_info"] == everything["disk_info"]


def test_all_panes_refresh_well_under_a_second(settled: Sandbox) -> None:
    source = _source(settled)
    timings = []
    for _ in range(3):
        started = time.perf_counter()
        source.refresh(PANES)
        timings.append(time.perf_counter() - started)
    assert min(timings) < 1.0, timings


def test_through_the_kubernetes_service_proxy(settled: Sandbox) -> None:
    target = connect(str(settled.kubeconfig))
    endpoint = resolve(Settings(), {}, target)
    assert endpoint.via == "service proxy"
    proxied = PromSource(endpoint)
    results = proxied.refresh(PANES)
    assert proxied.freshness.state is State.LIVE and proxied.errors == {}
    direct = _source(settled).refresh(PANES)
    assert set(results) == set(direct)
    assert len(results["disk_info"]) == len(direct["disk_info"])

    # No such Service: the API server's 404 marks the source down, not a query.
    nowhere = Settings(prometheus=PrometheusSettings(service="no-such-prometheus"))
    missing = PromSource(resolve(nowhere, {}, target))
    assert missing.refresh(PANES) == {}
    assert missing.freshness.state is State.RECONNECTING and missing.errors == {}
    assert missing.freshness.reason.startswith("HTTP 404 from https://")
    assert missing.freshness.reason.endswith('services "no-such-prometheus" not found')


def test_a_refused_query_is_dropped_without_marking_prometheus_down(
    settled: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    extra = [Query("flaky", "up", frozenset({"header"}))]

    def catalogue(source: str = "requests", now: datetime | None = None) -> tuple[Query, ...]:
        return (*queries(source, now), *extra)  # type: ignore[arg-type]

    monkeypatch.setattr(prom_client, "queries", catalogue)
    source = _source(settled)
    assert source.refresh(set())["flaky"]
    extra[:] = [
        Query("flaky", "sum(", frozenset({"header"})),  # a syntax error: HTTP 400
        # Many-to-many matching fails only when run: HTTP 422.
        Query("many_to_many", "node_disk_info / on(instance) node_disk_info", frozenset({"sli"})),
    ]
    results = source.refresh({"sli"})
    assert source.freshness.state is State.LIVE
    assert "flaky" not in results and "many_to_many" not in results
    assert set(source.errors) == {"flaky", "many_to_many"}
    assert "parse error" in source.errors["flaky"]
    assert "duplicate series" in source.errors["many_to_many"]
    assert results["error_ratio_1h"]


def _incident(box: Sandbox, method: str) -> tuple[int, object]:
    info = runner.read_runtime(box.state_dir)
    assert info is not None
    token = runner.admin_token(box.state_dir)
    return control.call(info, token, method, "/incidents/prometheus-down")


def test_prometheus_stopped_keeps_the_data_then_recovers(settled: Sandbox) -> None:
    source = _source(settled)
    before = source.refresh(PANES)
    assert source.freshness.state is State.LIVE
    assert _incident(settled, "POST")[0] == 200
    try:
        wait_for(lambda: source.refresh(PANES) and source.freshness.state is State.RECONNECTING)
        down_at = source.freshness.since
        started = time.perf_counter()
        kept = source.refresh(PANES)
        assert time.perf_counter() - started < 1.0  # a refused connection is not retried
        # The last answers before the outage stay (a refresh may have landed between
        # `before` and the outage, so compare with what is kept, not with `before`).
        assert kept.keys() == before.keys()
        assert "connection refused" in source.freshness.reason
        assert settled.env["PROMETHEUS_URL"] in source.freshness.reason

        later = datetime.fromtimestamp(down_at, UTC) + timedelta(seconds=prom_client.STALE_AFTER)
        assert source.refresh(PANES, now=later) == kept
        assert source.freshness.state is State.STALE and source.freshness.since == down_at
    finally:
        code, body = _incident(settled, "DELETE")  # Prometheus again, on the same port
    assert code == 200, body
    wait_for(lambda: source.refresh(PANES) and source.freshness.state is State.LIVE, timeout=30)
    assert source.freshness.reason == ""
