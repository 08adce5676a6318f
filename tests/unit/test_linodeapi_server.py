"""The Linode emulator's HTTP layer in-process: authentication, Linode-shaped errors, the
rate limit, paging and X-Filter over the wire."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
from cpanel_platform.sandbox.linodeapi import LinodeServer, LinodeState, ManualClock

AUTH = {"Authorization": "Bearer t0k"}
CLUSTER = {
    "label": "prod",
    "region": "us-east",
    "k8s_version": "1.35",
    "node_pools": [{"type": "g6-standard-2", "count": 3}],
}


@pytest.fixture
def now() -> list[float]:
    return [1000.0]


class Http:
    """Requests straight into the ASGI app, no sockets."""

    def __init__(self, server: LinodeServer) -> None:
        self.transport = httpx.ASGITransport(app=server.app)

    def request(self, method: str, path: str, **kw: Any) -> httpx.Response:
        async def send() -> httpx.Response:
            async with httpx.AsyncClient(transport=self.transport, base_url="http://t") as c:
                return await c.request(method, path, **kw)

        return asyncio.run(send())

    def get(self, path: str, **kw: Any) -> httpx.Response:
        return self.request("GET", path, **kw)

    def post(self, path: str, **kw: Any) -> httpx.Response:
        return self.request("POST", path, **kw)


@pytest.fixture
def http(now: list[float]) -> Http:
    state = LinodeState(clock=ManualClock())
    return Http(LinodeServer(state, {"t0k": "alice"}, rate_limit=5, now=lambda: now[0]))


def test_requests_without_a_valid_token_are_401(http: Http) -> None:
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic t0k"}):
        r = http.get("/v4/lke/clusters", headers=headers)
        assert (r.status_code, r.json()) == (401, {"errors": [{"reason": "Invalid Token"}]})
    assert http.get("/v4/regions").status_code == 200  # the catalogues are public
    assert http.get("/v4/profile", headers=AUTH).json()["username"] == "alice"


def test_errors_are_linode_shaped(http: Http) -> None:
    r = http.post("/v4/lke/clusters", content=b"{nope", headers=AUTH)
    assert (r.status_code, r.json()) == (400, {"errors": [{"reason": "Invalid JSON"}]})
    r = http.post("/v4/lke/clusters", json={**CLUSTER, "region": "mars"}, headers=AUTH)
    assert r.json() == {"errors": [{"reason": "region is not valid", "field": "region"}]}
    for path in ("/v4/lke/clusters/1", "/v4/no/such/thing"):
        r = http.get(path, headers=AUTH)
        assert (r.status_code, r.json()) == (404, {"errors": [{"reason": "Not found"}]})
    r = http.request("PATCH", "/v4/lke/clusters", headers=AUTH)
    assert r.status_code == 405 and r.json()["errors"][0]["reason"] == "Method Not Allowed"


def test_the_rate_limit_answers_429_until_the_window_ends(http: Http, now: list[float]) -> None:
    remaining = [http.get("/v4/lke/clusters", headers=AUTH).headers for _ in range(5)]
    assert [h["X-RateLimit-Remaining"] for h in remaining] == ["4", "3", "2", "1", "0"]
    now[0] += 20
    r = http.get("/v4/lke/clusters", headers=AUTH)
    assert r.status_code == 429 and r.json() == {"errors": [{"reason": "Too many requests"}]}
    assert r.headers["Retry-After"] == "40"
    now[0] += 40
    assert http.get("/v4/lke/clusters", headers=AUTH).status_code == 200


def test_lists_are_paged_and_filtered_over_the_wire(http: Http) -> None:
    r = http.get("/v4/linode/types", params={"page": 2, "page_size": 25})
    assert {k: r.json()[k] for k in ("page", "pages", "results")} == {
        "page": 2,
        "pages": 1,
        "results": 10,
    }
    assert r.json()["data"] == []
    assert http.get("/v4/regions", params={"page_size": 10}).status_code == 400
    dedicated = {"class": "dedicated", "+order_by": "vcpus", "+order": "desc"}
    r = http.get("/v4/linode/types", headers={"X-Filter": json.dumps(dedicated)})
    assert [t["id"] for t in r.json()["data"]][:2] == ["g6-dedicated-16", "g6-dedicated-8"]


def test_kubeconfig_is_503_with_retry_after_until_the_control_plane_is_up(
    http: Http,
) -> None:
    cluster = http.post("/v4/lke/clusters", json=CLUSTER, headers=AUTH).json()
    r = http.get(f"/v4/lke/clusters/{cluster['id']}/kubeconfig", headers=AUTH)
    assert r.status_code == 503 and int(r.headers["Retry-After"]) == 30
    assert "not yet available" in r.json()["errors"][0]["reason"]
    assert r.headers["X-Spec-Version"]
