"""LKE request bodies: cluster labels and the fields of a node pool, validated into plain
values before anything changes, so a refused request leaves no trace."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .bodies import take, take_count, take_strings
from .catalogue import LINODE_TYPES
from .errors import bad_field

MAX_NODES = 100
_LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9_.-]{0,30}[A-Za-z0-9])?")
_EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")
_ENCRYPTION = ("enabled", "disabled")


@dataclass
class PoolSpec:
    type: str
    count: int  # at creation; from then on a pool's count is its number of nodes
    autoscaler: dict[str, Any]
    tags: list[str]
    labels: dict[str, str]
    taints: list[dict[str, str]]
    label: str | None
    disk_encryption: str


def cluster_label(body: Mapping[str, Any], current: str | None = None) -> str:
    label = take(body, "label", str, current)
    if not _LABEL.fullmatch(label):
        raise bad_field(
            "label",
            "Label must be 1-32 characters of letters, numbers, dashes, dots and underscores, "
            "beginning and ending with a letter or number",
        )
    return label


def pool_spec(body: Mapping[str, Any], at: str = "") -> PoolSpec:
    plan = take(body, "type", str, at=at)
    if plan not in LINODE_TYPES:
        raise bad_field(at + "type", "A valid plan type is required")
    count = take_count(body, "count", 1, MAX_NODES, at=at)
    encryption = take(body, "disk_encryption", str, "disabled", at)
    if encryption not in _ENCRYPTION:
        raise bad_field(at + "disk_encryption", "Must be one of enabled, disabled")
    return PoolSpec(
        type=plan,
        count=count,
        autoscaler=autoscaler(body, {"enabled": False, "min": count, "max": count}, at),
        tags=take_strings(body, "tags", at),
        labels=labels(body, {}, at),
        taints=taints(body, [], at),
        label=take(body, "label", str, None, at),
        disk_encryption=encryption,
    )


def autoscaler(body: Mapping[str, Any], current: dict[str, Any], at: str = "") -> dict[str, Any]:
    raw = take(body, "autoscaler", dict, None, at)
    if raw is None:
        return current
    at += "autoscaler."
    low = take_count(raw, "min", 1, MAX_NODES, default=current["min"], at=at)
    high = take_count(raw, "max", 1, MAX_NODES, default=current["max"], at=at)
    if low > high:
        raise bad_field(at + "min", "min must not be greater than max")
    return {"enabled": take(raw, "enabled", bool, current["enabled"], at), "min": low, "max": high}


def labels(body: Mapping[str, Any], current: dict[str, str], at: str = "") -> dict[str, str]:
    raw = take(body, "labels", dict, None, at)
    if raw is None:
        return current
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in raw.items()):
        raise bad_field(at + "labels", "Labels must map strings to strings")
    return dict(raw)


def taints(
    body: Mapping[str, Any], current: list[dict[str, str]], at: str = ""
) -> list[dict[str, str]]:
    raw = take(body, "taints", list, None, at)
    if raw is None:
        return current
    result = []
    for i, taint in enumerate(raw):
        where = f"{at}taints[{i}]."
        if not isinstance(taint, dict):
            raise bad_field(where.rstrip("."), "Must be an object")
        effect = take(taint, "effect", str, at=where)
        if effect not in _EFFECTS:
            raise bad_field(where + "effect", f"Must be one of {', '.join(_EFFECTS)}")
        result.append(
            {
                "key": take(taint, "key", str, at=where),
                "value": take(taint, "value", str, "", where),
                "effect": effect,
            }
        )
    return result
