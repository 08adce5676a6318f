"""The scheduler: bind each pending pod to the fitting node running the fewest pods."""

from __future__ import annotations

import copy
from collections import Counter
from collections.abc import Iterable

from ..scheduling import bind, set_condition, unfit_reason
from ..store import Event
from .base import Controller, WorkKey

POD_KEY = ("", "pods")
NODE_KEY = ("", "nodes")


class Scheduler(Controller):
    name = "default-scheduler"
    watches = frozenset({POD_KEY, NODE_KEY})
    resync_seconds = 10.0

    def _pending(self) -> list[WorkKey]:
        return [
            (p["metadata"]["namespace"], p["metadata"]["name"])
            for p in self.api.store.list(POD_KEY)
            if not p["spec"].get("nodeName") and not p["metadata"].get("deletionTimestamp")
        ]

    def keys_for(self, event: Event) -> Iterable[WorkKey]:
        if event.key == NODE_KEY:
            return self._pending()  # a node changed: pending pods may fit now
        if event.type == "DELETED" or event.obj["spec"].get("nodeName"):
            return []
        return super().keys_for(event)

    def all_keys(self) -> Iterable[WorkKey]:
        return self._pending()

    def reconcile(self, key: WorkKey) -> None:
        pod = self.api.find(*POD_KEY, *key)
        if (
            pod is None
            or pod["spec"].get("nodeName")
            or pod["metadata"].get("deletionTimestamp")
            or pod["spec"].get("schedulerName", "default-scheduler") != "default-scheduler"
        ):
            return
        nodes = self.api.store.list(NODE_KEY)
        reasons: Counter[str] = Counter()
        fits = []
        for node in nodes:
            why = unfit_reason(pod["spec"], node)
            if why:
                reasons[why] += 1
            else:
                fits.append(node["metadata"]["name"])
        if fits:
            load = Counter(p["spec"].get("nodeName") for p in self.api.store.list(POD_KEY))
            node = min(fits, key=lambda n: (load[n], n))
            bind(self.api, pod, node)
            self.record(
                pod, "Normal", "Scheduled", f"Successfully assigned {key[0]}/{key[1]} to {node}"
            )
            return
        detail = ", ".join(f"{n} {why}" for why, n in sorted(reasons.items()))
        message = (
            f"0/{len(nodes)} nodes are available: {detail}. preemption: 0/{len(nodes)} "
            "nodes are available: "
            f"{len(nodes)} Preemption is not helpful for scheduling."
        )
        if not nodes:
            message = "no nodes available to schedule pods"
        new = copy.deepcopy(pod)
        set_condition(new["status"], "PodScheduled", "False", "Unschedulable", message)
        if new["status"] != pod["status"]:
            self.api.update(self.api.preferred(*POD_KEY), key[0], key[1], new, subresource="status")
            self.record(pod, "Warning", "FailedScheduling", message)
