"""Volume IO: claim → PV → Linode volume → device on the node → node-exporter's rates."""

from __future__ import annotations

from typing import Any

import pytest
from cpanel_platform.linode import LinodeSnapshot, Volume
from cpanel_platform.prom.results import Sample, Series
from cpanel_platform.views.common import Severity
from cpanel_platform.views.volumes import volumes_view

NOW = 1_795_600_000.0
GiB = 2**30
NODE_A, NODE_B = "lke118447-412-6b07d9f70a5d", "lke118447-412-6b07d9f74248"
MEDIA = "pvc705615ea5509491e93c4784f5e44a"
PGDATA = "pvc77cee37b9f61444aa4a17a3caf636"
PATH = "/dev/disk/by-id/scsi-0Linode_Volume_"


def pvc(name: str, volume: str | None, phase: str = "Bound", size: str = "200Gi") -> dict:
    spec: dict[str, Any] = {
        "accessModes": ["ReadWriteOnce"],
        "resources": {"requests": {"storage": size}},
        "storageClassName": "linode-block-storage-retain",
    }
    status: dict[str, Any] = {"phase": phase}
    if volume:
        spec["volumeName"] = volume
        status["capacity"] = {"storage": size}
    return {"metadata": {"name": name, "namespace": "app"}, "spec": spec, "status": status}


def csi_pv(name: str, handle: str, size: str) -> dict:
    return {
        "metadata": {"name": name},
        "spec": {
            "capacity": {"storage": size},
            "csi": {"driver": "linodebs.csi.linode.com", "fsType": "ext4", "volumeHandle": handle},
            "storageClassName": "linode-block-storage-retain",
        },
        "status": {"phase": "Bound"},
    }


PVCS = [
    pvc("media", "pvc-705615ea-5509-491e-93c4-784f5e44a670"),
    pvc("db-instance1-52pj-pgdata", "pvc-77cee37b-9f61-444a-a4a1-7a3caf6365ea", size="50Gi"),
]
PVS = [
    csi_pv("pvc-705615ea-5509-491e-93c4-784f5e44a670", f"4310201-{MEDIA}", "200Gi"),
    csi_pv("pvc-77cee37b-9f61-444a-a4a1-7a3caf6365ea", f"4310203-{PGDATA}", "50Gi"),
]


def volume(id_: int, label: str, node: str | None, size_gb: int) -> Volume:
    return Volume(
        id=id_, label=label, size_gb=size_gb, status="active",
        linode_id=None if node is None else 5000 + id_ % 100, linode_label=node or "",
        filesystem_path=f"{PATH}{label}",
    )


def linode(*volumes: Volume) -> LinodeSnapshot:
    return LinodeSnapshot(cluster=None, events=(), volumes=volumes)


LINODE = linode(volume(4310201, MEDIA, NODE_A, 200), volume(4310203, PGDATA, NODE_B, 50))


def disk(node: str, device: str, value: float) -> Sample:
    return Sample({"instance": node, "device": device, "job": "node-exporter"}, value)


def claim(name: str, value: float) -> Sample:
    return Sample({"namespace": "app", "persistentvolumeclaim": name, "node": NODE_A}, value)


def results(media_util: float = 0.42) -> dict[str, tuple]:
    info = {"job": "node-exporter", "model": "Volume"}
    return {
        "disk_info": (
            Sample({"instance": NODE_A, "device": "sda", "model": "QEMU_HARDDISK"}, 1),
            Sample({**info, "instance": NODE_A, "device": "sdd", "serial": MEDIA}, 1),
            Sample({**info, "instance": NODE_B, "device": "sdd", "serial": PGDATA}, 1),
        ),
        # The same device name on two nodes: only the instance tells them apart.
        "disk_utilisation": (disk(NODE_A, "sdd", media_util), disk(NODE_B, "sdd", 0.06),
                             disk(NODE_A, "sda", 0.01)),
        "disk_saturation": (disk(NODE_A, "sdd", 1.8), disk(NODE_B, "sdd", 0.07)),
        "disk_read_bytes": (disk(NODE_A, "sdd", 6_000_000), disk(NODE_B, "sdd", 959_375)),
        "disk_written_bytes": (disk(NODE_A, "sdd", 12_732), disk(NODE_B, "sdd", 1_781_697)),
        "disk_reads": (disk(NODE_A, "sdd", 120.0), disk(NODE_B, "sdd", 117.1)),
        "disk_writes": (disk(NODE_A, "sdd", 0.2), disk(NODE_B, "sdd", 217.5)),
        "disk_utilisation_history": (
            Series({"instance": NODE_A, "device": "sdd"},
                   ((NOW - 7 * 3600, 0.99), (NOW - 600, 0.3), (NOW - 300, float("nan")),
                    (NOW, 0.42))),
        ),
        "volume_used_bytes": (claim("media", 110 * GiB), claim("db-instance1-52pj-pgdata",
                                                                 27.5 * GiB)),
        "volume_capacity_bytes": (claim("media", 196 * GiB),),
    }


def by_claim(view: Any) -> dict[str, Any]:
    return {row.claim: row for row in view.rows}


def test_claim_to_device_through_the_linode_volume() -> None:
    view = volumes_view(PVCS, PVS, LINODE, results(), NOW)

    assert view.metrics
    assert [r.key for r in view.rows] == ["app/db-instance1-52pj-pgdata", "app/media"]
    media = by_claim(view)["media"]
    assert (media.phase, media.storage_class, media.pv) == (
        "Bound", "linode-block-storage-retain", "pvc-705615ea-5509-491e-93c4-784f5e44a670"
    )
    assert (media.volume_id, media.volume_label) == (4310201, MEDIA)
    assert (media.node, media.device, media.device_path) == (NODE_A, "sdd", f"{PATH}{MEDIA}")
    assert media.capacity_bytes == 200 * GiB
    assert media.used_bytes == 110 * GiB
    assert media.used_ratio == pytest.approx(110 / 196)  # of the filesystem kubelet sees
    assert media.utilisation == pytest.approx(0.42)
    assert media.saturation == pytest.approx(1.8)
    assert (media.read_bps, media.write_bps) == (6_000_000, 12_732)
    assert (media.read_iops, media.write_iops) == (120.0, 0.2)
    # The sparkline spans the catalogue's 6 hours; NaN points are gaps.
    assert media.history == (0.3, 0.42)
    assert not media.saturated
    assert media.note == ""
    assert media.severity is Severity.OK

    pgdata = by_claim(view)["db-instance1-52pj-pgdata"]
    assert (pgdata.node, pgdata.device, pgdata.utilisation) == (NODE_B, "sdd", 0.06)
    assert pgdata.used_ratio == pytest.approx(0.55)  # kubelet capacity unknown: the PV's
    assert pgdata.history == ()


def test_saturated_volume_is_an_error() -> None:
    media = by_claim(volumes_view(PVCS, PVS, LINODE, results(media_util=1.0), NOW))["media"]

    assert media.saturated
    assert media.severity is Severity.ERROR


def test_busy_volume_warns() -> None:
    media = by_claim(volumes_view(PVCS, PVS, LINODE, results(media_util=0.7), NOW))["media"]

    assert not media.saturated
    assert media.severity is Severity.WARN


def test_without_a_linode_token_the_handle_and_node_metrics_place_the_volume() -> None:
    media = by_claim(volumes_view(PVCS, PVS, None, results(), NOW))["media"]

    assert (media.volume_id, media.volume_label) == (4310201, MEDIA)
    assert (media.node, media.device) == (NODE_A, "sdd")
    assert media.device_path == f"{PATH}{MEDIA}"
    assert media.utilisation == pytest.approx(0.42)


def test_a_claim_not_on_block_storage() -> None:
    local = {
        "metadata": {"name": "local-scratch"},
        "spec": {"capacity": {"storage": "20Gi"}, "hostPath": {"path": "/mnt/scratch"},
                 "storageClassName": "local-path"},
    }
    claims = [{**pvc("scratch", "local-scratch", size="20Gi"),
               "spec": {"volumeName": "local-scratch", "storageClassName": "local-path"}}]
    row = volumes_view(claims, [local], LINODE, results(), NOW).rows[0]

    assert row.note == "not on Linode Block Storage"
    assert row.storage_class == "local-path"
    assert row.capacity_bytes == 20 * GiB
    assert (row.volume_id, row.node, row.device) == (None, "", "")
    assert row.utilisation is None and row.read_bps is None and row.history == ()
    assert row.severity is Severity.OK


def test_a_pending_claim() -> None:
    row = volumes_view([pvc("uploads", None, phase="Pending", size="50Gi")], PVS, LINODE,
                       results(), NOW).rows[0]

    assert (row.phase, row.pv, row.note) == ("Pending", "", "no volume yet")
    assert row.capacity_bytes == 50 * GiB  # what it asks for
    assert row.utilisation is None
    assert row.severity is Severity.WARN


def test_a_detached_volume() -> None:
    detached = linode(volume(4310201, MEDIA, None, 200), volume(4310203, PGDATA, NODE_B, 50))
    media = by_claim(volumes_view(PVCS, PVS, detached, results(), NOW))["media"]

    assert media.note == "volume not attached"
    assert (media.node, media.device) == ("", "")
    assert media.utilisation is None
    assert media.severity is Severity.WARN


def test_a_volume_linode_does_not_know() -> None:
    media = by_claim(volumes_view(PVCS, PVS, linode(), results(), NOW))["media"]

    assert media.note == "volume not found on Linode"
    assert (media.volume_id, media.volume_label) == (4310201, MEDIA)
    assert media.severity is Severity.WARN


@pytest.mark.parametrize("answer", [None, {}])
def test_no_prometheus(answer: dict | None) -> None:
    view = volumes_view(PVCS, PVS, LINODE, answer, NOW)

    assert not view.metrics
    media = by_claim(view)["media"]
    assert media.node == NODE_A  # Linode still says where it is attached
    assert media.device == ""
    assert media.used_bytes is None and media.used_ratio is None and media.utilisation is None
    assert media.note == "no metrics"
    assert media.severity is Severity.OK


def test_nearly_full_volume() -> None:
    answer = results()
    answer["volume_used_bytes"] = (claim("media", 190 * GiB),)
    media = by_claim(volumes_view(PVCS, PVS, LINODE, answer, NOW))["media"]

    assert media.used_ratio == pytest.approx(190 / 196)
    assert media.severity is Severity.ERROR


def test_device_not_seen_on_the_node_linode_names() -> None:
    moved = linode(volume(4310201, MEDIA, NODE_B, 200), volume(4310203, PGDATA, NODE_B, 50))
    media = by_claim(volumes_view(PVCS, PVS, moved, results(), NOW))["media"]

    assert (media.node, media.device) == (NODE_B, "")
    assert media.note == "device not found on the node"
    assert media.utilisation is None
