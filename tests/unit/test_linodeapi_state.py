"""The Linode emulator's state on a stepped clock: asynchronous creation, pool resizing,
rolling and all-at-once recycles, upgrade rules, events, paging and filtering."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from cpanel_platform.sandbox.linodeapi import LinodeState, ManualClock, Timings
from cpanel_platform.sandbox.linodeapi.dns import round_ttl
from cpanel_platform.sandbox.linodeapi.errors import LinodeError
from cpanel_platform.sandbox.linodeapi.filtering import apply
from cpanel_platform.sandbox.linodeapi.paging import page

KUBECONFIG = """apiVersion: v1
kind: Config
clusters:
- name: lke
  cluster: {server: "https://127.0.0.1:6443"}
"""


class Recorder:
    """A listener that remembers what it heard."""

    def __init__(self) -> None:
        self.heard: list[tuple[str, int, int, str, int]] = []
        self.clusters: list[tuple[str, int]] = []
        self.kubeconfig: str | None = None  # what it answers for a new cluster

    def cluster_created(self, cluster_id: int, cluster: dict) -> str | None:
        self.clusters.append(("created", cluster_id))
        return self.kubeconfig

    def cluster_deleted(self, cluster_id: int, cluster: dict) -> None:
        self.clusters.append(("deleted", cluster_id))

    def instance_running(self, cluster_id: int, pool_id: int, node_id: str, instance: dict) -> None:
        self.heard.append(("running", cluster_id, pool_id, node_id, instance["id"]))

    def instance_deleted(self, cluster_id: int, pool_id: int, node_id: str, instance: dict) -> None:
        self.heard.append(("deleted", cluster_id, pool_id, node_id, instance["id"]))


@pytest.fixture
def listener() -> Recorder:
    return Recorder()


@pytest.fixture
def state(listener: Recorder) -> LinodeState:
    timings = Timings(create_delay=2, boot_delay=20, control_plane_delay=30)
    return LinodeState(clock=ManualClock(), seed=7, timings=timings, listener=listener)


def create(state: LinodeState, count: int = 3, pools: int = 1, version: str = "1.35") -> int:
    body = {
        "label": "prod",
        "region": "us-east",
        "k8s_version": version,
        "node_pools": [{"type": "g6-dedicated-8", "count": count}] * pools,
    }
    return state.lke.create_cluster(body, "alice").id


def booted(state: LinodeState, count: int = 3, pools: int = 1) -> int:
    cluster_id = create(state, count, pools)
    state.advance(30)
    return cluster_id


def pools(state: LinodeState, cluster_id: int) -> list[dict[str, Any]]:
    return [state.lke.pool_json(p) for p in state.lke.cluster(cluster_id).pools.values()]


def nodes(state: LinodeState, cluster_id: int) -> list[dict[str, Any]]:
    return [n for p in pools(state, cluster_id) for n in p["nodes"]]


def statuses(state: LinodeState, cluster_id: int) -> list[str]:
    return [n["status"] for n in nodes(state, cluster_id)]


def events(state: LinodeState, action: str) -> list[dict[str, Any]]:
    """Events of one action, oldest first."""
    return [e for e in reversed(state.events.list()) if e["action"] == action]


def test_creation_is_asynchronous_and_linodes_boot_in_stages(state, listener) -> None:
    cluster_id = create(state)
    assert [(n["instance_id"], n["status"]) for n in nodes(state, cluster_id)] == [
        (None, "not_ready")
    ] * 3
    with pytest.raises(LinodeError) as unavailable:
        state.lke.kubeconfig(cluster_id)
    assert unavailable.value.status == 503 and "Retry-After" in unavailable.value.headers

    state.advance(2)
    instances = [state.lke.instance(n["instance_id"]) for n in nodes(state, cluster_id)]
    assert {i.status for i in instances} == {"provisioning"}
    state.advance(10)
    assert {i.status for i in instances} == {"booting"}
    assert statuses(state, cluster_id) == ["not_ready"] * 3
    state.advance(10)
    assert {i.status for i in instances} == {"running"}
    assert statuses(state, cluster_id) == ["ready"] * 3
    pool_id = pools(state, cluster_id)[0]["id"]
    assert listener.heard == [("running", cluster_id, pool_id, i.node_id, i.id) for i in instances]
    for instance in instances:
        assert instance.label == f"lke{cluster_id}-{instance.node_id}"
        assert instance.node_id.startswith(f"{pool_id}-")
    assert [e["status"] for e in events(state, "lke_node_create")] == ["finished"] * 3


def test_kubeconfig_and_endpoints_come_with_the_control_plane(state) -> None:
    cluster_id = create(state)
    state.set_kubeconfig(cluster_id, KUBECONFIG)
    state.advance(29)
    with pytest.raises(LinodeError):
        state.lke.api_endpoints(cluster_id)
    state.advance(1)
    assert base64.b64decode(state.lke.kubeconfig(cluster_id)).decode() == KUBECONFIG
    assert state.lke.api_endpoints(cluster_id) == [{"endpoint": "https://127.0.0.1:6443"}]
    assert events(state, "lke_cluster_create")[0]["status"] == "finished"


def test_the_listener_gives_a_new_cluster_its_kubeconfig_and_hears_it_go(state, listener) -> None:
    listener.kubeconfig = KUBECONFIG
    cluster_id = booted(state)
    assert base64.b64decode(state.lke.kubeconfig(cluster_id)).decode() == KUBECONFIG
    state.lke.delete_cluster(cluster_id, "alice")
    assert listener.clusters == [("created", cluster_id), ("deleted", cluster_id)]


def test_pool_count_changes_create_and_delete_linodes(state, listener) -> None:
    cluster_id = booted(state)
    pool_id = pools(state, cluster_id)[0]["id"]
    before = [n["id"] for n in nodes(state, cluster_id)]

    state.lke.update_pool(cluster_id, pool_id, {"count": 5}, "alice")
    assert statuses(state, cluster_id) == ["ready"] * 3 + ["not_ready"] * 2
    state.advance(22)
    assert statuses(state, cluster_id) == ["ready"] * 5

    state.lke.update_pool(cluster_id, pool_id, {"count": 2}, "alice")
    assert [n["id"] for n in nodes(state, cluster_id)] == before[:2]
    assert len(state.lke.instances) == 2
    assert [h[0] for h in listener.heard[-3:]] == ["deleted"] * 3
    assert len(events(state, "lke_node_delete")) == 3


def test_a_recycled_node_is_replaced_by_a_new_node_and_linode(state, listener) -> None:
    cluster_id = booted(state)
    old = nodes(state, cluster_id)[1]
    state.lke.recycle_node(cluster_id, old["id"], "alice")

    replacement = nodes(state, cluster_id)[1]
    assert replacement["id"] != old["id"]
    assert (replacement["instance_id"], replacement["status"]) == (None, "not_ready")
    with pytest.raises(LinodeError) as gone:
        state.lke.node(cluster_id, old["id"])
    assert gone.value.status == 404
    assert listener.heard[-1][0::3] == ("deleted", old["id"])
    assert events(state, "lke_node_recycle")[0]["status"] == "started"

    state.advance(2)
    instance_id = nodes(state, cluster_id)[1]["instance_id"]
    assert instance_id not in (None, old["instance_id"])
    state.advance(20)
    assert nodes(state, cluster_id)[1]["status"] == "ready"
    recycle = events(state, "lke_node_recycle")[0]
    assert recycle["status"] == "finished" and recycle["entity"]["node"] == old["id"]
    assert recycle["duration"] == 22


def test_pool_recycle_is_rolling_one_node_at_a_time(state) -> None:
    cluster_id = booted(state)
    pool_id = pools(state, cluster_id)[0]["id"]
    state.lke.recycle_pool(cluster_id, pool_id, "alice")
    assert [e["status"] for e in events(state, "lke_node_recycle")] == [
        "started",
        "scheduled",
        "scheduled",
    ]
    seen_not_ready = []
    for _ in range(70):
        state.advance(1)
        seen_not_ready.append(statuses(state, cluster_id).count("not_ready"))
    # Never more than one node away, and each starts as soon as the previous one is back.
    assert seen_not_ready == [1] * 65 + [0] * 5
    assert statuses(state, cluster_id) == ["ready"] * 3
    assert [e["status"] for e in events(state, "lke_node_recycle")] == ["finished"] * 3
    assert events(state, "lke_pool_recycle")[0]["status"] == "finished"


def test_recycle_all_at_once_replaces_every_node_together(state) -> None:
    cluster_id = booted(state, count=2, pools=2)
    state.lke.recycle_all_at_once = True
    state.lke.recycle_cluster(cluster_id, "alice")
    assert statuses(state, cluster_id) == ["not_ready"] * 4
    assert {e["status"] for e in events(state, "lke_node_recycle")} == {"started"}
    state.advance(22)
    assert statuses(state, cluster_id) == ["ready"] * 4
    assert events(state, "lke_cluster_recycle")[0]["status"] == "finished"


def test_cluster_recycle_rolls_through_every_pool(state) -> None:
    cluster_id = booted(state, count=2, pools=2)
    state.lke.recycle_cluster(cluster_id, "alice")
    assert statuses(state, cluster_id).count("not_ready") == 1
    state.advance(22 * 3)
    assert events(state, "lke_cluster_recycle")[0]["status"] == "started"
    state.advance(22)
    assert events(state, "lke_cluster_recycle")[0]["status"] == "finished"
    assert statuses(state, cluster_id) == ["ready"] * 4


def test_overlapping_recycles_wait_on_the_same_node_recycles(state) -> None:
    cluster_id = booted(state, count=2)
    pool_id = pools(state, cluster_id)[0]["id"]
    state.lke.recycle_node(cluster_id, nodes(state, cluster_id)[0]["id"], "alice")
    state.lke.recycle_pool(cluster_id, pool_id, "alice")
    state.lke.recycle_cluster(cluster_id, "alice")
    assert [e["status"] for e in events(state, "lke_node_recycle")] == ["started", "scheduled"]
    state.advance(22)
    assert events(state, "lke_pool_recycle")[0]["status"] == "started"
    state.advance(22)
    assert events(state, "lke_pool_recycle")[0]["status"] == "finished"
    assert events(state, "lke_cluster_recycle")[0]["status"] == "finished"


def test_a_queued_recycle_fails_when_its_node_is_deleted(state) -> None:
    cluster_id = booted(state)
    pool_id = pools(state, cluster_id)[0]["id"]
    last = nodes(state, cluster_id)[2]["id"]
    state.lke.recycle_pool(cluster_id, pool_id, "alice")
    state.lke.delete_node(cluster_id, last, "alice")
    state.advance(44)
    assert [e["status"] for e in events(state, "lke_node_recycle")] == [
        "finished",
        "finished",
        "failed",
    ]
    assert events(state, "lke_pool_recycle")[0]["status"] == "finished"
    assert pools(state, cluster_id)[0]["count"] == 2


@pytest.mark.parametrize(
    ("wanted", "ok"),
    [("1.35", True), ("1.36", True), ("1.34", False), ("1.37", False), ("2.0", False)],
)
def test_upgrades_go_one_minor_at_a_time(state, wanted: str, ok: bool) -> None:
    state.lke.versions = ("1.37", "1.36", "1.35", "1.34")
    cluster_id = create(state, version="1.35")
    if ok:
        state.lke.update_cluster(cluster_id, {"k8s_version": wanted}, "alice")
        assert state.lke.cluster(cluster_id).k8s_version == wanted
        assert len(events(state, "lke_cluster_update")) == (wanted != "1.35")
    else:
        with pytest.raises(LinodeError) as refused:
            state.lke.update_cluster(cluster_id, {"k8s_version": wanted}, "alice")
        assert (refused.value.status, refused.value.field) == (400, "k8s_version")
        assert state.lke.cluster(cluster_id).k8s_version == "1.35"


def test_high_availability_cannot_be_turned_off(state) -> None:
    cluster_id = create(state)
    ha = {"control_plane": {"high_availability": True}}
    state.lke.update_cluster(cluster_id, ha, "alice")
    with pytest.raises(LinodeError) as refused:
        state.lke.update_cluster(cluster_id, {"control_plane": {"high_availability": False}}, "a")
    assert refused.value.field == "control_plane.high_availability"
    assert state.lke.cluster(cluster_id).high_availability


def test_deleting_a_cluster_deletes_its_linodes_and_detaches_volumes(state, listener) -> None:
    cluster_id = booted(state)
    linode_id = nodes(state, cluster_id)[0]["instance_id"]
    volume = state.upsert_volume("pvc0a1b2c3", 10, "us-east", linode_id=linode_id)
    assert volume["linode_label"] == state.lke.instance(linode_id).label
    assert volume["filesystem_path"] == "/dev/disk/by-id/scsi-0Linode_Volume_pvc0a1b2c3"

    state.lke.delete_cluster(cluster_id, "alice")
    assert state.lke.instances == {}
    assert [h[0] for h in listener.heard[-3:]] == ["deleted"] * 3
    detached = state.volumes.get(volume["id"])
    assert (detached["linode_id"], detached["linode_label"]) == (None, None)


def test_volumes_are_upserted_by_label(state) -> None:
    first = state.upsert_volume("pvc-data", 10, "us-east")
    second = state.upsert_volume("pvc-data", 20, "us-east", status="resizing")
    assert first["id"] == second["id"] and (second["size"], second["status"]) == (20, "resizing")
    state.delete_volume(first["id"])
    assert state.volumes.list() == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"region": "mars-1"}, "region"),
        ({"k8s_version": "1.20"}, "k8s_version"),
        ({"node_pools": []}, "node_pools"),
        ({"node_pools": [{"type": "g6-huge", "count": 1}]}, "node_pools[0].type"),
        ({"node_pools": [{"type": "g6-standard-2", "count": 0}]}, "node_pools[0].count"),
        ({"label": "no spaces"}, "label"),
    ],
)
def test_bad_cluster_bodies_name_the_field_and_change_nothing(state, body, field) -> None:
    good = {
        "label": "prod",
        "region": "us-east",
        "k8s_version": "1.35",
        "node_pools": [{"type": "g6-standard-2", "count": 1}],
    }
    with pytest.raises(LinodeError) as refused:
        state.lke.create_cluster({**good, **body}, "alice")
    assert (refused.value.status, refused.value.field) == (400, field)
    assert state.lke.clusters == {} and state.events.list() == []


def test_the_same_seed_and_steps_make_the_same_world() -> None:
    def world() -> str:
        state = LinodeState(clock=ManualClock(), seed=3)
        cluster_id = create(state)
        state.advance(40)
        state.lke.recycle_cluster(cluster_id, "alice")
        state.advance(100)
        instances = [state.lke.instance_json(i) for i in state.lke.instances.values()]
        return json.dumps([nodes(state, cluster_id), instances, state.events.list()])

    assert world() == world()


def test_settle_finishes_everything_pending(state) -> None:
    cluster_id = create(state)
    state.settle()
    assert statuses(state, cluster_id) == ["ready"] * 3
    assert state.lke.cluster(cluster_id).control_plane_ready


def test_paging() -> None:
    items = [{"id": i} for i in range(60)]
    assert page(items, {}) == {"data": items, "page": 1, "pages": 1, "results": 60}
    second = page(items, {"page": "2", "page_size": "25"})
    assert second["data"][0] == {"id": 25} and (second["page"], second["pages"]) == (2, 3)
    assert page(items, {"page": "9", "page_size": "25"})["data"] == []
    for bad in ({"page_size": "10"}, {"page_size": "501"}, {"page": "0"}, {"page": "x"}):
        with pytest.raises(LinodeError) as refused:
            page(items, bad)
        assert refused.value.status == 400


def test_filters() -> None:
    items = [
        {"id": 1, "label": "web", "tags": ["prod"], "entity": {"id": 7, "type": "lkecluster"}},
        {"id": 2, "label": "db", "tags": [], "entity": {"id": 8, "type": "linode"}},
        {"id": 3, "label": "web2", "tags": ["prod", "eu"], "entity": {"id": 7, "type": "linode"}},
    ]

    def ids(spec: dict) -> list[int]:
        return [i["id"] for i in apply(items, json.dumps(spec))]

    assert ids({"label": "db"}) == [2]
    assert ids({"tags": "prod"}) == [1, 3]
    assert ids({"entity.id": 7, "entity.type": "linode"}) == [3]
    assert ids({"entity": {"type": "lkecluster"}}) == [1]
    assert ids({"+or": [{"label": "db"}, {"label": "web"}]}) == [1, 2]
    assert ids({"label": {"+contains": "WEB"}}) == [1, 3]
    assert ids({"id": {"+gte": 2}, "+order_by": "id", "+order": "desc"}) == [3, 2]
    assert ids({"+order_by": "label"}) == [2, 1, 3]
    with pytest.raises(LinodeError):
        apply(items, "{not json")


def test_record_ttls_round_up_to_the_allowed_values() -> None:
    assert [round_ttl(s) for s in (0, 1, 300, 301, 10**9)] == [0, 30, 300, 3600, 2419200]
