"""The Postgres view: Crunchy PostgresClusters, their instance pods and the exporter's figures."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from cpanel_platform.prom.results import Sample
from cpanel_platform.views.common import Severity
from cpanel_platform.views.postgres import postgres_view

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC).timestamp()
GROUP = "postgres-operator.crunchydata.com"
MiB = 2**20
PRIMARY, REPLICA = "db-instance1-52pj-0", "db-instance1-rn4l-0"


def cluster(**status: Any) -> dict[str, Any]:
    return {
        "apiVersion": f"{GROUP}/v1beta1",
        "kind": "PostgresCluster",
        "metadata": {"name": "db", "namespace": "app", "annotations": {}},
        "spec": {
            "postgresVersion": 16,
            "instances": [{"name": "instance1", "replicas": 2}],
            "backups": {"pgbackrest": {"repos": [{"name": "repo1"}]}},
        },
        "status": {
            "conditions": [
                {"type": "PGBackRestRepoHostReady", "status": "True", "reason": "RepoHostReady"},
                {"type": "PGBackRestReplicaCreate", "status": "True",
                 "reason": "RepoBackupComplete"},
            ],
            "instances": [{"name": "instance1", "replicas": 2, "readyReplicas": 2}],
            "patroni": {"systemIdentifier": "7206401411439804932"},
            "pgbackrest": {"repos": [{"name": "repo1", "stanzaCreated": True}]},
            **status,
        },
    }


def pod(
    name: str, ip: str, role: str | None, *, ready: bool = True, node: str = "lke1-412-aaaa",
    namespace: str = "app", instance: str | None = None,
) -> dict[str, Any]:
    labels = {
        f"{GROUP}/cluster": "db",
        f"{GROUP}/data": "postgres",
        f"{GROUP}/instance-set": "instance1",
        f"{GROUP}/instance": instance or name.removesuffix("-0"),
    }
    if role:
        labels[f"{GROUP}/role"] = role
    return {
        "metadata": {"name": name, "namespace": namespace, "labels": labels},
        "spec": {"nodeName": node},
        "status": {
            "phase": "Running",
            "podIP": ip,
            "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
        },
    }


def other_pods() -> list[dict[str, Any]]:
    """The repo host and a finished backup Job's pod: labelled with the cluster, not instances."""
    return [
        {"metadata": {"name": "db-repo-host-0", "namespace": "app",
                      "labels": {f"{GROUP}/cluster": "db", f"{GROUP}/pgbackrest": ""}},
         "status": {"podIP": "10.2.0.33"}},
        {"metadata": {"name": "db-backup-t7rk-tfl24", "namespace": "app",
                      "labels": {f"{GROUP}/cluster": "db",
                                 f"{GROUP}/pgbackrest-backup": "replica-create"}},
         "status": {"phase": "Succeeded", "podIP": "10.2.0.34"}},
        {"metadata": {"name": "web-79h76lpztw-7j2nb", "namespace": "app",
                      "labels": {"app": "web"}}, "status": {"podIP": "10.2.0.28"}},
    ]


def pods(replica_ready: bool = True) -> list[dict[str, Any]]:
    return [
        pod(REPLICA, "10.2.0.32", "replica", ready=replica_ready, node="lke1-412-bbbb"),
        pod(PRIMARY, "10.2.0.31", "master"),
        *other_pods(),
    ]


def exporter(pod_name: str, role: str, **extra: str) -> dict[str, str]:
    return {
        "cluster": "db", "kubernetes_namespace": "app", "pg_cluster": "app:db",
        "pod": pod_name, "role": role, "job": "crunchy-postgres-exporter", **extra,
    }


def results(lag: float = 173_000, backup_age: float = 366_501) -> dict[str, tuple[Sample, ...]]:
    return {
        "pg_lag_bytes": (
            Sample(exporter(PRIMARY, "master", replica="10.2.0.32", ip="10.2.0.31"), lag),
            # Another namespace's cluster whose replica happens to share the IP.
            Sample({**exporter("db-x-0", "master", replica="10.2.0.32"),
                    "kubernetes_namespace": "staging"}, 900 * MiB),
        ),
        "pg_replay_seconds": (
            Sample(exporter(PRIMARY, "master"), 0.0),
            Sample(exporter(REPLICA, "replica"), 0.45),
        ),
        "pg_in_recovery": (
            Sample(exporter(PRIMARY, "master"), 2.0),
            Sample(exporter(REPLICA, "replica"), 1.0),
        ),
        "pg_backup_age": (
            Sample(exporter(PRIMARY, "master", repo="repo1", stanza="db"), backup_age),
        ),
    }


def test_healthy_cluster() -> None:
    view = postgres_view([cluster()], pods(), results(), NOW)

    assert view.metrics
    (db,) = view.clusters
    assert (db.key, db.namespace, db.name, db.postgres_version) == ("app/db", "app", "db", "16")
    assert [i.pod for i in db.instances] == [PRIMARY, REPLICA]
    primary, replica = db.instances
    assert db.primary == PRIMARY
    assert (primary.role, primary.ip, primary.node) == ("primary", "10.2.0.31", "lke1-412-aaaa")
    assert primary.lag_bytes is None and primary.lag_seconds is None
    assert (replica.role, replica.instance, replica.instance_set) == (
        "replica", "db-instance1-rn4l", "instance1"
    )
    assert replica.key == f"app/{REPLICA}"
    assert replica.lag_bytes == 173_000
    assert replica.lag_seconds == pytest.approx(0.45)
    assert replica.severity is Severity.OK
    assert (db.ready, db.desired) == (2, 2)
    assert db.backup_age_seconds == 366_501
    assert db.switchover == "none"
    assert db.backup_status == "none"
    assert db.conditions == "ok"
    assert db.problem == ""
    assert db.severity is Severity.OK


def test_replica_lagging_120_mib_is_an_error() -> None:
    view = postgres_view([cluster()], pods(), results(lag=120 * MiB), NOW)

    (db,) = view.clusters
    replica = db.instances[1]
    assert replica.lag_bytes == 120 * MiB
    assert replica.severity is Severity.ERROR
    assert db.severity is Severity.ERROR
    assert db.problem == f"{REPLICA} lag 120MiB"


def test_replica_lagging_60_mib_warns() -> None:
    (db,) = postgres_view([cluster()], pods(), results(lag=60 * MiB), NOW).clusters

    assert db.instances[1].severity is Severity.WARN
    assert db.severity is Severity.WARN


def test_replica_not_ready_is_an_error() -> None:
    (db,) = postgres_view([cluster()], pods(replica_ready=False), results(), NOW).clusters

    assert not db.instances[1].ready
    assert db.instances[1].severity is Severity.ERROR
    assert db.ready == 1
    assert db.problem == f"{REPLICA} not ready"
    assert db.severity is Severity.ERROR


def test_no_primary_is_an_error() -> None:
    members = [pod(REPLICA, "10.2.0.32", None), pod(PRIMARY, "10.2.0.31", None, ready=False)]
    (db,) = postgres_view([cluster()], members, None, NOW).clusters

    assert db.primary is None
    assert {i.role for i in db.instances} == {""}
    assert db.problem == "no primary"
    assert db.severity is Severity.ERROR


def test_role_from_recovery_status_until_patroni_labels_the_pod() -> None:
    members = [pod(REPLICA, "10.2.0.32", None), pod(PRIMARY, "10.2.0.31", "master")]
    (db,) = postgres_view([cluster()], members, results(), NOW).clusters

    assert [i.role for i in db.instances] == ["primary", "replica"]
    assert db.instances[1].lag_bytes == 173_000


@pytest.mark.parametrize("answer", [None, {}])
def test_no_prometheus(answer: dict | None) -> None:
    view = postgres_view([cluster()], pods(), answer, NOW)

    assert not view.metrics
    (db,) = view.clusters
    assert all(i.lag_bytes is None and i.lag_seconds is None for i in db.instances)
    assert db.backup_age_seconds is None
    assert db.severity is Severity.OK


def test_no_clusters_is_an_empty_view() -> None:
    view = postgres_view([], other_pods(), results(), NOW)

    assert view.clusters == ()
    assert view.metrics


def test_switchover_requested_then_done() -> None:
    pg = cluster()
    pg["spec"]["patroni"] = {
        "switchover": {"enabled": True, "targetInstance": "db-instance1-rn4l"}
    }
    assert postgres_view([pg], pods(), None, NOW).clusters[0].switchover == "enabled"

    pg["metadata"]["annotations"][f"{GROUP}/trigger-switchover"] = "2026-11-26T12:00"
    assert postgres_view([pg], pods(), None, NOW).clusters[0].switchover == (
        "requested → db-instance1-rn4l"
    )

    pg["spec"]["patroni"]["switchover"]["type"] = "Failover"
    assert postgres_view([pg], pods(), None, NOW).clusters[0].switchover == (
        "failover → db-instance1-rn4l"
    )

    pg["status"]["patroni"]["switchover"] = "2026-11-26T12:00"
    assert postgres_view([pg], pods(), None, NOW).clusters[0].switchover == "enabled"


def test_latest_backup_job_status() -> None:
    pgbackrest = {
        "repos": [{"name": "repo1", "stanzaCreated": True}],
        "scheduledBackups": [
            {"cronJobName": "db-repo1-full", "repo": "repo1", "type": "full",
             "startTime": "2026-11-22T01:00:00Z", "completionTime": "2026-11-22T01:20:00Z",
             "succeeded": 1},
            {"cronJobName": "db-repo1-diff", "repo": "repo1", "type": "diff",
             "startTime": "2026-11-26T01:00:00Z", "completionTime": "2026-11-26T01:10:00Z",
             "succeeded": 1},
        ],
    }
    (db,) = postgres_view([cluster(pgbackrest=pgbackrest)], pods(), results(), NOW).clusters
    assert db.backup_status == "scheduled diff complete 10h ago"
    assert db.severity is Severity.OK

    pgbackrest["manualBackup"] = {
        "id": "now", "finished": True, "startTime": "2026-11-26T11:00:00Z", "failed": 2
    }
    (db,) = postgres_view([cluster(pgbackrest=pgbackrest)], pods(), results(), NOW).clusters
    assert db.backup_status == "manual failed"
    assert db.problem == "backup: manual failed"
    assert db.severity is Severity.WARN


def test_stale_full_backup_and_false_conditions_warn() -> None:
    (db,) = postgres_view([cluster()], pods(), results(backup_age=9 * 86400), NOW).clusters
    assert db.problem == "last full backup 9d ago"
    assert db.severity is Severity.WARN

    failing = cluster()
    failing["status"]["conditions"][1].update(status="False", reason="RepoBackupNotComplete")
    (db,) = postgres_view([failing], pods(), results(), NOW).clusters
    assert db.conditions == "PGBackRestReplicaCreate: RepoBackupNotComplete"
    assert db.severity is Severity.WARN


def test_a_cluster_shut_down_on_purpose() -> None:
    pg = cluster(instances=[{"name": "instance1", "replicas": 0}])
    pg["spec"]["shutdown"] = True
    (db,) = postgres_view([pg], other_pods(), results(), NOW).clusters

    assert db.instances == () and db.primary is None
    assert (db.problem, db.severity) == ("shut down", Severity.NONE)
