"""LinodeSource against the sandbox's Linode API (and an emulator of its own for the rate
limit): the cluster behind the kube context, its nodes, events and volumes, and what a
missing, wrong or rate-limited token does."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from cpanel_platform import linode, linode_source
from cpanel_platform.freshness import State
from cpanel_platform.linode_source import LinodeSource
from cpanel_platform.sandbox.linodeapi import LinodeServer, LinodeState, ManualClock
from cpanel_platform.sandbox.linodeapi.ratelimit import RateLimiter

from tests.conformance.test_linode_clients import running
from tests.conftest import Sandbox


def _source(box: Sandbox, token: str | None = None, **kw: Any) -> LinodeSource:
    return LinodeSource(token or box.env["LINODE_TOKEN"], box.env["LINODE_API_URL"], **kw)


def test_finds_the_cluster_of_the_kube_context_with_its_nodes_events_and_volumes(
    sandbox: Sandbox,
) -> None:
    # A trailing slash (or an explicit default port) does not make it another server.
    source = _source(sandbox, api_server=f"{sandbox.kube_url}/")
    snapshot = source.refresh()
    assert source.freshness.state is State.LIVE, source.freshness.reason
    cluster = snapshot.cluster
    assert cluster is not None and cluster.label == "prod"
    assert (cluster.region, cluster.status) == ("us-east", "ready")
    nodes = [n for pool in cluster.pools for n in pool.nodes]
    assert len(nodes) == 3
    kube_nodes = {n["metadata"]["name"] for n in sandbox.json("get", "nodes")["items"]}
    assert {n.instance_label for n in nodes} == kube_nodes  # LKE names nodes after Linodes
    assert {(n.status, n.instance_status) for n in nodes} == {("ready", "running")}

    assert snapshot.events and all(e.action.startswith("lke_") for e in snapshot.events)
    assert [e.created for e in snapshot.events] == sorted(
        (e.created for e in snapshot.events), reverse=True
    )
    assert any(e.action == "lke_node_create" and e.entity == "prod" for e in snapshot.events)
    assert snapshot.volumes
    attached = {v.linode_label for v in snapshot.volumes if v.linode_id}
    assert attached and attached <= kube_nodes
    assert all(
        v.filesystem_path == f"/dev/disk/by-id/scsi-0Linode_Volume_{v.label}"
        for v in snapshot.volumes
    )

    by_id = _source(sandbox, cluster_id=cluster.id, events_limit=2)
    again = by_id.refresh()
    assert again.cluster == cluster and len(again.events) == 2


def test_an_api_server_no_cluster_serves_finds_no_cluster(sandbox: Sandbox) -> None:
    source = _source(sandbox, api_server="https://kind.local:6443")
    snapshot = source.refresh()
    assert snapshot.cluster is None and snapshot.volumes  # the account's data still comes
    assert source.freshness.state is State.STALE
    assert source.freshness.reason == (
        "no LKE cluster on this account serves https://kind.local:6443"
    )


def test_no_token_is_stale_without_any_request(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_request(*args: Any, **kw: Any) -> None:
        raise AssertionError("a request was made")

    monkeypatch.setattr(requests.Session, "send", no_request)
    source = LinodeSource(None, sandbox.env["LINODE_API_URL"])
    assert source.refresh() == linode.LinodeSnapshot(None, (), ())
    assert source.freshness.state is State.STALE
    assert source.freshness.reason == linode_source.NO_TOKEN


def test_a_rejected_token_is_stale(sandbox: Sandbox) -> None:
    source = _source(sandbox, token="not-the-token")
    source.refresh()
    assert (source.freshness.state, source.freshness.reason) == (State.STALE, "token rejected")


@pytest.fixture
def emulator() -> Iterator[tuple[LinodeServer, str]]:
    state = LinodeState(clock=ManualClock(), seed=3)
    body = {
        "label": "prod",
        "region": "us-east",
        "k8s_version": state.lke.versions[0],
        "node_pools": [{"type": "g6-dedicated-8", "count": 3}],
    }
    state.lke.create_cluster(body, "sandbox")
    state.settle()
    server = LinodeServer(state, {"t0k": "sandbox"}, rate_limit=None)
    with running(server) as url:
        yield server, f"{url}/v4"


def test_rate_limited_keeps_the_last_snapshot_and_does_not_wait(emulator) -> None:
    server, url = emulator
    source = LinodeSource("t0k", url)  # the account's only cluster
    first = source.refresh()
    assert source.freshness.state is State.LIVE
    assert first.cluster is not None and len(first.cluster.pools[0].nodes) == 3

    server.limiter = RateLimiter(0)  # every request is 429, Retry-After: 60
    started = time.monotonic()
    assert source.refresh() == first
    assert time.monotonic() - started < 2  # linode-api4 would sleep out the Retry-After
    assert source.freshness.state is State.RECONNECTING
    assert "429" in source.freshness.reason

    server.limiter = None
    assert source.refresh() == first
    assert source.freshness.state is State.LIVE


def test_an_unreachable_api_is_reconnecting() -> None:
    source = LinodeSource("t0k", "http://127.0.0.1:1/v4")
    assert source.refresh().cluster is None
    assert source.freshness.state is State.RECONNECTING
    reason = source.freshness.reason
    assert reason.endswith(": http://127.0.0.1:1/v4") and "refused" in reason.lower(), reason
