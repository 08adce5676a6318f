"""The API semantics in-process: what every write must get right before any HTTP."""

import pytest
from cpanel_platform.sandbox.kubeapi.api import Api
from cpanel_platform.sandbox.kubeapi.errors import ApiError
from cpanel_platform.sandbox.kubeapi.store import Store


@pytest.fixture
def api() -> Api:
    a = Api(Store(window=5))
    a.create(a.preferred("", "namespaces"), "", {"metadata": {"name": "default"}})
    return a


def _deploy(api: Api) -> dict:
    return api.create(
        api.preferred("apps", "deployments"),
        "default",
        {
            "metadata": {"name": "d"},
            "spec": {
                "selector": {"matchLabels": {"a": "b"}},
                "template": {
                    "metadata": {"labels": {"a": "b"}},
                    "spec": {"containers": [{"name": "c", "image": "i:1"}]},
                },
            },
        },
    )


def test_create_stamps_and_defaults(api: Api) -> None:
    d = _deploy(api)
    meta = d["metadata"]
    assert meta["uid"] and meta["creationTimestamp"] and meta["generation"] == 1
    assert d["spec"]["replicas"] == 1
    assert d["spec"]["strategy"]["rollingUpdate"] == {"maxSurge": "25%", "maxUnavailable": "25%"}
    assert d["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"] == "IfNotPresent"


def test_generation_bumps_only_on_spec_change(api: Api) -> None:
    rt = api.preferred("apps", "deployments")
    d = _deploy(api)
    labelled = api.update(
        rt, "default", "d", {**d, "metadata": {**d["metadata"], "labels": {"x": "y"}}}
    )
    assert labelled["metadata"]["generation"] == 1
    scaled = api.update(
        rt, "default", "d", {**labelled, "spec": {**labelled["spec"], "replicas": 3}}
    )
    assert scaled["metadata"]["generation"] == 2
    same = api.update(rt, "default", "d", scaled)
    assert same["metadata"]["resourceVersion"] == scaled["metadata"]["resourceVersion"]


def test_status_subresource_and_main_resource_are_separate(api: Api) -> None:
    rt = api.preferred("apps", "deployments")
    d = _deploy(api)
    with_status = api.update(
        rt, "default", "d", {**d, "status": {"replicas": 7}}, subresource="status"
    )
    assert with_status["status"] == {"replicas": 7}
    ignored = api.update(rt, "default", "d", {**with_status, "status": {"replicas": 0}})
    assert ignored["status"] == {"replicas": 7}


def test_stale_update_conflicts_and_changes_nothing(api: Api) -> None:
    rt = api.preferred("", "configmaps")
    cm = api.create(rt, "default", {"metadata": {"name": "c"}, "data": {"v": "1"}})
    api.update(rt, "default", "c", {**cm, "data": {"v": "2"}})
    with pytest.raises(ApiError) as err:
        api.update(rt, "default", "c", {**cm, "data": {"v": "3"}})
    assert err.value.code == 409 and err.value.reason == "Conflict"
    assert api.get(rt, "default", "c")["data"] == {"v": "2"}


def test_finalizers_hold_deletion_until_removed(api: Api) -> None:
    rt = api.preferred("", "configmaps")
    api.create(rt, "default", {"metadata": {"name": "f", "finalizers": ["example.com/hold"]}})
    held = api.delete(rt, "default", "f")
    assert held["metadata"]["deletionTimestamp"]
    api.update(rt, "default", "f", {**held, "metadata": {**held["metadata"], "finalizers": []}})
    with pytest.raises(ApiError) as err:
        api.get(rt, "default", "f")
    assert err.value.code == 404


def test_dry_run_stores_nothing(api: Api) -> None:
    rt = api.preferred("", "configmaps")
    rv = api.store.rv
    api.create(rt, "default", {"metadata": {"name": "dry"}}, dry_run=True)
    assert api.store.rv == rv and api.store.get(rt.key, "default", "dry") is None


def test_watch_window_expires(api: Api) -> None:
    rt = api.preferred("", "configmaps")
    start = api.store.rv
    for i in range(10):
        api.create(rt, "default", {"metadata": {"name": f"w{i}"}})
    assert api.store.events_since(rt.key, start) is None  # older than the 5 retained events
    assert len(api.store.events_since(rt.key, api.store.rv - 2)) == 2


def test_namespace_must_exist(api: Api) -> None:
    with pytest.raises(ApiError) as err:
        api.create(api.preferred("", "configmaps"), "nowhere", {"metadata": {"name": "x"}})
    assert err.value.code == 404 and 'namespaces "nowhere" not found' in err.value.message
