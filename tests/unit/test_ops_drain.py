"""The pure parts of ops.drain: which pods a drain evicts, which have local storage, which
budgets guard a pod (matchLabels and matchExpressions), and the message of a stopped drain."""

from __future__ import annotations

from typing import Any

import pytest
from cpanel_platform.ops.drain import (
    MIRROR,
    Blocker,
    evictable,
    local_storage,
    matching_budgets,
    selects,
    stopped_message,
)


def pod(name: str, node: str = "n1", namespace: str = "app", *, owner: str = "ReplicaSet",
        phase: str = "Running", labels: dict[str, str] | None = None, **meta: Any) -> dict:
    return {
        "metadata": {"name": name, "namespace": namespace, "labels": labels or {},
                     "ownerReferences": [{"kind": owner, "name": "x", "controller": True}],
                     **meta},
        "spec": {"nodeName": node, "volumes": []},
        "status": {"phase": phase},
    }


def budget(name: str, selector: dict | None, namespace: str = "app") -> dict:
    return {"metadata": {"name": name, "namespace": namespace}, "spec": {"selector": selector}}


def test_evictable_leaves_daemonsets_mirrors_finished_terminating_and_other_nodes() -> None:
    pods = [
        pod("web"),
        pod("bare", owner="Nothing"),
        pod("exporter", owner="DaemonSet"),
        pod("static", annotations={MIRROR: "abc"}),
        pod("done", phase="Succeeded"),
        pod("crashed", phase="Failed"),
        pod("going", deletionTimestamp="2026-01-01T00:00:00Z"),
        pod("elsewhere", node="n2"),
    ]
    assert [p["metadata"]["name"] for p in evictable(pods, "n1")] == ["web", "bare"]


def test_local_storage_names_the_pods_with_an_emptydir() -> None:
    scratch, claim = pod("cache"), pod("db")
    scratch["spec"]["volumes"] = [{"name": "tmp", "emptyDir": {}}]
    claim["spec"]["volumes"] = [{"name": "data", "persistentVolumeClaim": {"claimName": "d"}}]
    assert local_storage([scratch, claim, pod("web")]) == ["app/cache"]


@pytest.mark.parametrize(("selector", "labels", "selected"), [
    (None, {"app": "web"}, False),  # a null selector selects nothing
    ({}, {"app": "web"}, True),  # policy/v1: an empty one selects every pod
    ({"matchLabels": {"app": "web"}}, {"app": "web", "tier": "x"}, True),
    ({"matchLabels": {"app": "web"}}, {"app": "api"}, False),
    ({"matchExpressions": [{"key": "app", "operator": "In", "values": ["web", "api"]}]},
     {"app": "api"}, True),
    ({"matchExpressions": [{"key": "app", "operator": "NotIn", "values": ["web"]}]},
     {}, True),
    ({"matchExpressions": [{"key": "app", "operator": "NotIn", "values": ["web"]}]},
     {"app": "web"}, False),
    ({"matchExpressions": [{"key": "app", "operator": "Exists"}]}, {"app": ""}, True),
    ({"matchExpressions": [{"key": "app", "operator": "DoesNotExist"}]}, {"app": "x"}, False),
    ({"matchLabels": {"app": "web"},
      "matchExpressions": [{"key": "tier", "operator": "In", "values": ["front"]}]},
     {"app": "web", "tier": "back"}, False),
    ({"matchExpressions": [{"key": "app", "operator": "Near", "values": ["web"]}]},
     {"app": "web"}, False),
])
def test_selects_as_a_label_selector(selector: dict | None, labels: dict, selected: bool) -> None:
    assert selects(selector, labels) is selected


def test_matching_budgets_are_in_the_pods_namespace() -> None:
    web = pod("web-1", labels={"app": "web"})
    budgets = [
        budget("web", {"matchLabels": {"app": "web"}}),
        budget("web", {"matchLabels": {"app": "web"}}, namespace="other"),
        budget("everything", {}),
        budget("api", {"matchLabels": {"app": "api"}}),
    ]
    assert [(b["metadata"]["namespace"], b["metadata"]["name"])
            for b in matching_budgets(web, budgets)] == [("app", "web"), ("app", "everything")]


def test_the_stopped_message_is_one_paragraph_naming_budgets_and_pods() -> None:
    blockers = [Blocker("app/web-1", ("app/web",), "Cannot evict pod"),
                Blocker("app/bare", (), "Too Many Requests")]
    message = stopped_message("n1", 300, blockers, {"app/db-0": "uid"})
    assert message == (
        "drain of n1 stopped after 300 s: PDB app/web allows no disruption for app/web-1; "
        "the API server allows no disruption for app/bare; "
        "evicted but still on the node: app/db-0."
    )
