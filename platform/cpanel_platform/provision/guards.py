"""Guard rails: the known mistakes from the reference platform's history, found before `up`.

Each check is a pure function of the spec and the facts the caller gathered (offered versions,
the cluster as it is, whether the staging issuer has worked), so a plan can show them all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from cpanel_platform.provision.spec import PlatformSpec


@dataclass(frozen=True)
class Finding:
    level: Literal["refuse", "warn"]
    code: str
    message: str


def wildcard_needs_dns01(spec: PlatformSpec) -> list[Finding]:
    certs = spec.components.cert_manager
    if not certs.enabled or certs.wildcard_certificate is None or certs.solver == "dns01":
        return []
    return [Finding(
        "refuse", "wildcard-http01",
        f"the wildcard certificate {certs.wildcard_certificate.name} cannot be issued with "
        "HTTP-01: Let's Encrypt issues wildcards only through DNS-01 (set solver: dns01)",
    )]


def dns_ttl(spec: PlatformSpec) -> list[Finding]:
    dns = spec.components.external_dns
    if not dns.enabled or dns.ttl <= 300:
        return []
    return [Finding(
        "warn", "dns-ttl",
        f"external-dns TTL is {dns.ttl} s: a 3600 s TTL left in place during a cut-over, with "
        "HTTP-01 validation, hit Let's Encrypt rate limits and caused about 30 minutes of "
        "partial downtime; keep it at 300 s or less",
    )]


def production_issuer(
    spec: PlatformSpec, *, staging_succeeded: bool, production_ok: bool = False
) -> list[Finding]:
    certs = spec.components.cert_manager
    if not certs.enabled or certs.issuer != "production" or staging_succeeded or production_ok:
        return []
    return [Finding(
        "warn", "production-before-staging",
        "the production ACME issuer is used before the staging issuer has issued a certificate: "
        "a misconfigured solver then burns Let's Encrypt's production rate limits; issue from "
        "staging first, or pass --production to go ahead",
    )]


def k8s_version_offered(spec: PlatformSpec, offered_versions: Sequence[str]) -> list[Finding]:
    wanted = spec.cluster.k8s_version
    if wanted in offered_versions:
        return []
    offered = ", ".join(sorted(offered_versions, key=_version_key)) or "none"
    return [Finding(
        "refuse", "k8s-version",
        f"Kubernetes {wanted} is not offered by the Linode API (offered: {offered})",
    )]


def ha_not_reversible(spec: PlatformSpec, *, current_ha: bool | None) -> list[Finding]:
    if not current_ha or spec.cluster.high_availability:
        return []
    return [Finding(
        "refuse", "ha-off",
        f"cluster {spec.cluster.label} has a high-availability control plane, and LKE cannot "
        "turn it off once on; set high_availability: true",
    )]


def ingress_per_node(spec: PlatformSpec) -> list[Finding]:
    ingress = spec.components.ingress_nginx
    if not ingress.enabled or ingress.replicas_per_node == 1:
        return []
    return [Finding(
        "refuse", "ingress-replicas",
        f"ingress_nginx.replicas_per_node is {ingress.replicas_per_node}, but the release runs "
        "the controller as a DaemonSet: exactly one per node (set replicas_per_node: 1)",
    )]


def spec_findings(spec: PlatformSpec) -> list[Finding]:
    """The findings that need nothing but the file, refusals first. The others need facts:
    the Linode plan checks versions and HA, and the plan asks the cluster about staging."""
    return refusals_first([*wildcard_needs_dns01(spec), *ingress_per_node(spec), *dns_ttl(spec)])


def refusals_first(findings: list[Finding]) -> list[Finding]:
    return sorted(findings, key=lambda f: f.level != "refuse")


def _version_key(version: str) -> tuple[int, ...]:
    # "1.9" sorts before "1.10"; a name that isn't numeric sorts first rather than failing.
    try:
        return tuple(int(part) for part in version.split("."))
    except ValueError:
        return ()
