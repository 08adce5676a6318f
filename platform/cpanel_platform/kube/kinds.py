"""The resource kinds cpanel lists and watches, and their REST paths."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote


@dataclass(frozen=True)
class Kind:
    group: str  # "" for the core group
    version: str
    plural: str
    kind: str
    namespaced: bool

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def _prefix(self) -> str:
        return f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"

    def path(self, namespace: str | None = None) -> str:
        """The list/watch path: one namespace's objects, or all of them (namespace None, or a
        cluster-scoped kind)."""
        if self.namespaced and namespace:
            return f"{self._prefix}/namespaces/{quote(namespace, safe='')}/{self.plural}"
        return f"{self._prefix}/{self.plural}"

    def object_path(self, namespace: str | None, name: str, subresource: str = "") -> str:
        path = f"{self.path(namespace)}/{quote(name, safe='')}"
        return f"{path}/{subresource}" if subresource else path


PODS = Kind("", "v1", "pods", "Pod", True)
NODES = Kind("", "v1", "nodes", "Node", False)
NAMESPACES = Kind("", "v1", "namespaces", "Namespace", False)
EVENTS = Kind("", "v1", "events", "Event", True)
SERVICES = Kind("", "v1", "services", "Service", True)
PERSISTENTVOLUMECLAIMS = Kind("", "v1", "persistentvolumeclaims", "PersistentVolumeClaim", True)
PERSISTENTVOLUMES = Kind("", "v1", "persistentvolumes", "PersistentVolume", False)
DEPLOYMENTS = Kind("apps", "v1", "deployments", "Deployment", True)
REPLICASETS = Kind("apps", "v1", "replicasets", "ReplicaSet", True)
STATEFULSETS = Kind("apps", "v1", "statefulsets", "StatefulSet", True)
DAEMONSETS = Kind("apps", "v1", "daemonsets", "DaemonSet", True)
JOBS = Kind("batch", "v1", "jobs", "Job", True)
CRONJOBS = Kind("batch", "v1", "cronjobs", "CronJob", True)
INGRESSES = Kind("networking.k8s.io", "v1", "ingresses", "Ingress", True)
PODDISRUPTIONBUDGETS = Kind("policy", "v1", "poddisruptionbudgets", "PodDisruptionBudget", True)
CERTIFICATES = Kind("cert-manager.io", "v1", "certificates", "Certificate", True)
CLUSTERISSUERS = Kind("cert-manager.io", "v1", "clusterissuers", "ClusterIssuer", False)
ISSUERS = Kind("cert-manager.io", "v1", "issuers", "Issuer", True)
POSTGRESCLUSTERS = Kind(
    "postgres-operator.crunchydata.com", "v1beta1", "postgresclusters", "PostgresCluster", True
)

KINDS: dict[str, Kind] = {
    k.plural: k
    for k in (
        PODS,
        NODES,
        NAMESPACES,
        EVENTS,
        SERVICES,
        PERSISTENTVOLUMECLAIMS,
        PERSISTENTVOLUMES,
        DEPLOYMENTS,
        REPLICASETS,
        STATEFULSETS,
        DAEMONSETS,
        JOBS,
        CRONJOBS,
        INGRESSES,
        PODDISRUPTIONBUDGETS,
        CERTIFICATES,
        CLUSTERISSUERS,
        ISSUERS,
        POSTGRESCLUSTERS,
    )
}
