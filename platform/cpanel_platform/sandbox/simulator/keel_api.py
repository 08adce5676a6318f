"""Keel's HTTP API (port 9300 in the chart) over a `Keel` actor, with Keel's status codes and
plain-text errors. As in Keel with basic auth configured, the admin routes (approvals, audit,
resources) need the username and password; /healthz and the webhooks do not (Keel only guards
webhooks when `authenticatedWebhooks` is set; it is off by default)."""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import secrets
import socket
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from ..serving import AppServer
from .keel import ApprovalNotFound, Keel

Endpoint = Callable[[Request], Awaitable[Response]]


class BadInput(Exception):
    """A body Keel's JSON decoder would refuse."""


def _error(status: int, text: str) -> Response:
    # Go's http.Error: the text plus a newline, as text/plain.
    return PlainTextResponse(f"{text}\n", status)


async def _body(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.body())
    except ValueError as err:
        raise BadInput(str(err)) from None
    if not isinstance(body, dict):
        raise BadInput(f"json: cannot unmarshal {type(body).__name__} into a Go struct")
    return body


def _text(body: dict[str, Any], *path: str) -> str:
    """The string at `path` ("" if absent); BadInput if something else is there."""
    value: Any = body
    for key in path:
        if not isinstance(value, dict):
            raise BadInput(f"json: cannot unmarshal into Go struct field {'.'.join(path)}")
        value = value.get(key)
        if value is None:
            return ""
    if not isinstance(value, str):
        raise BadInput(
            f"json: cannot unmarshal into Go struct field {'.'.join(path)} of type string"
        )
    return value


def _int(request: Request, name: str) -> int:
    """A query number; Keel ignores one that does not parse (or is negative)."""
    try:
        return max(0, int(request.query_params.get(name, "0")))
    except ValueError:
        return 0


class KeelApi:
    def __init__(self, keel: Keel, username: str, password: str) -> None:
        self.keel = keel
        self._credentials = (username.encode(), password.encode())
        admin: list[tuple[str, str, Endpoint]] = [
            ("GET", "/v1/approvals", self.list_approvals),
            ("POST", "/v1/approvals", self.change_approval),
            ("GET", "/v1/audit", self.audit),
            ("GET", "/v1/resources", self.resources),
        ]
        self.app = Starlette(
            routes=[
                Route("/healthz", self.healthz, methods=["GET"]),
                Route("/v1/webhooks/dockerhub", self.dockerhub, methods=["POST"]),
                Route("/v1/webhooks/native", self.native, methods=["POST"]),
                *(Route(path, self._admin(handler), methods=[m]) for m, path, handler in admin),
            ]
        )
        self._server = AppServer(self.app)

    # -- authentication --------------------------------------------------------------------
    def _admin(self, handler: Endpoint) -> Endpoint:
        async def guarded(request: Request) -> Response:
            if not self._authorised(request):
                return _error(401, "Unauthorized")
            try:
                return await handler(request)
            except BadInput as err:
                return _error(400, str(err))

        return guarded

    def _authorised(self, request: Request) -> bool:
        scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            user, _, password = base64.b64decode(encoded, validate=True).partition(b":")
        except binascii.Error:
            return False
        expected_user, expected_password = self._credentials
        # Both comparisons run, so the timing says nothing about which one failed.
        return secrets.compare_digest(user, expected_user) & secrets.compare_digest(
            password, expected_password
        )

    # -- open routes -----------------------------------------------------------------------
    async def healthz(self, request: Request) -> Response:
        return Response(status_code=200)

    async def dockerhub(self, request: Request) -> Response:
        return await self._webhook(
            request, "dockerhub", ("repository", "repo_name"), ("push_data", "tag")
        )

    async def native(self, request: Request) -> Response:
        return await self._webhook(request, "native", ("name",), ("tag",))

    async def _webhook(
        self, request: Request, webhook: str, name_at: tuple[str, ...], tag_at: tuple[str, ...]
    ) -> Response:
        try:
            body = await _body(request)
            name, tag = _text(body, *name_at), _text(body, *tag_at)
        except BadInput:
            return Response(status_code=400)  # Keel gives no reason for an undecodable payload
        if not name:
            return PlainTextResponse("repository name cannot be empty", 400)
        if not tag:
            return PlainTextResponse("repository tag cannot be empty", 400)
        await self.keel.push(name, tag, webhook=webhook)
        return Response(status_code=200)

    # -- admin routes ----------------------------------------------------------------------
    async def list_approvals(self, request: Request) -> Response:
        return JSONResponse(self.keel.approvals())

    async def change_approval(self, request: Request) -> Response:
        """{id, identifier, voter, action}: approve (the default), reject, delete, archive."""
        body = await _body(request)
        identifier, action = _text(body, "identifier"), _text(body, "action")
        voter, approval_id = _text(body, "voter"), _text(body, "id")
        if not identifier:
            return _error(404, "identifier cannot be empty")  # sic: Keel answers 404 here
        try:
            if action == "reject":
                return JSONResponse(self.keel.reject(identifier))
            if action == "delete":
                self.keel.delete(approval_id, identifier)
                return JSONResponse(None)
            if action == "archive":
                return JSONResponse(self.keel.archive(identifier))
            return JSONResponse(await self.keel.approve(identifier, voter))
        except ApprovalNotFound:
            return _error(404, f"approval '{identifier}' not found")

    async def audit(self, request: Request) -> Response:
        kinds = [k for k in request.query_params.get("filter", "").split(",") if k]
        page = self.keel.audit(_int(request, "limit"), _int(request, "offset"), kinds)
        return JSONResponse(page)

    async def resources(self, request: Request) -> Response:
        return JSONResponse(self.keel.resources())

    # -- serving ---------------------------------------------------------------------------
    async def serve(self, sock: socket.socket, ready: asyncio.Event | None = None) -> None:
        """Serve plain HTTP on `sock` (see serving.listen)."""
        await self._server.serve(sock, ready)

    def stop(self) -> None:
        self._server.stop()
