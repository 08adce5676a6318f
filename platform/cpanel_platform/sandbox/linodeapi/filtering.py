"""X-Filter, the JSON filter of list endpoints, for the cases the clients send: field equality
(a list field matches when it contains the value), dotted or nested field paths, `+and`,
`+or`, the operators `+neq +contains +gt +gte +lt +lte`, and `+order_by` with `+order`."""

from __future__ import annotations

import json
import operator
from collections.abc import Callable
from typing import Any

from ..dotted import get_path
from .errors import bad_field

_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "+neq": operator.ne,
    "+gt": operator.gt,
    "+gte": operator.ge,
    "+lt": operator.lt,
    "+lte": operator.le,
    "+contains": lambda actual, wanted: str(wanted).lower() in str(actual).lower(),
}


def apply(items: list[dict[str, Any]], header: str | None) -> list[dict[str, Any]]:
    if not header:
        return items
    try:
        spec = json.loads(header)
    except ValueError:
        raise bad_field("X-Filter", "Invalid JSON in X-Filter") from None
    if not isinstance(spec, dict):
        raise bad_field("X-Filter", "X-Filter must be an object")
    order_by = spec.pop("+order_by", None)
    descending = spec.pop("+order", "asc") == "desc"
    kept = [item for item in items if _matches(item, spec)]
    if order_by is not None:
        # Items without the field sort first, as nulls do in the real API's ascending order.
        kept.sort(key=lambda item: _sort_key(get_path(item, str(order_by))), reverse=descending)
    return kept


def _matches(item: dict[str, Any], condition: dict[str, Any]) -> bool:
    for key, wanted in condition.items():
        if key == "+and":
            ok = all(_matches(item, part) for part in _parts(key, wanted))
        elif key == "+or":
            ok = any(_matches(item, part) for part in _parts(key, wanted))
        else:
            ok = _test(get_path(item, key), wanted)
        if not ok:
            return False
    return True


def _parts(key: str, value: Any) -> list[dict[str, Any]]:
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise bad_field("X-Filter", f"{key} must be an array of objects")
    return value


def _test(actual: Any, wanted: Any) -> bool:
    if isinstance(wanted, dict) and wanted and all(k.startswith("+") for k in wanted):
        return all(_compare(op, actual, value) for op, value in wanted.items())
    if isinstance(wanted, dict):
        return isinstance(actual, dict) and _matches(actual, wanted)
    if isinstance(actual, list):
        return wanted in actual
    return actual == wanted


def _compare(op: str, actual: Any, wanted: Any) -> bool:
    compare = _COMPARE.get(op)
    if compare is None:
        raise bad_field("X-Filter", f"Unknown operator {op}")
    if actual is None:
        return op == "+neq" and wanted is not None
    try:
        return compare(actual, wanted)
    except TypeError:
        return False


def _sort_key(value: Any) -> tuple[bool, Any]:
    return (value is not None, value if isinstance(value, int | float) else str(value or ""))
