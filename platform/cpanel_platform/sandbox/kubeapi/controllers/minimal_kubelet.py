"""A stand-in for the kubelets of every node, in-process, until the simulated kubelets run.

It renews each node's Lease, starts bound pods (Pending → Running and Ready, a few log lines),
finishes pods that are not restarted (Jobs), and completes graceful deletions. It is one
`Controller` the sandbox can leave out, which is the interface the real actors replace.
"""

from __future__ import annotations

import copy
import ipaddress
from collections.abc import Iterable
from typing import Any

from .. import clock
from ..errors import ApiError
from ..logs import LogBook
from ..scheduling import node_ready, set_condition
from ..store import Event
from .base import Controller, WorkKey

POD_KEY = ("", "pods")
NODE_KEY = ("", "nodes")
LEASE_KEY = ("coordination.k8s.io", "leases")
_POD_NET = ipaddress.ip_network("10.2.0.0/16")
START_SECONDS = 0.3
RUN_TO_COMPLETION_SECONDS = 1.0
STOP_SECONDS = 0.3
HEARTBEAT_SECONDS = 10.0


class MinimalKubelet(Controller):
    """Work keys: (namespace, name) of a pod, or ("", "") for a heartbeat of every node."""

    name = "kubelet"
    watches = frozenset({POD_KEY})
    resync_seconds = HEARTBEAT_SECONDS

    def __init__(self, api: Any, logs: LogBook) -> None:
        super().__init__(api)
        self.logs = logs
        self._next_ip = 10

    def keys_for(self, event: Event) -> Iterable[WorkKey]:
        if event.type == "DELETED":
            self.logs.close(event.obj["metadata"]["uid"])
            return []
        if not event.obj["spec"].get("nodeName"):
            return []
        return super().keys_for(event)

    def all_keys(self) -> Iterable[WorkKey]:
        return [("", "")]

    def reconcile(self, key: WorkKey) -> None:
        if key == ("", ""):
            self._heartbeat()
            return
        pod = self.api.find(*POD_KEY, *key)
        if pod is None or not pod["spec"].get("nodeName"):
            return
        if pod["metadata"].get("deletionTimestamp"):
            self._stop(pod)
        elif pod["status"].get("phase") == "Pending":
            self._start(pod)
        elif (
            pod["status"].get("phase") == "Running" and pod["spec"].get("restartPolicy") != "Always"
        ):
            self._finish(pod)

    # -- pods ----------------------------------------------------------------------------
    def _age(self, pod: dict[str, Any], field: str) -> float:
        since = clock.parse(field)
        return (clock.now() - since).total_seconds() if since else 1e9

    def _start(self, pod: dict[str, Any]) -> None:
        key = (pod["metadata"]["namespace"], pod["metadata"]["name"])
        scheduled = next(
            (
                c.get("lastTransitionTime")
                for c in pod["status"].get("conditions") or []
                if c["type"] == "PodScheduled"
            ),
            None,
        )
        wait = START_SECONDS - self._age(pod, scheduled)
        if wait > 0:
            self.enqueue_after(wait, key)
            return
        node = self.api.find(*NODE_KEY, "", pod["spec"]["nodeName"])
        new = copy.deepcopy(pod)
        status = new["status"]
        now = clock.stamp()
        status.update(
            {
                "phase": "Running",
                "startTime": now,
                "podIP": self._ip(),
                "hostIP": _internal_ip(node),
            }
        )
        status["podIPs"] = [{"ip": status["podIP"]}]
        status["hostIPs"] = [{"ip": status["hostIP"]}]
        status["containerStatuses"] = [
            {
                "name": c["name"],
                "image": c["image"],
                "imageID": f"{c['image']}@sha256:sandbox",
                "containerID": f"containerd://{pod['metadata']['uid'].replace('-', '')}{i}",
                "ready": True,
                "started": True,
                "restartCount": 0,
                "state": {"running": {"startedAt": now}},
                "lastState": {},
            }
            for i, c in enumerate(pod["spec"].get("containers") or [])
        ]
        for ctype in ("PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady"):
            set_condition(status, ctype, "True")
        self.api.update(self.api.preferred(*POD_KEY), *key, new, subresource="status")
        for c in pod["spec"].get("containers") or []:
            self.logs.write(pod["metadata"]["uid"], c["name"], f"starting {c['image']}")
            self.logs.write(pod["metadata"]["uid"], c["name"], "ready to serve")
        if pod["spec"].get("restartPolicy") != "Always":
            self.enqueue_after(RUN_TO_COMPLETION_SECONDS, key)

    def _finish(self, pod: dict[str, Any]) -> None:
        key = (pod["metadata"]["namespace"], pod["metadata"]["name"])
        wait = RUN_TO_COMPLETION_SECONDS - self._age(pod, pod["status"].get("startTime"))
        if wait > 0:
            self.enqueue_after(wait, key)
            return
        new = copy.deepcopy(pod)
        now = clock.stamp()
        for cs in new["status"].get("containerStatuses") or []:
            started = cs["state"].get("running", {}).get("startedAt", now)
            cs.update(
                ready=False,
                started=False,
                state={
                    "terminated": {
                        "exitCode": 0,
                        "reason": "Completed",
                        "startedAt": started,
                        "finishedAt": now,
                        "containerID": cs.get("containerID", ""),
                    }
                },
            )
            self.logs.write(pod["metadata"]["uid"], cs["name"], "done")
        new["status"]["phase"] = "Succeeded"
        for ctype in ("Ready", "ContainersReady"):
            set_condition(new["status"], ctype, "False", "PodCompleted")
        self.api.update(self.api.preferred(*POD_KEY), *key, new, subresource="status")

    def _stop(self, pod: dict[str, Any]) -> None:
        key = (pod["metadata"]["namespace"], pod["metadata"]["name"])
        # Containers exit promptly on SIGTERM; the deadline is only an upper bound.
        grace = pod["metadata"].get("deletionGracePeriodSeconds") or 0
        requested = self._age(pod, pod["metadata"]["deletionTimestamp"]) + grace
        wait = min(STOP_SECONDS, grace) - requested
        if wait > 0:
            self.enqueue_after(wait, key)
            return
        try:
            self.api.delete(
                self.api.preferred(*POD_KEY),
                *key,
                {"gracePeriodSeconds": 0, "preconditions": {"uid": pod["metadata"]["uid"]}},
            )
        except ApiError as err:
            if err.code not in (404, 409):
                raise

    def _ip(self) -> str:
        self._next_ip += 1
        return str(_POD_NET[self._next_ip % (_POD_NET.num_addresses - 2) + 1])

    # -- nodes ---------------------------------------------------------------------------
    def _heartbeat(self) -> None:
        leases = self.api.preferred(*LEASE_KEY)
        now = clock.micro_stamp()
        for node in self.api.store.list(NODE_KEY):
            name = node["metadata"]["name"]
            lease = self.api.find(*LEASE_KEY, "kube-node-lease", name)
            spec = {"holderIdentity": name, "leaseDurationSeconds": 40, "renewTime": now}
            if lease is None:
                self.api.create(
                    leases,
                    "kube-node-lease",
                    {
                        "metadata": {
                            "name": name,
                            "ownerReferences": [
                                {
                                    "apiVersion": "v1",
                                    "kind": "Node",
                                    "name": name,
                                    "uid": node["metadata"]["uid"],
                                }
                            ],
                        },
                        "spec": spec,
                    },
                )
            else:
                self.api.update(leases, "kube-node-lease", name, {**lease, "spec": spec})
            if not node_ready(node):
                self._report_ready(node)

    def _report_ready(self, node: dict[str, Any]) -> None:
        new = copy.deepcopy(node)
        set_condition(
            new.setdefault("status", {}),
            "Ready",
            "True",
            "KubeletReady",
            "kubelet is posting ready status",
        )
        self.api.update(
            self.api.preferred(*NODE_KEY), "", node["metadata"]["name"], new, subresource="status"
        )


def _internal_ip(node: dict[str, Any] | None) -> str:
    for addr in ((node or {}).get("status") or {}).get("addresses") or []:
        if addr.get("type") == "InternalIP":
            return addr["address"]
    return "192.168.0.1"
