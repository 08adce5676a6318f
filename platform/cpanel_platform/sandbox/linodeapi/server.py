"""The HTTP layer: Linode API v4 routes over a `LinodeState`.

Every route takes the same steps: bring the state up to date, count the request against its
token's quota, authenticate (the region and plan catalogues are public, as on Linode), then
run a one-line handler that reads or changes the state and returns the JSON body.
"""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..requestlog import RequestLog
from ..serving import AppServer
from . import filtering, paging
from .bodies import object_body
from .catalogue import LINODE_TYPES, LKE_TYPES, REGIONS, lookup
from .errors import (
    LinodeError,
    bad_request,
    invalid_token,
    method_not_allowed,
    not_found,
    too_many_requests,
)
from .ratelimit import RateLimiter
from .state import LinodeState

# What X-Spec-Version reports. linode-cli looks for a newer CLI on PyPI when the API's spec
# is newer than its own, so this stays at the oldest linode-cli the project supports.
SPEC_VERSION = "4.229.1"
DEFAULT_RATE_LIMIT = 800  # requests per minute per token: the real general limit


@dataclass
class Call:
    """One request, as a handler sees it."""

    request: Request
    user: str | None  # the token's username; None on public routes without one
    body: dict[str, Any]

    def __getitem__(self, name: str) -> Any:
        return self.request.path_params[name]

    def page(self, items: list[dict[str, Any]]) -> dict[str, Any]:
        kept = filtering.apply(items, self.request.headers.get("x-filter"))
        return paging.page(kept, self.request.query_params)


Handler = Callable[[Call], Any]


class LinodeServer:
    """The ASGI app (`app`, which logs every request in `requests`) for one emulated account.
    `tokens` maps bearer tokens to usernames; `rate_limit` is requests per minute per token
    (None: unlimited)."""

    def __init__(
        self,
        state: LinodeState,
        tokens: Mapping[str, str],
        rate_limit: int | None = DEFAULT_RATE_LIMIT,
        now: Callable[[], float] = time.time,
    ) -> None:
        self.state = state
        self.tokens = dict(tokens)
        self.limiter = RateLimiter(rate_limit, now) if rate_limit else None
        self.requests = RequestLog(
            Starlette(routes=self._routes(), exception_handlers={HTTPException: self._http_error})
        )
        self.app = self.requests
        self._server = AppServer(self.app)

    def _routes(self) -> list[Route]:
        s, lke, dns = self.state, self.state.lke, self.state.dns
        as_cluster, as_pool = lke.cluster_json, lke.pool_json
        clusters = "/v4/lke/clusters"
        cluster = clusters + "/{cid:int}"
        pools, node = cluster + "/pools", cluster + "/nodes/{nid}"
        pool = pools + "/{pid:int}"
        domain = "/v4/domains/{did:int}"
        record = domain + "/records/{rid:int}"
        private: list[tuple[str, str, Handler]] = [
            ("GET", "/v4/profile", lambda c: s.profile(c.user or "")),
            ("GET", "/v4/account/events", lambda c: c.page(s.events.list())),
            ("GET", "/v4/account/events/{id:int}", lambda c: s.events.get(c["id"])),
            ("GET", "/v4/linode/instances", lambda c: c.page(self._instances())),
            ("GET", "/v4/linode/instances/{id:int}", lambda c: self._instance(c["id"])),
            ("GET", "/v4/volumes", lambda c: c.page(s.volumes.list())),
            ("GET", "/v4/volumes/{id:int}", lambda c: s.volumes.get(c["id"])),
            ("GET", "/v4/domains", lambda c: c.page(dns.list_domains())),
            ("POST", "/v4/domains", lambda c: dns.create_domain(c.body)),
            ("GET", domain, lambda c: dns.domain(c["did"])),
            ("GET", domain + "/records", lambda c: c.page(dns.list_records(c["did"]))),
            ("POST", domain + "/records", lambda c: dns.create_record(c["did"], c.body)),
            ("GET", record, lambda c: dns.record(c["did"], c["rid"])),
            ("PUT", record, lambda c: dns.update_record(c["did"], c["rid"], c.body)),
            ("DELETE", record, lambda c: ok(dns.delete_record(c["did"], c["rid"]))),
            ("GET", "/v4/lke/versions", lambda c: c.page([{"id": v} for v in lke.versions])),
            ("GET", "/v4/lke/versions/{version}", lambda c: self._version(c["version"])),
            ("GET", "/v4/lke/types", lambda c: c.page(list(LKE_TYPES.values()))),
            ("GET", clusters, lambda c: c.page(self._clusters())),
            ("POST", clusters, lambda c: as_cluster(lke.create_cluster(c.body, c.user))),
            ("GET", cluster, lambda c: as_cluster(lke.cluster(c["cid"]))),
            ("PUT", cluster, lambda c: as_cluster(lke.update_cluster(c["cid"], c.body, c.user))),
            ("DELETE", cluster, lambda c: ok(lke.delete_cluster(c["cid"], c.user))),
            ("POST", cluster + "/recycle", lambda c: ok(lke.recycle_cluster(c["cid"], c.user))),
            ("GET", cluster + "/kubeconfig", lambda c: {"kubeconfig": lke.kubeconfig(c["cid"])}),
            ("GET", cluster + "/api-endpoints", lambda c: c.page(lke.api_endpoints(c["cid"]))),
            ("GET", cluster + "/dashboard", lambda c: {"url": lke.dashboard_url(c["cid"])}),
            ("GET", pools, lambda c: c.page(self._pools(c["cid"]))),
            ("POST", pools, lambda c: as_pool(lke.create_pool(c["cid"], c.body, c.user))),
            ("GET", pool, lambda c: as_pool(lke.pool(c["cid"], c["pid"])[1])),
            ("PUT", pool, lambda c: as_pool(lke.update_pool(c["cid"], c["pid"], c.body, c.user))),
            ("DELETE", pool, lambda c: ok(lke.delete_pool(c["cid"], c["pid"], c.user))),
            ("POST", pool + "/recycle", lambda c: ok(lke.recycle_pool(c["cid"], c["pid"], c.user))),
            ("GET", node, lambda c: lke.node_json(lke.node(c["cid"], c["nid"])[2])),
            ("DELETE", node, lambda c: ok(lke.delete_node(c["cid"], c["nid"], c.user))),
            ("POST", node + "/recycle", lambda c: ok(lke.recycle_node(c["cid"], c["nid"], c.user))),
        ]
        public: list[tuple[str, str, Handler]] = [
            ("GET", "/v4/regions", lambda c: c.page(list(REGIONS.values()))),
            ("GET", "/v4/regions/{id}", lambda c: lookup(REGIONS, c["id"])),
            ("GET", "/v4/linode/types", lambda c: c.page(list(LINODE_TYPES.values()))),
            ("GET", "/v4/linode/types/{id}", lambda c: lookup(LINODE_TYPES, c["id"])),
        ]
        return [self._route(m, p, h, public=False) for m, p, h in private] + [
            self._route(m, p, h, public=True) for m, p, h in public
        ]

    # -- handlers too long for the table -------------------------------------------------
    def _instance(self, linode_id: int) -> dict[str, Any]:
        return self.state.lke.instance_json(self.state.lke.instance(linode_id))

    def _clusters(self) -> list[dict[str, Any]]:
        clusters = self.state.lke.clusters
        return [self.state.lke.cluster_json(clusters[i]) for i in sorted(clusters)]

    def _pools(self, cluster_id: int) -> list[dict[str, Any]]:
        lke = self.state.lke
        return [lke.pool_json(p) for p in lke.cluster(cluster_id).pools.values()]

    def _instances(self) -> list[dict[str, Any]]:
        instances = self.state.lke.instances
        return [self.state.lke.instance_json(instances[i]) for i in sorted(instances)]

    def _version(self, version: str) -> dict[str, str]:
        if version not in self.state.lke.versions:
            raise not_found()
        return {"id": version}

    # -- the common steps ----------------------------------------------------------------
    def _route(self, method: str, path: str, handler: Handler, public: bool) -> Route:
        async def endpoint(request: Request) -> Response:
            return await self._handle(request, handler, public)

        return Route(path, endpoint, methods=[method])

    async def _handle(self, request: Request, handler: Handler, public: bool) -> Response:
        self.state.tick()
        headers = {"X-Spec-Version": SPEC_VERSION}
        try:
            token = _bearer(request)
            if self.limiter:
                client = request.client.host if request.client else ""
                quota, wait = self.limiter.hit(token or client)
                headers.update(quota.headers())
                if wait is not None:
                    raise too_many_requests(wait)
            username = self.tokens.get(token) if token else None
            request.state.user = username or ""
            if username is None and not public:
                raise invalid_token()
            if username is not None and (fault := self.state.fault()):
                raise fault
            body = await _json_body(request) if request.method in ("POST", "PUT") else {}
            return JSONResponse(handler(Call(request, username, body)), headers=headers)
        except LinodeError as err:
            return JSONResponse(err.body(), err.status, headers={**headers, **err.headers})

    async def _http_error(self, request: Request, exc: Exception) -> Response:
        """Starlette's own 404 (no such route) and 405 (no such method), in Linode's shape."""
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        err = {404: not_found, 405: method_not_allowed}.get(status)
        error = err() if err else LinodeError(status, str(exc))
        return JSONResponse(error.body(), error.status)

    # -- serving -------------------------------------------------------------------------
    async def serve(self, sock: socket.socket, ready: asyncio.Event | None = None) -> None:
        """Serve plain HTTP on `sock` (see serving.listen), ticking the state meanwhile."""
        await self._server.serve(sock, ready, companions=[self.state.run()])

    def stop(self) -> None:
        self._server.stop()


def ok(_: None) -> dict[str, Any]:
    """What actions answer: an empty object."""
    return {}


def _bearer(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


async def _json_body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        return {}  # the recycle actions are POSTs without a body
    try:
        body = json.loads(raw)
    except ValueError:
        raise bad_request("Invalid JSON") from None
    return object_body(body)
