"""kubectl (a real client nobody here wrote) against the sandbox Kubernetes API."""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
import uuid

import pytest

from tests.conftest import KUBECTL, Sandbox
from tests.waiting import wait_for

CRD = """
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget, shortNames: [wd]}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}
    subresources: {status: {}}
    additionalPrinterColumns:
    - {name: Size, type: integer, jsonPath: .spec.size}
    - {name: Colour, type: string, jsonPath: .spec.colour}
"""


@pytest.fixture
def ns(sandbox: Sandbox) -> str:
    name = f"t-{uuid.uuid4().hex[:8]}"
    sandbox.kubectl("create", "namespace", name)
    return name


def test_version_and_discovery(sandbox: Sandbox) -> None:
    version = json.loads(sandbox.kubectl("version", "-o", "json").stdout)
    assert version["serverVersion"]["gitVersion"].startswith("v1.")
    resources = sandbox.kubectl("api-resources").stdout
    for line in (
        "pods ",
        "deployments ",
        "poddisruptionbudgets ",
        "customresourcedefinitions ",
        "selfsubjectaccessreviews ",
        "leases ",
    ):
        assert line in resources
    assert "apps/v1" in sandbox.kubectl("api-versions").stdout


def test_get_nodes_and_pods_wide(sandbox: Sandbox, ns: str) -> None:
    nodes = sandbox.kubectl("get", "nodes").stdout.splitlines()
    assert nodes[0].split() == ["NAME", "STATUS", "ROLES", "AGE", "VERSION"]
    assert len(nodes) == 4 and all(" Ready " in line for line in nodes[1:])
    sandbox.kubectl("run", "solo", "-n", ns, "--image=busybox:1.36")
    wait_for(lambda: " 1/1 " in sandbox.kubectl("get", "pod", "solo", "-n", ns).stdout)
    wide = sandbox.kubectl("get", "pods", "-A", "-o", "wide").stdout.splitlines()
    assert wide[0].split()[:8] == [
        "NAMESPACE",
        "NAME",
        "READY",
        "STATUS",
        "RESTARTS",
        "AGE",
        "IP",
        "NODE",
    ]
    row = next(line.split() for line in wide if line.startswith(ns))
    assert row[1:4] == ["solo", "1/1", "Running"] and row[7].startswith("lke")


def test_watch_sees_a_change_made_by_another_client(sandbox: Sandbox, ns: str) -> None:
    env = {**os.environ, "HOME": str(sandbox.home)}
    watcher = subprocess.Popen(
        [KUBECTL, "--kubeconfig", str(sandbox.kubeconfig), "get", "pods", "-n", ns, "-w"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    lines: list[str] = []
    threading.Thread(target=lambda: lines.extend(watcher.stdout), daemon=True).start()
    try:
        time.sleep(1.0)
        sandbox.kubectl("run", "watched", "-n", ns, "--image=busybox:1.36")
        rows = wait_for(
            lambda: (
                [x.split() for x in lines if x.startswith("watched")]
                if any("Running" in x for x in lines)
                else None
            )
        )
        statuses = [row[2] for row in rows]
        assert statuses[0] in ("Pending", "ContainerCreating") and statuses[-1] == "Running"
    finally:
        watcher.kill()


def test_describe_and_logs(sandbox: Sandbox, ns: str) -> None:
    sandbox.kubectl("run", "talker", "-n", ns, "--image=busybox:1.36")
    wait_for(lambda: "Running" in sandbox.kubectl("get", "pod", "talker", "-n", ns).stdout)
    described = sandbox.kubectl("describe", "pod", "talker", "-n", ns).stdout
    assert "Status:           Running" in described
    assert "Successfully assigned" in described and "default-scheduler" in described
    logs = sandbox.kubectl("logs", "talker", "-n", ns).stdout
    assert "starting busybox:1.36" in logs


def test_deployment_scale_restart_history_undo(sandbox: Sandbox, ns: str) -> None:
    sandbox.kubectl("create", "deployment", "web", "-n", ns, "--image=nginx:1.27", "--replicas=2")
    sandbox.kubectl("rollout", "status", "deployment/web", "-n", ns, "--timeout=30s")
    sandbox.kubectl("scale", "deployment/web", "-n", ns, "--replicas=4")
    sandbox.kubectl("rollout", "status", "deployment/web", "-n", ns, "--timeout=30s")
    assert sandbox.json("get", "deployment", "web", "-n", ns)["status"]["readyReplicas"] == 4
    sandbox.kubectl("set", "image", "deployment/web", "-n", ns, "nginx=nginx:1.28")
    sandbox.kubectl("rollout", "status", "deployment/web", "-n", ns, "--timeout=30s")
    sandbox.kubectl("rollout", "restart", "deployment/web", "-n", ns)
    sandbox.kubectl("rollout", "status", "deployment/web", "-n", ns, "--timeout=30s")
    history = sandbox.kubectl("rollout", "history", "deployment/web", "-n", ns).stdout
    assert [line.split()[0] for line in history.splitlines()[2:] if line.strip()] == ["1", "2", "3"]
    sandbox.kubectl("rollout", "undo", "deployment/web", "-n", ns, "--to-revision=1")
    sandbox.kubectl("rollout", "status", "deployment/web", "-n", ns, "--timeout=30s")
    dep = sandbox.json("get", "deployment", "web", "-n", ns)
    assert dep["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.27"
    assert dep["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "4"
    pods = sandbox.json("get", "pods", "-n", ns, "-l", "app=web")["items"]
    live = [p for p in pods if not p["metadata"].get("deletionTimestamp")]
    assert len(live) == 4
    assert {p["spec"]["containers"][0]["image"] for p in live} == {"nginx:1.27"}


def test_cordon_and_uncordon(sandbox: Sandbox) -> None:
    node = sandbox.kubectl("get", "nodes", "-o", "name").stdout.split()[2]
    sandbox.kubectl("cordon", node)
    assert "SchedulingDisabled" in sandbox.kubectl("get", node).stdout
    sandbox.kubectl("uncordon", node)
    assert "SchedulingDisabled" not in sandbox.kubectl("get", node).stdout


def test_drain_waits_for_the_disruption_budget(sandbox: Sandbox, ns: str) -> None:
    sandbox.kubectl(
        "create", "deployment", "guarded", "-n", ns, "--image=nginx:1.27", "--replicas=3"
    )
    sandbox.kubectl("rollout", "status", "deployment/guarded", "-n", ns, "--timeout=30s")
    sandbox.kubectl(
        "create",
        "poddisruptionbudget",
        "guard",
        "-n",
        ns,
        "--selector=app=guarded",
        "--min-available=3",
    )
    wait_for(
        lambda: (
            sandbox.json("get", "pdb", "guard", "-n", ns).get("status", {}).get("currentHealthy")
            == 3
        )
    )
    pod = sandbox.json("get", "pods", "-n", ns)["items"][0]
    node = pod["spec"]["nodeName"]
    env = {**os.environ, "HOME": str(sandbox.home)}
    drain = subprocess.Popen(
        [
            KUBECTL,
            "--kubeconfig",
            str(sandbox.kubeconfig),
            "drain",
            node,
            "--ignore-daemonsets",
            "--delete-emptydir-data",
            "--timeout=90s",
            "--pod-selector=app=guarded",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    try:
        time.sleep(4)
        assert drain.poll() is None, drain.stdout.read()
        assert (
            sandbox.kubectl("get", "pod", pod["metadata"]["name"], "-n", ns, check=False).returncode
            == 0
        )
        sandbox.kubectl(
            "patch", "pdb", "guard", "-n", ns, "--type=merge", "-p", '{"spec":{"minAvailable":2}}'
        )
        out, _ = drain.communicate(timeout=60)
        assert drain.returncode == 0, out
        assert "disruption budget" in out
        assert f"node/{node} drained" in out
        pods = sandbox.json("get", "pods", "-n", ns)["items"]
        assert all(p["spec"].get("nodeName") != node for p in pods)
    finally:
        drain.kill()
        sandbox.kubectl("uncordon", node)


def test_crd_apply_client_and_server_side(sandbox: Sandbox, ns: str) -> None:
    sandbox.kubectl("apply", "-f", "-", input=CRD)
    sandbox.kubectl("apply", "--server-side", "-f", "-", input=CRD)
    widget = (
        "apiVersion: example.com/v1\nkind: Widget\n"
        "metadata: {name: %s}\nspec: {size: %d, colour: blue}\n"
    )
    sandbox.kubectl("apply", "-n", ns, "-f", "-", input=widget % ("w1", 3))
    sandbox.kubectl("apply", "--server-side", "-n", ns, "-f", "-", input=widget % ("w2", 5))
    table = sandbox.kubectl("get", "widgets", "-n", ns).stdout.splitlines()
    assert table[0].split() == ["NAME", "SIZE", "COLOUR"]
    assert table[1].split() == ["w1", "3", "blue"] and table[2].split() == ["w2", "5", "blue"]
    sandbox.kubectl("apply", "-n", ns, "-f", "-", input=widget % ("w1", 4))
    assert sandbox.json("get", "wd", "w1", "-n", ns)["spec"]["size"] == 4
    sandbox.kubectl("delete", "widget", "w1", "-n", ns)
    assert "w1" not in sandbox.kubectl("get", "widgets", "-n", ns).stdout


def test_auth_can_i_and_viewer_is_read_only(sandbox: Sandbox, ns: str) -> None:
    assert sandbox.kubectl("auth", "can-i", "delete", "pods", "-n", ns).stdout.strip() == "yes"
    viewer = "sandbox-viewer"
    assert (
        sandbox.kubectl("auth", "can-i", "list", "pods", "-n", ns, context=viewer).stdout.strip()
        == "yes"
    )
    refused = sandbox.kubectl(
        "auth", "can-i", "delete", "pods", "-n", ns, context=viewer, check=False
    )
    assert refused.stdout.strip() == "no" and refused.returncode == 1
    write = sandbox.kubectl("create", "configmap", "nope", "-n", ns, context=viewer, check=False)
    assert write.returncode != 0
    assert 'configmaps is forbidden: User "sandbox-viewer" cannot create' in write.stderr
    delete = sandbox.kubectl(
        "delete", "configmap", "kube-root-ca.crt", "-n", ns, context=viewer, check=False
    )
    assert delete.returncode != 0 and "Error from server (Forbidden)" in delete.stderr
    assert sandbox.kubectl("get", "configmap", "nope", "-n", ns, check=False).returncode != 0
    assert sandbox.kubectl("get", "configmap", "kube-root-ca.crt", "-n", ns).returncode == 0
    listed = sandbox.kubectl("auth", "can-i", "--list", "-n", ns, context=viewer).stdout
    pods = next(line.split() for line in listed.splitlines() if line.startswith("pods "))
    assert pods[-3:] == ["[get", "list", "watch]"]
    assert not any(line.startswith("secrets") for line in listed.splitlines())


def test_deleting_a_namespace_removes_what_it_holds(sandbox: Sandbox) -> None:
    name = f"doomed-{uuid.uuid4().hex[:6]}"
    sandbox.kubectl("create", "namespace", name)
    sandbox.kubectl("create", "configmap", "c", "-n", name, "--from-literal=a=b")
    sandbox.kubectl("create", "deployment", "d", "-n", name, "--image=nginx:1.27")
    sandbox.kubectl("rollout", "status", "deployment/d", "-n", name, "--timeout=30s")
    sandbox.kubectl("delete", "namespace", name, "--timeout=30s")
    assert sandbox.kubectl("get", "namespace", name, check=False).returncode != 0
    assert name not in sandbox.kubectl("get", "pods", "-A").stdout


def test_cascading_delete_and_pods_of_a_deleted_node_move(fresh_sandbox) -> None:
    box = fresh_sandbox()
    box.kubectl("create", "deployment", "web", "--image=nginx:1.27", "--replicas=3")
    box.kubectl("rollout", "status", "deployment/web", "--timeout=30s")
    victim = box.json("get", "pods")["items"][0]["spec"]["nodeName"]
    box.kubectl("delete", "node", victim)
    wait_for(
        lambda: (
            all(
                p["spec"].get("nodeName") not in (None, victim)
                and p["status"]["phase"] == "Running"
                for p in box.json("get", "pods")["items"]
            )
            and len(box.json("get", "pods")["items"]) == 3
        )
    )
    box.kubectl("delete", "deployment", "web")
    wait_for(
        lambda: not box.json("get", "replicasets")["items"] and not box.json("get", "pods")["items"]
    )


STATEFULSET = """
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db}
spec:
  serviceName: db
  replicas: 2
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec:
      containers: [{name: pg, image: "postgres:16", volumeMounts: [{name: data, mountPath: /data}]}]
  volumeClaimTemplates:
  - metadata: {name: data}
    spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 10Gi}}}
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec:
      containers: [{name: agent, image: "node-exporter:1.8"}]
"""


def test_statefulset_daemonset_job_and_cronjob(sandbox: Sandbox, ns: str) -> None:
    sandbox.kubectl("apply", "-n", ns, "-f", "-", input=STATEFULSET)
    sandbox.kubectl("rollout", "status", "statefulset/db", "-n", ns, "--timeout=30s")
    sandbox.kubectl("rollout", "status", "daemonset/agent", "-n", ns, "--timeout=30s")
    pods = sandbox.json("get", "pods", "-n", ns)["items"]
    assert sorted(
        p["metadata"]["name"] for p in pods if p["metadata"]["name"].startswith("db")
    ) == ["db-0", "db-1"]
    agents = [p for p in pods if p["metadata"]["name"].startswith("agent-")]
    assert len({p["spec"]["nodeName"] for p in agents}) == len(agents) == 3
    claims = sandbox.kubectl("get", "pvc", "-n", ns, "-o", "name").stdout.split()
    assert claims == ["persistentvolumeclaim/data-db-0", "persistentvolumeclaim/data-db-1"]
    sandbox.kubectl("create", "job", "once", "-n", ns, "--image=busybox:1.36")
    sandbox.kubectl("wait", "--for=condition=complete", "job/once", "-n", ns, "--timeout=30s")
    row = sandbox.kubectl("get", "job", "once", "-n", ns).stdout.splitlines()[1].split()
    assert row[:3] == ["once", "Complete", "1/1"]
    sandbox.kubectl(
        "create", "cronjob", "nightly", "-n", ns, "--image=busybox:1.36", "--schedule=0 3 * * *"
    )
    sandbox.kubectl("create", "job", "manual", "-n", ns, "--from=cronjob/nightly")
    sandbox.kubectl("wait", "--for=condition=complete", "job/manual", "-n", ns, "--timeout=30s")


def test_unschedulable_pod_stays_pending_with_the_reason(sandbox: Sandbox, ns: str) -> None:
    pod = (
        "apiVersion: v1\nkind: Pod\nmetadata: {name: picky}\nspec:\n"
        "  nodeSelector: {disktype: nvme}\n  containers: [{name: c, image: nginx:1.27}]\n"
    )
    sandbox.kubectl("apply", "-n", ns, "-f", "-", input=pod)

    def failed_scheduling() -> str | None:
        described = sandbox.kubectl("describe", "pod", "picky", "-n", ns).stdout
        return described if "FailedScheduling" in described else None

    described = wait_for(failed_scheduling)
    assert "Status:           Pending" in described
    assert (
        "0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector" in described
    )
    cond = next(
        c
        for c in sandbox.json("get", "pod", "picky", "-n", ns)["status"]["conditions"]
        if c["type"] == "PodScheduled"
    )
    assert cond["status"] == "False" and cond["reason"] == "Unschedulable"


def test_server_side_dry_run_changes_nothing(sandbox: Sandbox, ns: str) -> None:
    out = sandbox.kubectl(
        "create",
        "deployment",
        "ghost",
        "-n",
        ns,
        "--image=nginx:1.27",
        "--dry-run=server",
        "-o",
        "json",
    ).stdout
    assert json.loads(out)["metadata"]["name"] == "ghost"
    assert sandbox.kubectl("get", "deployment", "ghost", "-n", ns, check=False).returncode != 0
    sandbox.kubectl("create", "configmap", "keep", "-n", ns)
    sandbox.kubectl("delete", "configmap", "keep", "-n", ns, "--dry-run=server")
    sandbox.kubectl("get", "configmap", "keep", "-n", ns)


def test_server_side_apply_conflicts_with_another_manager(sandbox: Sandbox, ns: str) -> None:
    deployment = (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: owned}\n"
        "spec:\n  replicas: %d\n  selector: {matchLabels: {app: owned}}\n"
        "  template:\n    metadata: {labels: {app: owned}}\n"
        "    spec: {containers: [{name: c, image: 'nginx:1.27'}]}\n"
    )
    sandbox.kubectl("apply", "--server-side", "-n", ns, "-f", "-", input=deployment % 2)
    again = sandbox.kubectl("apply", "--server-side", "-n", ns, "-f", "-", input=deployment % 2)
    assert "serverside-applied" in again.stdout
    sandbox.kubectl("scale", "deployment/owned", "-n", ns, "--replicas=3")
    clash = sandbox.kubectl(
        "apply", "--server-side", "-n", ns, "-f", "-", input=deployment % 4, check=False
    )
    assert clash.returncode != 0
    assert "conflict" in clash.stderr and ".spec.replicas" in clash.stderr
    assert sandbox.json("get", "deployment", "owned", "-n", ns)["spec"]["replicas"] == 3
    sandbox.kubectl(
        "apply", "--server-side", "--force-conflicts", "-n", ns, "-f", "-", input=deployment % 4
    )
    dep = sandbox.json("get", "deployment", "owned", "-n", ns, "--show-managed-fields")
    assert dep["spec"]["replicas"] == 4
    managers = {m["manager"]: m["operation"] for m in dep["metadata"]["managedFields"]}
    assert managers.get("kubectl") == "Apply"
