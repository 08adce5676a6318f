"""Block Storage as LKE runs it: the Linode CSI driver provisions a Volume and a
PersistentVolume for each claim of a Linode storage class and binds them; the attach/detach
controller attaches a volume to the node whose pod uses it (a VolumeAttachment)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Protocol

import httpx

from .kube import PODS, PVCS, PVS, Kind, Kube, KubeError

log = logging.getLogger(__name__)

DRIVER = "linodebs.csi.linode.com"
STORAGE_CLASSES = Kind("storage.k8s.io", "v1", "storageclasses")
ATTACHMENTS = Kind("storage.k8s.io", "v1", "volumeattachments")
DEFAULT_CLASS = "storageclass.kubernetes.io/is-default-class"


class Volumes(Protocol):
    """The cloud side: Linode Block Storage volumes."""

    def create_volume(self, label: str, size_gb: int) -> int: ...

    def attach_volume(
        self, volume_id: int, label: str, size_gb: int, node_name: str | None
    ) -> None: ...


def volume_label(claim_uid: str) -> str:
    """Linode volume labels hold 32 characters; the CSI driver derives one per claim."""
    return ("pvc" + claim_uid.replace("-", ""))[:32]


def size_gb(quantity: str) -> int:
    units = {
        "Ki": 2**10,
        "Mi": 2**20,
        "Gi": 2**30,
        "Ti": 2**40,
        "K": 10**3,
        "M": 10**6,
        "G": 10**9,
        "T": 10**12,
    }
    for suffix, factor in units.items():
        if quantity.endswith(suffix):
            return max(10, -(-int(float(quantity[: -len(suffix)]) * factor) // 2**30))
    return max(10, -(-int(quantity) // 2**30))  # Linode's minimum volume is 10 GiB


class Storage:
    def __init__(self, kube: Kube, volumes: Volumes) -> None:
        self.kube = kube
        self.volumes = volumes
        self._attached: dict[str, str] = {}  # PV name -> node name

    async def run(self) -> None:
        await asyncio.gather(self._provision(), self._attach())

    # -- provisioning --------------------------------------------------------------------
    async def _provision(self) -> None:
        async for event_type, claim in self.kube.watch(PVCS):
            if event_type == "DELETED" or claim["status"].get("phase") == "Bound":
                continue
            try:
                await self._bind(claim)
            except (KubeError, httpx.HTTPError) as err:
                log.warning("provisioning %s: %s", claim["metadata"]["name"], err)

    async def _storage_class(self, name: str | None) -> dict[str, Any] | None:
        classes = (await self.kube.list(STORAGE_CLASSES))["items"]
        if name:
            return next((c for c in classes if c["metadata"]["name"] == name), None)
        return next(
            (
                c
                for c in classes
                if (c["metadata"].get("annotations") or {}).get(DEFAULT_CLASS) == "true"
            ),
            None,
        )

    async def _bind(self, claim: dict[str, Any]) -> None:
        meta, spec = claim["metadata"], claim["spec"]
        sc = await self._storage_class(spec.get("storageClassName"))
        if sc is None or sc.get("provisioner") != DRIVER:
            return  # not ours: it stays Pending, as on a real cluster
        request = spec.get("resources", {}).get("requests", {}).get("storage", "10Gi")
        label = volume_label(meta["uid"])
        gb = size_gb(request)
        pv_name = f"pvc-{meta['uid']}"
        if await self.kube.get(PVS, "", pv_name) is None:
            volume_id = self.volumes.create_volume(label, gb)
            await self.kube.create(
                PVS,
                "",
                {
                    "metadata": {
                        "name": pv_name,
                        "annotations": {"pv.kubernetes.io/provisioned-by": DRIVER},
                    },
                    "spec": {
                        "capacity": {"storage": f"{gb}Gi"},
                        "accessModes": spec.get("accessModes") or ["ReadWriteOnce"],
                        "persistentVolumeReclaimPolicy": sc.get("reclaimPolicy", "Delete"),
                        "storageClassName": sc["metadata"]["name"],
                        "volumeMode": spec.get("volumeMode", "Filesystem"),
                        "claimRef": {
                            "kind": "PersistentVolumeClaim",
                            "apiVersion": "v1",
                            "namespace": meta["namespace"],
                            "name": meta["name"],
                            "uid": meta["uid"],
                        },
                        "csi": {
                            "driver": DRIVER,
                            "volumeHandle": f"{volume_id}-{label}",
                            "fsType": "ext4",
                        },
                    },
                },
            )
            await self.kube.patch(PVS, "", pv_name, {"status": {"phase": "Bound"}}, sub="status")
        await self.kube.patch(
            PVCS,
            meta["namespace"],
            meta["name"],
            {
                "metadata": {
                    "annotations": {
                        "pv.kubernetes.io/bind-completed": "yes",
                        "volume.kubernetes.io/storage-provisioner": DRIVER,
                    }
                },
                "spec": {"volumeName": pv_name},
            },
        )
        await self.kube.patch(
            PVCS,
            meta["namespace"],
            meta["name"],
            {
                "status": {
                    "phase": "Bound",
                    "capacity": {"storage": f"{gb}Gi"},
                    "accessModes": spec.get("accessModes") or ["ReadWriteOnce"],
                }
            },
            sub="status",
        )

    # -- attachment ----------------------------------------------------------------------
    async def _attach(self) -> None:
        async for _, pod in self.kube.watch(PODS):
            try:
                await self._sync_attachments(pod)
            except (KubeError, httpx.HTTPError) as err:
                log.warning("attaching volumes of %s: %s", pod["metadata"]["name"], err)

    async def _sync_attachments(self, pod: dict[str, Any]) -> None:
        node = pod["spec"].get("nodeName")
        if not node or pod["metadata"].get("deletionTimestamp"):
            return
        for volume in pod["spec"].get("volumes") or []:
            claim_name = (volume.get("persistentVolumeClaim") or {}).get("claimName")
            if not claim_name:
                continue
            claim = await self.kube.get(PVCS, pod["metadata"]["namespace"], claim_name)
            pv_name = (claim or {}).get("spec", {}).get("volumeName")
            if not pv_name or self._attached.get(pv_name) == node:
                continue
            pv = await self.kube.get(PVS, "", pv_name)
            if not pv or pv["spec"].get("csi", {}).get("driver") != DRIVER:
                continue
            await self._attach_volume(pv, node)

    async def _attach_volume(self, pv: dict[str, Any], node: str) -> None:
        pv_name = pv["metadata"]["name"]
        previous = self._attached.get(pv_name)
        if previous:
            await self.kube.delete(ATTACHMENTS, "", f"csi-{pv_name}-{previous}")
        name = f"csi-{pv_name}-{node}"
        if await self.kube.get(ATTACHMENTS, "", name) is None:
            await self.kube.create(
                ATTACHMENTS,
                "",
                {
                    "metadata": {"name": name},
                    "spec": {
                        "attacher": DRIVER,
                        "nodeName": node,
                        "source": {"persistentVolumeName": pv_name},
                    },
                },
            )
        await self.kube.patch(ATTACHMENTS, "", name, {"status": {"attached": True}}, sub="status")
        volume_id, label = pv["spec"]["csi"]["volumeHandle"].split("-", 1)
        size = size_gb(pv["spec"]["capacity"]["storage"])
        self.volumes.attach_volume(int(volume_id), label, size, node)
        self._attached[pv_name] = node
