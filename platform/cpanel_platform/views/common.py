"""Small shared pieces of the views: severity, times and sizes as kubectl and k9s show them."""

from __future__ import annotations

import math
from enum import IntEnum
from typing import Any

from ..prom.results import Results, Sample, Series


class Severity(IntEnum):
    """How a row or figure should be coloured; ordered so max() finds the worst."""

    NONE = 0  # nothing to say (e.g. a completed Job's pod)
    OK = 1
    WARN = 2
    ERROR = 3


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


def percent(ratio: float | None, digits: int = 0) -> str:
    """A ratio as a percentage: 0.34 → "34%", 0.99994 with 3 digits → "99.994%"."""
    return "-" if ratio is None else f"{ratio * 100:.{digits}f}%"


def labels_of(obj: dict[str, Any]) -> dict[str, str]:
    return (obj.get("metadata") or {}).get("labels") or {}


def name_of(obj: dict[str, Any]) -> str:
    return (obj.get("metadata") or {}).get("name", "")


def namespace_of(obj: dict[str, Any]) -> str:
    return (obj.get("metadata") or {}).get("namespace", "")


_QUANTITY_SUFFIXES = {
    "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60,
    "n": 1e-9, "u": 1e-6, "m": 1e-3, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15,
    "E": 1e18,
}


def parse_quantity(value: str | float | None) -> float | None:
    """A Kubernetes quantity ("50Gi", "500m", "1e9", "128974848") as a number, None if absent
    or malformed."""
    if value is None:
        return None
    if isinstance(value, int | float):
        return float(value)
    text = value.strip()
    for suffix in sorted(_QUANTITY_SUFFIXES, key=len, reverse=True):
        if text.endswith(suffix):
            try:
                return float(text[: -len(suffix)]) * _QUANTITY_SUFFIXES[suffix]
            except ValueError:
                return None
    try:
        return float(text)
    except ValueError:
        return None


def answered(results: Results | None, *names: str) -> bool:
    """Whether Prometheus answered every one of these queries (possibly with no series)."""
    return results is not None and all(name in results for name in names)


def instant(results: Results | None, name: str) -> tuple[Sample, ...]:
    """The samples of an instant query; none when it has no answer."""
    if results is None:
        return ()
    return tuple(s for s in results.get(name, ()) if isinstance(s, Sample))


def ranged(results: Results | None, name: str) -> tuple[Series, ...]:
    """The series of a range query; none when it has no answer."""
    if results is None:
        return ()
    return tuple(s for s in results.get(name, ()) if isinstance(s, Series))


def finite(value: float | None) -> float | None:
    """The value, or None for NaN and infinities (a ratio of 0/0 when nothing happened)."""
    if value is None or not math.isfinite(value):
        return None
    return value


def annotations_of(obj: dict[str, Any]) -> dict[str, str]:
    return (obj.get("metadata") or {}).get("annotations") or {}


def condition(obj: dict[str, Any], kind: str) -> dict[str, Any] | None:
    """The status condition of type `kind`, None when the object does not report it."""
    conditions = (obj.get("status") or {}).get("conditions") or []
    return next((c for c in conditions if c.get("type") == kind), None)
