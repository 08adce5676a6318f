"""Raw JSON requests through a kubeconfig-built ApiClient's connection pool.

The client's generated models are skipped on purpose: objects stay parsed JSON dicts, which
keeps thousands of pods cheap, and every credential the kubeconfig loader understands (bearer
token, exec plugin, client certificates, CA) still applies, since the pool and the auth
headers come from the ApiClient's own configuration.
"""

from __future__ import annotations

import contextlib
import json
import socket
import ssl
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import urllib3
from urllib3.exceptions import HTTPError as Urllib3Error

if TYPE_CHECKING:  # the kubernetes client is heavy to import; only its type is used
    from kubernetes.client import ApiClient

CONNECT_TIMEOUT = 10.0
READ_TIMEOUT = 30.0
Query = Sequence[tuple[str, str | int | bool]] | Mapping[str, str | int | bool]

# Errors that mean "the API server could not be reached or the connection broke".
NETWORK_ERRORS: tuple[type[BaseException], ...] = (Urllib3Error, OSError)


class ApiError(Exception):
    """A non-2xx answer: its HTTP code and the Status message (one line)."""

    def __init__(self, code: int, message: str, reason: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.reason = reason  # the Status reason, e.g. "Forbidden"


class TransportError(Exception):
    """The API server could not be reached, or the connection broke; the message is one line."""


def request(
    api: ApiClient,
    method: str,
    path: str,
    *,
    query: Query | None = None,
    body: Any = None,
    content_type: str = "application/json",
    accept: str = "application/json",
    read_timeout: float | None = READ_TIMEOUT,
) -> urllib3.BaseHTTPResponse:
    """Send a request and return the open response (body not read) when it is 2xx; raise
    ApiError or TransportError otherwise. The caller reads the body and releases it."""
    cfg = api.configuration
    url = cfg.host + path + (f"?{_encode(query)}" if query else "")
    headers = {**api.default_headers, "Accept": accept}
    # auth_settings() runs the kubeconfig loader's refresh hook (expiring exec tokens).
    for auth in cfg.auth_settings().values():
        if auth["in"] == "header":
            headers[auth["key"]] = auth["value"]
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = content_type
    try:
        resp = api.rest_client.pool_manager.request(
            method,
            url,
            body=data,
            headers=headers,
            timeout=urllib3.Timeout(connect=CONNECT_TIMEOUT, read=read_timeout),
            preload_content=False,
        )
    except NETWORK_ERRORS as err:
        raise TransportError(describe(err)) from err
    if resp.status >= 400:
        try:
            raw = resp.read()
        except NETWORK_ERRORS:
            raw = b""
        finally:
            resp.release_conn()
        raise status_error(resp.status, raw, resp.reason or "")
    return resp


def call(
    api: ApiClient,
    method: str,
    path: str,
    *,
    query: Query | None = None,
    body: Any = None,
    content_type: str = "application/json",
    read_timeout: float = READ_TIMEOUT,
) -> Any:
    """A request whose whole JSON answer is returned parsed."""
    resp = request(
        api,
        method,
        path,
        query=query,
        body=body,
        content_type=content_type,
        read_timeout=read_timeout,
    )
    try:
        raw = resp.read()
    except NETWORK_ERRORS as err:
        raise TransportError(describe(err)) from err
    finally:
        resp.release_conn()
    return json.loads(raw) if raw else None


def status_error(code: int, raw: bytes, http_reason: str = "") -> ApiError:
    """An ApiError from an error answer's body: a Status object, or plain text."""
    try:
        doc = json.loads(raw)
    except ValueError:
        doc = None
    if isinstance(doc, dict) and doc.get("kind") == "Status":
        return ApiError(
            int(doc.get("code") or code), one_line(doc.get("message") or ""), doc.get("reason", "")
        )
    text = one_line(raw.decode("utf-8", "replace")) or http_reason or f"HTTP {code}"
    return ApiError(code, text, http_reason)


def cut(resp: urllib3.BaseHTTPResponse) -> None:
    """End a streaming response from another thread: shut the socket so a blocked read
    returns at once (closing it there could wait on the reader's TLS lock)."""
    with contextlib.suppress(ValueError, RuntimeError, OSError):  # finished or released
        resp.shutdown()


def done(resp: urllib3.BaseHTTPResponse, finished: bool) -> None:
    """Hand a response's connection back for reuse when its body was read to the end;
    otherwise close it, since the rest of a stream would poison the next request."""
    if finished:
        resp.release_conn()
    else:
        resp.close()


def describe(err: BaseException) -> str:
    """A network failure in a few words, fit for a badge."""
    causes = _chain(err)
    text = " ".join(str(c) for c in causes).lower()
    if any(isinstance(c, ConnectionRefusedError) for c in causes) or "refused" in text:
        return "connection refused"
    if any(isinstance(c, ssl.SSLError | urllib3.exceptions.SSLError) for c in causes):
        return f"TLS error: {one_line(str(causes[-1]))[:80]}"
    if any(isinstance(c, urllib3.exceptions.NameResolutionError | socket.gaierror)
           for c in causes):
        return "API server host not found"
    if any(isinstance(c, TimeoutError | urllib3.exceptions.TimeoutError) for c in causes):
        return "timed out"
    if "reset" in text or "aborted" in text or "disconnected" in text or "broken" in text:
        return "connection lost"
    return one_line(f"{type(err).__name__}: {err}")[:120]


def one_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[0] if lines else ""


def _chain(err: BaseException) -> list[BaseException]:
    """The error, urllib3's wrapped `reason`, and the Python exception chain."""
    seen: list[BaseException] = []
    todo: list[BaseException | None] = [err]
    while todo:
        e = todo.pop()
        if e is None or any(e is s for s in seen):
            continue
        seen.append(e)
        reason = getattr(e, "reason", None)
        todo += [reason if isinstance(reason, BaseException) else None, e.__cause__, e.__context__]
    return seen


def _encode(query: Query) -> str:
    items = query.items() if isinstance(query, Mapping) else query
    return urlencode([(k, str(v).lower() if isinstance(v, bool) else str(v)) for k, v in items])
