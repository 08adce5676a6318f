"""What each component of the platform file stands for in Kubernetes objects."""

from __future__ import annotations

from typing import Any

import yaml
from cpanel_platform.provision.components import (
    COMPONENT_LABEL,
    ORDER,
    VERSION_LABEL,
    Component,
    components,
)
from cpanel_platform.provision.spec import PlatformSpec, parse_spec
from cpanel_platform.provision.template import TEMPLATE
from cpanel_platform.sandbox.mirror import release


def _fetch(component: str, version: str) -> list[dict[str, Any]]:
    data = release(component, version)
    assert data is not None, f"no stand-in release {component} {version}"
    return [doc for doc in yaml.safe_load_all(data) if doc]


def _spec(old: str = "", new: str = "") -> PlatformSpec:
    assert old in TEMPLATE
    return parse_spec(TEMPLATE.replace(old, new, 1))


def _by_name(spec: PlatformSpec) -> dict[str, Component]:
    return {c.name: c for c in components(spec, _fetch, "tok")}


def _find(component: Component, kind: str, name: str) -> dict[str, Any]:
    return next(
        d for d in component.documents if d["kind"] == kind and d["metadata"]["name"] == name
    )


def test_every_enabled_component_in_dependency_order_and_labelled() -> None:
    rendered = components(_spec(), _fetch, "tok")
    assert [c.name for c in rendered] == list(ORDER)
    for component in rendered:
        for doc in component.documents:
            labels = doc["metadata"]["labels"]
            assert labels[COMPONENT_LABEL] == component.name
            assert labels[VERSION_LABEL] == component.version
        assert all(d["kind"] in ("Namespace", "CustomResourceDefinition")
                   for d in component.foundations)
        assert not any(d["kind"] == "CustomResourceDefinition" for d in component.workloads)


def test_a_disabled_component_is_left_out() -> None:
    spec = _spec('keel:\n    version: "0.19.1"', 'keel:\n    enabled: false')
    assert "keel" not in _by_name(spec)


def test_each_namespace_has_one_owner_and_is_created_before_use() -> None:
    rendered = components(_spec(), _fetch, "tok")
    owners: dict[str, str] = {}
    for component in rendered:
        for doc in component.foundations:
            if doc["kind"] == "Namespace":
                assert doc["metadata"]["name"] not in owners, "created twice"
                owners[doc["metadata"]["name"]] = component.name
        for doc in component.documents:
            namespace = doc["metadata"].get("namespace")
            if namespace:
                assert namespace in owners, f"{doc['kind']} in {namespace} before its namespace"
    # The wildcard certificate's namespace comes with cert-manager, before cert-sync's release.
    assert owners["app"] == "cert_manager"


def test_certificates_follow_the_settings() -> None:
    certs = _by_name(_spec())["cert_manager"]
    wildcard = _find(certs, "Certificate", "wildcard-example-com")
    assert wildcard["metadata"]["namespace"] == "app"
    assert wildcard["spec"]["dnsNames"] == ["example.com", "*.example.com"]
    assert wildcard["spec"]["issuerRef"] == {"name": "letsencrypt-staging", "kind": "ClusterIssuer"}
    issuer = _find(certs, "ClusterIssuer", "letsencrypt-prod")
    assert issuer["spec"]["acme"]["email"] == "ops@example.com"
    [solver] = issuer["spec"]["acme"]["solvers"]
    assert solver["dns01"]["webhook"]["solverName"] == "linode"
    secret = _find(certs, "Secret", "linode-credentials")
    assert secret["data"] == {"token": "dG9r"}  # base64 of the token the plan runs with

    production = _by_name(_spec("issuer: staging", "issuer: production"))["cert_manager"]
    assert _find(production, "Certificate", "wildcard-example-com")["spec"]["issuerRef"][
        "name"] == "letsencrypt-prod"


def test_settings_are_laid_over_the_release_in_place() -> None:
    rendered = _by_name(_spec())
    [dns] = rendered["external_dns"].workloads[0]["spec"]["template"]["spec"]["containers"]
    release_args = _fetch("external_dns", "0.15.1")[1]["spec"]["template"]["spec"][
        "containers"][0]["args"]
    # Same flags in the same order (a reordered list would show as a change on every plan).
    assert [a.split("=")[0] for a in dns["args"]] == [a.split("=")[0] for a in release_args]
    assert "--domain-filter=example.com" in dns["args"]
    assert "--txt-owner-id=lke-prod" in dns["args"]

    monitoring = rendered["monitoring"]
    prometheus = _find(monitoring, "StatefulSet", "prometheus-k8s")
    args = prometheus["spec"]["template"]["spec"]["containers"][0]["args"]
    assert "--storage.tsdb.retention.time=30d" in args
    assert prometheus["spec"]["volumeClaimTemplates"][0]["spec"]["resources"]["requests"][
        "storage"] == "10Gi"
    probes = _find(monitoring, "ConfigMap", "blackbox-probe-targets")
    assert probes["data"]["targets"] == "https://example.com/health"

    db = _find(rendered["postgres"], "PostgresCluster", "db")
    assert db["spec"]["instances"][0]["replicas"] == 2
    assert db["spec"]["backups"]["pgbackrest"]["repos"][0]["schedules"] == {"full": "0 1 * * 0"}

    cron = _find(rendered["cert_sync"], "CronJob", "fastly-cert-sync")
    assert cron["spec"]["schedule"] == "0 9 * * *"


def test_rendering_does_not_change_the_fetched_release() -> None:
    cached = _fetch("monitoring", "0.14.0")
    before = yaml.safe_dump(cached)
    components(_spec(), lambda c, v: cached if c == "monitoring" else _fetch(c, v), "tok")
    assert yaml.safe_dump(cached) == before
