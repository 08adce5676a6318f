"""Reading the Linode side (LKE cluster, pools, nodes, volumes, events) over linode-api4,
with a freshness state; the snapshot types live in `cpanel_platform.linode`."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlsplit

import requests
from linode_api4 import ApiError, LinodeClient, UnexpectedResponseError
from requests import PreparedRequest, Response
from requests.adapters import HTTPAdapter

from .freshness import Freshness, State
from .linode import LinodeSnapshot, LkeCluster, LkeEvent, LkeNode, LkePool, Volume
from .netreason import network_reason, one_line
from .timestamps import parse_time

NO_TOKEN = "no Linode token: set LINODE_TOKEN or run `linode-cli configure`"
STALE_AFTER = 60.0  # seconds of failing before RECONNECTING turns STALE
# The newest events, one page; the LKE ones are picked here, as an X-Filter would need an
# exact match for every lke_ action there is.
EVENTS_PAGE = 100
PAGE_SIZE = 500  # the API's largest page: one request per list on most accounts


class TimeoutAdapter(HTTPAdapter):
    """linode-api4 sets no timeout, so a black-holed connection would hang a request."""

    def __init__(self, timeout: float) -> None:
        super().__init__(max_retries=0)
        self.timeout = timeout

    def send(self, request: PreparedRequest, **kwargs: Any) -> Response:
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.timeout
        return super().send(request, **kwargs)


class LinodeSource:
    """The LKE cluster behind the kube context, its recent LKE events and the account's
    volumes. `refresh` never raises for API problems: `freshness` says what went wrong and
    the last snapshot is returned."""

    def __init__(
        self,
        token: str | None,
        base_url: str,
        *,
        cluster_id: int | None = None,
        api_server: str | None = None,
        events_limit: int = 20,
        timeout: float = 10.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.cluster_id = cluster_id
        self.api_server = api_server
        self.events_limit = events_limit
        self._client: LinodeClient | None = None
        if token:
            # No retries: linode-api4 retries a 429 up to 5 times, each after the API's
            # Retry-After (up to a minute). The next refresh is the retry.
            self._client = LinodeClient(token, base_url=self.base_url, retry=False)
            adapter = TimeoutAdapter(timeout)
            self._client.session.mount("https://", adapter)
            self._client.session.mount("http://", adapter)
        self._found_id: int | None = None  # the cluster found from api_server, remembered
        self._snapshot = LinodeSnapshot(None, (), ())
        self._freshness = Freshness("linode")

    @property
    def freshness(self) -> Freshness:
        return self._freshness

    def refresh(self) -> LinodeSnapshot:
        now = time.time()
        if self._client is None:
            self._freshness = self._freshness.failing(NO_TOKEN, State.STALE, now)
            return self._snapshot
        try:
            snapshot, missing = self._read(self._client)
        except ApiError as exc:
            self._fail(_api_reason(exc), now, stale=exc.status in (401, 403))
        except requests.Timeout:
            self._fail(f"no answer from {self.base_url} within the timeout", now)
        except requests.RequestException as exc:
            self._fail(f"{network_reason(exc)}: {self.base_url}", now)
        except (UnexpectedResponseError, ValueError, KeyError, TypeError) as exc:
            self._fail(f"unexpected answer from {self.base_url}: {one_line(exc)}", now)
        else:
            self._snapshot = snapshot
            if missing:  # a configuration problem: retrying will not help
                self._freshness = self._freshness.failing(missing, State.STALE, now)
            else:
                self._freshness = self._freshness.live(now)
        return self._snapshot

    def _fail(self, reason: str, now: float, stale: bool = False) -> None:
        failing = self._freshness.failing(reason, now=now)
        if stale or now - failing.since >= STALE_AFTER:
            failing = failing.failing(reason, State.STALE, now)
        self._freshness = failing

    def _read(self, client: LinodeClient) -> tuple[LinodeSnapshot, str]:
        """The snapshot, and why it has no cluster when it has none."""
        found, missing = self._find_cluster(client)
        cluster = None
        if found is not None:
            pools = list_all(client, f"/lke/clusters/{found['id']}/pools")
            instances = {i["id"]: i for i in list_all(client, "/linode/instances")}
            cluster = _cluster(found, pools, instances)
        events = client.get(f"/account/events?page_size={EVENTS_PAGE}")["data"]
        lke = sorted(
            (e for e in events if str(e.get("action", "")).startswith("lke_")),
            key=lambda e: (str(e.get("created") or ""), e["id"]),
            reverse=True,
        )
        volumes = tuple(_volume(v) for v in list_all(client, "/volumes"))
        snapshot = LinodeSnapshot(
            cluster, tuple(_event(e) for e in lke[: self.events_limit]), volumes
        )
        return snapshot, missing

    def _find_cluster(self, client: LinodeClient) -> tuple[dict[str, Any] | None, str]:
        """The cluster by id; else the one serving the kube context's API server; else the
        account's only cluster when no API server is known."""
        known = self.cluster_id or self._found_id
        if known is not None:
            try:
                return client.get(f"/lke/clusters/{known}"), ""
            except ApiError as exc:
                if exc.status != 404:
                    raise
                if self.cluster_id is not None:
                    return None, f"LKE cluster {known} not found"
                self._found_id = None  # deleted since: look again
        clusters = list_all(client, "/lke/clusters")
        if self.api_server:
            wanted = _origin(self.api_server)
            for cluster in clusters:
                try:
                    endpoints = client.get(f"/lke/clusters/{cluster['id']}/api-endpoints")
                except ApiError as exc:
                    if exc.status == 503:  # its control plane is still being made
                        continue
                    raise
                if any(_origin(e["endpoint"]) == wanted for e in endpoints["data"]):
                    self._found_id = cluster["id"]
                    return cluster, ""
            # Not the only cluster as a fallback: that would show (and act on) another
            # cluster than the one kubectl talks to.
            return None, f"no LKE cluster on this account serves {self.api_server}"
        if len(clusters) == 1:
            return clusters[0], ""
        return None, f"{len(clusters)} LKE clusters on this account: set linode.cluster_id"


def list_all(client: LinodeClient, path: str) -> list[dict[str, Any]]:
    """Every item of a paged list."""
    items: list[dict[str, Any]] = []
    page, pages = 1, 1
    while page <= pages:
        answer = client.get(f"{path}?page={page}&page_size={PAGE_SIZE}")
        items += answer["data"]
        pages = int(answer.get("pages") or 1)
        page += 1
    return items


def _cluster(
    found: dict[str, Any], pools: list[dict[str, Any]], instances: dict[int, dict[str, Any]]
) -> LkeCluster:
    def node(n: dict[str, Any]) -> LkeNode:
        instance = instances.get(n.get("instance_id")) or {}
        return LkeNode(
            n["id"],
            n.get("instance_id"),
            n.get("status", ""),
            instance.get("label", ""),
            instance.get("status", ""),
        )

    return LkeCluster(
        found["id"],
        found.get("label", ""),
        found.get("region", ""),
        found.get("k8s_version", ""),
        bool((found.get("control_plane") or {}).get("high_availability")),
        found.get("status", ""),
        tuple(
            LkePool(
                p["id"],
                p.get("type", ""),
                p.get("count", 0),
                tuple(node(n) for n in p.get("nodes", ())),
                bool((p.get("autoscaler") or {}).get("enabled")),
            )
            for p in pools
        ),
    )


def _event(e: dict[str, Any]) -> LkeEvent:
    return LkeEvent(
        e["id"],
        e.get("action", ""),
        e.get("status", ""),
        parse_time(e.get("created")) or 0.0,
        (e.get("entity") or {}).get("label") or "",
        e.get("username") or "",
        e.get("message") or "",
    )


def _volume(v: dict[str, Any]) -> Volume:
    return Volume(
        v["id"],
        v.get("label", ""),
        v.get("size", 0),
        v.get("status", ""),
        v.get("linode_id"),
        v.get("linode_label") or "",
        v.get("filesystem_path", ""),
    )


def _origin(url: str) -> tuple[str, str, int]:
    """Scheme, host and port, so that `https://h` and `https://H:443/` compare equal."""
    parts = urlsplit(url if "://" in url else f"https://{url}")
    scheme = parts.scheme.lower()
    return scheme, (parts.hostname or ""), parts.port or (443 if scheme == "https" else 80)


def _api_reason(exc: ApiError) -> str:
    if exc.status == 401:
        return "token rejected"
    if exc.status == 403:
        return f"token lacks a scope cpanel needs: {'; '.join(exc.errors) or 'forbidden'}"
    if exc.status == 429:
        return "rate limited by the Linode API (HTTP 429); retrying"
    detail = "; ".join(exc.errors) or one_line(exc)
    return f"HTTP {exc.status} from the Linode API: {detail}"
