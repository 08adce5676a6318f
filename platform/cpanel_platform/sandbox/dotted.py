"""Dotted-path access into JSON-like objects (`spec.template.metadata`), as API filters,
selectors and subresources address fields."""

from __future__ import annotations

from typing import Any


def get_path(obj: Any, path: str) -> Any:
    """The value at `path`, or None where any step is missing or not an object."""
    cur: Any = obj
    for part in path.split("."):
        if not isinstance(cur, dict):
            return None
        cur = cur.get(part)
    return cur
