"""A record of the requests an emulator answers, so that tests can assert what a client did
(or that it wrote nothing): an ASGI wrapper around the emulator's app, read through the
control API's `/requests/<api>?since=N`.

Routes name the caller by setting `request.state.user`; an unauthenticated request is
logged with user "".
"""

from __future__ import annotations

import time
from collections import deque
from typing import Any
from urllib.parse import parse_qs

from starlette.types import ASGIApp, Message, Receive, Scope, Send

SIZE = 20000  # entries kept: the oldest go first


class RequestLog:
    """The ASGI app `app`, recording each answered request when its response starts (a
    watch as soon as it opens). With `dry_run`, entries say whether the request asked for a
    dry run (`dryRun=All`, as the Kubernetes API takes it)."""

    def __init__(self, app: ASGIApp, dry_run: bool = False, size: int = SIZE) -> None:
        self.app = app
        self._dry_run = dry_run
        self._entries: deque[dict[str, Any]] = deque(maxlen=size)
        self._next = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})

        async def answer(message: Message) -> None:
            if message["type"] == "http.response.start":
                self._record(scope, state.get("user", ""), message["status"])
            await send(message)

        await self.app(scope, receive, answer)

    def _record(self, scope: Scope, user: str, status: int) -> None:
        query = scope.get("query_string", b"").decode("latin-1")
        entry: dict[str, Any] = {
            "seq": self._next,
            "monotonic": time.monotonic(),
            "method": scope["method"],
            "path": scope["path"],
            "query": query,
            "user": user,
            "status": status,
        }
        if self._dry_run:
            entry["dry_run"] = "All" in parse_qs(query).get("dryRun", [])
        self._entries.append(entry)
        self._next += 1

    def since(self, seq: int) -> tuple[list[dict[str, Any]], int]:
        """The kept entries numbered `seq` or later, and the number the next one will get."""
        return [e for e in self._entries if e["seq"] >= seq], self._next
