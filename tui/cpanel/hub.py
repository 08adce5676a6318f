"""The app's side of the data flow: one Session, its sources refreshed off the UI thread,
and a message to the app whenever something a pane shows has changed.

Watch caches call back on their own threads; the hub turns those calls into one pending
`Changed` message per source, so a burst of 500 pod events costs the UI one rebuild.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from cpanel_platform.freshness import Freshness
from cpanel_platform.keel import KeelSnapshot
from cpanel_platform.kube.kinds import Kind
from cpanel_platform.linode import LinodeSnapshot
from cpanel_platform.prom.results import Results
from textual.app import App
from textual.message import Message

if TYPE_CHECKING:  # the session's clients load after the first frame
    from cpanel_platform.kube.watchcache import WatchCache
    from cpanel_platform.session import Session


class Changed(Message):
    """Data behind `source` ("kube/pods", "prometheus", "linode", "keel", "platform") has
    changed."""

    def __init__(self, source: str) -> None:
        super().__init__()
        self.source = source


class Hub:
    def __init__(self, app: App[Any], session: Session | None, namespace: str | None) -> None:
        """`session` may come later (the app connects after its first frame)."""
        self.app = app
        self.session = session
        self.namespace = namespace  # None: all namespaces
        self.results: Results | None = None
        self.linode: LinodeSnapshot | None = None
        self.keel: KeelSnapshot | None = None
        self.server_version: str | None = None
        self._pending: set[str] = set()
        self._lock = threading.Lock()
        self._subscribed: dict[int, Any] = {}

    @property
    def connected(self) -> Session:
        """The session; the app asks for data only once it is connected."""
        assert self.session is not None, "no data before the session is connected"
        return self.session

    # -- Kubernetes ---------------------------------------------------------------------
    def cache(self, kind: Kind) -> WatchCache:
        """The shared watch cache of `kind` in the current namespace scope."""
        cache = self.connected.caches.get(kind, self.namespace if kind.namespaced else None)
        if id(cache) not in self._subscribed:
            self._subscribed[id(cache)] = cache.subscribe(self._on_cache)
        return cache

    def objects(self, kind: Kind) -> tuple[dict[str, Any], ...]:
        """The objects of `kind` in scope. The registry may hand back its all-namespaces
        cache for a namespaced request, so the scope is applied here."""
        return self.cache(kind).objects(self.namespace if kind.namespaced else None)

    def synced(self, *kinds: Kind) -> bool:
        """Whether every one of these kinds has been listed at least once."""
        return all(self.cache(kind).synced for kind in kinds)

    def _on_cache(self, cache: WatchCache) -> None:
        self.notify_changed(f"kube/{cache.kind.plural}")

    def notify_changed(self, source: str) -> None:
        """Thread-safe: post one Changed per source until the app has handled it."""
        with self._lock:
            if source in self._pending:
                return
            self._pending.add(source)
        self.app.post_message(Changed(source))

    def handled(self, source: str) -> None:
        with self._lock:
            self._pending.discard(source)

    # -- the others (called from thread workers) ----------------------------------------
    def refresh_prometheus(self, visible: set[str]) -> None:
        self.results = self.connected.prom.refresh(visible)
        self.notify_changed("prometheus")

    def refresh_linode(self) -> None:
        self.linode = self.connected.linode.refresh()
        self.notify_changed("linode")

    def refresh_keel(self) -> None:
        self.keel = self.connected.keel.refresh()
        self.notify_changed("keel")

    def freshness(self) -> list[Freshness]:
        return self.connected.freshness()

    def close(self) -> None:
        for unsubscribe in self._subscribed.values():
            unsubscribe()
        self._subscribed.clear()
        self.connected.close()
