"""Container logs, kept per pod and container, that `kubectl logs [-f] [--previous]` reads.

Whoever runs the containers (the sandbox kubelets) writes here; the API server's `log`
subresource reads and follows. Keyed by pod uid so a recreated pod starts with empty logs.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from . import clock

_KEEP = 5000  # lines per container, as a log rotation would


@dataclass
class _Stream:
    current: deque[tuple[dt.datetime, str]] = field(default_factory=lambda: deque(maxlen=_KEEP))
    previous: list[tuple[dt.datetime, str]] = field(default_factory=list)
    written: int = 0  # lines ever written to `current`; followers count from it
    closed: bool = False
    waiters: set[asyncio.Event] = field(default_factory=set)

    def wake(self) -> None:
        for w in self.waiters:
            w.set()


class LogBook:
    def __init__(self) -> None:
        self._streams: dict[tuple[str, str], _Stream] = {}

    def _stream(self, uid: str, container: str) -> _Stream:
        return self._streams.setdefault((uid, container), _Stream())

    def write(self, uid: str, container: str, line: str, when: dt.datetime | None = None) -> None:
        stream = self._stream(uid, container)
        stream.closed = False
        stream.current.append((when or clock.now(), line))
        stream.written += 1
        stream.wake()

    def restart(self, uid: str, container: str) -> None:
        """The container restarted: its log so far becomes `--previous`."""
        stream = self._stream(uid, container)
        stream.previous = list(stream.current)
        stream.current.clear()
        stream.written = 0

    def close(self, uid: str) -> None:
        """The pod is gone: followers end."""
        for (puid, _), stream in list(self._streams.items()):
            if puid == uid:
                stream.closed = True
                stream.wake()
                del self._streams[(puid, _)]

    def close_all(self) -> None:
        for stream in self._streams.values():
            stream.closed = True
            stream.wake()

    def has_previous(self, uid: str, container: str) -> bool:
        return bool(self._stream(uid, container).previous)

    def lines(
        self, uid: str, container: str, previous: bool = False
    ) -> list[tuple[dt.datetime, str]]:
        stream = self._stream(uid, container)
        return list(stream.previous if previous else stream.current)

    async def follow(
        self, uid: str, container: str, seen: int
    ) -> AsyncIterator[tuple[dt.datetime, str]]:
        """Lines written after the first `seen` ones, until the pod goes away."""
        stream = self._stream(uid, container)
        waiter = asyncio.Event()
        stream.waiters.add(waiter)
        total = seen
        try:
            while not stream.closed:
                if stream.written < total:
                    total = 0  # the container restarted
                fresh = min(stream.written - total, len(stream.current))
                for item in list(stream.current)[len(stream.current) - fresh :]:
                    yield item
                total = stream.written
                waiter.clear()
                await waiter.wait()
        finally:
            stream.waiters.discard(waiter)
