"""The pod `eviction` subresource: a delete that honours PodDisruptionBudgets."""

from __future__ import annotations

import copy
from typing import Any

from . import clock
from .api import Api
from .errors import ApiError, too_many_requests
from .podstate import is_ready
from .selectors import selector_from_dict

PDB_KEY = ("policy", "poddisruptionbudgets")


def evict(api: Api, namespace: str, name: str, body: Any, dry_run: bool = False) -> dict[str, Any]:
    pods = api.preferred("", "pods")
    pod = api.get(pods, namespace, name)
    body = body if isinstance(body, dict) else {}
    options = dict(body.get("deleteOptions") or {})
    dry_run = dry_run or options.pop("dryRun", None) == ["All"]
    success = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Success",
        "code": 201,
    }
    if pod["metadata"].get("deletionTimestamp") or pod["status"].get("phase") in (
        "Succeeded",
        "Failed",
        "Pending",
    ):
        # Nothing healthy is disrupted; the real server skips the budget for these too.
        api.delete(pods, namespace, name, options, dry_run)
        return success
    labels = pod["metadata"].get("labels") or {}
    budgets = [
        pdb
        for pdb in api.store.list(PDB_KEY, namespace)
        if selector_from_dict((pdb.get("spec") or {}).get("selector")).matches(labels)
    ]
    if len(budgets) > 1:
        raise ApiError(
            500,
            "InternalError",
            "This pod has more than one PodDisruptionBudget, which the eviction "
            "subresource does not support.",
        )
    if budgets and is_ready(pod):
        pdb = budgets[0]
        status = pdb.get("status") or {}
        if status.get("observedGeneration", 0) < pdb["metadata"].get("generation", 1) or (
            status.get("disruptionsAllowed", 0) <= 0
        ):
            raise too_many_requests(
                "Cannot evict pod as it would violate the pod's disruption budget.",
                [
                    {
                        "reason": "DisruptionBudget",
                        "message": f"The disruption budget {pdb['metadata']['name']} needs "
                        f"{status.get('desiredHealthy', 0)} healthy pods and has "
                        f"{status.get('currentHealthy', 0)} currently",
                    }
                ],
            )
        if not dry_run:
            new = copy.deepcopy(pdb)
            new["status"]["disruptionsAllowed"] = status["disruptionsAllowed"] - 1
            new["status"].setdefault("disruptedPods", {})[name] = clock.stamp()
            api.update(
                api.preferred(*PDB_KEY),
                namespace,
                pdb["metadata"]["name"],
                new,
                subresource="status",
            )
    api.delete(pods, namespace, name, options, dry_run)
    return success
