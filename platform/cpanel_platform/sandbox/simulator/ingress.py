"""ingress-nginx's status updater: Ingresses of class nginx carry the address of the
controller's LoadBalancer Service, which is what external-dns publishes."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import httpx

from .kube import Kind, Kube, KubeError

log = logging.getLogger(__name__)
INGRESSES = Kind("networking.k8s.io", "v1", "ingresses")
SERVICES = Kind("", "v1", "services")


class IngressNginx:
    def __init__(
        self,
        kube: Kube,
        service: tuple[str, str] = ("ingress-nginx", "ingress-nginx-controller"),
        ingress_class: str = "nginx",
        period: float = 5.0,
    ) -> None:
        self.kube = kube
        self.service = service
        self.ingress_class = ingress_class
        self.period = period

    async def run(self) -> None:
        while True:
            try:
                await self.sync()
            except (KubeError, httpx.HTTPError) as err:
                log.debug("ingress status: %s", err)
            await asyncio.sleep(self.period)

    async def sync(self) -> None:
        svc = await self.kube.get(SERVICES, *self.service)
        address = (svc or {}).get("status", {}).get("loadBalancer", {}).get("ingress") or []
        if not address:
            return
        wanted = {"loadBalancer": {"ingress": [{"ip": a["ip"]} for a in address if "ip" in a]}}
        for ing in (await self.kube.list(INGRESSES))["items"]:
            if self._ours(ing) and ing.get("status") != wanted:
                meta = ing["metadata"]
                await self.kube.patch(
                    INGRESSES, meta["namespace"], meta["name"], {"status": wanted}, sub="status"
                )

    def _ours(self, ing: dict[str, Any]) -> bool:
        return ing["spec"].get("ingressClassName") == self.ingress_class
