"""The Service proxy subresource (`/api/v1/namespaces/N/services/S[:port]/proxy/...`), which
lets a client reach a service inside the cluster through the API server alone.

A real API server forwards to one of the service's endpoints. The sandbox's services are
local servers, so each is registered here with the URL it listens on."""

from __future__ import annotations

import httpx
from starlette.requests import Request
from starlette.responses import Response

from .errors import ApiError

# Hop-by-hop and length headers the proxy must not copy across.
_DROP = {
    "host",
    "authorization",
    "content-length",
    "transfer-encoding",
    "connection",
    "keep-alive",
    "content-encoding",
}


def service_name(segment: str) -> str:
    """`name`, `name:port` or `scheme:name:port`, as the proxy path allows."""
    parts = segment.split(":")
    return parts[1] if len(parts) == 3 else parts[0]


class ServiceProxy:
    def __init__(self) -> None:
        self._backends: dict[tuple[str, str], str] = {}
        self._http = httpx.AsyncClient(timeout=30)

    def register(self, namespace: str, service: str, url: str) -> None:
        self._backends[(namespace, service)] = url.rstrip("/")

    async def forward(self, request: Request, namespace: str, segment: str, path: str) -> Response:
        name = service_name(segment)
        base = self._backends.get((namespace, name))
        if base is None:
            raise ApiError(
                503, "ServiceUnavailable", f'no endpoints available for service "{segment}"'
            )
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _DROP}
        try:
            upstream = await self._http.request(
                request.method,
                f"{base}/{path}",
                params=request.query_params,
                headers=headers,
                content=await request.body(),
            )
        except httpx.HTTPError as err:
            raise ApiError(
                503, "ServiceUnavailable", f"error trying to reach service: {err}"
            ) from None
        kept = {k: v for k, v in upstream.headers.items() if k.lower() not in _DROP}
        return Response(upstream.content, upstream.status_code, headers=kept)

    async def close(self) -> None:
        await self._http.aclose()
