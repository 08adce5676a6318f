"""Timestamps as the APIs write them, as epoch seconds."""

from __future__ import annotations

from datetime import UTC, datetime


def parse_time(value: str | None) -> float | None:
    """RFC 3339 (Kubernetes, Keel: "…Z", fractions) or the Linode API's zone-less UTC
    ("2026-11-26T07:04:24"); None when absent or unreadable."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).timestamp()
