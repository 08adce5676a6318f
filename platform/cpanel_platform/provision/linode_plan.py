"""The Linode side of `cpanel plan`: the LKE cluster as it is, and the changes that would make
it match `platform.yaml`.

`read_actual` talks to the Linode API; `plan_linode` is pure, so every rule is testable
without one.

Pools are matched by node type, as a pool's type cannot change in place: the spec's pools of a
type pair with the cluster's pools of that type in order (spec order, cluster pools by id).
Unpaired spec pools are created; unpaired cluster pools are deleted (destructive).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import requests
from linode_api4 import ApiError, LinodeClient, UnexpectedResponseError

from cpanel_platform.linode_source import NO_TOKEN, TimeoutAdapter, list_all
from cpanel_platform.netreason import network_reason, one_line
from cpanel_platform.provision import guards
from cpanel_platform.provision.guards import Finding
from cpanel_platform.provision.spec import Autoscaler, PlatformSpec, Pool


class PlanError(Exception):
    """The Linode API could not be read; the message names the cause."""


@dataclass(frozen=True)
class ActualAutoscaler:
    enabled: bool
    min: int
    max: int


@dataclass(frozen=True, order=True)
class ActualTaint:
    key: str
    value: str
    effect: str


@dataclass(frozen=True)
class ActualPool:
    id: int
    type: str
    count: int
    autoscaler: ActualAutoscaler
    labels: tuple[tuple[str, str], ...]  # sorted (key, value) pairs
    taints: tuple[ActualTaint, ...]  # sorted


@dataclass(frozen=True)
class ActualCluster:
    id: int
    label: str
    region: str
    k8s_version: str
    high_availability: bool
    status: str
    pools: tuple[ActualPool, ...]  # by id


@dataclass(frozen=True)
class ActualDomain:
    id: int
    domain: str
    ttl_sec: int  # the default TTL of its records; 0 is Linode's own default (a day)


@dataclass(frozen=True)
class LinodeActual:
    """The account as `plan_linode` needs it. An empty `regions` or `node_types` means unknown,
    and their checks are skipped; `domains` None means not read."""

    cluster: ActualCluster | None  # the cluster with the spec's label
    offered_versions: tuple[str, ...]  # GET /lke/versions
    regions: tuple[str, ...] = ()  # GET /regions
    node_types: tuple[str, ...] = ()  # GET /linode/types (/lke/types lists control planes)
    domains: tuple[ActualDomain, ...] | None = None  # GET /domains


@dataclass(frozen=True)
class Change:
    action: str  # create-cluster, upgrade-version, enable-ha, replace-cluster, *-pool
    target: str
    detail: str
    destructive: bool = False
    pool: Pool | None = None  # the desired pool, for create-, resize- and update-pool
    pool_id: int | None = None  # the existing pool, for resize-, update- and delete-pool
    domain_id: int | None = None  # for set-domain-ttl
    ttl: int | None = None  # for set-domain-ttl


def read_actual(
    token: str | None, base_url: str, label: str, *, timeout: float = 10.0
) -> LinodeActual:
    """The cluster labelled `label` (or None) and the API's catalogue; `PlanError` on failure."""
    with linode_client(token, base_url, timeout) as client:
        return _read(client, label)


@contextlib.contextmanager
def linode_client(
    token: str | None, base_url: str, timeout: float = 10.0
) -> Iterator[LinodeClient]:
    """A linode-api4 client whose failures inside the block become one-line `PlanError`s."""
    if not token:
        raise PlanError(f"{NO_TOKEN}; the plan needs the Linode API to compare against")
    base_url = base_url.rstrip("/")
    # No retries: linode-api4 would sleep through a 429's Retry-After, up to a minute each.
    client = LinodeClient(token, base_url=base_url, retry=False)
    adapter = TimeoutAdapter(timeout)
    client.session.mount("https://", adapter)
    client.session.mount("http://", adapter)
    try:
        yield client
    except ApiError as exc:
        raise PlanError(_api_reason(exc, base_url)) from None
    except requests.Timeout:
        raise PlanError(
            f"the Linode API at {base_url} did not answer within {timeout:g} s; "
            "check LINODE_API_URL and the network, then run the plan again"
        ) from None
    except requests.RequestException as exc:
        raise PlanError(
            f"cannot reach the Linode API at {base_url} ({network_reason(exc)}); "
            "check LINODE_API_URL and the network"
        ) from None
    except (UnexpectedResponseError, ValueError, KeyError, TypeError) as exc:
        detail = one_line(exc)
        raise PlanError(
            f"unexpected answer from the Linode API at {base_url}: {detail}"
        ) from None
    finally:
        client.session.close()


def _read(client: LinodeClient, label: str) -> LinodeActual:
    found = [c for c in list_all(client, "/lke/clusters") if c.get("label") == label]
    cluster = None
    if found:
        pools = list_all(client, f"/lke/clusters/{found[0]['id']}/pools")
        cluster = _cluster(found[0], pools)
    return LinodeActual(
        cluster,
        tuple(v["id"] for v in list_all(client, "/lke/versions")),
        tuple(r["id"] for r in list_all(client, "/regions")),
        tuple(t["id"] for t in list_all(client, "/linode/types")),
        tuple(
            ActualDomain(d["id"], d["domain"], int(d.get("ttl_sec") or 0))
            for d in list_all(client, "/domains")
        ),
    )


def _cluster(found: Mapping[str, Any], pools: list[dict[str, Any]]) -> ActualCluster:
    return ActualCluster(
        found["id"],
        found["label"],
        found.get("region", ""),
        found.get("k8s_version", ""),
        bool((found.get("control_plane") or {}).get("high_availability")),
        found.get("status", ""),
        tuple(_pool(p) for p in sorted(pools, key=lambda p: p["id"])),
    )


def _pool(p: Mapping[str, Any]) -> ActualPool:
    count = int(p.get("count", 0))
    scaler = p.get("autoscaler") or {}
    return ActualPool(
        p["id"],
        p.get("type", ""),
        count,
        ActualAutoscaler(
            bool(scaler.get("enabled")), int(scaler.get("min", count)),
            int(scaler.get("max", count)),
        ),
        tuple(sorted((p.get("labels") or {}).items())),
        tuple(sorted(
            ActualTaint(t["key"], t.get("value", ""), t["effect"]) for t in p.get("taints") or ()
        )),
    )


def _api_reason(exc: ApiError, base_url: str) -> str:
    if exc.status == 401:
        return (
            f"the Linode API at {base_url} rejected the token (HTTP 401): "
            "check LINODE_TOKEN, or make a new token"
        )
    if exc.status == 403:
        detail = "; ".join(exc.errors) or "forbidden"
        return (
            f"the Linode token lacks a scope the plan needs (HTTP 403: {detail}): "
            "it needs read access to LKE and Linodes"
        )
    if exc.status == 429:
        return (
            f"the Linode API at {base_url} is rate limiting this token (HTTP 429): "
            "wait a minute and run the plan again"
        )
    detail = "; ".join(exc.errors) or one_line(exc)
    return f"the Linode API at {base_url} answered HTTP {exc.status}: {detail}"


# --- planning ----------------------------------------------------------------------------------


def plan_linode(spec: PlatformSpec, actual: LinodeActual) -> tuple[list[Change], list[Finding]]:
    """The changes that make the cluster match `spec`, and the refusals that block them."""
    wanted = spec.cluster
    findings = _catalogue_findings(spec, actual)
    dns_changes, dns_findings = _domain(spec, actual.domains)
    findings += dns_findings
    current = actual.cluster
    # A version the cluster already runs needs no offer: LKE keeps running retired minors.
    if current is None or current.region != wanted.region or (
        current.k8s_version != wanted.k8s_version
    ):
        findings += guards.k8s_version_offered(spec, actual.offered_versions)
    if current is None:
        pools = ", ".join(f"{p.count} × {p.type}" for p in wanted.pools)
        ha = ", HA control plane" if wanted.high_availability else ""
        detail = f"{wanted.region}, Kubernetes {wanted.k8s_version}{ha}, pools: {pools}"
        changes = [Change("create-cluster", f"cluster {wanted.label}", detail), *dns_changes]
        return changes, guards.refusals_first(findings)
    target = f"cluster {current.label}"
    if current.region != wanted.region:
        # LKE cannot move a cluster: the new one is created from the spec, so nothing else
        # about the old one matters.
        detail = (
            f"region {current.region} → {wanted.region}: LKE cannot move a cluster, so it is "
            f"deleted with its nodes and created again in {wanted.region}"
        )
        changes = [Change("replace-cluster", target, detail, destructive=True), *dns_changes]
        return changes, guards.refusals_first(findings)
    changes: list[Change] = []
    version_change, version_findings = _version(current, wanted.k8s_version)
    changes += version_change
    findings += version_findings
    findings += guards.ha_not_reversible(spec, current_ha=current.high_availability)
    if wanted.high_availability and not current.high_availability:
        changes.append(Change("enable-ha", target, "a replicated control plane (irreversible)"))
    changes += _pool_changes(wanted.pools, current.pools)
    return [*changes, *dns_changes], guards.refusals_first(findings)


def _domain(
    spec: PlatformSpec, domains: tuple[ActualDomain, ...] | None
) -> tuple[list[Change], list[Finding]]:
    """external-dns gives its records no TTL of their own, so they get the domain's default:
    the TTL in the file is the Linode domain's `ttl_sec`."""
    dns = spec.components.external_dns
    if not dns.enabled or domains is None:
        return [], []
    found = next((d for d in domains if d.domain == dns.domain), None)
    if found is None:
        return [], [Finding(
            "refuse", "unknown-domain",
            f"the domain {dns.domain} is not in this account's Linode Domains, so external-dns "
            "and the DNS-01 solver cannot write its records; add it (linode-cli domains create)",
        )]
    if found.ttl_sec == dns.ttl:
        return [], []
    shown = f"{found.ttl_sec} s" if found.ttl_sec else "Linode's default (86400 s)"
    return [Change(
        "set-domain-ttl", f"domain {found.domain}",
        f"default TTL {shown} → {dns.ttl} s (the TTL of the records external-dns writes)",
        domain_id=found.id, ttl=dns.ttl,
    )], []


def _catalogue_findings(spec: PlatformSpec, actual: LinodeActual) -> list[Finding]:
    findings = []
    region = spec.cluster.region
    if actual.regions and region not in actual.regions:
        findings.append(Finding(
            "refuse", "unknown-region",
            f"region {region} is not a Linode region (known: {', '.join(sorted(actual.regions))})",
        ))
    if actual.node_types:
        for kind in dict.fromkeys(p.type for p in spec.cluster.pools):
            if kind not in actual.node_types:
                findings.append(Finding(
                    "refuse", "unknown-node-type",
                    f"node type {kind} is not a Linode plan (e.g. g6-dedicated-8); "
                    "`linode-cli linodes types` lists them",
                ))
    return findings


def _version(current: ActualCluster, wanted: str) -> tuple[list[Change], list[Finding]]:
    have, want = _minor(current.k8s_version), _minor(wanted)
    if have == want or have is None or want is None:
        return [], []
    target = f"cluster {current.label}"
    if want < have:
        return [], [Finding(
            "refuse", "k8s-downgrade",
            f"{target} runs Kubernetes {current.k8s_version}; LKE cannot downgrade to {wanted}",
        )]
    if want != (have[0], have[1] + 1):
        following = f"{have[0]}.{have[1] + 1}"
        return [], [Finding(
            "refuse", "k8s-skip-minor",
            f"{target} runs Kubernetes {current.k8s_version}; LKE upgrades one minor at a time, "
            f"so set k8s_version: \"{following}\" first, then {wanted}",
        )]
    detail = f"Kubernetes {current.k8s_version} → {wanted} (nodes are recycled to the new version)"
    return [Change("upgrade-version", target, detail)], []


def _minor(version: str) -> tuple[int, int] | None:
    try:
        major, minor = version.split(".")[:2]
        return int(major), int(minor)
    except ValueError:
        return None


def _pool_changes(wanted: list[Pool], current: tuple[ActualPool, ...]) -> list[Change]:
    changes: list[Change] = []
    unmatched = list(current)
    for pool in wanted:
        match = next((p for p in unmatched if p.type == pool.type), None)
        if match is None:
            changes.append(
                Change("create-pool", f"pool {pool.type}", _describe_pool(pool), pool=pool)
            )
            continue
        unmatched.remove(match)
        changes += _pool_diff(pool, match)
    changes += [
        Change(
            "delete-pool", f"pool {p.type} (id {p.id})",
            f"{p.count} node(s) not in the spec are drained and deleted", destructive=True,
            pool_id=p.id,
        )
        for p in unmatched
    ]
    return changes


def _pool_diff(pool: Pool, have: ActualPool) -> list[Change]:
    target = f"pool {have.type} (id {have.id})"
    changes = []
    scaler = _autoscaler(pool.autoscaler, pool.count)
    # With the autoscaler on, the count within min..max is the autoscaler's to choose.
    in_range = scaler.enabled and scaler.min <= have.count <= scaler.max
    if pool.count != have.count and not in_range:
        changes.append(Change(
            "resize-pool", target, f"{have.count} → {pool.count} nodes", pool=pool, pool_id=have.id
        ))
    differs = []
    if scaler != have.autoscaler and (scaler.enabled or have.autoscaler.enabled):
        differs.append("autoscaler")
    if tuple(sorted(pool.labels.items())) != have.labels:
        differs.append("labels")
    taints = tuple(sorted(ActualTaint(t.key, t.value, t.effect) for t in pool.taints))
    if taints != have.taints:
        differs.append("taints")
    if differs:
        changes.append(
            Change("update-pool", target, ", ".join(differs), pool=pool, pool_id=have.id)
        )
    return changes


def _autoscaler(scaler: Autoscaler | None, count: int) -> ActualAutoscaler:
    if scaler is None:
        return ActualAutoscaler(False, count, count)
    return ActualAutoscaler(scaler.enabled, scaler.min, scaler.max)


def _describe_pool(pool: Pool) -> str:
    text = f"{pool.count} × {pool.type}"
    if pool.autoscaler and pool.autoscaler.enabled:
        text += f", autoscaling {pool.autoscaler.min}–{pool.autoscaler.max}"
    return text
