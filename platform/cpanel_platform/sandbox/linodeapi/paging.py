"""Paged lists: `page` and `page_size` (25 to 500, default 100) in, `{data, page, pages, results}`
out. A page past the end is empty, as the real API answers."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from .errors import bad_field

DEFAULT_PAGE_SIZE = 100
MIN_PAGE_SIZE, MAX_PAGE_SIZE = 25, 500


def page(items: Sequence[Any], query: Mapping[str, str]) -> dict[str, Any]:
    number = _number(query, "page", 1, 1, None)
    size = _number(query, "page_size", DEFAULT_PAGE_SIZE, MIN_PAGE_SIZE, MAX_PAGE_SIZE)
    start = (number - 1) * size
    return {
        "data": list(items[start : start + size]),
        "page": number,
        "pages": max(1, math.ceil(len(items) / size)),
        "results": len(items),
    }


def _number(query: Mapping[str, str], name: str, default: int, low: int, high: int | None) -> int:
    text = query.get(name)
    if text is None:
        return default
    try:
        value = int(text)
    except ValueError:
        raise bad_field(name, f"{name} must be an integer") from None
    if value < low or (high is not None and value > high):
        bounds = f"between {low} and {high}" if high else f"at least {low}"
        raise bad_field(name, f"{name} must be {bounds}")
    return value
