"""The platform's telemetry: every series the real exporters would publish, with counters
that only move forward.

One `Telemetry` serves both the past and the present. `record(times)` walks the history
forward (baseline plus planned incidents, never the knobs); `sample(t)` is a live scrape
(knobs included). Both integrate the same counter totals, so live scraping continues
exactly where the history ended.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from itertools import accumulate
from operator import mul
from typing import Any, NamedTuple

from . import signals
from .model import Incident, Knobs, Platform
from .signals import Family, Grid, Signal


class Sample(NamedTuple):
    family: Family
    labels: dict[str, str]
    value: float

    @property
    def name(self) -> str:
        return self.family.sample_name


@dataclass
class Series:
    family: Family
    labels: dict[str, str]
    key: str  # the series as exposition writes it: name{label="value",…}
    values: list[Any]  # one per time; ints for whole-number families


def series_key(name: str, labels: dict[str, str]) -> str:
    def escape(value: str) -> str:
        return value.replace("\\", r"\\").replace('"', r"\"").replace("\n", r"\n")

    pairs = ",".join(f'{k}="{escape(v)}"' for k, v in sorted(labels.items()))
    return f"{name}{{{pairs}}}"


class Telemetry:
    """Change `platform` fields under `lock`; turn knobs with `turn`."""

    def __init__(
        self, platform: Platform, seed: int = 0, clock: Callable[[], float] = time.time
    ) -> None:
        self.platform = platform
        self.seed = seed
        self.clock = clock
        self.knobs = Knobs()
        self.incidents: list[Incident] = []
        self.lock = threading.RLock()
        self._noise = signals.noise_table(seed)
        self._totals: dict[str, float] = {}  # counter series key -> running total
        self._last: float | None = None  # the time the totals are at

    # -- the present ---------------------------------------------------------------------
    def sample(self, t: float) -> list[Sample]:
        """Every series at `t`, as a scrape at `t` would see it."""
        with self.lock:
            series = self._advance([t], self.knobs)
        return [Sample(s.family, s.labels, s.values[0]) for s in series]

    def turn(self, **changes: Any) -> None:
        """Change knobs from now on, e.g. `turn(utilisation={label: 1.0})`. Counters are
        first brought up to now, so the old setting keeps the time it had."""
        with self.lock:
            if self._last is not None:
                self._advance([self.clock()], self.knobs)
            self.knobs = replace(self.knobs, **changes)

    # -- the past ------------------------------------------------------------------------
    def record(self, times: Sequence[float]) -> list[Series]:
        """Every series at each of `times` (ascending, after the totals' time): the
        baseline and `incidents`, without knobs."""
        with self.lock:
            return self._advance(times, Knobs())

    def totals(self) -> tuple[float | None, dict[str, float]]:
        """The counters' time and running totals, to save and `restore` later."""
        with self.lock:
            return self._last, dict(self._totals)

    def restore(self, at: float, totals: dict[str, float]) -> None:
        """Start counting from `totals` at time `at` (empty totals: every counter at 0)."""
        with self.lock:
            self._last = at
            self._totals = dict(totals)

    # -- both ----------------------------------------------------------------------------
    def _advance(self, times: Sequence[float], knobs: Knobs) -> list[Series]:
        grid = Grid(times, self._noise, knobs, self.incidents)
        start = times[0] if self._last is None else self._last
        # A rate holds from one time to the next, so each step's count uses the rate at its
        # end; a clock that steps back adds nothing.
        steps = [max(0.0, b - a) for a, b in zip([start, *times], times, strict=False)]
        out = [
            self._series(signal, steps)
            for source in signals.SOURCES
            for signal in source(self.platform, grid)
        ]
        self._last = max(start, times[-1])
        return out

    def _series(self, signal: Signal, steps: list[float]) -> Series:
        family = signal.family
        key = series_key(family.sample_name, signal.labels)
        values: list[Any] = signal.values
        if family.cumulative:
            total = self._totals.get(key, 0.0)
            values = list(accumulate(map(mul, values, steps), initial=total))[1:]
            self._totals[key] = values[-1]
        if family.whole:
            values = list(map(int, values))  # floor: all of these are non-negative
        return Series(family, signal.labels, key, values)
