"""KeelSource against the sandbox's Keel: approvals and the audit log as Keel writes them,
votes and rejections, and what wrong credentials or the service proxy do."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from cpanel_platform.config import Settings
from cpanel_platform.freshness import State
from cpanel_platform.keel import Approval, KeelSnapshot
from cpanel_platform.keel_source import (
    BAD_CREDENTIALS,
    PROXY_CANNOT_AUTH,
    KeelError,
    KeelSource,
    resolve,
)
from cpanel_platform.kube.client import connect

from tests.conftest import Sandbox
from tests.waiting import wait_for

NAMESPACE = "keel-source-test"
WORKLOADS = """
apiVersion: v1
kind: Namespace
metadata: {name: keel-source-test}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  namespace: keel-source-test
  labels: {keel.sh/policy: patch}
  annotations: {keel.sh/approvals: "1", keel.sh/approvalDeadline: "2"}
spec:
  replicas: 1
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      containers: [{name: api, image: "example/keel-source-api:1.0.0"}]
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: worker
  namespace: keel-source-test
  labels: {keel.sh/policy: all}
  annotations: {keel.sh/approvals: "2"}
spec:
  replicas: 1
  selector: {matchLabels: {app: worker}}
  template:
    metadata: {labels: {app: worker}}
    spec:
      containers: [{name: worker, image: "example/keel-source-worker:3.1.0"}]
"""


def _source(box: Sandbox, password: str | None = None) -> KeelSource:
    env = box.env
    return KeelSource(
        resolve(Settings(), env, None), env["KEEL_USERNAME"], password or env["KEEL_PASSWORD"]
    )


@pytest.fixture(scope="module")
def workloads(sandbox: Sandbox) -> Iterator[Sandbox]:
    sandbox.kubectl("apply", "-f", "-", input=WORKLOADS)
    yield sandbox
    sandbox.kubectl("delete", "namespace", NAMESPACE, "--timeout=20s", check=False)


def _push(box: Sandbox, repository: str, tag: str) -> None:
    body = {"repository": {"repo_name": repository}, "push_data": {"tag": tag}}
    httpx.post(f"{box.env['KEEL_URL']}/v1/webhooks/dockerhub", json=body).raise_for_status()


def _pending(source: KeelSource, box: Sandbox, repository: str, tag: str, ident: str) -> Approval:
    """Push until Keel (which may not have seen the new Deployment yet) asks for approval."""

    def asked() -> Approval | None:
        _push(box, repository, tag)
        approvals = source.refresh().approvals
        return next((a for a in approvals if a.identifier == ident and not a.archived), None)

    return wait_for(asked, timeout=20, every=0.5)


def test_approvals_and_audit_parse_and_a_vote_updates(workloads: Sandbox) -> None:
    source = _source(workloads)
    ident = f"deployment/{NAMESPACE}/api:1.0.1"
    approval = _pending(source, workloads, "example/keel-source-api", "1.0.1", ident)
    assert source.freshness.state is State.LIVE
    assert (approval.provider, approval.current_version, approval.new_version) == (
        "kubernetes",
        "1.0.0",
        "1.0.1",
    )
    assert (approval.votes_required, approval.votes_received, approval.voters) == (1, 0, ())
    assert not approval.rejected and approval.id
    assert approval.deadline - approval.created == pytest.approx(2 * 3600, abs=1)
    assert f"{NAMESPACE}/api" in approval.message

    voted = source.approve(approval, "alice")
    assert (voted.votes_received, voted.voters) == (1, ("alice",))
    snapshot = source.refresh()
    assert next(a for a in snapshot.approvals if a.id == approval.id).archived
    mine = [e for e in snapshot.audit if e.identifier in (ident, f"deployment/{NAMESPACE}/api")]
    assert {(e.action, e.resource_kind) for e in mine} >= {
        ("approved", "approval"),
        ("deployment update", "deployment"),
    }
    assert next(e for e in mine if e.action == "approved").username == "alice"
    assert [e.created for e in snapshot.audit] == sorted(
        (e.created for e in snapshot.audit), reverse=True
    )
    image = workloads.json("get", "deployment", "api", "-n", NAMESPACE)["spec"]["template"]
    assert image["spec"]["containers"][0]["image"].endswith(":1.0.1")


def test_a_rejection_and_an_unknown_approval(workloads: Sandbox) -> None:
    source = _source(workloads)
    ident = f"deployment/{NAMESPACE}/worker:4.0.0"
    approval = _pending(source, workloads, "example/keel-source-worker", "4.0.0", ident)
    assert source.reject(approval, "bob").rejected
    assert next(a for a in source.refresh().approvals if a.id == approval.id).rejected

    gone = Approval(
        "nope", "deployment/nowhere/x:1", "kubernetes", "", "", 1, 0, (), False, False, 0.0, 0.0
    )
    with pytest.raises(KeelError, match="approval 'deployment/nowhere/x:1' not found"):
        source.approve(gone, "alice")


def test_a_wrong_password_is_stale(sandbox: Sandbox) -> None:
    wrong = _source(sandbox, password="not-the-password")
    assert wrong.refresh() == KeelSnapshot((), ())
    assert (wrong.freshness.state, wrong.freshness.reason) == (State.STALE, BAD_CREDENTIALS)


def test_through_the_service_proxy_basic_auth_cannot_pass(sandbox: Sandbox) -> None:
    endpoint = resolve(Settings(), {}, connect(str(sandbox.kubeconfig)))
    assert endpoint.via == "service proxy"
    env = sandbox.env
    source = KeelSource(endpoint, env["KEEL_USERNAME"], env["KEEL_PASSWORD"])
    source.refresh()
    assert (source.freshness.state, source.freshness.reason) == (State.STALE, PROXY_CANNOT_AUTH)


def test_an_unreachable_keel_is_reconnecting() -> None:
    source = KeelSource(resolve(Settings(), {"KEEL_URL": "http://127.0.0.1:1"}, None), "a", "b")
    source.refresh()
    assert source.freshness.state is State.RECONNECTING
    reason = source.freshness.reason
    assert reason.endswith(": http://127.0.0.1:1") and "refused" in reason.lower(), reason
