"""cpanel_platform.kube actions against the running sandbox, in a namespace of their own."""

from __future__ import annotations

import json
import threading
import time
import uuid

import pytest
import yaml
from cpanel_platform.kube import actions, client, kinds
from cpanel_platform.kube.actions import KubeActionError

from tests.conftest import Sandbox
from tests.waiting import wait_for

DEPLOYMENT = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: api}
spec:
  replicas: 1
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      containers: [{name: main, image: "busybox:1.36"}]
"""


@pytest.fixture(scope="module")
def target(sandbox: Sandbox) -> client.KubeTarget:
    return client.connect(str(sandbox.kubeconfig))


@pytest.fixture(scope="module")
def ns(sandbox: Sandbox) -> str:
    name = f"act-{uuid.uuid4().hex[:6]}"
    sandbox.kubectl("create", "namespace", name)
    sandbox.kubectl("apply", "-n", name, "-f", "-", input=DEPLOYMENT)
    return name


def running_pods(sandbox: Sandbox, ns: str) -> list[dict]:
    pods = sandbox.json("get", "pods", "-n", ns, "-l", "app=api")["items"]
    return [
        p
        for p in pods
        if p["status"].get("phase") == "Running" and not p["metadata"].get("deletionTimestamp")
    ]


def test_restart_rollout_makes_a_new_revision(
    sandbox: Sandbox, target: client.KubeTarget, ns: str
) -> None:
    wait_for(lambda: running_pods(sandbox, ns))
    actions.restart_rollout(target.api, kinds.DEPLOYMENTS, ns, "api")
    deployment = sandbox.json("get", "deployment", "api", "-n", ns)
    stamp = deployment["spec"]["template"]["metadata"]["annotations"][actions.RESTARTED_AT]
    assert stamp.endswith("Z") and len(stamp) == len("2026-01-01T00:00:00Z")

    def revisions() -> set[str]:
        rss = sandbox.json("get", "replicasets", "-n", ns, "-l", "app=api")["items"]
        return {r["metadata"]["annotations"]["deployment.kubernetes.io/revision"] for r in rss}

    assert wait_for(lambda: revisions() == {"1", "2"} and revisions())
    with pytest.raises(KubeActionError, match="cannot be restarted"):
        actions.restart_rollout(target.api, kinds.JOBS, ns, "api")
    with pytest.raises(KubeActionError, match=r'deployments.apps "nope" not found'):
        actions.restart_rollout(target.api, kinds.DEPLOYMENTS, ns, "nope")


def test_owner_of_a_live_pod_is_its_deployment(
    sandbox: Sandbox, target: client.KubeTarget, ns: str
) -> None:
    pod = wait_for(lambda: running_pods(sandbox, ns))[0]
    rss = sandbox.json("get", "replicasets", "-n", ns)["items"]
    assert actions.owner_workload(pod, rss) == (kinds.DEPLOYMENTS, ns, "api")


def test_delete_a_pod(sandbox: Sandbox, target: client.KubeTarget, ns: str) -> None:
    sandbox.kubectl("run", "doomed", "-n", ns, "--image=busybox:1.36")
    actions.delete(target.api, kinds.PODS, ns, "doomed")

    def gone() -> bool:
        got = sandbox.kubectl("get", "pod", "doomed", "-n", ns, "-o", "json", check=False)
        return got.returncode != 0 or "deletionTimestamp" in json.loads(got.stdout)["metadata"]

    wait_for(gone, timeout=5)
    with pytest.raises(KubeActionError, match=r'^pods "never" not found$'):
        actions.delete(target.api, kinds.PODS, ns, "never")


def test_get_yaml_leaves_out_managed_fields(
    sandbox: Sandbox, target: client.KubeTarget, ns: str
) -> None:
    sandbox.kubectl(
        "create", "configmap", "settings", "-n", ns, "--from-literal=script=echo one\necho two\n"
    )
    raw = sandbox.json("get", "configmap", "settings", "-n", ns, "--show-managed-fields")
    assert raw["metadata"]["managedFields"]
    text = actions.get_yaml(target.api, kinds.KINDS["services"], "default", "kubernetes")
    assert text.startswith("apiVersion: v1\nkind: Service\nmetadata:\n")
    text = actions.get_yaml(target.api, kinds.Kind("", "v1", "configmaps", "ConfigMap", True),
                            ns, "settings")
    doc = yaml.safe_load(text)
    assert "managedFields" not in doc["metadata"] and doc["metadata"]["name"] == "settings"
    assert "  script: |\n    echo one\n    echo two\n" in text
    assert list(doc) == ["apiVersion", "kind", "metadata", "data"]  # the server's key order


def test_related_events_of_a_pod(sandbox: Sandbox, target: client.KubeTarget, ns: str) -> None:
    pod = wait_for(lambda: running_pods(sandbox, ns))[0]
    events = wait_for(lambda: actions.related_events(target.api, pod))
    assert {e["involvedObject"]["uid"] for e in events} == {pod["metadata"]["uid"]}
    assert "Scheduled" in [e["reason"] for e in events]
    times = [e["lastTimestamp"] for e in events]
    assert times == sorted(times)
    # As kubelets report them: in "default", with the node's name standing in for its uid.
    node = sandbox.json("get", "node", pod["spec"]["nodeName"])
    name = node["metadata"]["name"]
    event = {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": f"{name}.{uuid.uuid4().hex[:8]}", "namespace": "default"},
        "involvedObject": {"kind": "Node", "name": name, "uid": name},
        "reason": "NodeHasSufficientMemory",
        "type": "Normal",
    }
    sandbox.kubectl("create", "-f", "-", input=json.dumps(event))
    reasons = [e["reason"] for e in actions.related_events(target.api, node)]
    assert "NodeHasSufficientMemory" in reasons


def test_stream_logs_follows_and_closes_promptly(
    sandbox: Sandbox, target: client.KubeTarget, ns: str
) -> None:
    pod = wait_for(lambda: running_pods(sandbox, ns))[0]["metadata"]["name"]
    stream = actions.stream_logs(target.api, ns, pod, tail_lines=5, timestamps=True)
    lines: list[str] = []
    done = threading.Event()

    def read() -> None:
        lines.extend(stream)
        done.set()

    threading.Thread(target=read, daemon=True).start()
    wait_for(lambda: lines, timeout=5, every=0.01)
    assert lines[0][:2] == "20" and " " in lines[0]  # an RFC 3339 time, then the text
    time.sleep(0.2)  # the follow is now idle, blocked on the socket
    began = time.monotonic()
    stream.close()
    assert done.wait(1.0) and time.monotonic() - began < 1.0


def test_logs_errors_are_action_errors(
    sandbox: Sandbox, target: client.KubeTarget, ns: str
) -> None:
    pod = wait_for(lambda: running_pods(sandbox, ns))[0]["metadata"]["name"]
    with pytest.raises(KubeActionError, match=r'previous terminated container "main".* not found'):
        actions.stream_logs(target.api, ns, pod, previous=True)
    with pytest.raises(KubeActionError, match="container nope is not valid"):
        actions.stream_logs(target.api, ns, pod, container="nope")
    with pytest.raises(KubeActionError, match='pods "ghost" not found'):
        actions.stream_logs(target.api, ns, "ghost")
    whole = list(actions.stream_logs(target.api, ns, pod, follow=False, tail_lines=None))
    assert whole and all("\n" not in line for line in whole)
