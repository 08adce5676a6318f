"""Watch protocol details against an in-process API server with a short bookmark interval
and a small retained window, over plain HTTP."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.integration.conftest import TOKEN, Served, make_cluster, serve

CMS = "/api/v1/namespaces/default/configmaps"


@pytest.fixture(scope="module")
def served() -> Iterator[Served]:
    yield from serve(make_cluster(bookmark_interval=0.3, watch_window=50))


@pytest.fixture(scope="module")
def http(served: Served) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    with httpx.Client(base_url=served.url, headers=headers, timeout=10) as client:
        yield client


def events(http: httpx.Client, query: str) -> list[dict]:
    with http.stream("GET", f"{CMS}?watch=true&{query}") as stream:
        return [json.loads(line) for line in stream.iter_lines() if line]


def test_timeout_ends_the_stream_and_bookmarks_arrive(http: httpx.Client) -> None:
    rv = http.get(CMS).json()["metadata"]["resourceVersion"]
    start = time.monotonic()
    got = events(http, f"resourceVersion={rv}&allowWatchBookmarks=true&timeoutSeconds=1")
    assert 0.9 < time.monotonic() - start < 3
    assert got and {e["type"] for e in got} == {"BOOKMARK"}
    assert got[0]["object"]["kind"] == "ConfigMap"
    assert int(got[-1]["object"]["metadata"]["resourceVersion"]) >= int(rv)


def test_send_initial_events_ends_with_a_marked_bookmark(http: httpx.Client) -> None:
    http.post(CMS, json={"metadata": {"name": "initial"}}).raise_for_status()
    got = events(
        http,
        "sendInitialEvents=true&resourceVersionMatch=NotOlderThan"
        "&allowWatchBookmarks=true&timeoutSeconds=1",
    )
    names = [e["object"]["metadata"]["name"] for e in got if e["type"] == "ADDED"]
    assert "initial" in names
    marker = next(e for e in got if e["type"] == "BOOKMARK")
    assert marker["object"]["metadata"]["annotations"] == {"k8s.io/initial-events-end": "true"}
    assert got.index(marker) == len(names)


def test_a_resource_version_older_than_the_window_is_410(http: httpx.Client) -> None:
    old = http.get(CMS).json()["metadata"]["resourceVersion"]
    for i in range(60):
        http.post(CMS, json={"metadata": {"name": f"churn-{i}"}}).raise_for_status()
    got = events(http, f"resourceVersion={old}&timeoutSeconds=1")
    assert len(got) == 1 and got[0]["type"] == "ERROR"
    assert got[0]["object"]["code"] == 410 and got[0]["object"]["reason"] == "Expired"


def test_label_selector_turns_modifications_into_adds_and_deletes(http: httpx.Client) -> None:
    http.post(CMS, json={"metadata": {"name": "moving", "labels": {"tier": "a"}}})
    rv = http.get(CMS).json()["metadata"]["resourceVersion"]

    def relabel() -> None:
        time.sleep(0.2)
        for tier in ("b", "a"):
            http.patch(
                f"{CMS}/moving",
                content=json.dumps({"metadata": {"labels": {"tier": tier}}}),
                headers={"Content-Type": "application/merge-patch+json"},
            )

    threading.Thread(target=relabel).start()
    got = events(http, f"resourceVersion={rv}&labelSelector=tier%3Db&timeoutSeconds=1")
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in got] == [
        ("ADDED", "moving"),
        ("DELETED", "moving"),
    ]


def test_delete_collection(http: httpx.Client) -> None:
    for i in range(3):
        http.post(CMS, json={"metadata": {"name": f"bulk-{i}", "labels": {"bulk": "yes"}}})
    r = http.delete(f"{CMS}?labelSelector=bulk%3Dyes")
    assert r.status_code == 200 and len(r.json()["items"]) == 3
    assert not http.get(f"{CMS}?labelSelector=bulk%3Dyes").json()["items"]


def test_service_proxy_reaches_a_registered_backend(served: Served, http: httpx.Client) -> None:
    proxy = "/api/v1/namespaces/default/services/kubernetes:https/proxy/healthz"
    assert http.get(proxy).status_code == 503  # nothing registered behind it yet
    served.cluster.server.proxy.register("default", "kubernetes", served.url)
    r = http.get(proxy)
    assert r.status_code == 200 and r.text == "ok"
    missing = http.get("/api/v1/namespaces/default/services/nope/proxy/")
    assert missing.status_code == 404 and missing.json()["reason"] == "NotFound"
