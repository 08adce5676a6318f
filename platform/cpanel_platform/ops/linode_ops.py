"""The LKE calls a long operation makes, each retried through rate limits (429) and server
errors (5xx) with the wait the API asks for, so a recycle rides out a busy API instead of
stopping half-way; anything else is an `OpsError` worded for the user."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import requests
from linode_api4 import ApiError, LinodeClient

from cpanel_platform.linode import LkeNode, LkePool
from cpanel_platform.linode_source import NO_TOKEN, TimeoutAdapter, list_all
from cpanel_platform.netreason import network_reason, one_line

RETRY_FOR = 300.0  # seconds one call may spend retrying before the operation stops
MAX_WAIT = 30.0


class OpsError(Exception):
    """A long operation cannot go on; the message says why and what state it left."""


class LinodeOps:
    def __init__(
        self,
        token: str | None,
        base_url: str,
        say: Callable[[str], None],
        *,
        retry_for: float = RETRY_FOR,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not token:
            raise OpsError(NO_TOKEN)
        self.base_url = base_url.rstrip("/")
        self.client = LinodeClient(token, base_url=self.base_url, retry=False)
        adapter = TimeoutAdapter(30.0)
        self.client.session.mount("https://", adapter)
        self.client.session.mount("http://", adapter)
        self.say = say
        self.retry_for = retry_for
        self.sleep = sleep

    def _call(self, method: str, path: str, data: dict[str, Any] | None = None) -> Any:
        deadline = time.monotonic() + self.retry_for
        attempt = 0
        while True:
            try:
                if method == "GET":
                    return self.client.get(path)
                return getattr(self.client, method.lower())(path, data=data or {})
            except ApiError as exc:
                if exc.status != 429 and exc.status < 500:
                    detail = "; ".join(exc.errors) or one_line(exc)
                    raise OpsError(
                        f"the Linode API refused {method} {path} (HTTP {exc.status}: {detail})"
                    ) from None
                wait = _retry_after(exc, attempt)
                what = "rate limited (429)" if exc.status == 429 else f"HTTP {exc.status}"
            except requests.RequestException as exc:
                wait, what = min(MAX_WAIT, 2.0**attempt), network_reason(exc)
            if time.monotonic() + wait > deadline:
                raise OpsError(
                    f"the Linode API at {self.base_url} kept failing {method} {path} "
                    f"({what}) for {self.retry_for:.0f} s"
                )
            self.say(f"Linode API {what} on {method} {path}: retrying in {wait:.0f} s")
            self.sleep(wait)
            attempt += 1

    def cluster(self, cluster_id: int) -> dict[str, Any]:
        return self._call("GET", f"/lke/clusters/{cluster_id}")  # type: ignore[no-any-return]

    def find_cluster(self, api_server: str) -> int | None:
        """The LKE cluster whose API endpoint is `api_server` (the kube context's server)."""
        clusters = list_all(self.client, "/lke/clusters")
        for cluster in clusters:
            endpoints = self._call("GET", f"/lke/clusters/{cluster['id']}/api-endpoints")
            if any(_same(e["endpoint"], api_server) for e in endpoints.get("data", [])):
                return int(cluster["id"])
        return None

    def pools(self, cluster_id: int) -> list[LkePool]:
        answer = self._call("GET", f"/lke/clusters/{cluster_id}/pools?page_size=500")
        return [_pool(p) for p in answer["data"]]

    def pool(self, cluster_id: int, pool_id: int) -> LkePool:
        return _pool(self._call("GET", f"/lke/clusters/{cluster_id}/pools/{pool_id}"))

    def instance(self, instance_id: int) -> dict[str, Any]:
        return self._call("GET", f"/linode/instances/{instance_id}")  # type: ignore[no-any-return]

    def instance_label(self, instance_id: int) -> str:
        return str(self.instance(instance_id)["label"])

    def set_count(self, cluster_id: int, pool_id: int, count: int) -> None:
        self._call("PUT", f"/lke/clusters/{cluster_id}/pools/{pool_id}", {"count": count})

    def recycle_node(self, cluster_id: int, node_id: str) -> None:
        self._call("POST", f"/lke/clusters/{cluster_id}/nodes/{node_id}/recycle")

    def delete_node(self, cluster_id: int, node_id: str) -> None:
        self._call("DELETE", f"/lke/clusters/{cluster_id}/nodes/{node_id}")

    def upgrade(self, cluster_id: int, version: str) -> None:
        self._call("PUT", f"/lke/clusters/{cluster_id}", {"k8s_version": version})

    def versions(self) -> list[str]:
        return [v["id"] for v in self._call("GET", "/lke/versions")["data"]]

    def recycle_finished(self, cluster_id: int, node_id: str) -> bool | None:
        """Whether the newest `lke_node_recycle` event for the node has finished; None when
        there is none (yet)."""
        answer = self._call("GET", "/account/events?page_size=100")
        for event in answer["data"]:  # newest first
            entity = event.get("entity") or {}
            if (
                event.get("action") == "lke_node_recycle"
                and entity.get("id") == cluster_id
                and entity.get("node") == node_id
            ):
                if event.get("status") == "failed":
                    raise OpsError(f"LKE reports the recycle of node {node_id} failed")
                return bool(event.get("status") == "finished")
        return None

    def close(self) -> None:
        self.client.session.close()


def _pool(p: dict[str, Any]) -> LkePool:
    nodes = tuple(
        LkeNode(n["id"], n.get("instance_id"), n.get("status", "")) for n in p.get("nodes", [])
    )
    return LkePool(int(p["id"]), p.get("type", ""), int(p.get("count", len(nodes))), nodes)


def _retry_after(exc: ApiError, attempt: int) -> float:
    response = getattr(exc, "response", None)
    header = response.headers.get("Retry-After") if response is not None else None
    try:
        return min(MAX_WAIT, max(1.0, float(header))) if header else min(MAX_WAIT, 2.0**attempt)
    except ValueError:
        return min(MAX_WAIT, 2.0**attempt)


def _same(a: str, b: str) -> bool:
    return a.rstrip("/").removesuffix(":443") == b.rstrip("/").removesuffix(":443")
