"""The Linode side of `up` and `down`: creating, changing and deleting the LKE cluster, and
waiting for it. Each call is one request, safe to repeat after an interruption: `up` plans
again from what the API says before it acts."""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from typing import Any

from linode_api4 import ApiError, LinodeClient

from cpanel_platform.provision.linode_plan import ActualCluster, PlanError
from cpanel_platform.provision.spec import Autoscaler, PlatformSpec, Pool

POLL_SECONDS = 2.0
Say = Callable[[str], None]


def pool_body(pool: Pool) -> dict[str, Any]:
    return {
        "type": pool.type,
        "count": pool.count,
        "autoscaler": _autoscaler(pool.autoscaler, pool.count),
        "labels": dict(pool.labels),
        "taints": [t.model_dump() for t in pool.taints],
    }


def _autoscaler(scaler: Autoscaler | None, count: int) -> dict[str, Any]:
    if scaler is None:
        return {"enabled": False, "min": count, "max": count}
    return {"enabled": scaler.enabled, "min": scaler.min, "max": scaler.max}


def create_cluster(client: LinodeClient, spec: PlatformSpec) -> int:
    wanted = spec.cluster
    body = {
        "label": wanted.label,
        "region": wanted.region,
        "k8s_version": wanted.k8s_version,
        "node_pools": [pool_body(p) for p in wanted.pools],
        "control_plane": {"high_availability": wanted.high_availability},
    }
    return int(client.post("/lke/clusters", data=body)["id"])


def enable_ha(client: LinodeClient, cluster_id: int) -> None:
    client.put(f"/lke/clusters/{cluster_id}", data={"control_plane": {"high_availability": True}})


def create_pool(client: LinodeClient, cluster_id: int, pool: Pool) -> None:
    client.post(f"/lke/clusters/{cluster_id}/pools", data=pool_body(pool))


def update_pool(client: LinodeClient, cluster_id: int, pool_id: int, pool: Pool) -> None:
    body = pool_body(pool)
    del body["type"]  # a pool's type cannot change
    client.put(f"/lke/clusters/{cluster_id}/pools/{pool_id}", data=body)


def delete_pool(client: LinodeClient, cluster_id: int, pool_id: int) -> None:
    client.delete(f"/lke/clusters/{cluster_id}/pools/{pool_id}")


def delete_cluster(client: LinodeClient, cluster_id: int) -> None:
    client.delete(f"/lke/clusters/{cluster_id}")


def set_domain_ttl(client: LinodeClient, domain_id: int, ttl: int) -> None:
    client.put(f"/domains/{domain_id}", data={"ttl_sec": ttl})


def kubeconfig(client: LinodeClient, cluster_id: int) -> str | None:
    """The cluster's kubeconfig YAML, or None while its control plane is still coming up."""
    try:
        answer = client.get(f"/lke/clusters/{cluster_id}/kubeconfig")
    except ApiError as exc:
        if exc.status == 503:
            return None
        raise
    return base64.b64decode(answer["kubeconfig"]).decode()


def wait_ready(
    client: LinodeClient, cluster: ActualCluster | int, say: Say, *, timeout: float
) -> str:
    """Wait until the control plane serves a kubeconfig and every pool's nodes are ready;
    return the kubeconfig."""
    cluster_id = cluster if isinstance(cluster, int) else cluster.id
    deadline = time.monotonic() + timeout
    last = ""
    while True:
        config = kubeconfig(client, cluster_id)
        nodes = [
            node
            for pool in client.get(f"/lke/clusters/{cluster_id}/pools?page_size=500")["data"]
            for node in pool.get("nodes", [])
        ]
        ready = sum(n.get("status") == "ready" for n in nodes)
        if config is not None and nodes and ready == len(nodes):
            return config
        state = "control plane starting" if config is None else "control plane up"
        now = f"{state}; {ready}/{len(nodes)} nodes ready"
        if now != last:
            say(now)
            last = now
        if time.monotonic() > deadline:
            raise PlanError(
                f"LKE cluster {cluster_id} was not ready within {timeout:.0f} s ({now}); "
                "run `cpanel up` again to go on waiting"
            )
        time.sleep(POLL_SECONDS)
