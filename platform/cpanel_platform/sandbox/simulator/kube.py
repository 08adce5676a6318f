"""A small asyncio client of the Kubernetes REST API for the simulated actors: reads, writes,
and watches that resume from a resourceVersion and relist after 410 Gone."""

from __future__ import annotations

import asyncio
import json
import logging
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx

log = logging.getLogger(__name__)

_PATCH_TYPES = {
    "merge": "application/merge-patch+json",
    "strategic": "application/strategic-merge-patch+json",
    "json": "application/json-patch+json",
}


class KubeError(Exception):
    def __init__(self, status: dict[str, Any]) -> None:
        super().__init__(status.get("message", ""))
        self.code = int(status.get("code", 0))
        self.reason = status.get("reason", "")


@dataclass(frozen=True)
class Kind:
    """Where a resource lives: ("", "v1", "pods") or ("apps", "v1", "deployments")."""

    group: str
    version: str
    plural: str

    def path(self, namespace: str = "", name: str = "", sub: str = "") -> str:
        base = f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"
        if namespace:
            base += f"/namespaces/{namespace}"
        base += f"/{self.plural}"
        if name:
            base += f"/{name}"
        if sub:
            base += f"/{sub}"
        return base


def plural(kind: str) -> str:
    """The resource name of a kind, by the API's English rules (Ingress -> ingresses)."""
    lower = kind.lower()
    if lower.endswith("endpoints"):
        return lower
    if lower.endswith(("s", "x", "ch")):
        return lower + "es"
    if lower.endswith("y") and lower[-2:-1] not in "aeiou":
        return lower[:-1] + "ies"
    return lower + "s"


def kind_of(obj: dict[str, Any]) -> Kind:
    group, _, version = obj["apiVersion"].rpartition("/")
    return Kind(group, version, plural(obj["kind"]))


PODS = Kind("", "v1", "pods")
NODES = Kind("", "v1", "nodes")
LEASES = Kind("coordination.k8s.io", "v1", "leases")
PVCS = Kind("", "v1", "persistentvolumeclaims")
PVS = Kind("", "v1", "persistentvolumes")
EVENTS = Kind("", "v1", "events")


class Kube:
    """One connection pool to the API server, authenticated as the given bearer token."""

    def __init__(self, server: str, token: str, ca_file: str | None, agent: str) -> None:
        verify: ssl.SSLContext | bool = (
            ssl.create_default_context(cafile=ca_file) if ca_file else True
        )
        self._http = httpx.AsyncClient(
            base_url=server,
            verify=verify,
            timeout=httpx.Timeout(10, read=None),
            headers={"Authorization": f"Bearer {token}", "User-Agent": f"{agent}/sandbox"},
        )

    async def close(self) -> None:
        await self._http.aclose()

    async def _call(
        self,
        method: str,
        path: str,
        body: Any = None,
        content_type: str = "application/json",
        **params: Any,
    ) -> dict[str, Any]:
        content = None if body is None else json.dumps(body)
        headers = {"Content-Type": content_type} if content is not None else {}
        r = await self._http.request(
            method,
            path,
            content=content,
            headers=headers,
            params={k: v for k, v in params.items() if v is not None},
        )
        data = r.json() if r.content else {}
        if r.status_code >= 400:
            raise KubeError(data if data.get("kind") == "Status" else {"code": r.status_code})
        return data

    async def get(self, kind: Kind, namespace: str, name: str) -> dict[str, Any] | None:
        try:
            return await self._call("GET", kind.path(namespace, name))
        except KubeError as err:
            if err.code == 404:
                return None
            raise

    async def list(self, kind: Kind, namespace: str = "", **params: Any) -> dict[str, Any]:
        return await self._call("GET", kind.path(namespace), **params)

    async def create(self, kind: Kind, namespace: str, body: dict[str, Any]) -> dict[str, Any]:
        return await self._call("POST", kind.path(namespace), body)

    async def patch(
        self,
        kind: Kind,
        namespace: str,
        name: str,
        body: Any,
        sub: str = "",
        patch_type: str = "merge",
    ) -> dict[str, Any]:
        return await self._call(
            "PATCH", kind.path(namespace, name, sub), body, _PATCH_TYPES[patch_type]
        )

    async def apply(self, obj: dict[str, Any], manager: str) -> dict[str, Any]:
        """Server-side apply of a whole manifest, taking over any conflicting fields."""
        meta = obj["metadata"]
        path = kind_of(obj).path(meta.get("namespace", ""), meta["name"])
        return await self._call(
            "PATCH", path, obj, "application/apply-patch+yaml", fieldManager=manager, force="true"
        )

    async def replace_status(self, kind: Kind, obj: dict[str, Any]) -> dict[str, Any]:
        meta = obj["metadata"]
        return await self._call(
            "PUT", kind.path(meta.get("namespace", ""), meta["name"], "status"), obj
        )

    async def delete(
        self,
        kind: Kind,
        namespace: str,
        name: str,
        grace: int | None = None,
        uid: str | None = None,
    ) -> None:
        options: dict[str, Any] = {"kind": "DeleteOptions", "apiVersion": "v1"}
        if grace is not None:
            options["gracePeriodSeconds"] = grace
        if uid:
            options["preconditions"] = {"uid": uid}
        try:
            await self._call("DELETE", kind.path(namespace, name), options)
        except KubeError as err:
            if err.code not in (404, 409):
                raise

    async def watch(
        self, kind: Kind, namespace: str = "", **params: Any
    ) -> AsyncIterator[tuple[str, dict[str, Any]]]:
        """Every object as ("ADDED", obj) first, then changes forever; relists after 410 and
        reconnects after errors, replaying a relist as ADDED/DELETED differences."""
        known: dict[tuple[str, str], dict[str, Any]] = {}
        backoff = 0.2
        while True:
            try:
                listed = await self.list(kind, namespace, **params)
                fresh = {
                    (o["metadata"].get("namespace", ""), o["metadata"]["name"]): o
                    for o in listed["items"]
                }
                for key in list(known):
                    if key not in fresh:
                        yield "DELETED", known.pop(key)
                for key, obj in fresh.items():
                    if (
                        known.get(key, {}).get("metadata", {}).get("resourceVersion")
                        != obj["metadata"]["resourceVersion"]
                    ):
                        yield ("MODIFIED" if key in known else "ADDED"), obj
                known = fresh
                rv = listed["metadata"]["resourceVersion"]
                while True:  # a stream ends at its timeout: resume where it stopped
                    async for event_type, obj in self._stream(kind, namespace, rv, params):
                        rv = obj["metadata"]["resourceVersion"]
                        if event_type == "BOOKMARK":
                            continue
                        key = (obj["metadata"].get("namespace", ""), obj["metadata"]["name"])
                        if event_type == "DELETED":
                            known.pop(key, None)
                        else:
                            known[key] = obj
                        backoff = 0.2
                        yield event_type, obj
            except (httpx.HTTPError, KubeError, ValueError) as err:
                log.debug("watch %s: %s; retrying", kind.plural, err)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)

    async def _stream(
        self, kind: Kind, namespace: str, rv: str, params: dict[str, Any]
    ) -> AsyncIterator[tuple[str, dict[str, Any]]]:
        query = {
            **params,
            "watch": "true",
            "resourceVersion": rv,
            "allowWatchBookmarks": "true",
            "timeoutSeconds": 300,
        }
        async with self._http.stream("GET", kind.path(namespace), params=query) as response:
            if response.status_code >= 400:
                raise KubeError({"code": response.status_code})
            async for line in response.aiter_lines():
                if not line:
                    continue
                event = json.loads(line)
                if event["type"] == "ERROR":
                    raise KubeError(event["object"])  # 410: relist
                yield event["type"], event["object"]
