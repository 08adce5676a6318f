"""Volume IO by the USE method: per claim, its Linode Block Storage volume, the device that
volume is on its node, and that device's utilisation, saturation and throughput.

PVC → PV (spec.volumeName) → CSI volumeHandle "<volumeId>-<label>" → Linode volume (label,
attached Linode, whose label is the node's name) → node_disk_info{instance=<node>,
serial=<label>} → device → node_disk_* rates of that instance and device.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ..linode import LinodeSnapshot, Volume
from ..prom.catalogue import UTILISATION_HISTORY
from ..prom.results import Results, Sample
from .common import (
    Severity,
    answered,
    finite,
    instant,
    name_of,
    namespace_of,
    parse_quantity,
    ranged,
)

LINODE_CSI = "linodebs.csi.linode.com"
DEVICE_PREFIX = "/dev/disk/by-id/scsi-0Linode_Volume_"
SATURATED = 0.9  # utilisation at which a device is busy nearly all the time
BUSY = 0.6
FULL_WARN, FULL_ERROR = 0.85, 0.95
_RATES = {
    "utilisation": "disk_utilisation",
    "saturation": "disk_saturation",
    "read_bps": "disk_read_bytes",
    "write_bps": "disk_written_bytes",
    "read_iops": "disk_reads",
    "write_iops": "disk_writes",
}
_METRICS = ("disk_info", *_RATES.values())


@dataclass(frozen=True)
class VolumeRow:
    key: str  # "<namespace>/<claim>"
    namespace: str
    claim: str
    phase: str  # the claim's: Pending, Bound, Lost
    storage_class: str
    pv: str
    volume_id: int | None
    volume_label: str
    node: str  # where the volume is attached
    device: str  # "sdc"
    device_path: str
    capacity_bytes: float | None
    used_bytes: float | None
    used_ratio: float | None
    utilisation: float | None  # 0..1, share of time the device was busy
    saturation: float | None  # average queue depth
    read_bps: float | None
    write_bps: float | None
    read_iops: float | None
    write_iops: float | None
    history: tuple[float, ...]  # utilisation over the last hours, oldest first
    saturated: bool
    note: str
    severity: Severity


@dataclass(frozen=True)
class VolumesView:
    rows: tuple[VolumeRow, ...]
    metrics: bool  # False: Prometheus did not answer, IO figures are unknown


def volumes_view(
    pvcs: Iterable[dict[str, Any]],
    pvs: Iterable[dict[str, Any]],
    linode: LinodeSnapshot | None,
    results: Results | None,
    now: float,
) -> VolumesView:
    """One row per claim, in namespace and name order."""
    by_name = {name_of(pv): pv for pv in pvs}
    metrics = answered(results, *_METRICS)
    context = _Context(linode, results, metrics, now)
    rows = sorted(
        (_row(pvc, by_name.get((pvc.get("spec") or {}).get("volumeName") or ""), context)
         for pvc in pvcs),
        key=lambda r: (r.namespace, r.claim),
    )
    return VolumesView(tuple(rows), metrics)


class _Context:
    """Lookups shared by the rows: Linode volumes by id, and the Prometheus series indexed by
    the labels the rows join on."""

    def __init__(
        self, linode: LinodeSnapshot | None, results: Results | None, metrics: bool, now: float
    ) -> None:
        self.linode = linode
        self.volumes: dict[int, Volume] = {v.id: v for v in linode.volumes} if linode else {}
        self.metrics = metrics
        self.disks = instant(results, "disk_info")
        self.rates = {
            field: _by_device(instant(results, name)) for field, name in _RATES.items()
        }
        # Only the sparkline's span: results kept from before an outage are older.
        since = now - UTILISATION_HISTORY
        self.history = {
            (s.labels.get("instance", ""), s.labels.get("device", "")): tuple(
                v for v in (finite(v) for t, v in s.points if t >= since) if v is not None
            )
            for s in ranged(results, "disk_utilisation_history")
        }
        self.used = _by_claim(instant(results, "volume_used_bytes"))
        self.fs_capacity = _by_claim(instant(results, "volume_capacity_bytes"))

    def device(self, label: str, node: str) -> tuple[str, str]:
        """(node, device) of the volume with this label; any node when `node` is unknown."""
        if not label:
            return node, ""
        for sample in self.disks:
            serial = sample.labels.get("serial", "")
            on_node = not node or sample.labels.get("instance") == node
            # node-exporter's serial is the volume label (udev's short serial).
            if on_node and (serial == label or serial.endswith(f"_Volume_{label}")):
                return sample.labels.get("instance", ""), sample.labels.get("device", "")
        return node, ""

    def rate(self, field: str, node: str, device: str) -> float | None:
        return self.rates[field].get((node, device)) if device else None


def _by_device(samples: tuple[Sample, ...]) -> dict[tuple[str, str], float | None]:
    return {
        (s.labels.get("instance", ""), s.labels.get("device", "")): finite(s.value)
        for s in samples
    }


def _by_claim(samples: tuple[Sample, ...]) -> dict[tuple[str, str], float | None]:
    return {
        (s.labels.get("namespace", ""), s.labels.get("persistentvolumeclaim", "")): finite(
            s.value
        )
        for s in samples
    }


def _row(pvc: dict[str, Any], pv: dict[str, Any] | None, ctx: _Context) -> VolumeRow:
    namespace, claim = namespace_of(pvc), name_of(pvc)
    spec, status = pvc.get("spec") or {}, pvc.get("status") or {}
    phase = status.get("phase") or "Pending"
    pv_spec = (pv or {}).get("spec") or {}
    capacity = parse_quantity(
        (pv_spec.get("capacity") or {}).get("storage")
        or (status.get("capacity") or {}).get("storage")
        or ((spec.get("resources") or {}).get("requests") or {}).get("storage")
    )
    used = ctx.used.get((namespace, claim))
    fs_capacity = ctx.fs_capacity.get((namespace, claim)) or capacity
    used_ratio = used / fs_capacity if used is not None and fs_capacity else None

    place = _place(spec, pv, ctx)
    notes = list(place.notes)
    severity = place.severity
    node, device = place.node, place.device
    if phase == "Lost":
        severity = Severity.ERROR
    if not ctx.metrics:
        notes.append("no metrics")

    utilisation = ctx.rate("utilisation", node, device)
    saturated = utilisation is not None and utilisation >= SATURATED
    if saturated or (used_ratio is not None and used_ratio >= FULL_ERROR):
        severity = Severity.ERROR
    elif (utilisation is not None and utilisation >= BUSY) or (
        used_ratio is not None and used_ratio >= FULL_WARN
    ):
        severity = max(severity, Severity.WARN)
    return VolumeRow(
        key=f"{namespace}/{claim}",
        namespace=namespace,
        claim=claim,
        phase=phase,
        storage_class=spec.get("storageClassName") or pv_spec.get("storageClassName") or "",
        pv=spec.get("volumeName") or "",
        volume_id=place.volume_id,
        volume_label=place.label,
        node=node,
        device=device,
        device_path=place.device_path,
        capacity_bytes=capacity,
        used_bytes=used,
        used_ratio=used_ratio,
        utilisation=utilisation,
        saturation=ctx.rate("saturation", node, device),
        read_bps=ctx.rate("read_bps", node, device),
        write_bps=ctx.rate("write_bps", node, device),
        read_iops=ctx.rate("read_iops", node, device),
        write_iops=ctx.rate("write_iops", node, device),
        history=ctx.history.get((node, device), ()) if device else (),
        saturated=saturated,
        note=" · ".join(notes),
        severity=severity,
    )


@dataclass(frozen=True)
class _Place:
    """Where a claim's data lives: the Linode volume, its node and device."""

    volume_id: int | None = None
    label: str = ""
    node: str = ""
    device: str = ""
    device_path: str = ""
    notes: tuple[str, ...] = ()
    severity: Severity = Severity.OK


def _place(spec: dict[str, Any], pv: dict[str, Any] | None, ctx: _Context) -> _Place:
    if pv is None:
        if spec.get("volumeName"):
            return _Place(notes=(f"PV {spec['volumeName']} not found",), severity=Severity.WARN)
        return _Place(notes=("no volume yet",), severity=Severity.WARN)
    csi = (pv.get("spec") or {}).get("csi") or {}
    if csi.get("driver") != LINODE_CSI:
        return _Place(notes=("not on Linode Block Storage",))
    volume_id, label = _handle(csi.get("volumeHandle") or "")
    volume = ctx.volumes.get(volume_id) if volume_id is not None else None
    if volume is None:
        path = f"{DEVICE_PREFIX}{label}" if label else ""
        if ctx.linode is not None:
            return _Place(volume_id, label, device_path=path,
                          notes=("volume not found on Linode",), severity=Severity.WARN)
        # Without a Linode token, the node is where node-exporter sees the device.
        node, device = ctx.device(label, "")
    elif volume.linode_id is None:
        return _Place(volume_id, volume.label, device_path=volume.filesystem_path,
                      notes=("volume not attached",), severity=Severity.WARN)
    else:
        label, path = volume.label, volume.filesystem_path
        node, device = ctx.device(label, volume.linode_label)
    missing = ("device not found on the node",) if ctx.metrics and not device else ()
    return _Place(volume_id, label, node, device, path, missing)


def _handle(handle: str) -> tuple[int | None, str]:
    """The Linode CSI driver's volumeHandle, "<volumeId>-<label>"."""
    volume_id, _, label = handle.partition("-")
    return (int(volume_id), label) if volume_id.isdigit() else (None, "")
