"""The account's event log (/v4/account/events).

Progress events go scheduled → started → finished (or failed); one-off changes are recorded
as `notification`. Lists are newest first, as the real API returns them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .clock import stamp
from .errors import not_found
from .ids import IdAllocator
from .scheduler import Scheduler

NOTIFICATION, SCHEDULED, STARTED, FINISHED, FAILED = (
    "notification",
    "scheduled",
    "started",
    "finished",
    "failed",
)
_DONE = (NOTIFICATION, FINISHED, FAILED)


@dataclass
class Event:
    id: int
    action: str
    entity: dict[str, Any]
    username: str | None
    created: float
    status: str
    started: float | None = None
    ended: float | None = None
    message: str | None = None
    secondary_entity: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        duration = None
        if self.started is not None and self.ended is not None:
            duration = round(self.ended - self.started, 2)
        return {
            "id": self.id,
            "action": self.action,
            "created": stamp(self.created),
            "entity": dict(self.entity),
            "secondary_entity": self.secondary_entity,
            "status": self.status,
            "percent_complete": 100 if self.status in _DONE else 0,
            "duration": duration,
            "rate": None,
            "time_remaining": None,
            "seen": False,
            "read": False,
            "username": self.username,
            "message": self.message,
        }


class EventLog:
    def __init__(self, ids: IdAllocator, scheduler: Scheduler) -> None:
        self._ids = ids
        self._scheduler = scheduler
        self._events: dict[int, Event] = {}

    def record(
        self,
        action: str,
        entity: dict[str, Any],
        username: str | None,
        status: str = NOTIFICATION,
    ) -> Event:
        now = self._scheduler.now
        event = Event(self._ids.next("event"), action, entity, username, now, status)
        if status in (STARTED, NOTIFICATION):
            event.started = now
        if status == NOTIFICATION:
            event.ended = now
        self._events[event.id] = event
        return event

    def start(self, event_id: int) -> None:
        event = self._events[event_id]
        event.status, event.started = STARTED, self._scheduler.now

    def finish(self, event_id: int) -> None:
        self._end(event_id, FINISHED)

    def fail(self, event_id: int, message: str) -> None:
        self._end(event_id, FAILED, message)

    def _end(self, event_id: int, status: str, message: str | None = None) -> None:
        event = self._events[event_id]
        if event.status in _DONE:
            return
        now = self._scheduler.now
        event.status, event.ended, event.message = status, now, message
        if event.started is None:
            event.started = now

    def list(self) -> list[dict[str, Any]]:
        return [e.to_json() for e in sorted(self._events.values(), key=lambda e: -e.id)]

    def get(self, event_id: int) -> dict[str, Any]:
        event = self._events.get(event_id)
        if event is None:
            raise not_found()
        return event.to_json()
