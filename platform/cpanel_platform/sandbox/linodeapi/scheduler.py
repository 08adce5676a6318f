"""Work due at simulated times, run in time order.

While a piece of work runs, `now` is the time it was due, not the time the clock was read:
what it records and what it schedules next are exact however coarsely time is stepped.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable

from .clock import Clock

Work = Callable[[], None]


class Scheduler:
    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._due: list[tuple[float, int, Work]] = []
        self._order = itertools.count()  # ties run in the order they were scheduled
        self._running_at: float | None = None

    @property
    def now(self) -> float:
        return self._running_at if self._running_at is not None else self.clock.now()

    def after(self, delay: float, work: Work) -> None:
        heapq.heappush(self._due, (self.now + delay, next(self._order), work))

    def tick(self) -> None:
        """Run everything due by the clock's present, including work that work schedules."""
        horizon = self.clock.now()
        while self._due and self._due[0][0] <= horizon:
            when, _, work = heapq.heappop(self._due)
            self._run(work, when)

    def settle(self) -> None:
        """Run everything pending now, whenever it was due: for seeding a world that is
        already steady when the sandbox starts."""
        while self._due:
            _, _, work = heapq.heappop(self._due)
            self._run(work, self.clock.now())

    def _run(self, work: Work, at: float) -> None:
        self._running_at = at
        try:
            work()
        finally:
            self._running_at = None
