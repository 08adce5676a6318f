"""The site's availability as the cluster sees it, for watching an operation live: every
Ingress host has at least one Ready pod behind its Service, on a Ready node. It is what the
endpoints controller would publish, read straight from pods, so it answers within a poll
even when metrics lag a scrape or two behind."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from cpanel_platform.kube.rest import call

if TYPE_CHECKING:
    from kubernetes.client import ApiClient


@dataclass(frozen=True)
class Availability:
    up: bool
    hosts: int  # Ingress hosts checked
    down: tuple[str, ...]  # hosts without a Ready backend

    @property
    def text(self) -> str:
        if not self.hosts:
            return "no Ingress hosts to check"
        if self.up:
            return f"up: {self.hosts} host(s) have Ready backends"
        return f"DOWN: no Ready backend for {', '.join(self.down)}"


def check(api: ApiClient) -> Availability:
    """Raises rest.ApiError / TransportError when the API cannot be read."""
    ingresses = call(api, "GET", "/apis/networking.k8s.io/v1/ingresses")["items"]
    services = {
        (s["metadata"]["namespace"], s["metadata"]["name"]): s
        for s in call(api, "GET", "/api/v1/services")["items"]
    }
    ready_nodes = {
        n["metadata"]["name"] for n in call(api, "GET", "/api/v1/nodes")["items"]
        if _true(n, "Ready")
    }
    pods = [
        p for p in call(api, "GET", "/api/v1/pods")["items"]
        if p["spec"].get("nodeName") in ready_nodes and _true(p, "Ready")
        and not p["metadata"].get("deletionTimestamp")
    ]
    hosts, down = 0, []
    for ingress in ingresses:
        namespace = ingress["metadata"]["namespace"]
        for rule in ingress["spec"].get("rules", []):
            for path in (rule.get("http") or {}).get("paths", []):
                backend = path.get("backend", {}).get("service", {}).get("name")
                service = services.get((namespace, backend))
                hosts += 1
                if service is None or not _backed(service, pods):
                    down.append(rule.get("host") or f"{namespace}/{backend}")
    return Availability(not down, hosts, tuple(dict.fromkeys(down)))


def _backed(service: dict[str, Any], pods: list[dict[str, Any]]) -> bool:
    selector = service["spec"].get("selector") or {}
    namespace = service["metadata"]["namespace"]
    return bool(selector) and any(
        p["metadata"]["namespace"] == namespace
        and selector.items() <= (p["metadata"].get("labels") or {}).items()
        for p in pods
    )


def _true(obj: dict[str, Any], condition: str) -> bool:
    return any(c.get("type") == condition and c.get("status") == "True"
               for c in (obj.get("status") or {}).get("conditions", []))
