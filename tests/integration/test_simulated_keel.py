"""Keel over HTTP: policy-driven updates on image pushes, new ReplicaSet revisions, approvals
voted through Keel's API, the audit log, polling, and the API's authentication and errors."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from cpanel_platform.sandbox.serving import listen
from cpanel_platform.sandbox.simulator.keel import DEPLOYMENTS, UPDATE_TIME, Keel
from cpanel_platform.sandbox.simulator.keel_api import KeelApi
from cpanel_platform.sandbox.simulator.kube import Kind, Kube

from tests.integration.conftest import TOKEN, Served
from tests.waiting import wait_for

REPLICASETS = Kind("apps", "v1", "replicasets")
AUTH = ("admin", "keel-password")


@dataclass
class KeelWorld:
    served: Served
    kube: Kube
    keel: Keel
    url: str

    def http(self, method: str, path: str, auth: Any = AUTH, **kwargs: Any) -> httpx.Response:
        return httpx.request(method, self.url + path, auth=auth, timeout=10, **kwargs)

    def deploy(self, name: str, image: str, **keel_settings: str) -> dict[str, Any]:
        """A Deployment with the keel.sh settings as annotations; returns once Keel sees it."""
        body = {
            "metadata": {"name": name, "annotations": keel_settings},
            "spec": {
                "replicas": 1,
                "selector": {"matchLabels": {"app": name}},
                "template": {
                    "metadata": {"labels": {"app": name}},
                    "spec": {"containers": [{"name": "app", "image": image}]},
                },
            },
        }
        created = self.served.call(self.kube.create(DEPLOYMENTS, "default", body))
        wait_for(lambda: any(r["name"] == name for r in self.keel.resources()))
        return created

    def deployment(self, name: str) -> dict[str, Any]:
        return self.served.call(self.kube.get(DEPLOYMENTS, "default", name))

    def image(self, name: str) -> str:
        return self.deployment(name)["spec"]["template"]["spec"]["containers"][0]["image"]

    def push(self, repo: str, tag: str, webhook: str | None = "dockerhub") -> list[str]:
        return self.served.call(self.keel.push(repo, tag, webhook=webhook))


@pytest.fixture(scope="module")
def world(bare_cluster: Served) -> Iterator[KeelWorld]:
    sock = listen()

    async def start() -> tuple[Kube, Keel, KeelApi, list[asyncio.Task[None]]]:
        kube = Kube(bare_cluster.url, TOKEN, None, "keel")
        keel = Keel(kube)
        api = KeelApi(keel, *AUTH)
        ready = asyncio.Event()
        tasks = [asyncio.create_task(keel.run()), asyncio.create_task(api.serve(sock, ready))]
        await ready.wait()
        return kube, keel, api, tasks

    kube, keel, api, tasks = bare_cluster.call(start())
    yield KeelWorld(bare_cluster, kube, keel, f"http://127.0.0.1:{sock.getsockname()[1]}")

    async def stop() -> None:
        api.stop()
        tasks[0].cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await kube.close()

    bare_cluster.call(stop())


def test_a_minor_policy_takes_minor_pushes_and_rolls_out_a_new_revision(world) -> None:
    world.deploy("web", "example/web:1.2.0", **{"keel.sh/policy": "minor"})

    assert world.push("example/web", "2.0.0") == []
    assert world.image("web") == "example/web:1.2.0"
    assert world.push("example/other", "1.3.0") == []

    assert world.push("example/web", "1.3.0") == ["deployment/default/web"]
    deployment = world.deployment("web")
    template = deployment["spec"]["template"]
    assert template["spec"]["containers"][0]["image"] == "example/web:1.3.0"
    assert template["metadata"]["annotations"][UPDATE_TIME].endswith("+0000 UTC")
    assert "1.2.0 -> 1.3.0" in deployment["metadata"]["annotations"]["kubernetes.io/change-cause"]

    def new_revision() -> dict[str, Any] | None:
        sets = world.served.call(world.kube.list(REPLICASETS, "default"))["items"]
        return next(
            (
                rs
                for rs in sets
                if rs["metadata"]["name"].startswith("web-")
                and rs["metadata"]["annotations"].get("deployment.kubernetes.io/revision") == "2"
            ),
            None,
        )

    rs = wait_for(new_revision)
    assert rs["spec"]["template"]["spec"]["containers"][0]["image"] == "example/web:1.3.0"
    assert UPDATE_TIME in rs["spec"]["template"]["metadata"]["annotations"]

    updates = world.http("GET", "/v1/audit", params={"filter": "deployment"}).json()
    entry = next(e for e in updates["data"] if e["identifier"] == "deployment/default/web")
    assert entry["action"] == "deployment update"
    assert entry["username"] == "system"
    assert entry["message"] == (
        "Successfully updated deployment default/web 1.2.0->1.3.0 (example/web:1.3.0)"
    )


def test_an_approval_is_queued_and_a_vote_over_http_performs_the_update(world) -> None:
    world.deploy(
        "api",
        "example/api:1.0.0",
        **{"keel.sh/policy": "patch", "keel.sh/approvals": "1", "keel.sh/approvalDeadline": "2"},
    )
    hook = world.http(
        "POST", "/v1/webhooks/native", auth=None, json={"name": "example/api", "tag": "1.0.1"}
    )
    assert hook.status_code == 200
    assert world.image("api") == "example/api:1.0.0"

    approvals = world.http("GET", "/v1/approvals").json()
    approval = next(a for a in approvals if a["identifier"] == "deployment/default/api:1.0.1")
    assert approval["provider"] == "kubernetes"
    assert (approval["votesRequired"], approval["votesReceived"]) == (1, 0)
    assert (approval["rejected"], approval["archived"]) == (False, False)
    assert approval["event"]["repository"] == {
        "host": "",
        "name": "example/api",
        "tag": "1.0.1",
        "digest": "",
    }
    assert (
        approval["message"] == "New image is available for resource default/api (1.0.0 -> 1.0.1)."
    )
    created = dt.datetime.fromisoformat(approval["createdAt"])
    assert dt.datetime.fromisoformat(approval["deadline"]) - created == dt.timedelta(hours=2)

    # A second push of the same tag does not ask again.
    world.push("example/api", "1.0.1")
    assert (
        sum(a["identifier"].startswith("deployment/default/api") for a in world.keel.approvals())
        == 1
    )

    vote = world.http(
        "POST",
        "/v1/approvals",
        json={"identifier": approval["identifier"], "voter": "alice", "action": "approve"},
    )
    assert vote.status_code == 200
    assert vote.json()["votesReceived"] == 1
    assert list(vote.json()["voters"]) == ["alice"]
    assert world.image("api") == "example/api:1.0.1"
    archived = world.http("GET", "/v1/approvals").json()
    assert next(a for a in archived if a["id"] == approval["id"])["archived"] is True

    audit = world.http("GET", "/v1/audit").json()
    assert audit["total"] == len(audit["data"]) and (audit["limit"], audit["offset"]) == (0, 0)
    about_api = [
        (e["action"], e["username"])
        for e in reversed(audit["data"])
        if e["identifier"].startswith("deployment/default/api")
    ]
    assert about_api == [("approved", "alice"), ("archived", ""), ("deployment update", "system")]
    page = world.http("GET", "/v1/audit", params={"limit": 1, "offset": 1}).json()
    assert len(page["data"]) == 1 and page["data"][0] == audit["data"][1]
    assert (page["limit"], page["offset"], page["total"]) == (1, 1, audit["total"])


def test_rejected_approvals_never_update_and_can_be_deleted(world) -> None:
    world.deploy(
        "worker", "example/worker:3.1.0", **{"keel.sh/policy": "all", "keel.sh/approvals": "2"}
    )
    world.push("example/worker", "4.0.0")
    identifier = "deployment/default/worker:4.0.0"

    rejected = world.http(
        "POST", "/v1/approvals", json={"identifier": identifier, "action": "reject"}
    )
    assert rejected.json()["rejected"] is True
    for voter in ("alice", "bob"):
        world.http("POST", "/v1/approvals", json={"identifier": identifier, "voter": voter})
    assert world.image("worker") == "example/worker:3.1.0"

    deleted = world.http(
        "POST", "/v1/approvals", json={"identifier": identifier, "action": "delete"}
    )
    assert (deleted.status_code, deleted.json()) == (200, None)
    assert all(a["identifier"] != identifier for a in world.keel.approvals())


def test_approvals_past_their_deadline_expire(world) -> None:
    world.deploy(
        "cron",
        "example/cron:1.0.0",
        **{"keel.sh/policy": "minor", "keel.sh/approvals": "1", "keel.sh/approvalDeadline": "1"},
    )
    world.push("example/cron", "1.1.0")
    identifier = "deployment/default/cron:1.1.0"
    assert any(a["identifier"] == identifier for a in world.keel.approvals())

    real_clock = world.keel.clock
    world.keel.clock = lambda: real_clock() + dt.timedelta(hours=2)
    try:
        world.keel.expire_approvals()
    finally:
        world.keel.clock = real_clock
    assert all(a["identifier"] != identifier for a in world.keel.approvals())
    actions = [e["action"] for e in world.keel.audit()["data"] if e["identifier"] == identifier]
    assert actions == ["expired", "deleted"]


def test_a_poll_trigger_moves_to_the_best_pushed_tag(world) -> None:
    world.deploy(
        "poller",
        "example/poller:1.0.0",
        **{
            "keel.sh/policy": "minor",
            "keel.sh/trigger": "poll",
            "keel.sh/pollSchedule": "@every 1s",
        },
    )
    for tag in ("1.2.0", "2.0.0", "1.1.0"):
        assert world.push("example/poller", tag, webhook=None) == []
    wait_for(lambda: world.image("poller") == "example/poller:1.2.0")


def test_the_dockerhub_webhook_and_the_resource_list(world) -> None:
    world.deploy("shop", "registry.example.com/shop:0.9.0", **{"keel.sh/policy": "glob:0.*"})
    payload = {
        "push_data": {"tag": "0.10.0", "pusher": "ci"},
        "repository": {"repo_name": "registry.example.com/shop", "name": "shop"},
    }
    assert world.http("POST", "/v1/webhooks/dockerhub", auth=None, json=payload).status_code == 200
    assert world.image("shop") == "registry.example.com/shop:0.10.0"

    resources = world.http("GET", "/v1/resources").json()
    shop = next(r for r in resources if r["identifier"] == "deployment/default/shop")
    assert shop["provider"] == "kubernetes"
    assert (shop["kind"], shop["namespace"], shop["name"]) == ("deployment", "default", "shop")
    assert shop["policy"] == "glob:0.*"
    assert shop["images"] == ["registry.example.com/shop:0.10.0"]
    assert shop["annotations"]["keel.sh/policy"] == "glob:0.*"
    assert set(shop["status"]) == {
        "replicas",
        "updatedReplicas",
        "readyReplicas",
        "availableReplicas",
        "unavailableReplica",
    }


def test_admin_routes_need_basic_auth(world) -> None:
    assert world.http("GET", "/healthz", auth=None).status_code == 200
    for path in ("/v1/approvals", "/v1/audit", "/v1/resources"):
        anonymous = world.http("GET", path, auth=None)
        assert (anonymous.status_code, anonymous.text) == (401, "Unauthorized\n")
        assert world.http("GET", path, auth=("admin", "wrong")).status_code == 401
        assert world.http("GET", path).status_code == 200
    assert world.http("POST", "/v1/approvals", auth=None, json={}).status_code == 401


def test_bad_input_gets_keels_status_codes(world) -> None:
    def post(path: str, content: str) -> httpx.Response:
        return world.http(
            "POST", path, content=content, headers={"Content-Type": "application/json"}
        )

    assert post("/v1/approvals", "{not json").status_code == 400
    assert post("/v1/approvals", '{"identifier": 7}').status_code == 400
    unknown = post("/v1/approvals", '{"identifier": "deployment/default/nope:1.0.0"}')
    assert (unknown.status_code, unknown.text) == (
        404,
        "approval 'deployment/default/nope:1.0.0' not found\n",
    )
    assert post("/v1/approvals", '{"action": "approve"}').status_code == 404
    assert post("/v1/webhooks/dockerhub", "[[").status_code == 400
    no_tag = post("/v1/webhooks/native", '{"name": "example/web"}')
    assert (no_tag.status_code, no_tag.text) == (400, "repository tag cannot be empty")
    no_name = post("/v1/webhooks/dockerhub", '{"push_data": {"tag": "1.0.0"}}')
    assert (no_name.status_code, no_name.text) == (400, "repository name cannot be empty")
