"""PATCH semantics: JSON patch, merge patch, strategic merge patch, server-side apply and the
managedFields that record who set what."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from cpanel_platform.sandbox.kubeapi.errors import ApiError
from cpanel_platform.sandbox.kubeapi.patching import (
    json_patch,
    merge_patch,
    record_update,
    server_side_apply,
    strategic_merge_patch,
)

T0, T1, T2, T3 = (f"2025-06-01T12:00:0{i}Z" for i in range(4))


def pod(**spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "web", "namespace": "default", "labels": {"app": "web"}},
        "spec": {
            "containers": [
                {"name": "app", "image": "app:1", "env": [{"name": "A", "value": "1"}]},
                {"name": "sidecar", "image": "proxy:1"},
            ],
            **spec,
        },
    }


def deployment(replicas: int = 2, **extra_labels: str) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": "web",
            "namespace": "default",
            "labels": {"app": "web", **extra_labels},
        },
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {
                    "containers": [
                        {"name": "web", "image": "nginx:1", "ports": [{"containerPort": 80}]}
                    ]
                },
            },
        },
    }


def smp(obj: dict[str, Any], patch: Any, group: str = "", kind: str = "Pod") -> dict[str, Any]:
    return strategic_merge_patch(obj, patch, group, kind)


def containers(obj: dict[str, Any]) -> list[dict[str, Any]]:
    return obj["spec"]["containers"]


def apply(
    live: dict[str, Any] | None,
    applied: dict[str, Any],
    manager: str = "kubectl",
    force: bool = False,
    now: str = T1,
) -> dict[str, Any]:
    return server_side_apply(live, applied, manager, force, "apps", "Deployment", now)


def update(
    old: dict[str, Any] | None, new: dict[str, Any], manager: str, now: str = T2
) -> dict[str, Any]:
    return record_update(old, new, manager, "Update", now, "apps", "Deployment")


def entries(obj: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(e["manager"], e["operation"]): e for e in obj["metadata"].get("managedFields", [])}


def raises(code: int, reason: str, fn: Any, *args: Any) -> ApiError:
    with pytest.raises(ApiError) as info:
        fn(*args)
    assert (info.value.code, info.value.reason) == (code, reason)
    return info.value


# -- strategic merge patch ------------------------------------------------------------------


def test_smp_merges_containers_by_name_and_leaves_the_others() -> None:
    out = smp(pod(), {"spec": {"containers": [{"name": "sidecar", "image": "proxy:2"}]}})
    assert containers(out) == [
        {"name": "app", "image": "app:1", "env": [{"name": "A", "value": "1"}]},
        {"name": "sidecar", "image": "proxy:2"},
    ]


def test_smp_patch_delete_removes_one_container() -> None:
    out = smp(pod(), {"spec": {"containers": [{"name": "sidecar", "$patch": "delete"}]}})
    assert [c["name"] for c in containers(out)] == ["app"]


def test_smp_merges_env_by_name_inside_a_container() -> None:
    patch = {
        "spec": {
            "containers": [
                {"name": "app", "env": [{"name": "A", "value": "2"}, {"name": "B", "value": "3"}]}
            ]
        }
    }
    assert containers(smp(pod(), patch))[0]["env"] == [
        {"name": "A", "value": "2"},
        {"name": "B", "value": "3"},
    ]


def test_smp_null_deletes_a_key() -> None:
    out = smp(pod(), {"metadata": {"labels": {"app": None, "tier": "front"}}})
    assert out["metadata"]["labels"] == {"tier": "front"}


def test_smp_set_element_order_reorders_the_list() -> None:
    patch = {"spec": {"$setElementOrder/containers": [{"name": "sidecar"}, {"name": "app"}]}}
    assert [c["name"] for c in containers(smp(pod(), patch))] == ["sidecar", "app"]


def test_smp_new_items_follow_the_patch_order_around_server_only_items() -> None:
    patch = {
        "spec": {
            "$setElementOrder/containers": [{"name": "app"}, {"name": "new"}],
            "containers": [{"name": "new", "image": "new:1"}],
        }
    }
    assert [c["name"] for c in containers(smp(pod(), patch))] == ["app", "new", "sidecar"]


def test_smp_replaces_lists_without_a_merge_key() -> None:
    obj = pod(tolerations=[{"key": "a", "operator": "Exists"}])
    out = smp(obj, {"spec": {"tolerations": [{"key": "b", "operator": "Exists"}]}})
    assert out["spec"]["tolerations"] == [{"key": "b", "operator": "Exists"}]


def test_smp_list_replace_directive() -> None:
    patch = {"spec": {"containers": [{"$patch": "replace"}, {"name": "only", "image": "x"}]}}
    assert containers(smp(pod(), patch)) == [{"name": "only", "image": "x"}]


def test_smp_merge_keys_apply_inside_pod_templates() -> None:
    dep = deployment()
    patch = {"spec": {"template": {"spec": {"containers": [{"name": "web", "image": "nginx:2"}]}}}}
    out = smp(dep, patch, "apps", "Deployment")
    assert out["spec"]["template"]["spec"]["containers"] == [
        {"name": "web", "image": "nginx:2", "ports": [{"containerPort": 80}]}
    ]
    cron = {"spec": {"jobTemplate": {"spec": {"template": {"spec": copy.deepcopy(pod()["spec"])}}}}}
    patch = {
        "spec": {
            "jobTemplate": {
                "spec": {"template": {"spec": {"containers": [{"name": "app", "image": "app:2"}]}}}
            }
        }
    }
    out = smp(cron, patch, "batch", "CronJob")
    assert [
        c["image"] for c in out["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
    ] == [
        "app:2",
        "proxy:1",
    ]


def test_smp_service_ports_merge_by_port() -> None:
    svc = {"spec": {"ports": [{"port": 80, "targetPort": 8080}, {"port": 443}]}}
    out = smp(svc, {"spec": {"ports": [{"port": 80, "targetPort": 9090}]}}, "", "Service")
    assert out["spec"]["ports"] == [{"port": 80, "targetPort": 9090}, {"port": 443}]


def test_smp_retain_keys_drops_the_other_variant() -> None:
    dep = deployment()
    dep["spec"]["strategy"] = {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1}}
    patch = {"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate"}}}
    assert smp(dep, patch, "apps", "Deployment")["spec"]["strategy"] == {"type": "Recreate"}


def test_smp_finalizers_merge_as_a_set_and_delete_from_primitive_list() -> None:
    obj = {"metadata": {"finalizers": ["a", "b"]}}
    assert smp(obj, {"metadata": {"finalizers": ["b", "c"]}}, "", "ConfigMap")["metadata"][
        "finalizers"
    ] == [
        "a",
        "b",
        "c",
    ]
    patch = {"metadata": {"$deleteFromPrimitiveList/finalizers": ["a"]}}
    assert smp(obj, patch, "", "ConfigMap")["metadata"]["finalizers"] == ["b"]


def test_smp_does_not_mutate_its_inputs() -> None:
    obj, patch = pod(), {"spec": {"containers": [{"name": "app", "$patch": "delete"}]}}
    before = (copy.deepcopy(obj), copy.deepcopy(patch))
    smp(obj, patch)
    assert (obj, patch) == before


def test_smp_rejects_custom_resources_and_malformed_patches() -> None:
    err = raises(
        415, "UnsupportedMediaType", strategic_merge_patch, {}, {}, "example.com", "Widget"
    )
    assert "application/merge-patch+json" in err.message
    raises(400, "BadRequest", smp, pod(), [{"op": "add"}])
    err = raises(400, "BadRequest", smp, pod(), {"spec": {"containers": [{"image": "x"}]}})
    assert "does not contain declared merge key: name" in err.message


# -- merge patch and JSON patch -------------------------------------------------------------


def test_merge_patch_nulls_remove_and_lists_replace() -> None:
    out = merge_patch(
        pod(),
        {"metadata": {"labels": {"app": None, "x": "y"}}, "spec": {"containers": [{"name": "n"}]}},
    )
    assert out["metadata"]["labels"] == {"x": "y"}
    assert containers(out) == [{"name": "n"}]
    raises(400, "BadRequest", merge_patch, pod(), ["not", "an", "object"])


def test_json_patch_applies_operations() -> None:
    patch = [
        {"op": "test", "path": "/metadata/labels/app", "value": "web"},
        {"op": "replace", "path": "/spec/containers/0/image", "value": "app:2"},
        {"op": "remove", "path": "/spec/containers/1"},
    ]
    out = json_patch(pod(), patch)
    assert containers(out) == [
        {"name": "app", "image": "app:2", "env": [{"name": "A", "value": "1"}]}
    ]


def test_json_patch_failed_test_is_invalid_and_a_non_list_is_a_bad_request() -> None:
    err = raises(
        422,
        "Invalid",
        json_patch,
        pod(),
        [{"op": "test", "path": "/metadata/labels/app", "value": "db"}],
    )
    assert err.message == "the server rejected our request due to an error in our request"
    raises(422, "Invalid", json_patch, pod(), [{"op": "remove", "path": "/spec/nothing"}])
    raises(400, "BadRequest", json_patch, pod(), {"op": "remove", "path": "/spec"})


# -- server-side apply ----------------------------------------------------------------------


def test_apply_creates_the_object_and_records_ownership() -> None:
    out = apply(None, deployment())
    assert {k: v for k, v in out.items() if k != "metadata"} == {
        k: v for k, v in deployment().items() if k != "metadata"
    }
    (entry,) = out["metadata"]["managedFields"]
    assert {k: entry[k] for k in ("manager", "operation", "apiVersion", "time", "fieldsType")} == {
        "manager": "kubectl",
        "operation": "Apply",
        "apiVersion": "apps/v1",
        "time": T1,
        "fieldsType": "FieldsV1",
    }
    fields = entry["fieldsV1"]
    assert fields["f:metadata"] == {"f:labels": {"f:app": {}}}
    assert fields["f:spec"]["f:replicas"] == {}
    container = fields["f:spec"]["f:template"]["f:spec"]["f:containers"]['k:{"name":"web"}']
    assert container == {
        ".": {},
        "f:image": {},
        "f:name": {},
        "f:ports": {'k:{"containerPort":80,"protocol":"TCP"}': {".": {}, "f:containerPort": {}}},
    }


def test_apply_again_changes_nothing() -> None:
    live = apply(None, deployment(), now=T0)
    assert apply(live, deployment(), now=T1) == live


def test_apply_removes_fields_the_manager_stopped_applying_unless_someone_else_owns_them() -> None:
    live = apply(None, deployment(tier="front", team="a"), now=T0)
    other = copy.deepcopy(live)
    other["metadata"]["labels"]["team"] = "b"
    live = update(live, other, "kubectl-label")
    out = apply(live, deployment(), now=T3)
    assert out["metadata"]["labels"] == {"app": "web", "team": "b"}


def test_apply_drops_a_list_item_it_no_longer_applies() -> None:
    two = deployment()
    two["spec"]["template"]["spec"]["containers"].append({"name": "log", "image": "fluent"})
    live = apply(None, two, now=T0)
    out = apply(live, deployment(), now=T1)
    assert [c["name"] for c in out["spec"]["template"]["spec"]["containers"]] == ["web"]


def test_apply_leaves_status_to_the_server() -> None:
    live = apply(None, deployment(), now=T0)
    live["status"] = {"replicas": 2}
    applied = {**deployment(), "status": {"replicas": 9}}
    out = apply(live, applied, now=T1)
    assert out["status"] == {"replicas": 2}
    assert "f:status" not in entries(out)[("kubectl", "Apply")]["fieldsV1"]


def test_apply_keeps_list_items_added_by_other_managers() -> None:
    live = apply(None, deployment(), now=T0)
    edited = copy.deepcopy(live)
    edited["spec"]["template"]["spec"]["containers"].append({"name": "debug", "image": "busybox"})
    live = update(live, edited, "kubectl-edit")
    applied = deployment()
    applied["spec"]["template"]["spec"]["containers"][0]["image"] = "nginx:2"
    out = apply(live, applied, now=T3)
    assert [(c["name"], c["image"]) for c in out["spec"]["template"]["spec"]["containers"]] == [
        ("web", "nginx:2"),
        ("debug", "busybox"),
    ]


def test_apply_conflicts_with_a_field_another_manager_changed() -> None:
    live = apply(None, deployment(replicas=2), now=T0)
    scaled = copy.deepcopy(live)
    scaled["spec"]["replicas"] = 5
    live = update(live, scaled, "kubectl")
    err = raises(409, "Conflict", apply, live, deployment(replicas=3))
    assert (
        err.message
        == 'Apply failed with 1 conflict: conflict with "kubectl" using apps/v1: .spec.replicas'
    )
    assert err.details == {
        "causes": [
            {
                "reason": "FieldManagerConflict",
                "message": 'conflict with "kubectl" using apps/v1',
                "field": ".spec.replicas",
            }
        ]
    }
    # Agreeing with the current value is no conflict: both managers then own the field.
    shared = apply(live, deployment(replicas=5))
    assert "f:replicas" in entries(shared)[("kubectl", "Update")]["fieldsV1"]["f:spec"]


def test_apply_with_force_takes_the_field_over() -> None:
    live = apply(None, deployment(replicas=2), now=T0)
    scaled = copy.deepcopy(live)
    scaled["spec"]["replicas"] = 5
    live = update(live, scaled, "kubectl")
    out = apply(live, deployment(replicas=3), force=True, now=T3)
    assert out["spec"]["replicas"] == 3
    assert list(entries(out)) == [("kubectl", "Apply")]  # the updater owned nothing else
    assert entries(out)[("kubectl", "Apply")]["time"] == T3


def test_apply_conflicts_name_client_side_apply() -> None:
    live = update(None, deployment(replicas=2), "kubectl-client-side-apply", now=T0)
    err = raises(409, "Conflict", apply, live, deployment(replicas=4))
    assert err.message == (
        "Apply failed with 1 conflict: "
        'conflict with "kubectl-client-side-apply" using apps/v1: .spec.replicas'
    )


def test_apply_rejects_managed_fields_and_missing_kind() -> None:
    bad = deployment()
    bad["metadata"]["managedFields"] = []
    raises(400, "BadRequest", apply, None, bad)
    raises(400, "BadRequest", apply, None, {"apiVersion": "apps/v1", "metadata": {"name": "x"}})


# -- update tracking ------------------------------------------------------------------------


def test_record_update_on_create_owns_everything_set() -> None:
    out = update(None, deployment(), "kubectl-create", now=T0)
    (entry,) = out["metadata"]["managedFields"]
    assert (entry["manager"], entry["operation"], entry["time"]) == ("kubectl-create", "Update", T0)
    fields = entry["fieldsV1"]
    assert fields["f:metadata"] == {"f:labels": {".": {}, "f:app": {}}}
    assert fields["f:spec"]["f:template"]["f:spec"]["f:containers"]['k:{"name":"web"}']["."] == {}


def test_record_update_without_changes_keeps_managed_fields() -> None:
    live = update(None, deployment(), "kubectl-create", now=T0)
    assert update(live, copy.deepcopy(live), "kubectl-edit", now=T1) == live
