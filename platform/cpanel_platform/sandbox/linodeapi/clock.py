"""Time for the Linode emulator: an injectable clock and the API's timestamp format."""

from __future__ import annotations

import datetime as dt
import time
from typing import Protocol

# 2026-01-01T00:00:00Z: where a ManualClock starts unless told otherwise.
EPOCH_2026 = 1_767_225_600.0


class Clock(Protocol):
    def now(self) -> float:
        """Seconds since the Unix epoch."""
        ...


class SystemClock:
    def now(self) -> float:
        return time.time()


class ManualClock:
    """A clock that moves only when told to, so tests can step simulated time exactly."""

    def __init__(self, start: float = EPOCH_2026) -> None:
        self._now = start

    def now(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        self._now += seconds


def stamp(epoch: float) -> str:
    """The API's timestamp: UTC to the second, with no zone designator."""
    return dt.datetime.fromtimestamp(epoch, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")
