"""Serving the sandbox's HTTP APIs: loopback sockets and a uvicorn server that leaves
signal handling to the sandbox process."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Coroutine, Iterator, Sequence
from pathlib import Path
from typing import Any

import uvicorn
from uvicorn._types import ASGIApplication


class QuietServer(uvicorn.Server):
    """Signals belong to the sandbox process: it ends watch streams before the server stops,
    so nothing is cut off mid-response."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def listen(port: int = 0) -> socket.socket:
    """A listening socket on 127.0.0.1 (port 0: a free one)."""
    # IPPROTO_TCP explicitly: asyncio turns Nagle off (TCP_NODELAY) only on sockets that say
    # so, and without it every response waits ~40 ms for the client's delayed ACK.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(1024)
    sock.set_inheritable(True)
    return sock


class AppServer:
    """An ASGI app served by uvicorn on a pre-bound socket until `stop()`, with companion
    coroutines (controllers, tickers) that live exactly as long as the server."""

    def __init__(self, app: ASGIApplication) -> None:
        self.app = app
        self._server: QuietServer | None = None

    async def serve(
        self,
        sock: socket.socket,
        ready: asyncio.Event | None = None,
        tls: tuple[Path, Path] | None = None,
        companions: Sequence[Coroutine[Any, Any, Any]] = (),
    ) -> None:
        """Serve on `sock` (HTTPS when `tls` gives a certificate and key file)."""
        cert, key = tls or (None, None)
        config = uvicorn.Config(
            self.app,
            log_level="warning",
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=1,
            # As long as nginx's default: clients that wait out a Retry-After (5 s and more
            # here) on a pooled connection must not find it closed under them.
            timeout_keep_alive=75,
            ssl_certfile=cert,
            ssl_keyfile=key,
        )
        server = self._server = QuietServer(config)
        tasks = [asyncio.create_task(c) for c in companions]
        serving = asyncio.create_task(server.serve(sockets=[sock]))
        try:
            while not server.started and not serving.done():
                await asyncio.sleep(0.01)
            if ready:
                ready.set()
            await serving
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task

    def stop(self) -> None:
        if self._server:
            self._server.should_exit = True
