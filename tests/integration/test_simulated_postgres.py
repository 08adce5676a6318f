"""The simulated Crunchy Postgres Operator over HTTP, with kubelets running its pods and Block
Storage binding its claims: instances, Patroni's roles, the pgBackRest repo host and backups,
switchover and failover."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from cpanel_platform.sandbox.manifests import load
from cpanel_platform.sandbox.seed import node, node_name
from cpanel_platform.sandbox.simulator.kube import PODS, PVCS, Kind, Kube
from cpanel_platform.sandbox.simulator.kubelet import Kubelets, Timings
from cpanel_platform.sandbox.simulator.postgres import (
    CLUSTERS,
    CRONJOBS,
    JOBS,
    SERVICES,
    STATEFULSETS,
    Cluster,
    PostgresOperator,
)
from cpanel_platform.sandbox.simulator.reconciler import find_condition
from cpanel_platform.sandbox.simulator.storage import Storage

from tests.integration.conftest import TOKEN, Served
from tests.integration.test_simulated_storage import RecordingCloud

CRDS = Kind("apiextensions.k8s.io", "v1", "customresourcedefinitions")
FAST = Timings(create=0.05, ready=0.05, run_to_completion=0.2, stop=0.05, heartbeat=0.5)
LABEL = "postgres-operator.crunchydata.com"
NAMESPACE = "default"


@dataclass
class Setup:
    served: Served
    kube: Kube
    operator: PostgresOperator

    def call(self, coro: Any) -> Any:
        return self.served.call(coro)

    def cluster(self) -> dict:
        return self.call(self.kube.get(CLUSTERS, NAMESPACE, "hippo"))

    def status(self) -> dict:
        return self.cluster().get("status") or {}

    def list(self, kind: Kind, selector: str = "") -> list[dict]:
        return self.call(self.kube.list(kind, NAMESPACE, labelSelector=selector or None))["items"]

    def pods(self, role: str) -> list[dict]:
        return self.list(PODS, f"{LABEL}/cluster=hippo,{LABEL}/role={role}")

    def state(self) -> Cluster:
        return self.operator.clusters[(NAMESPACE, "hippo")]

    def role(self, instance: str) -> str:
        """The role label of the instance's pod, once it is ready."""
        pods = self.list(PODS, f"{LABEL}/instance={instance}")
        return (
            pods[0]["metadata"]["labels"].get(f"{LABEL}/role", "")
            if pods and _ready(pods[0])
            else ""
        )

    def master(self) -> str:
        """The instance whose pod is labelled master, once exactly one is."""
        pods = [p for p in self.pods("master") if _ready(p)]
        return pods[0]["metadata"]["labels"][f"{LABEL}/instance"] if len(pods) == 1 else ""

    def annotate(self, key: str, value: str, spec: dict | None = None) -> None:
        patch: dict = {"metadata": {"annotations": {f"{LABEL}/{key}": value}}}
        if spec:
            patch["spec"] = spec
        self.call(self.kube.patch(CLUSTERS, NAMESPACE, "hippo", patch))


def _repo(status: dict) -> dict:
    return (status.get("pgbackrest", {}).get("repos") or [{}])[0]


def _ready(pod: dict) -> bool:
    return any(
        c["type"] == "Ready" and c["status"] == "True" for c in pod["status"].get("conditions", [])
    )


def wait(check, timeout: float = 15.0):
    deadline = time.monotonic() + timeout
    while not (result := check()):
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)
    return result


CLAIM = {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "10Gi"}}}
HIPPO = {
    "metadata": {"name": "hippo"},
    "spec": {
        "postgresVersion": 16,
        "instances": [{"name": "instance1", "replicas": 2, "dataVolumeClaimSpec": CLAIM}],
        "backups": {
            "pgbackrest": {
                "repos": [
                    {
                        "name": "repo1",
                        "schedules": {"full": "0 1 * * 0", "differential": "0 1 * * 1-6"},
                        "volume": {"volumeClaimSpec": CLAIM},
                    }
                ],
                "manual": {"repoName": "repo1", "options": ["--type=full"]},
            }
        },
    },
}


@pytest.fixture(scope="module")
def pg(bare_cluster: Served) -> Iterator[Setup]:
    async def start() -> tuple[Kube, PostgresOperator, Kubelets, list[asyncio.Task]]:
        kube = Kube(bare_cluster.url, TOKEN, None, "test")
        for crd in load("crds/postgres-operator"):
            await kube.create(CRDS, "", crd)
        kubelets = Kubelets(kube, bare_cluster.cluster.logs, FAST)
        for i in range(3):
            kubelets.start_node(node(node_name(i), i, 3000 + i))
        operator = PostgresOperator(kube, seed=7, poll=0.05)
        loop = asyncio.get_running_loop()
        tasks = [
            loop.create_task(actor.run())
            for actor in (kubelets, Storage(kube, RecordingCloud()), operator)
        ]
        await kube.create(CLUSTERS, NAMESPACE, HIPPO)
        return kube, operator, kubelets, tasks

    kube, operator, kubelets, tasks = bare_cluster.call(start())
    yield Setup(bare_cluster, kube, operator)

    async def stop() -> None:
        for name in kubelets.nodes():
            kubelets.stop_node(name)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await kube.close()

    bare_cluster.call(stop())


def test_each_instance_is_a_statefulset_with_its_claim_and_patroni_roles(pg: Setup) -> None:
    selector = f"{LABEL}/cluster=hippo,{LABEL}/instance-set=instance1"
    runners = wait(lambda: len(r := pg.list(STATEFULSETS, selector)) == 2 and r)
    for runner in runners:
        name = runner["metadata"]["name"]
        assert re.fullmatch(r"hippo-instance1-[bcdfghjklmnpqrstvwxz2456789]{4}", name)
        assert runner["spec"]["replicas"] == 1
        claim = pg.call(pg.kube.get(PVCS, NAMESPACE, f"{name}-pgdata"))
        assert claim["metadata"]["labels"][f"{LABEL}/instance"] == name
        assert claim["spec"]["resources"]["requests"]["storage"] == "10Gi"

    master = wait(pg.master)
    replicas = wait(lambda: [p for p in pg.pods("replica") if _ready(p)])
    assert len(replicas) == 1
    labels = replicas[0]["metadata"]["labels"]
    assert labels[f"{LABEL}/data"] == "postgres"
    assert labels[f"{LABEL}/instance-set"] == "instance1"
    assert labels[f"{LABEL}/instance"] != master

    ready = {"name": "instance1", "replicas": 2, "readyReplicas": 2, "updatedReplicas": 2}
    status = wait(lambda: (s := pg.status()).get("instances") == [ready] and s)
    assert status["patroni"]["systemIdentifier"].isdigit()
    assert status["startupInstance"] in {r["metadata"]["name"] for r in runners}
    for service in ("hippo-primary", "hippo-replicas", "hippo-pods"):
        assert pg.call(pg.kube.get(SERVICES, NAMESPACE, service)) is not None
    assert pg.state().leader is not None and pg.state().leader.name == master


def test_the_repo_host_stanza_and_replica_create_backup(pg: Setup) -> None:
    status = wait(lambda: (s := pg.status()) and _repo(s).get("replicaCreateBackupComplete") and s)
    assert _repo(status)["stanzaCreated"] and _repo(status)["name"] == "repo1"
    assert status["pgbackrest"]["repoHost"]["ready"]
    conditions = {c["type"]: c["status"] for c in status["conditions"]}
    assert conditions["PGBackRestRepoHostReady"] == "True"
    assert conditions["PGBackRestReplicaRepoReady"] == "True"
    assert conditions["PGBackRestReplicaCreate"] == "True"
    assert pg.call(pg.kube.get(STATEFULSETS, NAMESPACE, "hippo-repo-host")) is not None
    wait(lambda: _repo(pg.status()).get("volume", "").startswith("pvc-"))  # its claim is bound
    schedules = {c["metadata"]["name"]: c["spec"]["schedule"] for c in pg.list(CRONJOBS)}
    assert schedules == {"hippo-repo1-full": "0 1 * * 0", "hippo-repo1-diff": "0 1 * * 1-6"}
    assert pg.state().last_full_backup is not None  # the replica-create backup is a full one


def test_a_manual_backup_runs_a_job_and_completes_in_status(pg: Setup) -> None:
    before = wait(lambda: pg.state().last_full_backup)
    pg.annotate("pgbackrest-backup", "first")
    manual = wait(
        lambda: (m := pg.status()["pgbackrest"].get("manualBackup", {})).get("finished") and m
    )
    assert manual["id"] == "first" and manual["succeeded"] == 1
    assert manual["startTime"] <= manual["completionTime"]
    (job,) = pg.list(JOBS, f"{LABEL}/cluster=hippo,{LABEL}/pgbackrest-backup=manual")
    assert re.fullmatch(r"hippo-backup-[bcdfghjklmnpqrstvwxz2456789]{4}", job["metadata"]["name"])
    assert job["metadata"]["annotations"][f"{LABEL}/pgbackrest-backup"] == "first"
    done = find_condition(pg.status()["conditions"], "PGBackRestManualBackupSuccessful")
    assert (done["status"], done["reason"]) == ("True", "ManualBackupComplete")
    assert pg.state().last_full_backup >= before  # its options ask for a full backup


def test_a_switchover_moves_the_master_label(pg: Setup) -> None:
    first = wait(pg.master)
    other = next(name for name in pg.state().instances if name != first)
    timeline = pg.state().timeline
    switchover = {"enabled": True, "targetInstance": other}
    pg.annotate("trigger-switchover", "1", {"patroni": {"switchover": switchover}})
    wait(lambda: pg.master() == other)
    patroni = wait(lambda: (p := pg.status()["patroni"]).get("switchover") == "1" and p)
    assert "switchoverTimeline" not in patroni
    assert pg.state().timeline == timeline + 1
    wait(lambda: pg.role(first) == "replica")

    # Without a target, Patroni picks the healthy replica: here, the former leader.
    switchover = {"enabled": True, "targetInstance": None}
    pg.annotate("trigger-switchover", "2", {"patroni": {"switchover": switchover}})
    wait(lambda: pg.master() == first)
    wait(lambda: pg.status()["patroni"].get("switchover") == "2")


def test_the_replica_takes_over_when_the_leader_pod_goes(pg: Setup) -> None:
    leader = wait(pg.master)
    other = next(name for name in pg.state().instances if name != leader)
    timeline = pg.state().timeline
    pg.call(pg.kube.delete(PODS, NAMESPACE, f"{leader}-0"))
    wait(lambda: pg.master() == other)
    assert pg.state().timeline == timeline + 1
    wait(lambda: pg.role(leader) == "replica")  # its new pod rejoins as a replica
