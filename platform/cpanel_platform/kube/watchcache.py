"""Watch caches: one kind's objects kept current by list-then-watch, with a freshness state.

A cache lists (in pages), then watches from the list's resourceVersion. A watch that ends
(the server's timeout) is reopened from the last resourceVersion seen; only 410 Gone makes it
list again. Failures keep the data, mark the cache RECONNECTING (then STALE) and retry with
capped, fully jittered exponential backoff. Nothing polls: an idle cache holds one open watch.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import urllib3

from ..freshness import Freshness, State
from . import rest
from .kinds import Kind
from .rest import ApiError, TransportError

if TYPE_CHECKING:  # the kubernetes client is heavy to import; only its type is used
    from kubernetes.client import ApiClient

log = logging.getLogger(__name__)

PAGE_SIZE = 500
LIST_READ_TIMEOUT = 60.0
# A watch that ends sooner than this is followed by a short pause, never a tight loop.
QUICK_END_SECONDS = 1.0

Key = tuple[str, str]  # (namespace, name)
Callback = Callable[["WatchCache"], None]


class _Gone(Exception):
    """The resourceVersion is too old (410): list again."""


class WatchCache:
    """One kind's objects (in one namespace, or all) as plain JSON dicts. Reads are
    thread-safe; the dicts are shared, so callers must treat them as read-only."""

    def __init__(
        self,
        api: ApiClient,
        kind: Kind,
        namespace: str | None = None,
        *,
        backoff_base: float = 0.5,
        backoff_cap: float = 30.0,
        stale_after: float = 30.0,
        watch_timeout: int = 290,
    ) -> None:
        self.api = api
        self.kind = kind
        self.namespace = namespace if kind.namespaced else None  # None: every namespace
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.stale_after = stale_after
        self.watch_timeout = watch_timeout
        self._lock = threading.Lock()
        self._items: dict[Key, dict[str, Any]] = {}
        self._snapshot: tuple[dict[str, Any], ...] | None = ()
        self._version = 0
        self._freshness = Freshness(f"kube/{kind.plural}")
        self._rv: str | None = None  # None: list before watching
        self._subscribers: list[Callback] = []
        self._stopping = threading.Event()
        self._response: urllib3.BaseHTTPResponse | None = None  # the open watch, for stop()
        self._thread: threading.Thread | None = None
        self._attempt = 0  # consecutive failures, for the backoff
        self._failing_since: float | None = None  # monotonic time of the first failure

    # -- reads ---------------------------------------------------------------------------
    @property
    def version(self) -> int:
        """Bumped on every change, so callers can skip unchanged work."""
        return self._version

    @property
    def synced(self) -> bool:
        """Whether a list has ever succeeded: before that, no objects means "unknown", not
        "none"."""
        return self._version > 0

    @property
    def freshness(self) -> Freshness:
        return self._freshness

    def objects(self, namespace: str | None = None) -> tuple[dict[str, Any], ...]:
        """A snapshot of every object, or of one namespace's."""
        with self._lock:
            if self._snapshot is None:
                self._snapshot = tuple(self._items.values())
            snap = self._snapshot
        if namespace is None:
            return snap
        return tuple(o for o in snap if o["metadata"].get("namespace") == namespace)

    def get(self, namespace: str, name: str) -> dict[str, Any] | None:
        with self._lock:
            return self._items.get((namespace or "", name))

    def subscribe(self, callback: Callback) -> Callable[[], None]:
        """Call `callback(cache)` on the cache's thread after each change (or batch of changes
        that arrived together) and each freshness transition. Returns the unsubscriber."""
        with self._lock:
            self._subscribers.append(callback)

        def unsubscribe() -> None:
            with self._lock:
                if callback in self._subscribers:
                    self._subscribers.remove(callback)

        return unsubscribe

    # -- lifecycle -----------------------------------------------------------------------
    def start(self) -> None:
        if self._thread is not None:
            return
        scope = self.namespace or "all"
        self._thread = threading.Thread(
            target=self._run, name=f"watch-{self.kind.plural}-{scope}", daemon=True
        )
        self._thread.start()

    def stop(self, timeout: float = 1.0) -> None:
        """Stop watching; returns within about `timeout` even with a watch open."""
        self.halt()
        self.join(timeout)

    def halt(self) -> None:
        """Ask the thread to end and cut its open watch, without waiting."""
        self._stopping.set()
        with self._lock:
            resp = self._response
        if resp is not None:
            rest.cut(resp)

    def join(self, timeout: float = 1.0) -> None:
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    # -- the loop ------------------------------------------------------------------------
    def _run(self) -> None:
        while not self._stopping.is_set():
            began = time.monotonic()
            listed = False
            try:
                if self._rv is None:
                    self._list()
                    listed = True
                self._watch()
            except _Gone:
                self._rv = None
                if not listed:
                    continue  # relist at once; a 410 straight after a list waits below
            except (ApiError, TransportError) as err:
                if self._stopping.is_set():
                    break
                self._failed(err)
                continue
            except Exception:  # a bug must not end the cache silently: log it and retry
                log.exception("watch of %s failed unexpectedly", self.kind.plural)
                if self._stopping.is_set():
                    break
                self._failed(TransportError("internal error; see the log"))
                continue
            if time.monotonic() - began < QUICK_END_SECONDS:
                self._stopping.wait(self.backoff_base)

    def _list(self) -> None:
        items: dict[Key, dict[str, Any]] = {}
        query: list[tuple[str, str | int]] = [("limit", PAGE_SIZE)]
        while True:
            try:
                doc = rest.call(
                    self.api,
                    "GET",
                    self.kind.path(self.namespace),
                    query=query,
                    read_timeout=LIST_READ_TIMEOUT,
                )
            except ApiError as err:
                if err.code == 410:  # the continue token expired: start the list again
                    raise _Gone from None
                raise
            for obj in doc.get("items") or []:
                # List items carry no kind/apiVersion, watch events do: make them alike.
                obj.setdefault("kind", self.kind.kind)
                obj.setdefault("apiVersion", self.kind.api_version)
                items[_key(obj)] = obj
            meta = doc.get("metadata") or {}
            if not meta.get("continue"):
                break
            query = [("limit", PAGE_SIZE), ("continue", meta["continue"])]
        with self._lock:
            self._items = items
            self._snapshot = None
            self._version += 1
        self._rv = meta.get("resourceVersion") or "0"
        self._live()
        self._notify()

    def _watch(self) -> None:
        query = [
            ("watch", "true"),
            ("resourceVersion", self._rv or "0"),
            ("allowWatchBookmarks", "true"),
            ("timeoutSeconds", self.watch_timeout),
        ]
        try:
            resp = rest.request(
                self.api,
                "GET",
                self.kind.path(self.namespace),
                query=query,
                # Bookmarks keep a healthy watch talking; silence this long means a dead link.
                read_timeout=self.watch_timeout + 30,
            )
        except ApiError as err:
            if err.code == 410:
                raise _Gone from None
            raise
        with self._lock:
            self._response = resp
        finished = False
        try:
            if self._stopping.is_set():
                return
            if self._live():
                self._notify()
            pending = b""
            for chunk in resp.stream(None):
                lines = (pending + chunk).split(b"\n")
                pending = lines.pop()
                changed = False
                for line in lines:
                    if line.strip():
                        changed |= self._apply(json.loads(line))
                if changed:
                    self._notify()
            finished = True
        except rest.NETWORK_ERRORS as err:
            if not self._stopping.is_set():
                raise TransportError(rest.describe(err)) from err
        finally:
            with self._lock:
                self._response = None
            rest.done(resp, finished)

    def _apply(self, event: dict[str, Any]) -> bool:
        """Apply one watch event; True when the objects changed."""
        kind = event.get("type")
        obj = event.get("object") or {}
        if kind == "ERROR":
            code = int(obj.get("code") or 0)
            if code == 410:
                raise _Gone
            message = rest.one_line(obj.get("message") or "")
            raise ApiError(code or 500, message, obj.get("reason", ""))
        rv = (obj.get("metadata") or {}).get("resourceVersion")
        if kind == "BOOKMARK":
            self._rv = rv or self._rv
            return False
        if kind not in ("ADDED", "MODIFIED", "DELETED"):
            return False
        key = _key(obj)
        with self._lock:
            if kind == "DELETED":
                self._items.pop(key, None)
            else:
                self._items[key] = obj
            self._snapshot = None
            self._version += 1
        self._rv = rv or self._rv
        return True

    # -- freshness -----------------------------------------------------------------------
    def _live(self) -> bool:
        """Mark the cache live; True when that is a transition."""
        self._attempt = 0
        self._failing_since = None
        before = self._freshness
        self._freshness = before.live()
        return self._freshness is not before

    def _failed(self, err: ApiError | TransportError) -> None:
        now = time.monotonic()
        if self._failing_since is None:
            self._failing_since = now
        refused = isinstance(err, ApiError) and err.code in (401, 403, 404)
        if isinstance(err, ApiError):
            if err.code == 401:
                reason = f"unauthorized: {err.message}"
            elif err.code == 403:
                reason = f"forbidden: {err.message}"
            elif err.code == 404:
                reason = "not served by this cluster"
            else:
                reason = f"HTTP {err.code}"
        else:
            reason = str(err)
        # Refusals will not heal by retrying soon: stale at once, and retried slowly.
        stale = refused or now - self._failing_since >= self.stale_after
        self._set_failing(reason, State.STALE if stale else State.RECONNECTING)
        if refused:
            delay = self.backoff_cap
        else:
            delay = random.uniform(0, min(self.backoff_cap, self.backoff_base * 2**self._attempt))
            self._attempt += 1
        self._pause(delay)

    def _pause(self, delay: float) -> None:
        """Wait before retrying, turning RECONNECTING into STALE when `stale_after` runs out
        meanwhile; return early when stopping."""
        deadline = time.monotonic() + delay
        while True:
            now = time.monotonic()
            if now >= deadline:
                return
            fresh = self._freshness
            stale_at = (self._failing_since or now) + self.stale_after
            if fresh.state is State.RECONNECTING and stale_at < deadline:
                if self._stopping.wait(max(0.0, stale_at - now)):
                    return
                self._set_failing(fresh.reason, State.STALE)
                continue
            self._stopping.wait(deadline - now)
            return

    def _set_failing(self, reason: str, state: State) -> None:
        before = self._freshness
        self._freshness = before.failing(reason, state)
        if (before.state, before.reason) != (state, reason):
            self._notify()

    def _notify(self) -> None:
        if self._stopping.is_set():
            return
        with self._lock:
            subscribers = list(self._subscribers)
        for callback in subscribers:
            try:
                callback(self)
            except Exception:
                log.exception("a %s cache subscriber failed", self.kind.plural)


def _key(obj: dict[str, Any]) -> Key:
    meta = obj.get("metadata") or {}
    return (meta.get("namespace") or "", meta.get("name") or "")


class Caches:
    """The watch caches every pane shares: one per (kind, namespace), started on first use.

    A cache of all namespaces, once it exists, also serves requests for one namespace; the
    caller then filters (`cache.objects(namespace)`, or compare `cache.namespace`)."""

    def __init__(self, api: ApiClient, **options: Any) -> None:
        self.api = api
        self.options = options  # WatchCache keyword options (backoff, stale_after …)
        self._lock = threading.Lock()
        self._caches: dict[tuple[Kind, str | None], WatchCache] = {}

    def get(self, kind: Kind, namespace: str | None = None) -> WatchCache:
        scope = namespace if kind.namespaced else None
        with self._lock:
            cache = self._caches.get((kind, scope))
            if cache is None and scope is not None:
                cache = self._caches.get((kind, None))
            if cache is None:
                cache = WatchCache(self.api, kind, scope, **self.options)
                self._caches[(kind, scope)] = cache
                cache.start()
        return cache

    def stop_all(self, timeout: float = 1.0) -> None:
        with self._lock:
            caches = list(self._caches.values())
            self._caches.clear()
        for cache in caches:  # cut every watch first, then wait for them together
            cache.halt()
        deadline = time.monotonic() + timeout
        for cache in caches:
            cache.join(max(0.0, deadline - time.monotonic()))

    def freshness(self) -> list[Freshness]:
        with self._lock:
            return [c.freshness for c in self._caches.values()]
