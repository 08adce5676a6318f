"""`cpanel plan`: desired (`platform.yaml`) against actual, on the Linode side and, when the
cluster exists, on the Kubernetes side, with the guard rails' findings.

The Kubernetes side reaches the cluster through the kubeconfig the Linode API hands out for
it, never through whichever context happens to be current: a plan for `prod` is always about
`prod`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from cpanel_platform.kube.client import KubeConfigError, KubeTarget, connect_config
from cpanel_platform.provision import guards, kubeconfig, lke_ops
from cpanel_platform.provision.components import (
    ISSUERS,
    VERSION_LABEL,
    Component,
    Fetch,
    components,
)
from cpanel_platform.provision.guards import Finding
from cpanel_platform.provision.kube_apply import Applier, KubeApplyError, ObjectChange, waiting_on
from cpanel_platform.provision.linode_plan import (
    ActualCluster,
    Change,
    PlanError,
    linode_client,
    plan_linode,
    read_actual,
)
from cpanel_platform.provision.spec import PlatformSpec


@dataclass(frozen=True)
class ComponentPlan:
    name: str
    version: str  # desired
    installed: str | None  # the version label on its live objects; None when not installed
    changes: tuple[ObjectChange, ...]
    waiting: tuple[str, ...] = ()  # live objects that are not healthy, and why

    @property
    def pending(self) -> tuple[ObjectChange, ...]:
        return tuple(c for c in self.changes if c.action != "unchanged")

    @property
    def drift(self) -> tuple[ObjectChange, ...]:
        return tuple(c for c in self.changes if c.drift)


@dataclass(frozen=True)
class Plan:
    label: str
    cluster: ActualCluster | None
    linode: tuple[Change, ...]
    findings: tuple[Finding, ...]
    components: tuple[ComponentPlan, ...]
    kube_note: str = ""  # why the Kubernetes side could not be compared object by object
    context: str = ""  # the cluster's context name in its kubeconfig
    kubeconfig: dict[str, object] = field(default_factory=dict, repr=False)  # credentials

    @property
    def refusals(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.level == "refuse")

    @property
    def destructive(self) -> tuple[Change, ...]:
        return tuple(c for c in self.linode if c.destructive)

    @property
    def has_changes(self) -> bool:
        return bool(self.linode) or any(c.pending for c in self.components)


def make_plan(
    spec: PlatformSpec,
    *,
    token: str | None,
    linode_url: str,
    fetch: Fetch,
    production_ok: bool = False,
) -> Plan:
    """The whole plan. Raises `PlanError` (Linode), `ManifestError` (releases), or
    `KubeApplyError`/`KubeConfigError` (the cluster's API)."""
    actual = read_actual(token, linode_url, spec.cluster.label)
    linode_changes, findings = plan_linode(spec, actual)
    findings = guards.refusals_first([*findings, *guards.spec_findings(spec)])
    wanted = components(spec, fetch, token)
    cluster = actual.cluster
    replacing = any(c.action == "replace-cluster" for c in linode_changes)
    if cluster is None or replacing:
        note = "the cluster does not exist yet: every object is created"
        plans = tuple(_all_new(c) for c in wanted)
        findings += guards.production_issuer(
            spec, staging_succeeded=False, production_ok=production_ok
        )
        return Plan(spec.cluster.label, cluster, tuple(linode_changes), tuple(findings), plans,
                    note)
    with linode_client(token, linode_url) as client:
        text = lke_ops.kubeconfig(client, cluster.id)
    if text is None:
        note = "the cluster's control plane is still starting: objects are compared on `up`"
        return Plan(spec.cluster.label, cluster, tuple(linode_changes), tuple(findings),
                    tuple(_all_new(c) for c in wanted), note)
    config = kubeconfig.parse(text, f"the kubeconfig of LKE cluster {cluster.id}")
    target = connect_cluster(config, cluster.id)
    applier = Applier(target.api)
    plans = tuple(compare(applier, c) for c in wanted)
    findings += guards.production_issuer(
        spec, staging_succeeded=staging_succeeded(applier), production_ok=production_ok
    )
    return Plan(
        spec.cluster.label, cluster, tuple(linode_changes), tuple(findings), plans,
        context=target.context, kubeconfig=config,
    )


def connect_cluster(config: Mapping[str, object], cluster_id: int) -> KubeTarget:
    try:
        return connect_config(dict(config), f"the kubeconfig of LKE cluster {cluster_id}")
    except KubeConfigError as err:
        raise PlanError(str(err)) from None


def compare(applier: Applier, component: Component) -> ComponentPlan:
    """One component's changes, installed version and health, from its live objects."""
    changes, waiting, installed = [], [], None
    for doc in component.documents:
        change, live = applier.change(doc)
        changes.append(change)
        if live is None:
            continue
        if installed is None and doc in component.workloads:
            installed = (live["metadata"].get("labels") or {}).get(VERSION_LABEL)
        why = waiting_on(live)
        if why:
            waiting.append(f"{change.ref}: {why}")
    return ComponentPlan(
        component.name, component.version, installed, tuple(changes), tuple(waiting)
    )


def _all_new(component: Component) -> ComponentPlan:
    changes = tuple(
        ObjectChange(d["kind"], d["metadata"].get("namespace", ""), d["metadata"]["name"],
                     "create")
        for d in component.documents
    )
    return ComponentPlan(component.name, component.version, None, changes)


def staging_succeeded(applier: Applier) -> bool:
    """Whether an ACME certificate has been issued here before: one Ready from the staging
    issuer, or any already Ready from production (it worked; the warning is moot)."""
    try:
        certs = applier.list("cert-manager.io/v1", "Certificate", "")
    except KubeApplyError:
        return False
    issuers = {name for name, _ in ISSUERS.values()}
    return any(
        (c.get("spec", {}).get("issuerRef") or {}).get("name") in issuers
        and any(
            cond.get("type") == "Ready" and cond.get("status") == "True"
            for cond in (c.get("status") or {}).get("conditions", [])
        )
        for c in certs
    )

