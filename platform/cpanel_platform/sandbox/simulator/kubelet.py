"""The kubelets of every node: each registers its Node, renews its Lease, and runs the pods
bound to it — ContainerCreating, Running, Ready, restarts with CrashLoopBackOff for images
marked bad, run-to-completion for Jobs, and graceful termination.

One actor serves every node (one watch of all pods, filtered by node) so a hundred nodes
cost one connection, not a hundred.
"""

from __future__ import annotations

import asyncio
import copy
import datetime as dt
import ipaddress
import logging
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx

from .kube import LEASES, NODES, PODS, Kube, KubeError

log = logging.getLogger(__name__)


class ContainerLogs(Protocol):
    """Where container output goes (the API server's `log` subresource reads it)."""

    def write(self, uid: str, container: str, line: str) -> None: ...

    def restart(self, uid: str, container: str) -> None: ...


_POD_NET = ipaddress.ip_network("10.2.0.0/16")


@dataclass(frozen=True)
class Timings:
    """How long things take on a node, in seconds."""

    create: float = 0.4  # image pull and container creation
    ready: float = 0.6  # from started to passing readiness
    run_to_completion: float = 1.5
    crash_after: float = 1.0
    backoff: float = 2.0  # first CrashLoopBackOff delay; doubles, capped at 8x
    stop: float = 0.3
    heartbeat: float = 10.0


@dataclass
class _Node:
    name: str
    body: dict[str, Any]
    index: int
    heartbeat: asyncio.Task[None] | None = None
    pods: dict[str, asyncio.Task[None]] = field(default_factory=dict)  # by pod uid
    stopping: set[str] = field(default_factory=set)  # uids whose termination has begun


def now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _condition(status: dict[str, Any], ctype: str, value: str, reason: str = "") -> None:
    for cond in status.setdefault("conditions", []):
        if cond["type"] == ctype:
            if cond["status"] != value:
                cond["lastTransitionTime"] = now()
            cond["status"] = value
            if reason:
                cond["reason"] = reason
            else:
                cond.pop("reason", None)
            return
    cond = {"type": ctype, "status": value, "lastProbeTime": None, "lastTransitionTime": now()}
    if reason:
        cond["reason"] = reason
    status["conditions"].append(cond)


class Kubelets:
    def __init__(self, kube: Kube, logs: ContainerLogs, timings: Timings | None = None) -> None:
        self.kube = kube
        self.logs = logs
        self.timings = timings or Timings()
        self.bad_images: set[str] = set()
        self._nodes: dict[str, _Node] = {}
        self._next_ip = 10
        self._ips_in_use: set[str] = set()  # pod IPs seen, kept unique across restarts

    # -- nodes ---------------------------------------------------------------------------
    def start_node(self, node: dict[str, Any]) -> None:
        """A machine booted: its kubelet registers the Node and starts heartbeating."""
        name = node["metadata"]["name"]
        if name in self._nodes:
            return
        entry = _Node(name, node, len(self._nodes))
        self._nodes[name] = entry
        # The first heartbeat registers the Node; later ones register it again if it vanished.
        entry.heartbeat = asyncio.create_task(self._heartbeat(entry))

    def stop_node(self, name: str) -> None:
        """The machine is gone: heartbeats stop and its containers with it."""
        entry = self._nodes.pop(name, None)
        if entry is None:
            return
        if entry.heartbeat:
            entry.heartbeat.cancel()
        for task in entry.pods.values():
            task.cancel()

    def nodes(self) -> list[str]:
        return list(self._nodes)

    async def _heartbeat(self, node: _Node) -> None:
        while True:
            try:
                await self._renew(node)
            except (KubeError, httpx.HTTPError) as err:
                log.debug("heartbeat of %s failed: %s", node.name, err)
            await asyncio.sleep(self.timings.heartbeat)

    async def _renew(self, node: _Node) -> None:
        renew = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        spec = {"holderIdentity": node.name, "leaseDurationSeconds": 40, "renewTime": renew}
        lease = await self.kube.get(LEASES, "kube-node-lease", node.name)
        if lease is None:
            current = await self.kube.get(NODES, "", node.name)
            if current is None:  # deleted while the machine still runs: register again
                current = await self.kube.create(NODES, "", node.body)
            await self.kube.create(
                LEASES,
                "kube-node-lease",
                {
                    "metadata": {
                        "name": node.name,
                        "ownerReferences": [
                            {
                                "apiVersion": "v1",
                                "kind": "Node",
                                "name": node.name,
                                "uid": current["metadata"]["uid"],
                            }
                        ],
                    },
                    "spec": spec,
                },
            )
        else:
            await self.kube.patch(LEASES, "kube-node-lease", node.name, {"spec": spec})
        current = await self.kube.get(NODES, "", node.name)
        ready = next(
            (
                c
                for c in (current or {}).get("status", {}).get("conditions", [])
                if c["type"] == "Ready"
            ),
            None,
        )
        if current and (ready is None or ready["status"] != "True"):
            status = copy.deepcopy(current["status"])
            _condition(status, "Ready", "True", "KubeletReady")
            await self.kube.replace_status(NODES, {**current, "status": status})

    # -- pods ----------------------------------------------------------------------------
    async def run(self) -> None:
        async for event_type, pod in self.kube.watch(PODS):
            ip = pod.get("status", {}).get("podIP")
            if ip:
                (self._ips_in_use.discard if event_type == "DELETED" else self._ips_in_use.add)(ip)
            node = self._nodes.get(pod["spec"].get("nodeName") or "")
            uid = pod["metadata"]["uid"]
            if node is None:
                continue
            if event_type == "DELETED":
                node.stopping.discard(uid)
                task = node.pods.pop(uid, None)
                if task:
                    task.cancel()
                continue
            # One task per pod carries it through its life; only deletion interrupts it.
            if uid not in node.pods:
                node.pods[uid] = asyncio.create_task(self._run_pod(node, uid, pod))
            elif pod["metadata"].get("deletionTimestamp") and uid not in node.stopping:
                node.pods[uid].cancel()
                node.pods[uid] = asyncio.create_task(self._run_pod(node, uid, pod))

    async def _run_pod(self, node: _Node, uid: str, pod: dict[str, Any]) -> None:
        try:
            if pod["metadata"].get("deletionTimestamp"):
                node.stopping.add(uid)
                await self._terminate(pod)
            elif pod["status"].get("phase") in (None, "Pending"):
                await self._start(node, pod)
            elif pod["status"].get("phase") == "Running":
                await self._keep_running(pod)
        except KubeError as err:
            if err.code not in (404, 409):  # gone, or changed under us: the next event decides
                log.warning("kubelet: pod %s: %s", pod["metadata"]["name"], err)
        except httpx.HTTPError as err:
            log.debug("kubelet: pod %s: API unreachable: %s", pod["metadata"]["name"], err)

    async def _status(self, pod: dict[str, Any], status: dict[str, Any]) -> dict[str, Any]:
        meta = pod["metadata"]
        return await self.kube.patch(
            PODS, meta["namespace"], meta["name"], {"status": status}, sub="status"
        )

    def _ip(self) -> str:
        while True:
            self._next_ip += 1
            ip = str(_POD_NET[self._next_ip % (_POD_NET.num_addresses - 2) + 1])
            if ip not in self._ips_in_use:
                self._ips_in_use.add(ip)
                return ip

    async def _start(self, node: _Node, pod: dict[str, Any]) -> None:
        containers = pod["spec"].get("containers") or []
        status = copy.deepcopy(pod["status"])
        host_ip = next(
            (
                a["address"]
                for a in node.body["status"].get("addresses", [])
                if a["type"] == "InternalIP"
            ),
            "",
        )
        status.update(phase="Pending", hostIP=host_ip, hostIPs=[{"ip": host_ip}], startTime=now())
        for ctype in ("PodReadyToStartContainers", "Ready", "ContainersReady"):
            _condition(status, ctype, "False", "ContainersNotReady" if "Ready" in ctype else "")
        _condition(status, "Initialized", "True")
        status["containerStatuses"] = [
            self._container(c, {"waiting": {"reason": "ContainerCreating"}}, 0, False)
            for c in containers
        ]
        pod = await self._status(pod, status)
        await asyncio.sleep(self.timings.create)
        ip = self._ip()
        status["podIP"], status["podIPs"], status["phase"] = ip, [{"ip": ip}], "Running"
        _condition(status, "PodReadyToStartContainers", "True")
        started = now()
        status["containerStatuses"] = [
            self._container(c, {"running": {"startedAt": started}}, 0, False) for c in containers
        ]
        pod = await self._status(pod, status)
        for c in containers:
            self.logs.write(pod["metadata"]["uid"], c["name"], f"starting {c['image']}")
        await self._keep_running(pod)

    def _container(
        self,
        spec: dict[str, Any],
        state: dict[str, Any],
        restarts: int,
        ready: bool,
        last: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        return {
            "name": spec["name"],
            "image": spec["image"],
            "imageID": f"docker.io/library/{spec['image']}@sha256:sandbox",
            "containerID": f"containerd://{spec['name']}-{restarts}",
            "ready": ready,
            "started": "running" in state,
            "restartCount": restarts,
            "state": state,
            "lastState": last or {},
        }

    async def _keep_running(self, pod: dict[str, Any]) -> None:
        """A running pod: become ready, then crash, complete, or keep serving."""
        containers = pod["spec"].get("containers") or []
        bad = [c for c in containers if c["image"] in self.bad_images]
        if bad:
            await self._crash_loop(pod, bad)
            return
        await asyncio.sleep(self.timings.ready)
        status = copy.deepcopy(pod["status"])
        for cs in status.get("containerStatuses") or []:
            cs["ready"] = True
        for ctype in ("Ready", "ContainersReady"):
            _condition(status, ctype, "True")
        pod = await self._status(pod, status)
        for c in containers:
            self.logs.write(pod["metadata"]["uid"], c["name"], "ready to serve")
        if pod["spec"].get("restartPolicy", "Always") != "Always":
            await asyncio.sleep(self.timings.run_to_completion)
            await self._complete(pod)

    async def _complete(self, pod: dict[str, Any]) -> None:
        status = copy.deepcopy(pod["status"])
        finished = now()
        for cs in status.get("containerStatuses") or []:
            started = cs["state"].get("running", {}).get("startedAt", finished)
            cs.update(
                ready=False,
                started=False,
                state={
                    "terminated": {
                        "exitCode": 0,
                        "reason": "Completed",
                        "startedAt": started,
                        "finishedAt": finished,
                    }
                },
            )
            self.logs.write(pod["metadata"]["uid"], cs["name"], "done")
        status["phase"] = "Succeeded"
        for ctype in ("Ready", "ContainersReady"):
            _condition(status, ctype, "False", "PodCompleted")
        await self._status(pod, status)

    async def _crash_loop(self, pod: dict[str, Any], bad: list[dict[str, Any]]) -> None:
        restarts = max(
            (cs.get("restartCount", 0) for cs in pod["status"].get("containerStatuses") or []),
            default=0,
        )
        names = {c["name"] for c in bad}
        while True:
            await asyncio.sleep(self.timings.crash_after)
            for c in bad:
                self.logs.write(
                    pod["metadata"]["uid"], c["name"], "panic: cannot connect to database; exiting"
                )
            delay = min(self.timings.backoff * 2**restarts, self.timings.backoff * 8)
            # What a real kubelet would say: 10 s doubling to at most 5 minutes.
            shown = min(10 * 2**restarts, 300)
            status = copy.deepcopy(pod["status"])
            finished = now()
            for cs in status.get("containerStatuses") or []:
                if cs["name"] in names:
                    cs.update(
                        ready=False,
                        started=False,
                        restartCount=restarts + 1,
                        lastState={
                            "terminated": {"exitCode": 1, "reason": "Error", "finishedAt": finished}
                        },
                        state={
                            "waiting": {
                                "reason": "CrashLoopBackOff",
                                "message": f"back-off {shown}s restarting failed "
                                f"container={cs['name']} "
                                f"pod={pod['metadata']['name']}",
                            }
                        },
                    )
            for ctype in ("Ready", "ContainersReady"):
                _condition(status, ctype, "False", "ContainersNotReady")
            pod = await self._status(pod, status)
            restarts += 1
            await asyncio.sleep(delay)
            for c in bad:
                self.logs.restart(pod["metadata"]["uid"], c["name"])
                self.logs.write(pod["metadata"]["uid"], c["name"], f"starting {c['image']}")
            status = copy.deepcopy(pod["status"])
            for cs in status.get("containerStatuses") or []:
                if cs["name"] in names:
                    cs.update(started=True, state={"running": {"startedAt": now()}})
            pod = await self._status(pod, status)

    async def _terminate(self, pod: dict[str, Any]) -> None:
        meta = pod["metadata"]
        await asyncio.sleep(min(self.timings.stop, meta.get("deletionGracePeriodSeconds") or 0))
        await self.kube.delete(PODS, meta["namespace"], meta["name"], grace=0, uid=meta["uid"])
