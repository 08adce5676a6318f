"""The Linode cloud controller manager: its node lifecycle (a Node whose Linode no longer
exists is deleted once it has gone NotReady, so its pods are rescheduled elsewhere) and its
service controller (NodeBalancers for LoadBalancer Services)."""

from __future__ import annotations

import asyncio
import logging
import zlib
from collections.abc import Callable
from typing import Any

import httpx

from .kube import NODES, Kind, Kube, KubeError

log = logging.getLogger(__name__)
PROVIDER = "linode://"


def linode_id(node: dict[str, Any]) -> int | None:
    provider = node["spec"].get("providerID", "")
    return int(provider[len(PROVIDER) :]) if provider.startswith(PROVIDER) else None


def _ready(node: dict[str, Any]) -> bool:
    return any(
        c["type"] == "Ready" and c["status"] == "True"
        for c in node.get("status", {}).get("conditions", [])
    )


class CloudNodeLifecycle:
    def __init__(
        self, kube: Kube, instance_exists: Callable[[int], bool], period: float = 5.0
    ) -> None:
        self.kube = kube
        self.instance_exists = instance_exists
        self.period = period

    async def run(self) -> None:
        while True:
            try:
                await self.sweep()
            except (KubeError, httpx.HTTPError) as err:
                log.debug("cloud node lifecycle: %s", err)
            await asyncio.sleep(self.period)

    async def sweep(self) -> None:
        for node in (await self.kube.list(NODES))["items"]:
            instance = linode_id(node)
            if instance is not None and not _ready(node) and not self.instance_exists(instance):
                log.info("deleting node %s: Linode %s is gone", node["metadata"]["name"], instance)
                await self.kube.delete(NODES, "", node["metadata"]["name"])


SERVICES = Kind("", "v1", "services")


def nodebalancer_ip(uid: str) -> str:
    """A stable public address for a service's NodeBalancer."""
    digest = zlib.crc32(uid.encode())
    return f"172.233.{(digest >> 8) % 254 + 1}.{digest % 254 + 1}"


class ServiceLoadBalancers:
    """The CCM's service controller: a LoadBalancer Service gets a Linode NodeBalancer, whose
    address appears in the Service's status."""

    def __init__(self, kube: Kube) -> None:
        self.kube = kube

    async def run(self) -> None:
        async for event_type, svc in self.kube.watch(SERVICES):
            if (
                event_type == "DELETED"
                or svc["spec"].get("type") != "LoadBalancer"
                or svc.get("status", {}).get("loadBalancer", {}).get("ingress")
            ):
                continue
            ip = nodebalancer_ip(svc["metadata"]["uid"])
            host = f"{ip.replace('.', '-')}.ip.linodeusercontent.com"
            try:
                await self.kube.patch(
                    SERVICES,
                    svc["metadata"]["namespace"],
                    svc["metadata"]["name"],
                    {
                        "status": {
                            "loadBalancer": {
                                "ingress": [{"ip": ip, "hostname": host, "ipMode": "VIP"}]
                            }
                        }
                    },
                    sub="status",
                )
            except (KubeError, httpx.HTTPError) as err:
                log.warning("load balancer for %s: %s", svc["metadata"]["name"], err)
