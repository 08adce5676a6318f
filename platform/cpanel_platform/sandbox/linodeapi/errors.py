"""API errors in Linode's shape: a status and `{"errors": [{"field"?, "reason"}]}`."""

from __future__ import annotations

import math
from typing import Any


class LinodeError(Exception):
    def __init__(
        self,
        status: int,
        reason: str,
        field: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.field = field
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"reason": self.reason}
        if self.field:
            error["field"] = self.field
        return {"errors": [error]}


def not_found() -> LinodeError:
    return LinodeError(404, "Not found")


def invalid_token() -> LinodeError:
    return LinodeError(401, "Invalid Token")


def method_not_allowed() -> LinodeError:
    return LinodeError(405, "Method Not Allowed")


def bad_request(reason: str) -> LinodeError:
    return LinodeError(400, reason)


def bad_field(field: str, reason: str) -> LinodeError:
    return LinodeError(400, reason, field)


def too_many_requests(retry_after: float) -> LinodeError:
    return LinodeError(429, "Too many requests", headers=_retry_after(retry_after))


def unavailable(reason: str, retry_after: float) -> LinodeError:
    return LinodeError(503, reason, headers=_retry_after(retry_after))


def _retry_after(seconds: float) -> dict[str, str]:
    return {"Retry-After": str(max(1, math.ceil(seconds)))}
