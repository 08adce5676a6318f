"""The sandbox's living platform: an LKE cluster behind the Linode API whose Linodes run
simulated kubelets, with Block Storage and the cloud controller manager around them.

The Linode side is the source of truth for machines: a Linode that starts running boots a
kubelet that registers its Node; a Linode that is deleted takes its kubelet with it, and the
cloud controller manager removes the Node once it has gone NotReady.

The sandbox has one Kubernetes API, so it backs one LKE cluster at a time: `prod`, made at
start, or (in an empty world, or once the backed cluster is deleted) the next cluster created
through the Linode API, whose kubeconfig then points at that API with LKE's names
(`lke<id>`, `lke<id>-admin`, `lke<id>-ctx`). A cluster created while another is backed gets
no API: its kubeconfig stays "not yet available", and its Linodes boot no kubelets. Deleting
the backed cluster wipes the API's store, so the next cluster starts as a new one.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import Callable
from typing import Any

from . import baseline, manifests
from .kubeapi.server import KubeServer
from .linodeapi import LinodeState, Timings
from .linodeapi.errors import LinodeError
from .linodeapi.lke import Cluster
from .seed import node, seed_cluster
from .simulator.ccm import CloudNodeLifecycle, ServiceLoadBalancers
from .simulator.certmanager import CONTROLLER_POD as CERT_MANAGER_POD
from .simulator.certmanager import CertManager
from .simulator.externaldns import ExternalDns
from .simulator.ingress import IngressNginx
from .simulator.keel import Keel
from .simulator.kube import NODES as NODE_KIND
from .simulator.kube import Kube
from .simulator.kubelet import ContainerLogs, Kubelets
from .simulator.kubelet import Timings as KubeletTimings
from .simulator.postgres import CONTROLLER_POD as POSTGRES_OPERATOR_POD
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
        self,
        seed: int = 0,
        speed: float = 1.0,
        nodes: int = NODES,
        extra_pods: int = 0,
        empty: bool = False,
    ) -> None:
        """`speed` > 1 makes machines boot, heartbeat and fail over that many times faster;
        `nodes` sizes the pool and `extra_pods` adds filler workloads, for scale work.
        `empty`: the account has no LKE cluster and the Kubernetes API holds nothing until a
        client creates one (the DNS domain exists either way)."""
        self.speed = speed
        self.seed = seed
        self.extra_pods = extra_pods
        self.empty = empty
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
        self.cluster_id: int | None = None  # the LKE cluster the Kubernetes API backs
        if not empty:
            prod = {**PROD, "node_pools": [{**PROD["node_pools"][0], "count": nodes}]}
            self.cluster_id = self.linode.lke.create_cluster(prod, "sandbox").id
            self.linode.settle()  # the cluster exists and its Linodes run before anyone looks
        self.linode.dns.create_domain(
            {"domain": DOMAIN, "type": "master", "soa_email": f"ops@{DOMAIN}", "ttl_sec": 300}
        )
        self.linode.listener = self
        self._tasks: list[asyncio.Task[Any]] = []
        self._kube: Kube | None = None
        # Set by the runner once the API serves: to wipe and seed its store for a new cluster
        # (and to stage API outages), and to write a new cluster's kubeconfig.
        self.kube_server: KubeServer | None = None
        self.kubeconfig_for: Callable[[int], str] | None = None
        self.monitoring: Any = None  # the Observability, for incidents seen in metrics
        self.kubelets: Kubelets | None = None
        self.keel: Keel | None = None
        self.cert_manager: CertManager | None = None
        self.postgres: PostgresOperator | None = None
        self._booted = 0

    def backed(self) -> Cluster | None:
        """The LKE cluster the Kubernetes API stands for, if any."""
        if self.cluster_id is None:
            return None
        return self.linode.lke.clusters.get(self.cluster_id)

    def git_version(self) -> str:
        """The backed cluster's Kubernetes; with none, the newest LKE offers."""
        cluster = self.backed()
        minor = cluster.k8s_version if cluster else self.linode.lke.versions[0]
        return f"v{minor}.{PATCH_RELEASE}"

    def region(self) -> str:
        cluster = self.backed()
        if cluster is None:
            raise LinodeError(404, "No LKE cluster backs the Kubernetes API")
        return cluster.region

    async def start(
        self, kube: Kube, logs: ContainerLogs, linode_url: str, linode_token: str
    ) -> None:
        """Bring the actors up against the Kubernetes API at `kube` and the Linode API (as
        `linode_token`'s user)."""
        self._kube = kube
        self.keel = Keel(kube, speed=self.speed)
        # Both act only while their controller pods run, as installed by a release.
        self.cert_manager = CertManager(kube, speed=self.speed, controller=CERT_MANAGER_POD)
        self.postgres = PostgresOperator(kube, seed=self.seed, controller=POSTGRES_OPERATOR_POD)
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
        cluster = self.backed()
        for pool in cluster.pools.values() if cluster else []:
            for lke_node in pool.nodes:
                if lke_node.instance_id:
                    instance = self.linode.lke.instance(lke_node.instance_id)
                    self._boot(pool.id, self.linode.lke.instance_json(instance))
        await self._forget_old_machines(kube)
        if self.empty:
            return
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
    def cluster_created(self, cluster_id: int, cluster: dict[str, Any]) -> str | None:
        """Back the new cluster with the Kubernetes API, freshly seeded as LKE makes one,
        unless a cluster is backed already (see the module's docstring)."""
        if self.backed() is not None or self.kube_server is None or self.kubeconfig_for is None:
            return None
        self.cluster_id = cluster_id
        self._wipe(self.kube_server)  # nothing the API held before this cluster belongs to it
        seed_cluster(self.kube_server.api)
        return self.kubeconfig_for(cluster_id)

    def cluster_deleted(self, cluster_id: int, cluster: dict[str, Any]) -> None:
        """The backed cluster's kubelets have stopped with its Linodes; its objects go too."""
        if cluster_id == self.cluster_id and self.kube_server is not None:
            self.cluster_id = None
            self._wipe(self.kube_server)

    @staticmethod
    def _wipe(server: KubeServer) -> None:
        """Empty the API's store. Watchers see every object go, then their watches end, as
        connections to a deleted cluster do: they relist, and find kinds whose CRDs went
        no longer served."""
        server.api.wipe()
        server.close_streams()

    def instance_running(
        self, cluster_id: int, pool_id: int, node_id: str, instance: dict[str, Any]
    ) -> None:
        if self.kubelets is not None and cluster_id == self.cluster_id:
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
            version=self.git_version(),
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
