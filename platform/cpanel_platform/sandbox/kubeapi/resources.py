"""The resource types the emulator serves: built-in kinds and those CRDs add."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

_COMMON_FIELDS = {"metadata.name": "metadata.name", "metadata.namespace": "metadata.namespace"}

READ_VERBS = ("get", "list", "watch")
ALL_VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")


@dataclass(frozen=True)
class ResourceType:
    group: str
    version: str
    plural: str
    kind: str
    namespaced: bool
    short_names: tuple[str, ...] = ()
    verbs: tuple[str, ...] = ALL_VERBS
    subresources: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    extra_fields: dict[str, str] = field(default_factory=dict)
    # For custom resources: the CRD version's additionalPrinterColumns.
    printer_columns: tuple[dict[str, Any], ...] = ()
    # Whether writes to the main resource ignore .status (true when a status subresource exists).
    has_status: bool = False
    scale_paths: tuple[str, str, str] | None = None  # spec replicas, status replicas, selector
    custom: bool = False

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def singular(self) -> str:
        return self.kind.lower()

    @property
    def field_paths(self) -> dict[str, str]:
        return {**_COMMON_FIELDS, **self.extra_fields}

    @property
    def key(self) -> tuple[str, str]:
        return (self.group, self.plural)


_POD_FIELDS = {
    f: f
    for f in (
        "spec.nodeName",
        "spec.restartPolicy",
        "spec.schedulerName",
        "spec.serviceAccountName",
        "spec.hostNetwork",
        "status.phase",
        "status.podIP",
        "status.nominatedNodeName",
    )
}
_EVENT_FIELDS = {
    **{
        f"involvedObject.{k}": f"involvedObject.{k}"
        for k in ("kind", "namespace", "name", "uid", "apiVersion", "resourceVersion", "fieldPath")
    },
    "reason": "reason",
    "reportingComponent": "reportingComponent",
    "source": "source.component",
    "type": "type",
}

_WORKLOAD = ("all",)
_SCALE = ("spec.replicas", "status.replicas", "status.selector")

BUILTIN: tuple[ResourceType, ...] = (
    ResourceType(
        "",
        "v1",
        "namespaces",
        "Namespace",
        False,
        ("ns",),
        ("create", "delete", "get", "list", "patch", "update", "watch"),
        ("status", "finalize"),
        extra_fields={"status.phase": "status.phase"},
        has_status=True,
    ),
    ResourceType(
        "",
        "v1",
        "nodes",
        "Node",
        False,
        ("no",),
        subresources=("status", "proxy"),
        extra_fields={"spec.unschedulable": "spec.unschedulable"},
        has_status=True,
    ),
    ResourceType(
        "",
        "v1",
        "pods",
        "Pod",
        True,
        ("po",),
        subresources=("status", "log", "eviction", "binding", "exec", "portforward"),
        categories=_WORKLOAD,
        extra_fields=_POD_FIELDS,
        has_status=True,
    ),
    ResourceType(
        "",
        "v1",
        "services",
        "Service",
        True,
        ("svc",),
        subresources=("status", "proxy"),
        categories=_WORKLOAD,
        has_status=True,
    ),
    ResourceType("", "v1", "endpoints", "Endpoints", True, ("ep",)),
    ResourceType("", "v1", "events", "Event", True, ("ev",), extra_fields=_EVENT_FIELDS),
    ResourceType("", "v1", "configmaps", "ConfigMap", True, ("cm",)),
    ResourceType("", "v1", "secrets", "Secret", True, extra_fields={"type": "type"}),
    ResourceType("", "v1", "serviceaccounts", "ServiceAccount", True, ("sa",)),
    ResourceType(
        "",
        "v1",
        "persistentvolumeclaims",
        "PersistentVolumeClaim",
        True,
        ("pvc",),
        subresources=("status",),
        has_status=True,
    ),
    ResourceType(
        "",
        "v1",
        "persistentvolumes",
        "PersistentVolume",
        False,
        ("pv",),
        subresources=("status",),
        has_status=True,
    ),
    ResourceType(
        "apps",
        "v1",
        "deployments",
        "Deployment",
        True,
        ("deploy",),
        subresources=("status", "scale"),
        categories=_WORKLOAD,
        has_status=True,
        scale_paths=_SCALE,
    ),
    ResourceType(
        "apps",
        "v1",
        "replicasets",
        "ReplicaSet",
        True,
        ("rs",),
        subresources=("status", "scale"),
        categories=_WORKLOAD,
        has_status=True,
        scale_paths=_SCALE,
        extra_fields={"status.replicas": "status.replicas"},
    ),
    ResourceType(
        "apps",
        "v1",
        "statefulsets",
        "StatefulSet",
        True,
        ("sts",),
        subresources=("status", "scale"),
        categories=_WORKLOAD,
        has_status=True,
        scale_paths=_SCALE,
    ),
    ResourceType(
        "apps",
        "v1",
        "daemonsets",
        "DaemonSet",
        True,
        ("ds",),
        subresources=("status",),
        categories=_WORKLOAD,
        has_status=True,
    ),
    ResourceType("apps", "v1", "controllerrevisions", "ControllerRevision", True),
    ResourceType(
        "policy",
        "v1",
        "poddisruptionbudgets",
        "PodDisruptionBudget",
        True,
        ("pdb",),
        subresources=("status",),
        has_status=True,
    ),
    ResourceType(
        "batch",
        "v1",
        "jobs",
        "Job",
        True,
        subresources=("status",),
        categories=_WORKLOAD,
        has_status=True,
        extra_fields={"status.successful": "status.succeeded"},
    ),
    ResourceType(
        "batch",
        "v1",
        "cronjobs",
        "CronJob",
        True,
        ("cj",),
        subresources=("status",),
        categories=_WORKLOAD,
        has_status=True,
    ),
    ResourceType("storage.k8s.io", "v1", "storageclasses", "StorageClass", False, ("sc",)),
    ResourceType(
        "storage.k8s.io",
        "v1",
        "volumeattachments",
        "VolumeAttachment",
        False,
        subresources=("status",),
        has_status=True,
    ),
    ResourceType("coordination.k8s.io", "v1", "leases", "Lease", True),
    ResourceType(
        "networking.k8s.io",
        "v1",
        "ingresses",
        "Ingress",
        True,
        ("ing",),
        subresources=("status",),
        has_status=True,
    ),
    ResourceType("networking.k8s.io", "v1", "ingressclasses", "IngressClass", False),
    ResourceType(
        "apiextensions.k8s.io",
        "v1",
        "customresourcedefinitions",
        "CustomResourceDefinition",
        False,
        ("crd", "crds"),
        subresources=("status",),
        has_status=True,
    ),
    ResourceType(
        "authorization.k8s.io",
        "v1",
        "selfsubjectaccessreviews",
        "SelfSubjectAccessReview",
        False,
        verbs=("create",),
    ),
    ResourceType(
        "authorization.k8s.io",
        "v1",
        "selfsubjectrulesreviews",
        "SelfSubjectRulesReview",
        False,
        verbs=("create",),
    ),
)


def from_crd(crd: dict[str, Any]) -> list[ResourceType]:
    """The served versions of a CRD as resource types."""
    spec = crd.get("spec") or {}
    names = spec.get("names") or {}
    types = []
    for version in spec.get("versions") or []:
        if not version.get("served", True):
            continue
        subs = version.get("subresources") or {}
        scale = subs.get("scale")
        types.append(
            ResourceType(
                group=spec.get("group", ""),
                version=version["name"],
                plural=names["plural"],
                kind=names["kind"],
                namespaced=spec.get("scope", "Namespaced") == "Namespaced",
                short_names=tuple(names.get("shortNames") or ()),
                subresources=tuple(s for s in ("status", "scale") if s in subs),
                categories=tuple(names.get("categories") or ()),
                extra_fields={
                    f["jsonPath"].lstrip("."): f["jsonPath"].lstrip(".")
                    for f in version.get("selectableFields") or []
                },
                printer_columns=tuple(version.get("additionalPrinterColumns") or ()),
                has_status="status" in subs,
                scale_paths=(
                    (
                        scale["specReplicasPath"].lstrip("."),
                        scale["statusReplicasPath"].lstrip("."),
                        (scale.get("labelSelectorPath") or "").lstrip("."),
                    )
                    if scale
                    else None
                ),
                custom=True,
            )
        )
    return types


def storage_version(crd: dict[str, Any]) -> str:
    for version in (crd.get("spec") or {}).get("versions") or []:
        if version.get("storage"):
            return version["name"]
    return ""
