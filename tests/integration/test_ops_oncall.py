"""ops.oncall against the sandbox, in a namespace of its own, for what the dashboard's pilot
tests do not reach: a backup of a cluster without spec.backups.pgbackrest.manual, and the
rollbacks that are refused."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from cpanel_platform.kube import client
from cpanel_platform.kube.actions import KubeActionError
from cpanel_platform.ops import oncall

from tests.conftest import Sandbox
from tests.waiting import wait_for

CLUSTERS = """
apiVersion: postgres-operator.crunchydata.com/v1beta1
kind: PostgresCluster
metadata: {name: plain}
spec:
  postgresVersion: 16
  instances: [{name: one, replicas: 1}]
  backups: {pgbackrest: {repos: [{name: repo2}]}}
---
apiVersion: postgres-operator.crunchydata.com/v1beta1
kind: PostgresCluster
metadata: {name: norepo}
spec:
  postgresVersion: 16
  instances: [{name: one, replicas: 1}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api}
spec:
  replicas: 1
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      containers: [{name: main, image: "example/api:1.0"}]
"""


@pytest.fixture(scope="module")
def ns(sandbox: Sandbox) -> Iterator[str]:
    name = f"oncall-{uuid.uuid4().hex[:6]}"
    sandbox.kubectl("create", "namespace", name)
    sandbox.kubectl("apply", "-n", name, "-f", "-", input=CLUSTERS)
    yield name
    sandbox.kubectl("delete", "namespace", name, "--timeout=20s", check=False)


@pytest.fixture(scope="module")
def api(sandbox: Sandbox) -> object:
    return client.connect(str(sandbox.kubeconfig)).api


def test_a_backup_configures_a_manual_one_when_the_cluster_has_none(
    sandbox: Sandbox, api: object, ns: str
) -> None:
    assert oncall.postgres_backup(api, ns, "plain") == "repo2 --type=full"
    pg = sandbox.json("get", "postgrescluster", "plain", "-n", ns)
    assert pg["spec"]["backups"]["pgbackrest"]["manual"] == {
        "repoName": "repo2", "options": ["--type=full"]}
    assert pg["metadata"]["annotations"][oncall.BACKUP_ANNOTATION].endswith("Z")
    with pytest.raises(KubeActionError, match="no pgBackRest repo"):
        oncall.postgres_backup(api, ns, "norepo")


def test_rollbacks_to_the_running_or_a_missing_revision_are_refused(
    sandbox: Sandbox, api: object, ns: str
) -> None:
    wait_for(lambda: sandbox.json("get", "deployment", "api", "-n", ns)["metadata"].get(
        "annotations", {}).get("deployment.kubernetes.io/revision") == "1")
    wait_for(lambda: sandbox.json("get", "rs", "-n", ns, "-l", "app=api")["items"])
    with pytest.raises(KubeActionError, match="already runs revision 1"):
        oncall.rollback(api, ns, "api", 1)
    with pytest.raises(KubeActionError, match="has no revision 7"):
        oncall.rollback(api, ns, "api", 7)
    with pytest.raises(KubeActionError, match="not found"):
        oncall.rollback(api, ns, "nothing", 1)
