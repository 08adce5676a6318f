"""The Kubernetes side's pure parts: the change between a live object and its dry run, who owns
a changed field, and when an object counts as healthy."""

from __future__ import annotations

from typing import Any

from cpanel_platform.provision.kube_apply import FieldChange, diff, waiting_on


def _deployment(replicas: int, managers: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": "keel", "namespace": "keel", "resourceVersion": "7", "generation": 3,
            "labels": {"app": "keel"}, "managedFields": managers or [],
        },
        "spec": {"replicas": replicas, "template": {"spec": {"containers": [{"name": "k"}]}}},
        "status": {"replicas": replicas},
    }


CPANEL = {"manager": "cpanel", "operation": "Apply",
          "fieldsV1": {"f:spec": {"f:replicas": {}, "f:template": {}}}}
KUBECTL = {"manager": "kubectl", "operation": "Update", "fieldsV1": {"f:spec": {"f:replicas": {}}}}


def test_identical_objects_have_no_change_whatever_the_server_metadata() -> None:
    live = _deployment(1, [CPANEL])
    result = _deployment(1)
    result["metadata"]["resourceVersion"] = "8"
    result["status"] = {"replicas": 5}
    assert list(diff(live, result)) == []


def test_a_field_set_by_another_manager_is_drift() -> None:
    live, result = _deployment(3, [CPANEL, KUBECTL]), _deployment(1)
    assert list(diff(live, result)) == [FieldChange("spec.replicas", "3", "1", outside=True)]


def test_a_field_only_cpanel_owns_is_a_plain_change() -> None:
    assert list(diff(_deployment(3, [CPANEL]), _deployment(1))) == [
        FieldChange("spec.replicas", "3", "1")
    ]


def test_added_and_removed_fields_and_list_items() -> None:
    live, result = _deployment(1), _deployment(1)
    result["metadata"]["labels"]["tier"] = "web"
    del result["spec"]["template"]["spec"]["containers"][0]["name"]
    result["spec"]["template"]["spec"]["containers"].append({"name": "sidecar"})
    assert list(diff(live, result)) == [
        FieldChange("metadata.labels.tier", None, "web"),
        FieldChange("spec.template.spec.containers", '[{"name": "k"}]',
                    '[{}, {"name": "sidecar"}]'),
    ]


def test_secret_values_are_never_shown() -> None:
    live = {"kind": "Secret", "metadata": {"name": "s"}, "data": {"token": "b2xk"}}
    result = {"kind": "Secret", "metadata": {"name": "s"}, "data": {"token": "bmV3"}}
    assert list(diff(live, result, secret=True)) == [
        FieldChange("data.token", "(hidden)", "(hidden)")
    ]


def test_long_values_are_cut() -> None:
    live, result = _deployment(1), _deployment(1)
    result["metadata"]["labels"]["note"] = "x" * 200
    [change] = diff(live, result)
    assert change.after is not None and len(change.after) == 60 and change.after.endswith("…")


def test_health_of_each_kind() -> None:
    deployment = {"kind": "Deployment", "metadata": {"generation": 2},
                  "spec": {"replicas": 2},
                  "status": {"observedGeneration": 2, "updatedReplicas": 2,
                             "availableReplicas": 1}}
    assert waiting_on(deployment) == "1/2 replicas updated and available"
    deployment["status"]["availableReplicas"] = 2
    assert waiting_on(deployment) is None
    deployment["metadata"]["generation"] = 3
    assert waiting_on(deployment) == "its controller has not seen the change yet"

    crd = {"kind": "CustomResourceDefinition", "metadata": {}, "status": {"conditions": [
        {"type": "NamesAccepted", "status": "True"}]}}
    assert waiting_on(crd) == "not Established yet"
    crd["status"]["conditions"].append({"type": "Established", "status": "True"})
    assert waiting_on(crd) is None

    daemonset = {"kind": "DaemonSet", "metadata": {}, "status": {}}
    assert waiting_on(daemonset) == "0/? pods available"
    daemonset["status"] = {"desiredNumberScheduled": 3, "numberAvailable": 3}
    assert waiting_on(daemonset) is None

    cert = {"kind": "Certificate", "metadata": {}, "status": {"conditions": [
        {"type": "Ready", "status": "False"}]}}
    assert waiting_on(cert) == "not Ready (being issued)"

    pg = {"kind": "PostgresCluster", "metadata": {},
          "spec": {"instances": [{"name": "instance1", "replicas": 2}]},
          "status": {"instances": [{"name": "instance1", "readyReplicas": 1}]}}
    assert waiting_on(pg) == "1/2 Postgres instances ready"
    pg["status"]["instances"][0]["readyReplicas"] = 2
    assert waiting_on(pg) is None

    assert waiting_on({"kind": "ConfigMap", "metadata": {}}) is None
