"""The Linode side of the plan, as a pure function: the cluster as it is against the spec."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from cpanel_platform.provision.guards import Finding
from cpanel_platform.provision.linode_plan import (
    ActualAutoscaler,
    ActualCluster,
    ActualDomain,
    ActualPool,
    ActualTaint,
    Change,
    LinodeActual,
    plan_linode,
)
from cpanel_platform.provision.spec import PlatformSpec

OFFERED = ("1.35", "1.36", "1.37")
REGIONS = ("us-east", "eu-west")
TYPES = ("g6-dedicated-8", "g6-standard-4")


def _spec(**cluster: Any) -> PlatformSpec:
    data: dict[str, Any] = {
        "label": "prod",
        "region": "us-east",
        "k8s_version": "1.36",
        "high_availability": True,
        "pools": [{"type": "g6-dedicated-8", "count": 3}],
    }
    return PlatformSpec.model_validate({"cluster": data | cluster})


def _pool(id: int = 10, type: str = "g6-dedicated-8", count: int = 3) -> ActualPool:
    return ActualPool(id, type, count, ActualAutoscaler(False, count, count), (), ())


PROD = ActualCluster(1, "prod", "us-east", "1.36", True, "ready", (_pool(),))


def _actual(cluster: ActualCluster | None = PROD) -> LinodeActual:
    return LinodeActual(cluster, OFFERED, REGIONS, TYPES)


def _plan(spec: PlatformSpec, cluster: ActualCluster | None = PROD) -> tuple[
    list[Change], list[Finding]
]:
    return plan_linode(spec, _actual(cluster))


def _actions(changes: list[Change]) -> list[tuple[str, bool]]:
    return [(c.action, c.destructive) for c in changes]


def _codes(findings: list[Finding]) -> list[tuple[str, str]]:
    return [(f.level, f.code) for f in findings]


def test_no_cluster_creates_it_with_its_pools() -> None:
    spec = _spec(pools=[
        {"type": "g6-dedicated-8", "count": 3},
        {"type": "g6-standard-4", "count": 2, "autoscaler": {"min": 2, "max": 5}},
    ])
    changes, findings = _plan(spec, None)
    assert findings == []
    assert _actions(changes) == [("create-cluster", False)]
    assert changes[0].target == "cluster prod"
    detail = changes[0].detail
    assert "us-east" in detail and "1.36" in detail and "HA" in detail
    assert "3 × g6-dedicated-8" in detail and "2 × g6-standard-4" in detail


def test_an_up_to_date_cluster_needs_nothing() -> None:
    assert _plan(_spec()) == ([], [])


def test_one_more_node_resizes_the_pool() -> None:
    spec = _spec(pools=[{"type": "g6-dedicated-8", "count": 4}])
    changes, findings = _plan(spec)
    assert findings == []
    assert changes == [Change(
        "resize-pool", "pool g6-dedicated-8 (id 10)", "3 → 4 nodes",
        pool=spec.cluster.pools[0], pool_id=10,
    )]


def test_a_count_within_the_autoscalers_range_is_left_to_it() -> None:
    scaled = replace(_pool(count=5), autoscaler=ActualAutoscaler(True, 3, 6))
    spec = _spec(pools=[{"type": "g6-dedicated-8", "count": 3,
                         "autoscaler": {"min": 3, "max": 6}}])
    assert _plan(spec, replace(PROD, pools=(scaled,))) == ([], [])


def test_autoscaler_labels_and_taints_update_the_pool() -> None:
    spec = _spec(pools=[{
        "type": "g6-dedicated-8", "count": 3, "autoscaler": {"min": 3, "max": 6},
        "labels": {"role": "db"}, "taints": [{"key": "db", "effect": "NoSchedule"}],
    }])
    changes, _ = _plan(spec)
    assert _actions(changes) == [("update-pool", False)]
    assert changes[0].detail == "autoscaler, labels, taints"

    same = replace(
        _pool(), autoscaler=ActualAutoscaler(True, 3, 6), labels=(("role", "db"),),
        taints=(ActualTaint("db", "", "NoSchedule"),),
    )
    assert _plan(spec, replace(PROD, pools=(same,))) == ([], [])


def test_the_next_minor_is_an_upgrade() -> None:
    changes, findings = _plan(_spec(k8s_version="1.37"))
    assert findings == []
    assert _actions(changes) == [("upgrade-version", False)]
    assert "1.36 → 1.37" in changes[0].detail


def test_skipping_a_minor_is_refused() -> None:
    changes, findings = _plan(_spec(k8s_version="1.38"), replace(PROD, k8s_version="1.36"))
    assert changes == []
    # 1.38 is not offered either: both reasons are given.
    assert _codes(findings) == [("refuse", "k8s-version"), ("refuse", "k8s-skip-minor")]
    assert '"1.37" first' in findings[1].message

    changes, findings = _plan(_spec(k8s_version="1.37"), replace(PROD, k8s_version="1.35"))
    assert changes == [] and _codes(findings) == [("refuse", "k8s-skip-minor")]


def test_a_retired_version_the_cluster_runs_is_not_refused() -> None:
    retired = replace(PROD, k8s_version="1.34")
    assert _plan(_spec(k8s_version="1.34"), retired) == ([], [])
    _, findings = _plan(_spec(k8s_version="1.34"), None)
    assert _codes(findings) == [("refuse", "k8s-version")]


def test_a_downgrade_is_refused() -> None:
    changes, findings = _plan(_spec(k8s_version="1.35"))
    assert changes == []
    assert _codes(findings) == [("refuse", "k8s-downgrade")]
    assert "cannot downgrade" in findings[0].message


def test_ha_is_enabled_but_never_turned_off() -> None:
    changes, findings = _plan(_spec(), replace(PROD, high_availability=False))
    assert findings == [] and _actions(changes) == [("enable-ha", False)]

    changes, findings = _plan(_spec(high_availability=False))
    assert changes == [] and _codes(findings) == [("refuse", "ha-off")]


def test_a_region_change_replaces_the_cluster() -> None:
    changes, findings = _plan(_spec(region="eu-west", k8s_version="1.37"))
    assert findings == []
    assert _actions(changes) == [("replace-cluster", True)]
    assert "us-east → eu-west" in changes[0].detail


def test_pools_match_by_type_and_extra_ones_are_deleted() -> None:
    extra = _pool(id=11, count=2)
    other = _pool(id=12, type="g6-standard-4", count=1)
    changes, findings = _plan(_spec(), replace(PROD, pools=(_pool(), extra, other)))
    assert findings == []
    assert _actions(changes) == [("delete-pool", True), ("delete-pool", True)]
    assert [c.target for c in changes] == [
        "pool g6-dedicated-8 (id 11)", "pool g6-standard-4 (id 12)",
    ]

    spec = _spec(pools=[{"type": "g6-dedicated-8", "count": 3},
                        {"type": "g6-standard-4", "count": 2}])
    changes, _ = _plan(spec)
    assert changes == [Change(
        "create-pool", "pool g6-standard-4", "2 × g6-standard-4", pool=spec.cluster.pools[1]
    )]


def test_an_unknown_region_or_node_type_is_refused() -> None:
    changes, findings = _plan(_spec(region="mars-1"), None)
    assert _actions(changes) == [("create-cluster", False)]
    assert _codes(findings) == [("refuse", "unknown-region")]
    assert "mars-1" in findings[0].message and "us-east" in findings[0].message

    _, findings = _plan(_spec(pools=[{"type": "g1-huge", "count": 1}]))
    assert _codes(findings) == [("refuse", "unknown-node-type")]

    # Unknown lists (an API that does not serve them) skip the checks.
    spec = _spec(region="mars-1")
    assert plan_linode(spec, LinodeActual(None, OFFERED))[1] == []


def _with_dns(ttl: int = 300) -> PlatformSpec:
    spec = _spec()
    return spec.model_copy(update={"components": spec.components.model_copy(update={
        "external_dns": spec.components.external_dns.model_copy(
            update={"enabled": True, "domain": "example.com", "ttl": ttl})
    })})


def _dns_plan(spec: PlatformSpec, *domains: ActualDomain) -> tuple[list[Change], list[Finding]]:
    return plan_linode(spec, replace(_actual(), domains=domains))


def test_the_domain_ttl_follows_the_file() -> None:
    assert _dns_plan(_with_dns(300), ActualDomain(5, "example.com", 300)) == ([], [])
    changes, findings = _dns_plan(_with_dns(300), ActualDomain(5, "example.com", 3600))
    assert findings == []
    assert changes == [Change(
        "set-domain-ttl", "domain example.com",
        "default TTL 3600 s → 300 s (the TTL of the records external-dns writes)",
        domain_id=5, ttl=300,
    )]
    changes, _ = _dns_plan(_with_dns(300), ActualDomain(5, "example.com", 0))
    assert "Linode's default (86400 s) → 300 s" in changes[0].detail


def test_a_domain_the_account_lacks_is_refused() -> None:
    changes, findings = _dns_plan(_with_dns(), ActualDomain(5, "example.org", 300))
    assert changes == []
    assert _codes(findings) == [("refuse", "unknown-domain")]
    assert "example.com is not in this account's Linode Domains" in findings[0].message


def test_domains_not_read_are_not_judged() -> None:
    assert plan_linode(_with_dns(), _actual()) == ([], [])
