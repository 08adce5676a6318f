"""One line that says why a request failed, for a freshness badge: the innermost cause
("connection refused", "timed out"), not the client library's wrapper around it."""

from __future__ import annotations

import socket
import ssl


def network_reason(exc: BaseException) -> str:
    seen: set[int] = set()
    todo: list[BaseException] = [exc]
    while todo:
        err = todo.pop()
        if id(err) in seen:
            continue
        seen.add(id(err))
        if isinstance(err, ConnectionRefusedError):
            return "connection refused"
        if isinstance(err, ConnectionResetError):
            return "connection reset"
        if isinstance(err, socket.gaierror):
            return "host name not resolved"
        if isinstance(err, TimeoutError):
            return "timed out"
        if isinstance(err, ssl.SSLCertVerificationError):
            return f"TLS certificate not trusted: {err.verify_message}"
        # urllib3 keeps the cause in .reason; requests wraps urllib3's error in args.
        for inner in (err.__cause__, err.__context__, getattr(err, "reason", None),
                      *(a for a in getattr(err, "args", ()) if isinstance(a, BaseException))):
            if isinstance(inner, BaseException):
                todo.append(inner)
    return one_line(exc) or type(exc).__name__


def one_line(text: object, limit: int = 200) -> str:
    """`text` with its whitespace runs (newlines too) as single spaces, cut at `limit`."""
    return " ".join(str(text).split())[:limit]
