"""Reading request bodies: typed fields, with Linode-shaped 400s naming the field."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .errors import bad_field

_NAMES = {
    str: "a string",
    int: "an integer",
    bool: "a boolean",
    list: "an array",
    dict: "an object",
}
REQUIRED: Any = object()


def take(
    body: Mapping[str, Any], name: str, kind: type, default: Any = REQUIRED, at: str = ""
) -> Any:
    """`body[name]` if it is a `kind`; `default` when absent or null. `at` prefixes the field
    path of nested objects in errors (e.g. "node_pools[0].")."""
    value = body.get(name)
    if value is None:
        if default is REQUIRED:
            raise bad_field(at + name, f"{name} is required")
        return default
    # bool is an int to Python, never to the API.
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise bad_field(at + name, f"Must be {_NAMES[kind]}")
    return value


def take_count(body: Mapping[str, Any], name: str, low: int, high: int, **kw: Any) -> Any:
    value = take(body, name, int, **kw)
    if value is not None and not low <= value <= high:
        raise bad_field(kw.get("at", "") + name, f"{name} must be between {low} and {high}")
    return value


def take_strings(body: Mapping[str, Any], name: str, at: str = "") -> list[str]:
    values = take(body, name, list, [], at)
    if not all(isinstance(v, str) for v in values):
        raise bad_field(at + name, "Must be an array of strings")
    return list(values)


def object_body(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise bad_field("body", "Must be an object")
    return body
