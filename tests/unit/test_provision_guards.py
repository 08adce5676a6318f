"""Guard rails: each known mistake from the reference platform's history is refused or warned
about, with the reason; the reference platform itself passes clean."""

from __future__ import annotations

from typing import Any

from cpanel_platform.provision import guards
from cpanel_platform.provision.spec import PlatformSpec, parse_spec
from cpanel_platform.provision.template import TEMPLATE

OFFERED = ("1.34", "1.35", "1.36")


def _spec(**changes: Any) -> PlatformSpec:
    """The reference platform with `changes` ("components.external_dns.ttl": 3600 …)."""
    data = parse_spec(TEMPLATE).model_dump()
    for dotted, value in changes.items():
        *parents, last = dotted.split(".")
        node = data
        for part in parents:
            node = node[part]
        node[last] = value
    return PlatformSpec.model_validate(data)


def _codes(findings: list[guards.Finding]) -> list[tuple[str, str]]:
    return [(f.level, f.code) for f in findings]


def test_the_reference_platform_passes() -> None:
    spec = _spec()
    assert guards.spec_findings(spec) == []
    assert guards.k8s_version_offered(spec, OFFERED) == []
    assert guards.ha_not_reversible(spec, current_ha=True) == []
    assert guards.production_issuer(spec, staging_succeeded=False) == []  # staging first


def test_wildcard_with_http01_is_refused() -> None:
    findings = guards.wildcard_needs_dns01(_spec(**{"components.cert_manager.solver": "http01"}))
    assert _codes(findings) == [("refuse", "wildcard-http01")]
    assert "only through DNS-01" in findings[0].message
    assert "wildcard-example-com" in findings[0].message


def test_http01_without_a_wildcard_is_fine() -> None:
    spec = _spec(**{"components.cert_manager.solver": "http01",
                    "components.cert_manager.wildcard_certificate": None})
    assert guards.wildcard_needs_dns01(spec) == []


def test_a_long_dns_ttl_warns() -> None:
    findings = guards.dns_ttl(_spec(**{"components.external_dns.ttl": 3600}))
    assert _codes(findings) == [("warn", "dns-ttl")]
    assert "3600 s" in findings[0].message and "partial downtime" in findings[0].message
    assert guards.dns_ttl(_spec(**{"components.external_dns.ttl": 300})) == []
    assert guards.dns_ttl(_spec(**{"components.external_dns.ttl": 3600,
                                   "components.external_dns.enabled": False})) == []


def test_production_issuer_before_staging_warns_unless_allowed() -> None:
    spec = _spec(**{"components.cert_manager.issuer": "production"})
    findings = guards.production_issuer(spec, staging_succeeded=False)
    assert _codes(findings) == [("warn", "production-before-staging")]
    assert "rate limits" in findings[0].message and "--production" in findings[0].message
    assert guards.production_issuer(spec, staging_succeeded=True) == []
    assert guards.production_issuer(spec, staging_succeeded=False, production_ok=True) == []
    assert guards.production_issuer(_spec(), staging_succeeded=False) == []


def test_a_version_the_api_does_not_offer_is_refused_with_the_offered_ones() -> None:
    findings = guards.k8s_version_offered(_spec(**{"cluster.k8s_version": "1.17"}),
                                          ("1.9", "1.10", "1.36"))
    assert _codes(findings) == [("refuse", "k8s-version")]
    assert findings[0].message == (
        "Kubernetes 1.17 is not offered by the Linode API (offered: 1.9, 1.10, 1.36)")
    assert guards.k8s_version_offered(_spec(), OFFERED) == []


def test_turning_ha_off_is_refused() -> None:
    spec = _spec(**{"cluster.high_availability": False})
    findings = guards.ha_not_reversible(spec, current_ha=True)
    assert _codes(findings) == [("refuse", "ha-off")]
    assert "cannot turn it off" in findings[0].message
    assert guards.ha_not_reversible(spec, current_ha=False) == []
    assert guards.ha_not_reversible(spec, current_ha=None) == []  # no cluster yet
    assert guards.ha_not_reversible(_spec(), current_ha=False) == []  # turning it on is fine


def test_spec_findings_list_refusals_before_warnings() -> None:
    spec = _spec(**{"components.external_dns.ttl": 3600,
                    "components.cert_manager.solver": "http01",
                    "components.ingress_nginx.replicas_per_node": 2})
    assert _codes(guards.spec_findings(spec)) == [
        ("refuse", "wildcard-http01"), ("refuse", "ingress-replicas"), ("warn", "dns-ttl")]
