"""Small shared pieces of the views: severity, times and sizes as kubectl and k9s show them."""

from __future__ import annotations

from datetime import datetime
from enum import IntEnum
from typing import Any


class Severity(IntEnum):
    """How a row or figure should be coloured; ordered so max() finds the worst."""

    NONE = 0  # nothing to say (e.g. a completed Job's pod)
    OK = 1
    WARN = 2
    ERROR = 3


def parse_time(value: str | None) -> float | None:
    """An RFC 3339 timestamp (as the API writes them) as epoch seconds, None when absent."""
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def age(seconds: float | None) -> str:
    """kubectl's short age: 45s, 12m, 5h3m / 5h, 3d4h / 3d, 400d."""
    if seconds is None:
        return "-"
    s = max(0, int(seconds))
    if s < 120:
        return f"{s}s"
    minutes = s // 60
    if minutes < 10:
        return f"{minutes}m{s % 60}s" if s % 60 else f"{minutes}m"
    if minutes < 180:
        return f"{minutes}m"
    hours = minutes // 60
    if hours < 8:
        return f"{hours}h{minutes % 60}m" if minutes % 60 else f"{hours}h"
    if hours < 48:
        return f"{hours}h"
    days = hours // 24
    if days < 8:
        return f"{days}d{hours % 24}h" if hours % 24 else f"{days}d"
    return f"{days}d"


def size(n: float | None, unit: str = "B") -> str:
    """Binary-prefixed size: 512B, 1.5KiB, 20MiB, 3.2GiB."""
    if n is None:
        return "-"
    value = float(n)
    for prefix in ("", "Ki", "Mi", "Gi", "Ti"):
        if abs(value) < 1024 or prefix == "Ti":
            if prefix == "" or value >= 100:
                return f"{value:.0f}{prefix}{unit}"
            return f"{value:.1f}{prefix}{unit}"
        value /= 1024
    raise AssertionError("unreachable")


def labels_of(obj: dict[str, Any]) -> dict[str, str]:
    return (obj.get("metadata") or {}).get("labels") or {}


def name_of(obj: dict[str, Any]) -> str:
    return (obj.get("metadata") or {}).get("name", "")


def namespace_of(obj: dict[str, Any]) -> str:
    return (obj.get("metadata") or {}).get("namespace", "")
