"""Questions controllers ask about a pod's state."""

from __future__ import annotations

from typing import Any

from . import clock


def is_terminating(pod: dict[str, Any]) -> bool:
    return bool(pod["metadata"].get("deletionTimestamp"))


def is_active(pod: dict[str, Any]) -> bool:
    """Counts toward a controller's replicas: not finished and not being deleted."""
    return not is_terminating(pod) and pod["status"].get("phase") not in ("Succeeded", "Failed")


def ready_condition(pod: dict[str, Any]) -> dict[str, Any] | None:
    for cond in (pod.get("status") or {}).get("conditions") or []:
        if cond.get("type") == "Ready":
            return cond
    return None


def is_ready(pod: dict[str, Any]) -> bool:
    cond = ready_condition(pod)
    return bool(cond and cond.get("status") == "True")


def available_in(pod: dict[str, Any], min_ready_seconds: int) -> float | None:
    """Seconds until a ready pod counts as available (0 if it does); None if it is not ready."""
    cond = ready_condition(pod)
    if not cond or cond.get("status") != "True":
        return None
    if not min_ready_seconds:
        return 0.0
    since = clock.parse(cond.get("lastTransitionTime"))
    if since is None:
        return 0.0
    return max(0.0, min_ready_seconds - (clock.now() - since).total_seconds())
