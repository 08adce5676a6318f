"""Which objects a controller owns: ControllerRef claiming (adopt and release) and event routing."""

from __future__ import annotations

import copy
from typing import Any

from ..api import Api
from ..selectors import LabelSelector
from .base import controller_of, controller_ref

POD_KEY = ("", "pods")


def claim_pods(
    api: Api, owner: dict[str, Any], selector: LabelSelector, finalizer: str = ""
) -> list[dict[str, Any]]:
    """The pods `owner` controls: it adopts matching orphans (adding `finalizer`, if any) and
    releases pods whose labels stopped matching its selector."""
    meta = owner["metadata"]
    rt = api.preferred(*POD_KEY)
    claimed = []
    for pod in api.store.list(POD_KEY, meta["namespace"]):
        ref = controller_of(pod)
        matches = selector.matches(pod["metadata"].get("labels"))
        if ref and ref.get("uid") == meta["uid"]:
            if matches:
                claimed.append(pod)
            elif not meta.get("deletionTimestamp"):
                _set_refs(
                    api,
                    rt,
                    pod,
                    [r for r in pod["metadata"]["ownerReferences"] if r.get("uid") != meta["uid"]],
                )
        elif (
            ref is None
            and matches
            and not pod["metadata"].get("deletionTimestamp")
            and not meta.get("deletionTimestamp")
        ):
            claimed.append(_adopt(api, rt, pod, owner, finalizer))
    return claimed


def _adopt(
    api: Api, rt: Any, pod: dict[str, Any], owner: dict[str, Any], finalizer: str
) -> dict[str, Any]:
    new = copy.deepcopy(pod)
    new["metadata"].setdefault("ownerReferences", []).append(controller_ref(owner))
    if finalizer and finalizer not in (new["metadata"].get("finalizers") or []):
        new["metadata"].setdefault("finalizers", []).append(finalizer)
    return api.update(rt, pod["metadata"]["namespace"], pod["metadata"]["name"], new)


def _set_refs(api: Api, rt: Any, pod: dict[str, Any], refs: list[dict[str, Any]]) -> None:
    new = copy.deepcopy(pod)
    new["metadata"]["ownerReferences"] = refs
    api.update(rt, pod["metadata"]["namespace"], pod["metadata"]["name"], new)
