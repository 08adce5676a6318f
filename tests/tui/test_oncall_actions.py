"""The on-call actions in the dashboard, on the sandbox: each asks first, changes the cluster
as its own tool would, flashes the outcome and lands in the audit journal; declining does
nothing; the read-only viewer and --readonly are offered none of them.

Actions that disturb nodes or the Postgres primary run on a private sandbox."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import httpx
import pytest
from cpanel.app import CpanelApp
from cpanel.screens.choose import ChooseScreen
from cpanel.screens.confirm import ConfirmScreen

from tests.conftest import Sandbox
from tests.tui.conftest import SIZE, rows, sandbox_app, until
from tests.tui.test_app_on_sandbox import filter_by, open_pane

pytestmark = pytest.mark.timeout(240)  # includes a private sandbox's start

PGO = "postgres-operator.crunchydata.com"
NAMESPACE = "oncall-rollouts"
WORKLOADS = f"""
apiVersion: v1
kind: Namespace
metadata: {{name: {NAMESPACE}}}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: shop
  namespace: {NAMESPACE}
  labels: {{keel.sh/policy: major}}
spec:
  replicas: 1
  selector: {{matchLabels: {{app: shop}}}}
  template:
    metadata: {{labels: {{app: shop}}}}
    spec:
      containers: [{{name: shop, image: "example/oncall-shop:1.0.0"}}]
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  namespace: {NAMESPACE}
  labels: {{keel.sh/policy: patch}}
  annotations: {{keel.sh/approvals: "1"}}
spec:
  replicas: 1
  selector: {{matchLabels: {{app: api}}}}
  template:
    metadata: {{labels: {{app: api}}}}
    spec:
      containers: [{{name: api, image: "example/oncall-api:1.0.0"}}]
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: worker
  namespace: {NAMESPACE}
  labels: {{keel.sh/policy: minor}}
  annotations: {{keel.sh/approvals: "2"}}
spec:
  replicas: 1
  selector: {{matchLabels: {{app: worker}}}}
  template:
    metadata: {{labels: {{app: worker}}}}
    spec:
      containers: [{{name: worker, image: "example/oncall-worker:3.1.0"}}]
"""
# The on-call actions each pane offers (alias → actions).
OFFERED = {
    "pods": ("delete", "restart"),
    "certs": ("renew",),
    "pg": ("switchover", "backup"),
    "rollouts": ("rollback", "approve", "reject"),
    "nodes": ("cordon", "uncordon", "drain"),
}


async def confirm(pilot, key: str, answer: str = "y") -> ConfirmScreen:
    """Press an action's key, wait for its confirmation, answer it; the dialog."""
    app = pilot.app
    await pilot.press(key)
    screen = await until(lambda: isinstance(app.screen, ConfirmScreen) and app.screen)
    await pilot.press(answer)
    await until(lambda: not isinstance(app.screen, ConfirmScreen))
    return screen


async def journalled(journal: Callable[[], list[dict]], count: int) -> list[dict]:
    """The journal once it has `count` entries."""
    return await until(lambda: len(entries := journal()) >= count and entries, timeout=20)


def flash(app: CpanelApp) -> str:
    return app.flash_text.plain


def image(box: Sandbox, name: str) -> str:
    doc = box.json("get", "deployment", name, "-n", NAMESPACE)
    return doc["spec"]["template"]["spec"]["containers"][0]["image"]


def push(box: Sandbox, repository: str, tag: str) -> None:
    body = {"repository": {"repo_name": repository}, "push_data": {"tag": tag}}
    httpx.post(f"{box.env['KEEL_URL']}/v1/webhooks/dockerhub", json=body).raise_for_status()


@pytest.fixture(scope="module")
def workloads(sandbox: Sandbox) -> Iterator[Sandbox]:
    sandbox.kubectl("apply", "-f", "-", input=WORKLOADS)
    yield sandbox
    sandbox.kubectl("delete", "namespace", NAMESPACE, "--timeout=20s", check=False)


async def test_renew_asks_then_sets_issuing_and_journals_each_attempt(sandbox, journal) -> None:
    app = sandbox_app(sandbox, namespace="keel")
    async with app.run_test(size=SIZE) as pilot:
        await open_pane(pilot, "certs")
        await until(lambda: rows(app) == ["keel/keel-example-com"] and app.allowed)
        cert = lambda: app.pane.table.current.data  # noqa: E731
        await until(lambda: cert().ready == "True" and not cert().issuing, timeout=60)
        await confirm(pilot, "r", "n")  # declined: nothing happens, nothing is journalled
        await pilot.pause()
        assert journal() == []

        screen = await confirm(pilot, "r")
        assert "keel/keel-example-com" in screen.body
        (entry,) = await journalled(journal, 1)
        status = sandbox.json("get", "certificate", "keel-example-com", "-n", "keel")["status"]
        issuing = next(c for c in status["conditions"] if c["type"] == "Issuing")
        assert (issuing["status"], issuing["reason"]) == ("True", "ManuallyTriggered")
        assert entry["action"] == "renew" and entry["outcome"] == "ok"
        assert entry["target"] == "Certificate/keel/keel-example-com"
        assert entry["who"].startswith("sandbox-admin (") and entry["when"].endswith("Z")

        await confirm(pilot, "r")  # again while issuing: refused by cpanel, journalled
        failed = (await journalled(journal, 2))[1]
        assert failed["outcome"] == "failed" and "already being issued" in failed["detail"]
        assert "already being issued" in flash(app)


async def test_postgres_backup_annotates_and_the_operator_runs_it(sandbox, journal) -> None:
    app = sandbox_app(sandbox, namespace="app")
    async with app.run_test(size=SIZE) as pilot:
        await open_pane(pilot, "pg")
        await until(lambda: len(rows(app)) == 2 and app.allowed)
        await confirm(pilot, "b")
        (entry,) = await journalled(journal, 1)
        assert (entry["action"], entry["target"], entry["outcome"]) == (
            "backup", "PostgresCluster/app/db", "ok")
        pg = sandbox.json("get", "postgrescluster", "db", "-n", "app")
        wanted = pg["metadata"]["annotations"][f"{PGO}/pgbackrest-backup"]
        await until(lambda: sandbox.json("get", "postgrescluster", "db", "-n", "app")[
            "status"]["pgbackrest"].get("manualBackup", {}).get("id") == wanted, timeout=20)
        assert "repo1 --type=full" in entry["detail"]


async def test_rollback_to_a_chosen_revision(workloads, journal) -> None:
    box = workloads
    box.kubectl("set", "image", "-n", NAMESPACE, "deployment/shop",
                "shop=example/oncall-shop:1.1.0")
    app = sandbox_app(box, namespace=NAMESPACE)
    async with app.run_test(size=SIZE) as pilot:
        await open_pane(pilot, "rollouts")
        await filter_by(pilot, "shop")
        await until(lambda: rows(app) == [f"deployment/{NAMESPACE}/shop"] and app.allowed)
        await until(lambda: len(app.pane.table.current.data.history) == 2)
        await pilot.press("ctrl+l")
        chooser = await until(lambda: isinstance(app.screen, ChooseScreen) and app.screen)
        assert [key for key, _ in chooser.choices] == ["1"]  # not the one running
        await pilot.press("enter")
        screen = await until(lambda: isinstance(app.screen, ConfirmScreen) and app.screen)
        assert "revision 1" in screen.body and "oncall-shop:1.0.0" in screen.body
        await pilot.press("y")
        (entry,) = await journalled(journal, 1)
        assert (entry["action"], entry["target"], entry["outcome"]) == (
            "rollback", f"Deployment/{NAMESPACE}/shop", "ok")
        assert image(box, "shop") == "example/oncall-shop:1.0.0"
        await until(lambda: box.json("get", "deployment", "shop", "-n", NAMESPACE)["metadata"][
            "annotations"]["deployment.kubernetes.io/revision"] == "3")


async def test_keel_approve_and_reject_the_pending_update(workloads, journal) -> None:
    box = workloads
    push(box, "example/oncall-api", "1.0.1")
    push(box, "example/oncall-worker", "3.2.0")
    app = sandbox_app(box, namespace=NAMESPACE, settings={"keel": {"refresh_seconds": 0.5}})
    async with app.run_test(size=SIZE) as pilot:
        await open_pane(pilot, "rollouts")
        await filter_by(pilot, "api")
        await until(lambda: rows(app) == [f"deployment/{NAMESPACE}/api"] and app.allowed)
        await until(lambda: app.pane.table.current.data.pending, timeout=15)
        screen = await confirm(pilot, "a")
        assert "1.0.0 → 1.0.1" in screen.body
        (entry,) = await journalled(journal, 1)
        assert (entry["action"], entry["outcome"]) == ("approve", "ok")
        assert entry["target"] == f"Approval/deployment/{NAMESPACE}/api:1.0.1"
        await until(lambda: image(box, "api") == "example/oncall-api:1.0.1", timeout=15)

        await filter_by(pilot, "worker")
        await until(lambda: rows(app) == [f"deployment/{NAMESPACE}/worker"])
        await until(lambda: app.pane.table.current.data.pending, timeout=15)
        await confirm(pilot, "x")
        entry = (await journalled(journal, 2))[1]
        assert (entry["action"], entry["outcome"]) == ("reject", "ok")
        assert "rejected" in entry["detail"]
        await until(lambda: not app.pane.table.current.data.pending, timeout=15)
        assert image(box, "worker") == "example/oncall-worker:3.1.0"


async def test_cordon_uncordon_and_drain_a_node(fresh_sandbox, journal) -> None:
    box = fresh_sandbox()
    node = box.json("get", "nodes")["items"][0]["metadata"]["name"]

    def unschedulable() -> bool:
        return bool(box.json("get", "node", node)["spec"].get("unschedulable"))

    def evictable_left() -> list[str]:
        pods = box.json("get", "pods", "-A", "--field-selector", f"spec.nodeName={node}")
        return [p["metadata"]["name"] for p in pods["items"]
                if p["status"].get("phase") not in ("Succeeded", "Failed")
                and not any(r["kind"] == "DaemonSet"
                            for r in p["metadata"].get("ownerReferences", []))]

    await until(lambda: evictable_left(), timeout=20)
    app = sandbox_app(box)
    async with app.run_test(size=SIZE) as pilot:
        await open_pane(pilot, "nodes")
        await filter_by(pilot, node)
        await until(lambda: rows(app) == [node] and app.allowed)
        await confirm(pilot, "c")
        await until(unschedulable)
        await confirm(pilot, "u")
        await until(lambda: not unschedulable())

        screen = await confirm(pilot, "r")
        assert re.search(r"evicts its [1-9]\d* pod\(s\)", screen.body), screen.body
        entries = await journalled(journal, 3)
        assert [(e["action"], e["outcome"]) for e in entries] == [
            ("cordon", "ok"), ("uncordon", "ok"), ("drain", "ok")]
        assert all(e["target"] == f"Node/{node}" for e in entries)
        assert evictable_left() == [] and unschedulable()
        assert f"drained node {node}" in flash(app)

        await confirm(pilot, "u")
        await journalled(journal, 4)
        assert not unschedulable()


async def test_switchover_to_the_replica_under_the_cursor(fresh_sandbox, journal) -> None:
    box = fresh_sandbox()
    app = sandbox_app(box, namespace="app")
    async with app.run_test(size=SIZE) as pilot:
        await open_pane(pilot, "pg")
        roles = await until(lambda: len(rows(app)) == 2 and app.allowed and {
            row.data[1].role: row.data[1] for row in app.pane.table.rows} if all(
            row.data[1].role for row in app.pane.table.rows) else None, timeout=20)
        replica, primary = roles["replica"], roles["primary"]

        await filter_by(pilot, primary.pod)
        await pilot.press("s")  # the primary is no target: said so, nothing asked
        await pilot.pause()
        assert app.screen is app.screen_stack[0] and "not a replica" in flash(app)

        await filter_by(pilot, replica.pod)
        screen = await confirm(pilot, "s")
        assert f"replica {replica.instance}" in screen.body
        (entry,) = await journalled(journal, 1)
        assert (entry["action"], entry["target"], entry["outcome"]) == (
            "switchover", "PostgresCluster/app/db", "ok")

        def role(pod: str) -> str:
            labels = box.json("get", "pod", pod, "-n", "app")["metadata"]["labels"]
            return labels.get(f"{PGO}/role", "")

        await until(lambda: role(replica.pod) == "master", timeout=30)
        assert role(primary.pod) == "replica"


async def test_the_viewer_and_readonly_are_offered_no_oncall_action(sandbox) -> None:
    async def offered(app: CpanelApp) -> dict[str, bool]:
        async with app.run_test(size=SIZE) as pilot:
            await until(lambda: app.allowed)
            found = {}
            for alias, actions in OFFERED.items():
                await open_pane(pilot, alias)
                found |= {a: app.check_action(a, ()) is True for a in actions}
            return found

    every = {a for actions in OFFERED.values() for a in actions}
    assert await offered(sandbox_app(sandbox)) == dict.fromkeys(every, True)
    assert await offered(sandbox_app(sandbox, context="sandbox-viewer")) == dict.fromkeys(
        every, False)
    assert await offered(sandbox_app(sandbox, readonly=True)) == dict.fromkeys(every, False)

