"""core/v1 Events that controllers record about the objects they act on."""

from __future__ import annotations

import contextlib
import secrets
from typing import Any

from . import clock
from .api import Api
from .errors import ApiError

_EVENTS = ("", "events")


class Recorder:
    """Records an Event, folding repeats of the same reason and message into a count."""

    def __init__(self, api: Api, component: str) -> None:
        self.api = api
        self.component = component
        self._seen: dict[tuple[str, str, str], tuple[str, str]] = {}  # -> (namespace, name)

    def __call__(self, obj: dict[str, Any], kind: str, reason: str, message: str) -> None:
        meta = obj["metadata"]
        namespace = meta.get("namespace") or "default"
        involved = {
            "kind": obj.get("kind", ""),
            "namespace": meta.get("namespace", ""),
            "name": meta["name"],
            "uid": meta.get("uid", ""),
            "apiVersion": obj.get("apiVersion", ""),
            "resourceVersion": meta.get("resourceVersion", ""),
        }
        if not involved["namespace"]:
            del involved["namespace"]
        rt = self.api.preferred(*_EVENTS)
        now = clock.stamp()
        seen_key = (involved["uid"], reason, message)
        seen = self._seen.get(seen_key)
        previous = seen and self.api.find(*_EVENTS, *seen)
        if previous:
            updated = {**previous, "count": previous.get("count", 1) + 1, "lastTimestamp": now}
            with contextlib.suppress(ApiError):  # a lost event beats a failed reconcile
                self.api.update(rt, namespace, previous["metadata"]["name"], updated)
            return
        event = {
            "metadata": {"name": f"{meta['name']}.{secrets.token_hex(8)}", "namespace": namespace},
            "involvedObject": involved,
            "reason": reason,
            "message": message,
            "source": {"component": self.component},
            "firstTimestamp": now,
            "lastTimestamp": now,
            "count": 1,
            "type": kind,
            "eventTime": None,
            "reportingComponent": self.component,
            "reportingInstance": "",
        }
        try:
            self.api.create(rt, namespace, event)
            self._seen[seen_key] = (namespace, event["metadata"]["name"])
        except ApiError:
            pass  # e.g. the namespace is terminating
