"""The per-token request limit: fixed one-minute windows, like the real API's limiter, which
reports the quota on every response and answers 429 with Retry-After once it is spent."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

WINDOW = 60.0


@dataclass(frozen=True)
class Quota:
    limit: int
    remaining: int
    reset: float  # epoch seconds when the window ends

    def headers(self) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(math.ceil(self.reset)),
        }


class RateLimiter:
    def __init__(self, per_minute: int, now: Callable[[], float] = time.time) -> None:
        self.per_minute = per_minute
        self._now = now
        self._windows: dict[str, tuple[float, int]] = {}  # key -> (window start, requests)

    def hit(self, key: str) -> tuple[Quota, float | None]:
        """Count a request; the quota left, and how long to wait when there is none."""
        now = self._now()
        start, used = self._windows.get(key, (now, 0))
        if now - start >= WINDOW:
            start, used = now, 0
        reset = start + WINDOW
        if used >= self.per_minute:
            return Quota(self.per_minute, 0, reset), reset - now
        self._windows[key] = (start, used + 1)
        return Quota(self.per_minute, self.per_minute - used - 1, reset), None
