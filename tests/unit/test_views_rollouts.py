"""The rollouts view: Keel-managed workloads, rollout state, approvals and revision history."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from cpanel_platform.keel import Approval, AuditEntry, KeelSnapshot
from cpanel_platform.views.common import Severity
from cpanel_platform.views.rollouts import go_time, repository, rollouts_view

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC).timestamp()
IMAGE = "ghcr.io/example/shop"


def ts(ago: float) -> str:
    return datetime.fromtimestamp(NOW - ago, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def go(ago: float) -> str:
    """keel.sh/update-time as real Keel writes it: Go's time.String(), monotonic part too."""
    when = datetime.fromtimestamp(NOW - ago, UTC).strftime("%Y-%m-%d %H:%M:%S")
    return f"{when}.123456789 +0000 UTC m=+3605.000000001"


def template(tag: str, update_ago: float | None = None) -> dict[str, Any]:
    annotations = {"keel.sh/update-time": go(update_ago)} if update_ago is not None else {}
    return {
        "metadata": {"labels": {"app": "web"}, "annotations": annotations},
        "spec": {"containers": [{"name": "web", "image": f"{IMAGE}:{tag}"}]},
    }


def deployment(
    name: str = "web",
    labels: dict[str, str] | None = None,
    annotations: dict[str, str] | None = None,
    replicas: int = 3,
    status: dict[str, Any] | None = None,
    **spec: Any,
) -> dict[str, Any]:
    return {
        "metadata": {
            "name": name,
            "namespace": "app",
            "uid": f"uid-{name}",
            "generation": 4,
            "labels": {"app": name, "keel.sh/policy": "minor"} if labels is None else labels,
            "annotations": {"deployment.kubernetes.io/revision": "3", **(annotations or {})},
        },
        "spec": {"replicas": replicas, "template": template("2.14.1", 600), **spec},
        "status": status
        if status is not None
        else {
            "observedGeneration": 4,
            "replicas": replicas,
            "updatedReplicas": replicas,
            "readyReplicas": replicas,
            "availableReplicas": replicas,
            "conditions": [
                {"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable"},
                {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable"},
            ],
        },
    }


def replicaset(
    revision: int, tag: str, created_ago: float, update_ago: float | None, owner: str = "web"
) -> dict[str, Any]:
    return {
        "metadata": {
            "name": f"{owner}-{revision}abc",
            "namespace": "app",
            "creationTimestamp": ts(created_ago),
            "annotations": {"deployment.kubernetes.io/revision": str(revision)},
            "ownerReferences": [
                {"kind": "Deployment", "name": owner, "uid": f"uid-{owner}", "controller": True}
            ],
        },
        "spec": {"replicas": 3 if revision == 3 else 0, "template": template(tag, update_ago)},
        "status": {
            "replicas": 3 if revision == 3 else 0,
            "readyReplicas": 3 if revision == 3 else 0,
        },
    }


REPLICASETS = [
    replicaset(1, "2.13.0", 86400, None),
    replicaset(3, "2.14.1", 600, 600),
    replicaset(2, "2.14.0", 7200, 7200),
    replicaset(1, "9.9.9", 50, None, owner="worker"),  # another Deployment's
]


def approval(identifier: str = "deployment/app/web:2.15.0", **overrides: Any) -> Approval:
    fields: dict[str, Any] = {
        "id": identifier,
        "identifier": identifier,
        "provider": "kubernetes",
        "current_version": "2.14.1",
        "new_version": "2.15.0",
        "votes_required": 1,
        "votes_received": 0,
        "voters": (),
        "rejected": False,
        "archived": False,
        "deadline": NOW + 3600,
        "created": NOW - 60,
    }
    return Approval(**{**fields, **overrides})


def audit(ago: float, action: str, identifier: str, message: str = "", user: str = "system"):
    kind = "approval" if action != "deployment update" else "deployment"
    return AuditEntry(str(ago), NOW - ago, action, kind, identifier, user, message)


def one(*deployments: dict[str, Any], keel: KeelSnapshot | None = None, rs=REPLICASETS):
    (row,) = rollouts_view(deployments, [], [], rs, keel, NOW)
    return row


def test_only_keel_managed_workloads_are_listed() -> None:
    unmanaged = deployment("api", labels={"app": "api"})
    by_annotation = deployment("worker", labels={}, annotations={"keel.sh/policy": "patch"})
    rows = rollouts_view([unmanaged, by_annotation, deployment()], [], [], [], None, NOW)
    assert [(r.key, r.policy) for r in rows] == [
        ("deployment/app/web", "minor"),
        ("deployment/app/worker", "patch"),
    ]


def test_complete_deployment_with_history_and_audit() -> None:
    keel = KeelSnapshot(
        approvals=(),
        audit=(
            audit(
                7200,
                "deployment update",
                "deployment/app/web",
                f"Successfully updated deployment app/web 2.13.0->2.14.0 ({IMAGE}:2.14.0)",
            ),
            audit(900, "approved", "deployment/app/web:2.14.1", user="alice"),
            audit(
                600,
                "deployment update",
                "deployment/app/web",
                f"Successfully updated deployment app/web 2.14.0->2.14.1 ({IMAGE}:2.14.1)",
            ),
            audit(
                500,
                "deployment update",
                "deployment/app/web-worker",
                "Successfully updated deployment app/web-worker 1->2",
            ),
        ),
    )
    row = one(deployment(annotations={"keel.sh/approvals": "1"}), keel=keel)
    assert (row.kind, row.namespace, row.name, row.trigger, row.approvals_required) == (
        "Deployment",
        "app",
        "web",
        "default",
        1,
    )
    assert (row.image, row.revision, row.status, row.ready) == (
        f"{IMAGE}:2.14.1",
        3,
        "complete",
        "3/3",
    )
    assert row.updated == pytest.approx(NOW - 600 + 0.123456)
    assert row.severity is Severity.OK and row.pending == ()

    assert [(r.revision, r.image.rpartition(":")[2]) for r in row.history] == [
        (3, "2.14.1"),
        (2, "2.14.0"),
        (1, "2.13.0"),
    ]
    newest, middle, oldest = row.history
    assert (newest.key, newest.replicas, newest.ready_replicas) == ("web-3abc", 3, 3)
    assert newest.created == NOW - 600
    assert oldest.keel_update_time is None  # not Keel's rollout
    assert [(e.action, e.username) for e in newest.audit] == [
        ("approved", "alice"),
        ("deployment update", "system"),
    ]
    assert [e.message.split()[-2] for e in middle.audit] == ["2.13.0->2.14.0"]
    assert oldest.audit == ()


def test_stalled_deployment_is_an_error() -> None:
    status = {
        "observedGeneration": 4,
        "replicas": 4,
        "updatedReplicas": 1,
        "readyReplicas": 3,
        "availableReplicas": 3,
        "conditions": [
            {"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded"}
        ],
    }
    row = one(deployment(status=status))
    assert (row.status, row.ready, row.severity) == ("stalled", "3/3", Severity.ERROR)


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        # a new ReplicaSet scaling up
        (
            {
                "observedGeneration": 4,
                "replicas": 4,
                "updatedReplicas": 1,
                "readyReplicas": 3,
                "availableReplicas": 3,
                "conditions": [
                    {"type": "Progressing", "status": "True", "reason": "ReplicaSetUpdated"}
                ],
            },
            "progressing",
        ),
        # the controller has not seen the latest spec yet
        (
            {
                "observedGeneration": 3,
                "replicas": 3,
                "updatedReplicas": 3,
                "readyReplicas": 3,
                "availableReplicas": 3,
            },
            "progressing",
        ),
        # old pods still terminating
        (
            {
                "observedGeneration": 4,
                "replicas": 4,
                "updatedReplicas": 3,
                "readyReplicas": 3,
                "availableReplicas": 3,
            },
            "progressing",
        ),
    ],
)
def test_progressing_deployment(status: dict[str, Any], expected: str) -> None:
    row = one(deployment(status=status))
    assert (row.status, row.severity) == (expected, Severity.WARN)


def test_paused_deployment() -> None:
    assert one(deployment(paused=True)).status == "paused"


def test_pending_approval_matches_this_workload_only() -> None:
    keel = KeelSnapshot(
        approvals=(
            approval(),
            approval("deployment/app/web-worker:2.15.0"),  # a name that merely starts alike
            approval("statefulset/app/web:2.15.0"),  # another kind
            approval("deployment/app/web:2.16.0", archived=True),
            approval("deployment/app/web:2.17.0", rejected=True),
            approval("deployment/app/web:2.18.0", votes_received=1),  # already approved
            approval("deployment/app/web:2.19.0", deadline=NOW - 1),  # expired
            approval(f"{IMAGE}:2.15.1", created=NOW - 30),  # by image repository
        ),
        audit=(),
    )
    row = one(deployment(annotations={"keel.sh/approvals": "1"}), keel=keel)
    assert [a.identifier for a in row.pending] == ["deployment/app/web:2.15.0", f"{IMAGE}:2.15.1"]
    assert (row.status, row.severity) == ("complete", Severity.WARN)


def test_without_keel_answer_there_are_no_approvals_or_audit() -> None:
    row = one(deployment(), keel=None)
    assert row.pending == ()
    assert all(r.audit == () for r in row.history)


def test_updated_falls_back_to_the_newest_replicaset() -> None:
    plain = deployment()
    plain["spec"]["template"] = template("2.14.1")
    rs = [replicaset(1, "2.13.0", 86400, None), replicaset(2, "2.14.1", 300, None)]
    assert one(plain, rs=rs).updated == NOW - 300
    assert one(plain, rs=[]).updated is None


def test_statefulset_and_daemonset() -> None:
    sts = {
        "metadata": {
            "name": "cache",
            "namespace": "app",
            "generation": 2,
            "annotations": {"keel.sh/policy": "patch", "keel.sh/trigger": "poll"},
        },
        "spec": {"replicas": 2, "template": template("7.2.4")},
        "status": {
            "observedGeneration": 2,
            "replicas": 2,
            "readyReplicas": 1,
            "updatedReplicas": 1,
            "currentRevision": "cache-1",
            "updateRevision": "cache-2",
        },
    }
    ds = {
        "metadata": {
            "name": "agent",
            "namespace": "monitoring",
            "generation": 1,
            "labels": {"keel.sh/policy": "all", "keel.sh/approvals": "bogus"},
        },
        "spec": {"template": template("1.0.0")},
        "status": {
            "observedGeneration": 1,
            "desiredNumberScheduled": 3,
            "updatedNumberScheduled": 3,
            "numberAvailable": 3,
            "numberReady": 3,
        },
    }
    cache, agent = rollouts_view([], [sts], [ds], REPLICASETS, None, NOW)
    assert (cache.key, cache.kind, cache.trigger, cache.revision, cache.history) == (
        "statefulset/app/cache",
        "StatefulSet",
        "poll",
        None,
        (),
    )
    assert (cache.status, cache.ready, cache.severity) == ("progressing", "1/2", Severity.WARN)
    assert (agent.key, agent.status, agent.ready, agent.approvals_required) == (
        "daemonset/monitoring/agent",
        "complete",
        "3/3",
        0,  # not a number: Keel asks for no approvals
    )


def test_go_time() -> None:
    assert go_time("2024-05-01 09:00:00.5 +0000 UTC m=+12.3") == pytest.approx(
        datetime(2024, 5, 1, 9, 0, 0, 500000, tzinfo=UTC).timestamp()
    )
    assert (
        go_time("2024-05-01 11:00:00 +0200 CEST") == datetime(2024, 5, 1, 9, tzinfo=UTC).timestamp()
    )
    assert go_time("2024-05-01T09:00:00Z") == datetime(2024, 5, 1, 9, tzinfo=UTC).timestamp()
    assert go_time("yesterday") is None and go_time(None) is None


@pytest.mark.parametrize(
    ("image", "expected"),
    [
        ("ghcr.io/example/shop:2.14.1", "ghcr.io/example/shop"),
        ("registry:5000/shop", "registry:5000/shop"),
        ("nginx@sha256:abc", "nginx"),
        ("nginx", "nginx"),
    ],
)
def test_repository(image: str, expected: str) -> None:
    assert repository(image) == expected
