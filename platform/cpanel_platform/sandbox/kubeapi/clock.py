"""Wall-clock helpers in the API's timestamp format (RFC 3339, seconds, UTC)."""

from __future__ import annotations

import datetime as dt


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def stamp(when: dt.datetime | None = None) -> str:
    return (when or now()).strftime("%Y-%m-%dT%H:%M:%SZ")


def micro_stamp(when: dt.datetime | None = None) -> str:
    """MicroTime, as Leases and Events' eventTime use."""
    return (when or now()).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse(text: str | None) -> dt.datetime | None:
    if not text:
        return None
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
