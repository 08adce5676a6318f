"""cpanel_platform.kube watch caches against the running sandbox, and against an in-process
API server for the faults a test must stage precisely (410 after an outage)."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from cpanel_platform.freshness import State
from cpanel_platform.kube import actions, client, kinds
from cpanel_platform.kube.kinds import Kind
from cpanel_platform.kube.watchcache import Caches, WatchCache
from cpanel_platform.sandbox import control, runner
from cpanel_platform.sandbox.serving import listen

from tests.conftest import Sandbox
from tests.integration.conftest import TOKEN, Served, make_cluster, serve
from tests.waiting import wait_for

CONFIGMAPS = Kind("", "v1", "configmaps", "ConfigMap", True)
SECRETS = Kind("", "v1", "secrets", "Secret", True)
SERVICEMONITORS = Kind("monitoring.coreos.com", "v1", "servicemonitors", "ServiceMonitor", True)


@pytest.fixture(scope="module")
def admin(sandbox: Sandbox) -> client.KubeTarget:
    return client.connect(str(sandbox.kubeconfig))


@pytest.fixture
def caches(admin: client.KubeTarget) -> Iterator[Caches]:
    registry = Caches(admin.api, backoff_base=0.05, backoff_cap=0.5)
    yield registry
    registry.stop_all()


def live(cache: WatchCache, timeout: float = 10) -> WatchCache:
    wait_for(lambda: cache.freshness.state is State.LIVE, timeout=timeout, every=0.01)
    return cache


def names(cache: WatchCache, namespace: str | None = None) -> set[str]:
    return {o["metadata"]["name"] for o in cache.objects(namespace)}


def mine(cache: WatchCache) -> set[str]:
    """Config maps the test made (not the namespace controller's root CA)."""
    return names(cache) - {"kube-root-ca.crt"}


def count_requests(target: client.KubeTarget) -> list[str]:
    """Record every request the target's ApiClient sends from now on (method and URL)."""
    sent: list[str] = []
    pool = target.api.rest_client.pool_manager
    send = pool.request

    def counting(method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        sent.append(f"{method} {url}")
        return send(method, url, *args, **kwargs)

    pool.request = counting  # type: ignore[method-assign]
    return sent


# -- against the sandbox -------------------------------------------------------------------
def test_a_deleted_pod_vanishes_and_its_replacement_appears(
    sandbox: Sandbox, caches: Caches
) -> None:
    pods = live(caches.get(kinds.PODS, "app"))
    changes = threading.Event()
    pods.subscribe(lambda _: changes.set())
    web = sorted(n for n in names(pods) if n.startswith("web-"))
    assert len(web) == 3
    version = pods.version
    sandbox.kubectl("delete", "pod", web[0], "-n", "app", "--wait=false")
    deleted = time.monotonic()

    def replaced() -> bool:
        now = {n for n in names(pods) if n.startswith("web-")}
        return web[0] not in now and len(now - set(web)) == 1

    wait_for(replaced, timeout=5, every=0.01)
    assert time.monotonic() - deleted < 1.0
    assert changes.is_set() and pods.version > version


def test_the_registry_shares_caches_and_the_all_namespaces_one(caches: Caches) -> None:
    one = caches.get(kinds.DEPLOYMENTS, "app")
    assert caches.get(kinds.DEPLOYMENTS, "app") is one
    every = caches.get(kinds.DEPLOYMENTS)
    assert every is not one and every.namespace is None
    assert caches.get(kinds.DEPLOYMENTS, "keel") is every  # the caller filters
    assert caches.get(kinds.NODES, "app") is caches.get(kinds.NODES)  # cluster-scoped
    live(every)
    assert names(every, "keel") == {"keel"}
    assert "web" in names(every) and "keel" not in names(live(one))
    assert len(caches.freshness()) == 3


def test_crd_kinds_list_and_an_unserved_kind_is_stale(caches: Caches) -> None:
    assert names(live(caches.get(kinds.POSTGRESCLUSTERS))) == {"db"}
    certificates = live(caches.get(kinds.CERTIFICATES))
    assert "wildcard-example-com" in names(certificates)
    assert certificates.get("app", "wildcard-example-com")["kind"] == "Certificate"
    assert live(caches.get(kinds.CLUSTERISSUERS)).objects()
    unserved = caches.get(SERVICEMONITORS)
    wait_for(lambda: unserved.freshness.state is State.STALE, timeout=5, every=0.01)
    assert unserved.freshness.reason == "not served by this cluster"


def test_the_viewer_is_forbidden_secrets_and_may_not_delete_pods(
    sandbox: Sandbox, admin: client.KubeTarget
) -> None:
    viewer = client.connect(str(sandbox.kubeconfig), "sandbox-viewer")
    secrets = WatchCache(viewer.api, SECRETS, backoff_cap=0.5)
    secrets.start()
    try:
        wait_for(lambda: secrets.freshness.state is State.STALE, timeout=5, every=0.01)
        assert secrets.freshness.reason.startswith('forbidden: secrets is forbidden: User "')
        assert not secrets.objects()
    finally:
        secrets.stop()
    assert not actions.can_i(viewer.api, "delete", "pods", namespace="app")
    assert actions.can_i(viewer.api, "list", "pods", namespace="app")
    assert actions.can_i(admin.api, "delete", "pods", namespace="app")
    access = actions.AccessCache(viewer.api)
    sent = count_requests(viewer)
    assert not access.can_i("patch", "deployments", group="apps", namespace="app")
    assert not access.can_i("patch", "deployments", group="apps", namespace="app")
    assert len(sent) == 1


def test_stop_returns_promptly_with_a_watch_open(admin: client.KubeTarget) -> None:
    cache = WatchCache(admin.api, kinds.NAMESPACES)
    cache.start()
    live(cache)
    time.sleep(0.2)  # the watch is open and idle
    began = time.monotonic()
    cache.stop()
    assert time.monotonic() - began < 1.0
    assert cache._thread is not None and not cache._thread.is_alive()


def test_an_idle_cache_sends_nothing_but_its_watch(sandbox: Sandbox) -> None:
    target = client.connect(str(sandbox.kubeconfig))
    sent = count_requests(target)
    cache = WatchCache(target.api, kinds.CLUSTERISSUERS)
    cache.start()
    try:
        live(cache)
        wait_for(lambda: len(sent) == 2, timeout=5, every=0.01)  # the list, then the watch
        time.sleep(3)
        assert len(sent) == 2, sent
        assert "limit=500" in sent[0] and "watch=true" not in sent[0]
        assert "watch=true" in sent[1] and "allowWatchBookmarks=true" in sent[1]
    finally:
        cache.stop()


def test_an_apiserver_flap_reconnects_and_recovers(sandbox: Sandbox, caches: Caches) -> None:
    pods = live(caches.get(kinds.PODS))
    seen: list[State] = []
    pods.subscribe(lambda c: seen.append(c.freshness.state))
    before = len(pods.objects())
    info = runner.read_runtime(sandbox.state_dir)
    assert info
    token = runner.admin_token(sandbox.state_dir)
    status, _ = control.call(info, token, "POST", "/incidents/apiserver-flap")
    assert status == 200
    try:
        wait_for(lambda: pods.freshness.state is State.RECONNECTING, timeout=5, every=0.01)
        assert pods.freshness.reason == "HTTP 503"
        assert len(pods.objects()) == before  # the data is kept while not live
    finally:
        control.call(info, token, "DELETE", "/incidents/apiserver-flap")
    live(pods, timeout=5)
    assert seen[-2:] == [State.RECONNECTING, State.LIVE]


# -- against an unreachable server, and an in-process one ----------------------------------
def kubeconfig_for(tmp_path: Path, server: str) -> str:
    path = tmp_path / "kubeconfig"
    path.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "c", "cluster": {"server": server}}],
                "users": [{"name": "u", "user": {"token": TOKEN}}],
                "contexts": [{"name": "x", "context": {"cluster": "c", "user": "u"}}],
                "current-context": "x",
            }
        )
    )
    return str(path)


def test_an_unreachable_server_is_reconnecting_then_stale(tmp_path: Path) -> None:
    sock = listen()  # a port that refuses connections once closed
    port = sock.getsockname()[1]
    sock.close()
    target = client.connect(kubeconfig_for(tmp_path, f"http://127.0.0.1:{port}"))
    cache = WatchCache(target.api, kinds.PODS, backoff_base=0.05, backoff_cap=0.2, stale_after=0.5)
    cache.start()
    try:
        wait_for(lambda: cache.freshness.state is State.RECONNECTING, timeout=5, every=0.01)
        assert cache.freshness.reason == "connection refused"
        since = cache.freshness.since
        wait_for(lambda: cache.freshness.state is State.STALE, timeout=5, every=0.01)
        assert cache.freshness.reason == "connection refused"
        assert cache.freshness.since == since  # stale since the first failure
    finally:
        cache.stop()


@pytest.fixture(scope="module")
def served() -> Iterator[Served]:
    yield from serve(make_cluster())


def test_a_watch_too_old_after_an_outage_relists_once(served: Served, tmp_path: Path) -> None:
    cluster = served.cluster
    rt = cluster.api.resolve("", "v1", "configmaps")
    ns = f"relist-{uuid.uuid4().hex[:6]}"

    async def on_loop(fn: Any) -> Any:
        return fn()

    def run(fn: Any) -> Any:
        return served.call(on_loop(fn))

    run(lambda: cluster.api.create(cluster.api.resolve("", "v1", "namespaces"), "",
                                   {"metadata": {"name": ns}}))
    for name in ("kept", "doomed"):
        run(lambda n=name: cluster.api.create(rt, ns, {"metadata": {"name": n}}))
    target = client.connect(kubeconfig_for(tmp_path, served.url))
    sent = count_requests(target)
    cache = WatchCache(target.api, CONFIGMAPS, ns, backoff_base=0.05, backoff_cap=0.2)
    notified: list[set[str]] = []
    cache.subscribe(lambda c: notified.append(mine(c)))
    cache.start()
    try:
        live(cache)
        assert mine(cache) == {"kept", "doomed"}

        def outage() -> None:
            cluster.server.unavailable = True
            cluster.server.close_streams()
            # Changes the cache cannot see, then history it needs dropped (as compaction
            # or a restart does): its next watch is answered 410 Gone.
            cluster.api.delete(rt, ns, "doomed")
            cluster.api.create(rt, ns, {"metadata": {"name": "born"}})
            cluster.store.oldest_rv = cluster.store.rv

        run(outage)
        wait_for(lambda: cache.freshness.state is State.RECONNECTING, timeout=5, every=0.01)
        assert cache.freshness.reason == "HTTP 503"
        assert mine(cache) == {"kept", "doomed"}  # kept, while not live
        notified.clear()
        lists = sum("watch=true" not in s for s in sent)
        run(lambda: setattr(cluster.server, "unavailable", False))
        wait_for(lambda: mine(cache) == {"kept", "born"}, timeout=5, every=0.01)
        live(cache)
        assert sum("watch=true" not in s for s in sent) == lists + 1
        assert {"kept", "born"} in notified and {"kept"} not in notified  # replaced at once
        watches = sum("watch=true" in s for s in sent)
        run(lambda: cluster.api.create(rt, ns, {"metadata": {"name": "later"}}))
        wait_for(lambda: "later" in mine(cache), timeout=5, every=0.01)
        assert sum("watch=true" in s for s in sent) == watches  # the same watch saw it
    finally:
        cache.stop()


def test_a_watch_that_times_out_resumes_without_a_relist(served: Served, tmp_path: Path) -> None:
    target = client.connect(kubeconfig_for(tmp_path, served.url))
    sent = count_requests(target)
    cache = WatchCache(target.api, kinds.NAMESPACES, watch_timeout=1)
    cache.start()
    try:
        live(cache)
        wait_for(lambda: sum("watch=true" in s for s in sent) >= 2, timeout=5, every=0.05)
        assert sum("watch=true" not in s for s in sent) == 1
        assert cache.freshness.state is State.LIVE
    finally:
        cache.stop()


def test_stop_all_is_prompt(admin: client.KubeTarget) -> None:
    registry = Caches(admin.api)
    every = [registry.get(k) for k in (kinds.NODES, kinds.NAMESPACES, kinds.SERVICES)]
    for cache in every:
        live(cache)
    began = time.monotonic()
    registry.stop_all()
    assert time.monotonic() - began < 1.0
    assert not registry.freshness()
    assert not any(c._thread and c._thread.is_alive() for c in every)


def test_callbacks_follow_each_change_on_the_cache_thread(
    sandbox: Sandbox, caches: Caches
) -> None:
    ns = f"cb-{uuid.uuid4().hex[:6]}"
    sandbox.kubectl("create", "namespace", ns)
    cms = live(caches.get(CONFIGMAPS, ns))
    threads: set[str] = set()
    unsubscribe = cms.subscribe(lambda c: threads.add(threading.current_thread().name))
    sandbox.kubectl("create", "configmap", "one", "-n", ns)
    wait_for(lambda: "one" in names(cms), timeout=5, every=0.01)
    assert threads == {f"watch-configmaps-{ns}"}
    unsubscribe()
    threads.clear()
    sandbox.kubectl("delete", "configmap", "one", "-n", ns)
    wait_for(lambda: "one" not in names(cms), timeout=5, every=0.01)
    assert not threads and cms.get(ns, "one") is None
    sandbox.kubectl("delete", "namespace", ns, "--wait=false")
