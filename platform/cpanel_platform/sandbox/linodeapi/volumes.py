"""Block Storage volumes. They come from the Kubernetes side (a PersistentVolume provisioned
by the CSI driver), so the sandbox registers them here; the API only reads them."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from .clock import stamp
from .errors import not_found
from .ids import IdAllocator
from .scheduler import Scheduler


class Volumes:
    def __init__(
        self, ids: IdAllocator, scheduler: Scheduler, linode_label: Callable[[int], str | None]
    ) -> None:
        self._ids = ids
        self._scheduler = scheduler
        self._linode_label = linode_label
        self._volumes: dict[int, dict[str, Any]] = {}

    def upsert(
        self,
        label: str,
        size: int,
        region: str,
        linode_id: int | None = None,
        status: str = "active",
        tags: Iterable[str] = (),
    ) -> dict[str, Any]:
        """Create the volume called `label`, or update it; returns it as the API shows it.
        Labels are unique per account, so they identify a volume here too."""
        now = stamp(self._scheduler.now)
        volume = next((v for v in self._volumes.values() if v["label"] == label), None)
        if volume is None:
            volume = {
                "id": self._ids.next("volume"),
                "label": label,
                "created": now,
                "filesystem_path": f"/dev/disk/by-id/scsi-0Linode_Volume_{label}",
                "hardware_type": "nvme",
                "encryption": "disabled",
            }
            self._volumes[volume["id"]] = volume
        volume.update(
            size=size,
            region=region,
            linode_id=linode_id,
            status=status,
            tags=list(tags),
            updated=now,
        )
        return self.get(volume["id"])

    def delete(self, volume_id: int) -> None:
        del self._volumes[volume_id]

    def detach_from(self, linode_id: int) -> None:
        """A deleted Linode lets go of its volumes, as on Linode."""
        for volume in self._volumes.values():
            if volume["linode_id"] == linode_id:
                volume.update(linode_id=None, updated=stamp(self._scheduler.now))

    def get(self, volume_id: int) -> dict[str, Any]:
        volume = self._volumes.get(volume_id)
        if volume is None:
            raise not_found()
        linode_id = volume["linode_id"]
        return {
            **volume,
            "linode_label": self._linode_label(linode_id) if linode_id else None,
            "io_ready": linode_id is not None,
        }

    def list(self) -> list[dict[str, Any]]:
        return [self.get(volume_id) for volume_id in sorted(self._volumes)]
