"""The sandbox's living platform: an LKE cluster behind the Linode API whose Linodes run
simulated kubelets, with Block Storage and the cloud controller manager around them.

The Linode side is the source of truth for machines: a Linode that starts running boots a
kubelet that registers its Node; a Linode that is deleted takes its kubelet with it, and the
cloud controller manager removes the Node once it has gone NotReady.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from typing import Any

from . import baseline, manifests
from .linodeapi import LinodeState, Timings
from .linodeapi.errors import LinodeError
from .seed import node
from .simulator.ccm import CloudNodeLifecycle, ServiceLoadBalancers
from .simulator.certmanager import CertManager
from .simulator.externaldns import ExternalDns
from .simulator.ingress import IngressNginx
from .simulator.keel import Keel
from .simulator.kube import NODES as NODE_KIND
from .simulator.kube import Kube
from .simulator.kubelet import ContainerLogs, Kubelets
from .simulator.kubelet import Timings as KubeletTimings
from .simulator.postgres import PostgresOperator
from .simulator.storage import Storage

OFFERED_VERSIONS = ("1.35", "1.36", "1.37")
NODES = 3
PROD = {
    "label": "prod",
    "region": "us-east",
    "k8s_version": "1.36",  # one minor behind the newest offered: an upgrade is possible
    "node_pools": [{"type": "g6-dedicated-8", "count": NODES}],
    "control_plane": {"high_availability": True},
    "tags": ["production"],
}
DOMAIN = "example.com"
PODS_PER_LOAD_DEPLOYMENT = 100
PATCH_RELEASE = 2  # every offered minor runs as its .2 patch release


def load_documents(pods: int) -> list[dict[str, Any]]:
    """Filler Deployments totalling `pods` replicas in namespace `load`."""
    if pods <= 0:
        return []
    docs: list[dict[str, Any]] = [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "load"}}
    ]
    for i in range(0, pods, PODS_PER_LOAD_DEPLOYMENT):
        name = f"filler-{i // PODS_PER_LOAD_DEPLOYMENT}"
        docs.append(
            {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "metadata": {"name": name, "namespace": "load"},
                "spec": {
                    "replicas": min(PODS_PER_LOAD_DEPLOYMENT, pods - i),
                    "selector": {"matchLabels": {"app": name}},
                    "template": {
                        "metadata": {"labels": {"app": name}},
                        "spec": {
                            "containers": [{"name": "pause", "image": "registry.k8s.io/pause:3.10"}]
                        },
                    },
                },
            }
        )
    return docs


class World:
    def __init__(
        self, seed: int = 0, speed: float = 1.0, nodes: int = NODES, extra_pods: int = 0
    ) -> None:
        """`speed` > 1 makes machines boot, heartbeat and fail over that many times faster;
        `nodes` sizes the pool and `extra_pods` adds filler workloads, for scale work."""
        self.speed = speed
        self.seed = seed
        self.extra_pods = extra_pods
        boot = Timings()
        self.linode = LinodeState(
            seed=seed,
            versions=OFFERED_VERSIONS,
            timings=Timings(
                create_delay=boot.create_delay / speed,
                boot_delay=boot.boot_delay / speed,
                control_plane_delay=boot.control_plane_delay / speed,
            ),
        )
        prod = {**PROD, "node_pools": [{**PROD["node_pools"][0], "count": nodes}]}
        self.cluster_id = self.linode.lke.create_cluster(prod, "sandbox").id
        self.linode.settle()  # the cluster exists and its Linodes run before anyone looks
        self.linode.dns.create_domain(
            {"domain": DOMAIN, "type": "master", "soa_email": f"ops@{DOMAIN}", "ttl_sec": 300}
        )
        self.linode.listener = self
        self._tasks: list[asyncio.Task[Any]] = []
        self._kube: Kube | None = None
        self.kube_server: Any = None  # the KubeServer, for incidents that stage API outages
        self.monitoring: Any = None  # the Observability, for incidents seen in metrics
        self.kubelets: Kubelets | None = None
        self.keel: Keel | None = None
        self.cert_manager: CertManager | None = None
        self.postgres: PostgresOperator | None = None
        self._booted = 0

    @property
    def git_version(self) -> str:
        minor = self.linode.lke.cluster(self.cluster_id).k8s_version
        return f"v{minor}.{PATCH_RELEASE}"

    def region(self) -> str:
        return self.linode.lke.cluster(self.cluster_id).region

    async def start(
        self, kube: Kube, logs: ContainerLogs, linode_url: str, linode_token: str
    ) -> None:
        """Bring the actors up against the Kubernetes API at `kube` and the Linode API."""
        self._kube = kube
        self.keel = Keel(kube, speed=self.speed)
        self.cert_manager = CertManager(kube, speed=self.speed)
        self.postgres = PostgresOperator(kube, seed=self.seed)
        dns = ExternalDns(
            kube, linode_url.removesuffix("/v4"), linode_token, DOMAIN, speed=self.speed
        )
        usual = KubeletTimings()
        self.kubelets = Kubelets(
            kube, logs, dataclasses.replace(usual, heartbeat=usual.heartbeat / self.speed)
        )
        self._tasks += [
            asyncio.create_task(self.kubelets.run(), name="kubelets"),
            asyncio.create_task(Storage(kube, self).run(), name="storage"),
            asyncio.create_task(
                CloudNodeLifecycle(kube, self.instance_exists, 5.0 / self.speed).run(),
                name="cloud-controller-manager",
            ),
            asyncio.create_task(ServiceLoadBalancers(kube).run(), name="nodebalancers"),
            asyncio.create_task(IngressNginx(kube).run(), name="ingress-nginx"),
            asyncio.create_task(self.keel.run(), name="keel"),
            asyncio.create_task(self.cert_manager.run(), name="cert-manager"),
            asyncio.create_task(self.postgres.run(), name="postgres-operator"),
            asyncio.create_task(dns.run(), name="external-dns"),
        ]
        cluster = self.linode.lke.cluster(self.cluster_id)
        for pool in cluster.pools.values():
            for lke_node in pool.nodes:
                if lke_node.instance_id:
                    instance = self.linode.lke.instance(lke_node.instance_id)
                    self._boot(pool.id, self.linode.lke.instance_json(instance))
        await self._forget_old_machines(kube)
        crds = [*manifests.load("crds/cert-manager"), *manifests.load("crds/postgres-operator")]
        for doc in [*crds, *baseline.documents(), *load_documents(self.extra_pods)]:
            await kube.apply(doc, "cpanel")

    async def _forget_old_machines(self, kube: Kube) -> None:
        """The Linodes of a previous run are gone (the Linode API's state is not kept across
        restarts): their Nodes go, and their pods are rescheduled onto today's machines."""
        current = {i.label for i in self.linode.lke.instances.values()}
        for node_obj in (await kube.list(NODE_KIND))["items"]:
            if node_obj["metadata"]["name"] not in current:
                await kube.delete(NODE_KIND, "", node_obj["metadata"]["name"])

    def actor_health(self) -> dict[str, str]:
        """Each actor: running, or how it ended."""
        health = {}
        for task in self._tasks:
            if not task.done():
                health[task.get_name()] = "running"
            elif task.cancelled():
                health[task.get_name()] = "stopped"
            else:
                health[task.get_name()] = f"failed: {task.exception()!r}"
        return health

    async def stop(self) -> None:
        if self.kubelets:
            for name in self.kubelets.nodes():
                self.kubelets.stop_node(name)
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._kube:
            await self._kube.close()
            self._kube = None

    # -- the Linode listener -------------------------------------------------------------
    def instance_running(
        self, cluster_id: int, pool_id: int, node_id: str, instance: dict[str, Any]
    ) -> None:
        if self.kubelets is not None:
            self._boot(pool_id, instance)

    def instance_deleted(
        self, cluster_id: int, pool_id: int, node_id: str, instance: dict[str, Any]
    ) -> None:
        if self.kubelets is not None:
            self.kubelets.stop_node(instance["label"])

    def _boot(self, pool_id: int, instance: dict[str, Any]) -> None:
        """The Linode's kubelet starts and registers the Node, on the cluster's version."""
        assert self.kubelets is not None
        public, private = (instance["ipv4"] + ["", ""])[:2]
        body = node(
            instance["label"],
            self._booted,
            instance["id"],
            version=self.git_version,
            pool_id=pool_id,
            instance_type=instance["type"],
            region=instance["region"],
            ips=(public, private),
        )
        self._booted += 1
        self.kubelets.start_node(body)

    def instance_exists(self, instance_id: int) -> bool:
        try:
            self.linode.lke.instance(instance_id)
        except LinodeError:
            return False
        return True

    # -- Block Storage (the storage.Volumes protocol) ------------------------------------
    def create_volume(self, label: str, size_gb: int) -> int:
        return self.linode.upsert_volume(label, size_gb, self.region())["id"]

    def attach_volume(
        self, volume_id: int, label: str, size_gb: int, node_name: str | None
    ) -> None:
        """Attach by label: a volume of a previous run's claim is registered again."""
        linode_id = next(
            (i.id for i in self.linode.lke.instances.values() if i.label == node_name), None
        )
        self.linode.upsert_volume(label, size_gb, self.region(), linode_id)
