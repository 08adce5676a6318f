"""Keel's HTTP API over httpx: approvals and audit, with a freshness state, and votes; the
snapshot types live in `cpanel_platform.keel`."""

from __future__ import annotations

import ssl
import time
from collections.abc import Mapping
from typing import Any

import httpx

from .config import ConfigError, Settings
from .endpoint import HttpEndpoint
from .freshness import Freshness, State
from .keel import Approval, AuditEntry, KeelSnapshot
from .kube.client import KubeTarget, service_proxy
from .netreason import network_reason, one_line
from .timestamps import parse_time

STALE_AFTER = 60.0  # seconds of failing before RECONNECTING turns STALE
AUDIT_LIMIT = 50
BAD_CREDENTIALS = "credentials rejected: set KEEL_USERNAME/KEEL_PASSWORD"
# The Kubernetes API server drops the Authorization header when it proxies, and it needs
# that header itself for a bearer token: Keel's basic auth cannot travel that way.
PROXY_CANNOT_AUTH = (
    "Keel wants basic auth, which the Kubernetes service proxy cannot pass on: "
    "set keel.url or KEEL_URL"
)


class KeelError(Exception):
    """An approval action that failed, in one line fit for the screen."""


def resolve(settings: Settings, env: Mapping[str, str], target: KubeTarget | None) -> HttpEndpoint:
    """settings.keel.url, else $KEEL_URL, else the Service through the Kubernetes API's
    service proxy."""
    url = settings.keel.url or env.get("KEEL_URL")
    if url:
        return HttpEndpoint(url.rstrip("/"))
    if target is None:
        raise ConfigError("no Keel: set keel.url or KEEL_URL, or choose a kube context")
    k = settings.keel
    return service_proxy(target, k.namespace, k.service, k.port)


class KeelSource:
    """Keel's approvals and audit log. `refresh` never raises for network problems:
    `freshness` says what went wrong and the last snapshot is returned."""

    def __init__(
        self,
        endpoint: HttpEndpoint,
        username: str | None,
        password: str | None,
        timeout: float = 5.0,
    ) -> None:
        self.endpoint = endpoint
        headers = httpx.Headers(endpoint.headers)
        self._proxied_auth = "authorization" in headers  # the endpoint's own credentials win
        auth = None
        if username and password is not None and not self._proxied_auth:
            auth = httpx.BasicAuth(username, password)
        self._http = httpx.Client(
            base_url=endpoint.url,
            headers=headers,
            auth=auth,
            verify=_tls(endpoint),
            timeout=timeout,
        )
        self._snapshot = KeelSnapshot((), ())
        self._freshness = Freshness("keel")

    @property
    def freshness(self) -> Freshness:
        return self._freshness

    def refresh(self) -> KeelSnapshot:
        now = time.time()
        try:
            approvals = self._get("/v1/approvals") or []
            audit = self._get("/v1/audit", limit=AUDIT_LIMIT) or {}
            snapshot = KeelSnapshot(
                tuple(_approval(a) for a in approvals),
                tuple(_audit_entry(e) for e in audit.get("data") or ()),
            )
        except _Refused as exc:
            self._freshness = self._freshness.failing(str(exc), State.STALE, now)
        except httpx.TimeoutException:
            self._fail(f"no answer from {self.endpoint.describe()} within the timeout", now)
        except httpx.HTTPError as exc:
            self._fail(f"{network_reason(exc)}: {self.endpoint.describe()}", now)
        except _Failed as exc:
            self._fail(str(exc), now)
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            self._fail(f"unexpected answer from {self.endpoint.describe()}: {exc}", now)
        else:
            self._snapshot = snapshot
            self._freshness = self._freshness.live(now)
        return self._snapshot

    def approve(self, approval: Approval, voter: str) -> Approval:
        """A vote for `approval`; the approval as Keel has it after the vote."""
        return self._act(approval, voter, "approve")

    def reject(self, approval: Approval, voter: str) -> Approval:
        return self._act(approval, voter, "reject")

    def _act(self, approval: Approval, voter: str, action: str) -> Approval:
        body = {
            "id": approval.id,
            "identifier": approval.identifier,
            "voter": voter,
            "action": action,
        }
        try:
            response = self._http.post("/v1/approvals", json=body)
            self._check(response)
            return _approval(response.json())
        except (_Refused, _Failed) as exc:
            raise KeelError(f"{action} {approval.identifier}: {exc}") from None
        except httpx.HTTPError as exc:
            raise KeelError(
                f"{action} {approval.identifier}: cannot reach {self.endpoint.describe()}: "
                f"{network_reason(exc)}"
            ) from None
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise KeelError(f"{action} {approval.identifier}: unexpected answer: {exc}") from None

    def _get(self, path: str, **params: Any) -> Any:
        response = self._http.get(path, params=params)
        self._check(response)
        return response.json()

    def _check(self, response: httpx.Response) -> None:
        if response.status_code == 401:
            if not self._proxied_auth:
                raise _Refused(BAD_CREDENTIALS)
            # The API server answers with a JSON Status; Keel with plain text.
            if response.headers.get("content-type", "").startswith("application/json"):
                raise _Refused("the Kubernetes API rejected the kubeconfig's credentials")
            raise _Refused(PROXY_CANNOT_AUTH)
        if response.status_code == 403:
            raise _Refused(f"forbidden: {one_line(response.text) or 'HTTP 403'}")
        if response.status_code >= 400:
            raise _Failed(
                f"HTTP {response.status_code} from {self.endpoint.describe()}: "
                f"{one_line(response.text)}"
            )

    def _fail(self, reason: str, now: float) -> None:
        failing = self._freshness.failing(reason, now=now)
        if now - failing.since >= STALE_AFTER:
            failing = failing.failing(reason, State.STALE, now)
        self._freshness = failing


class _Refused(Exception):
    """Keel (or the proxy) refused the credentials: retrying will not help."""


class _Failed(Exception):
    """An HTTP error worth retrying."""


def _tls(endpoint: HttpEndpoint) -> ssl.SSLContext | bool:
    """httpx's TLS settings for the endpoint (it wants a context for a CA file or a client
    certificate)."""
    if endpoint.verify is True and endpoint.cert is None:
        return True
    if endpoint.verify is False and endpoint.cert is None:
        return False
    cafile = endpoint.verify if isinstance(endpoint.verify, str) else None
    context = ssl.create_default_context(cafile=cafile)
    if endpoint.verify is False:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    if endpoint.cert:
        context.load_cert_chain(*endpoint.cert)
    return context


def _approval(a: dict[str, Any]) -> Approval:
    return Approval(
        id=a.get("id", ""),
        identifier=a.get("identifier", ""),
        provider=str(a.get("provider", "")),
        current_version=a.get("currentVersion", ""),
        new_version=a.get("newVersion", ""),
        votes_required=int(a.get("votesRequired") or 0),
        votes_received=int(a.get("votesReceived") or 0),
        voters=tuple(a.get("voters") or ()),  # a map voter → when; Go writes it in key order
        rejected=bool(a.get("rejected")),
        archived=bool(a.get("archived")),
        deadline=parse_time(a.get("deadline")) or 0.0,
        created=parse_time(a.get("createdAt")) or 0.0,
        message=a.get("message") or "",
    )


def _audit_entry(e: dict[str, Any]) -> AuditEntry:
    return AuditEntry(
        id=e.get("id", ""),
        created=parse_time(e.get("createdAt")) or 0.0,
        action=e.get("action", ""),
        resource_kind=e.get("resourceKind", ""),
        identifier=e.get("identifier", ""),
        username=e.get("username") or "",
        message=e.get("message") or "",
    )
