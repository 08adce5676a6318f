"""How fresh a data source is: what every pane's "stale since …" badge is drawn from."""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from enum import Enum


class State(Enum):
    CONNECTING = "connecting"  # no answer yet
    LIVE = "live"  # answering; data is current
    RECONNECTING = "reconnecting"  # lost, retrying; data kept from before `since`
    STALE = "stale"  # failing for a while (or refused); data kept from before `since`


@dataclass(frozen=True)
class Freshness:
    """One source's state. `since` is when the state began (epoch seconds); `reason` says
    why it is not live, in one line fit for a badge."""

    source: str
    state: State = State.CONNECTING
    since: float = 0.0
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.state is State.LIVE

    def live(self, now: float | None = None) -> Freshness:
        if self.state is State.LIVE:
            return self
        return replace(self, state=State.LIVE, since=_now(now), reason="")

    def failing(self, reason: str, state: State = State.RECONNECTING,
                now: float | None = None) -> Freshness:
        """The source failed; keep the first failure's time while it keeps failing."""
        failing_already = self.state in (State.RECONNECTING, State.STALE)
        since = self.since if failing_already else _now(now)
        return replace(self, state=state, since=since, reason=reason)


def _now(now: float | None) -> float:
    return time.time() if now is None else now
