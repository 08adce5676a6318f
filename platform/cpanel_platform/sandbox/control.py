"""The running sandbox's control API on 127.0.0.1, for `cpanel sandbox status|incident` and
tests: health of each server and actor, incidents to start and stop, and the requests the
Kubernetes and Linode emulators answered (`/requests/kubernetes|linode?since=N`)."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from .incidents import CATALOGUE, IncidentError, Incidents
from .requestlog import RequestLog
from .serving import AppServer
from .world import World


class ControlServer:
    def __init__(
        self,
        world: World,
        incidents: Incidents,
        token: str,
        servers: dict[str, str],
        requests: dict[str, RequestLog],
    ) -> None:
        self.world = world
        self.incidents = incidents
        self.token = token
        self.servers = servers  # name -> health URL
        self.requests = requests  # API name -> its request log
        self.app = Starlette(
            routes=[
                Route("/status", self.status),
                Route("/incidents", self.list_incidents),
                Route("/incidents/{name}", self.incident, methods=["POST", "DELETE"]),
                Route("/requests/{api}", self.request_log),
            ]
        )
        self._server = AppServer(self.app)

    def _authorised(self, request: Request) -> bool:
        return request.headers.get("authorization") == f"Bearer {self.token}"

    async def status(self, request: Request) -> JSONResponse:
        if not self._authorised(request):
            return JSONResponse({"error": "unauthorised"}, 401)
        async with httpx.AsyncClient(verify=False, timeout=2) as http:  # local, own CA
            checks = await asyncio.gather(
                *(self._check(http, url) for url in self.servers.values())
            )
        return JSONResponse(
            {
                "servers": dict(zip(self.servers, checks, strict=True)),
                "actors": self.world.actor_health(),
                "incidents": self.incidents.active(),
            }
        )

    @staticmethod
    async def _check(http: httpx.AsyncClient, url: str) -> str:
        try:
            r = await http.get(url)
        except httpx.HTTPError as err:
            return f"unreachable: {type(err).__name__}"
        return "healthy" if r.status_code < 400 else f"unhealthy: HTTP {r.status_code}"

    async def list_incidents(self, request: Request) -> JSONResponse:
        if not self._authorised(request):
            return JSONResponse({"error": "unauthorised"}, 401)
        return JSONResponse(
            {
                "incidents": [
                    {
                        "name": i.name,
                        "summary": i.summary,
                        "active": i.name in self.incidents.active(),
                    }
                    for i in CATALOGUE.values()
                ]
            }
        )

    async def incident(self, request: Request) -> JSONResponse:
        if not self._authorised(request):
            return JSONResponse({"error": "unauthorised"}, 401)
        name = request.path_params["name"]
        try:
            if request.method == "POST":
                self.incidents.start(name)
            else:
                await self.incidents.stop(name)
        except IncidentError as err:
            return JSONResponse({"error": str(err)}, 409 if name in CATALOGUE else 404)
        return JSONResponse({"incident": name, "active": name in self.incidents.active()})

    async def request_log(self, request: Request) -> JSONResponse:
        """The API's logged requests from number `since` on, and the number to ask from next."""
        if not self._authorised(request):
            return JSONResponse({"error": "unauthorised"}, 401)
        log = self.requests.get(request.path_params["api"])
        if log is None:
            return JSONResponse({"error": f"no API called {request.path_params['api']!r}"}, 404)
        try:
            since = int(request.query_params.get("since", "0"))
        except ValueError:
            return JSONResponse({"error": "since must be a whole number"}, 400)
        entries, following = log.since(since)
        return JSONResponse({"requests": entries, "next": following})

    async def serve(self, sock: socket.socket, ready: asyncio.Event) -> None:
        await self._server.serve(sock, ready)

    def stop(self) -> None:
        self._server.stop()


def call(info: dict[str, Any], token: str, method: str, path: str) -> tuple[int, Any]:
    """A request to a running sandbox's control API (for the CLI)."""
    r = httpx.request(
        method, f"{info['control']}{path}", timeout=10, headers={"Authorization": f"Bearer {token}"}
    )
    return r.status_code, r.json()
