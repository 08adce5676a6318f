"""`cpanel up` and `cpanel down`: carry a plan out, in dependency order, and report progress.

Nothing here keeps state of its own: every step first reads what is there (the cluster by its
label, each object by a dry-run apply) and acts only on the difference. That is what makes an
interrupted `up` resumable, and a second `up` a read-only pass.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from linode_api4 import LinodeClient

from cpanel_platform.linode_source import list_all
from cpanel_platform.provision import kubeconfig, lke_ops
from cpanel_platform.provision.components import Component, Doc, Fetch, components
from cpanel_platform.provision.kube_apply import Applier, doc_ref, waiting_on
from cpanel_platform.provision.linode_plan import Change, linode_client
from cpanel_platform.provision.plan import Plan, connect_cluster
from cpanel_platform.provision.spec import PlatformSpec

POLL_SECONDS = 2.0
CLUSTER = "cluster"  # the component name events about the LKE cluster carry


class UpError(Exception):
    """`up` stopped; the message says why and what to do. Whatever was applied stays, and
    the next `up` resumes from it."""


@dataclass(frozen=True)
class Event:
    component: str  # CLUSTER or a component's name
    message: str
    kind: Literal["step", "wait", "done"] = "step"


Report = Callable[[Event], None]


def carry_out(
    spec: PlatformSpec,
    plan: Plan,
    *,
    token: str,
    linode_url: str,
    fetch: Fetch,
    kubeconfig_path: Path,
    report: Report,
    allow_destroy: bool = False,
    timeout: float = 900.0,
    stop: threading.Event | None = None,
) -> str:
    """Make the platform match `spec`; return the cluster's kubeconfig context. `timeout`
    bounds each wait; `stop` (set from another thread) ends the run between steps."""
    if plan.refusals:
        raise UpError("refused: " + "; ".join(f.message for f in plan.refusals))
    if plan.destructive and not allow_destroy:
        what = "; ".join(f"{c.target}: {c.detail}" for c in plan.destructive)
        raise UpError(f"the plan would destroy ({what}); pass --allow-destroy to go ahead")
    checkpoint = _checkpoint(stop)
    with linode_client(token, linode_url, timeout=30.0) as client:
        cluster_id = _linode(client, spec, plan, report, checkpoint)
        checkpoint()
        report(Event(CLUSTER, "waiting for the control plane and nodes", "wait"))
        text = lke_ops.wait_ready(
            client, cluster_id, lambda s: report(Event(CLUSTER, s, "wait")), timeout=timeout
        )
    config = kubeconfig.parse(text, f"the kubeconfig of LKE cluster {cluster_id}")
    context = kubeconfig.merge(kubeconfig_path, config)
    report(Event(CLUSTER, f"ready; context {context} added to {kubeconfig_path}", "done"))
    applier = Applier(connect_cluster(config, cluster_id).api)
    for component in components(spec, fetch, token):
        checkpoint()
        _component(applier, component, report, checkpoint, timeout)
    return context


def _checkpoint(stop: threading.Event | None) -> Callable[[], None]:
    def check() -> None:
        if stop is not None and stop.is_set():
            raise UpError("stopped; run `cpanel up` again to go on from here")

    return check


def _linode(
    client: LinodeClient,
    spec: PlatformSpec,
    plan: Plan,
    report: Report,
    checkpoint: Callable[[], None],
) -> int:
    cluster_id = plan.cluster.id if plan.cluster else 0
    for change in plan.linode:
        checkpoint()
        cluster_id = _linode_change(client, spec, cluster_id, change, report)
    return cluster_id


def _linode_change(
    client: LinodeClient, spec: PlatformSpec, cluster_id: int, change: Change, report: Report
) -> int:
    say = lambda text: report(Event(CLUSTER, text))  # noqa: E731
    if change.action == "replace-cluster":
        lke_ops.delete_cluster(client, cluster_id)
        say(f"deleted {change.target} ({change.detail})")
    if change.action in ("create-cluster", "replace-cluster"):
        cluster_id = lke_ops.create_cluster(client, spec)
        say(f"created LKE cluster {spec.cluster.label} (id {cluster_id})")
    elif change.action == "enable-ha":
        lke_ops.enable_ha(client, cluster_id)
        say("high-availability control plane enabled")
    elif change.action == "create-pool" and change.pool:
        lke_ops.create_pool(client, cluster_id, change.pool)
        say(f"created {change.target}: {change.detail}")
    elif change.action in ("resize-pool", "update-pool") and change.pool and change.pool_id:
        lke_ops.update_pool(client, cluster_id, change.pool_id, change.pool)
        say(f"updated {change.target}: {change.detail}")
    elif change.action == "delete-pool" and change.pool_id:
        lke_ops.delete_pool(client, cluster_id, change.pool_id)
        say(f"deleted {change.target}")
    elif change.action == "set-domain-ttl" and change.domain_id and change.ttl:
        lke_ops.set_domain_ttl(client, change.domain_id, change.ttl)
        say(f"{change.target}: {change.detail}")
    elif change.action == "upgrade-version":
        # Nodes must be recycled one at a time onto the new version; that is not `up`'s job.
        say(f"left alone: {change.detail}; upgrades are `cpanel upgrade`'s job")
    return cluster_id


def _component(
    applier: Applier,
    component: Component,
    report: Report,
    checkpoint: Callable[[], None],
    timeout: float,
) -> None:
    name = component.name
    report(Event(name, f"{component.version}: applying"))
    _converge(applier, name, component.foundations, report, checkpoint)
    crds = [d for d in component.foundations if d["kind"] == "CustomResourceDefinition"]
    _wait(applier, name, crds, report, checkpoint, timeout)
    for crd in crds:  # their kinds are served now
        for version in crd["spec"].get("versions", []):
            applier.discovery.forget(f"{crd['spec']['group']}/{version['name']}")
    _converge(applier, name, component.workloads, report, checkpoint)
    _wait(applier, name, component.workloads, report, checkpoint, timeout)
    _converge(applier, name, component.resources, report, checkpoint)
    _wait(applier, name, component.resources, report, checkpoint, timeout)
    report(Event(name, "healthy", "done"))


def _converge(
    applier: Applier,
    name: str,
    docs: Sequence[Doc],
    report: Report,
    checkpoint: Callable[[], None],
) -> None:
    for doc in docs:
        checkpoint()
        change, _ = applier.change(doc)
        if change.action == "unchanged":
            continue
        applier.apply(doc)
        verb = "created" if change.action == "create" else "updated"
        fields = f" ({', '.join(f.path for f in change.fields[:3])})" if change.fields else ""
        report(Event(name, f"{change.ref} {verb}{fields}"))


def _wait(
    applier: Applier,
    name: str,
    docs: Sequence[Doc],
    report: Report,
    checkpoint: Callable[[], None],
    timeout: float,
) -> None:
    deadline = time.monotonic() + timeout
    said = ""
    for doc in docs:
        while True:
            checkpoint()
            live = applier.live(doc)
            why = "not created" if live is None else waiting_on(live)
            if why is None:
                break
            if f"{doc_ref(doc)}: {why}" != said:
                said = f"{doc_ref(doc)}: {why}"
                report(Event(name, said, "wait"))
            if time.monotonic() > deadline:
                raise UpError(
                    f"{name}: {said} after {timeout:.0f} s; what was applied stays, and "
                    "`cpanel up` goes on from here"
                )
            time.sleep(POLL_SECONDS)


def down(
    spec: PlatformSpec, *, token: str, linode_url: str, kubeconfig_path: Path
) -> int | None:
    """Delete the cluster labelled as in `spec` and its kubeconfig entries; the id deleted, or
    None when there was no such cluster."""
    label = spec.cluster.label
    with linode_client(token, linode_url, timeout=30.0) as client:
        found = [c for c in list_all(client, "/lke/clusters") if c["label"] == label]
        if not found:
            return None
        cluster_id = int(found[0]["id"])
        text = lke_ops.kubeconfig(client, cluster_id)
        lke_ops.delete_cluster(client, cluster_id)
    if text is not None:
        kubeconfig.remove(kubeconfig_path, kubeconfig.parse(text, "the LKE kubeconfig"))
    return cluster_id
