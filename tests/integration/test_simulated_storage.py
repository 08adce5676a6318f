"""Block Storage provisioning and attachment over HTTP, with a recording cloud."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from cpanel_platform.sandbox.seed import node, node_name
from cpanel_platform.sandbox.simulator.kube import PODS, PVCS, PVS, Kube
from cpanel_platform.sandbox.simulator.kubelet import Kubelets, Timings
from cpanel_platform.sandbox.simulator.storage import ATTACHMENTS, Storage, volume_label

from tests.integration.conftest import TOKEN, Served
from tests.waiting import wait_for


class RecordingCloud:
    def __init__(self) -> None:
        self.volumes: dict[int, dict] = {}

    def create_volume(self, label: str, size_gb: int) -> int:
        volume_id = 7000 + len(self.volumes)
        self.volumes[volume_id] = {"label": label, "size": size_gb, "node": None}
        return volume_id

    def attach_volume(
        self, volume_id: int, label: str, size_gb: int, node_name: str | None
    ) -> None:
        self.volumes[volume_id]["node"] = node_name


@pytest.fixture(scope="module")
def storage(bare_cluster: Served) -> Iterator[tuple[Served, Kube, RecordingCloud]]:
    cloud = RecordingCloud()

    async def start() -> Kube:
        kube = Kube(bare_cluster.url, TOKEN, None, "test")
        kubelets = Kubelets(kube, bare_cluster.cluster.logs, Timings(create=0.05, ready=0.05))
        bare_cluster.loop.create_task(kubelets.run())
        bare_cluster.loop.create_task(Storage(kube, cloud).run())
        kubelets.start_node(node(node_name(5), 5, 5005))
        return kube

    yield bare_cluster, bare_cluster.call(start()), cloud


def test_a_claim_gets_a_linode_volume_and_is_attached_where_its_pod_runs(storage) -> None:
    served, kube, cloud = storage
    claim = served.call(
        kube.create(
            PVCS,
            "default",
            {
                "metadata": {"name": "media"},
                "spec": {
                    "accessModes": ["ReadWriteOnce"],
                    "resources": {"requests": {"storage": "50Gi"}},
                },
            },
        )
    )
    bound = wait_for(
        lambda: (
            (c := served.call(kube.get(PVCS, "default", "media")))["status"].get("phase") == "Bound"
            and c
        )
    )
    pv = served.call(kube.get(PVS, "", bound["spec"]["volumeName"]))
    label = volume_label(claim["metadata"]["uid"])
    volume_id, handle_label = pv["spec"]["csi"]["volumeHandle"].split("-", 1)
    assert handle_label == label and len(label) <= 32
    assert cloud.volumes[int(volume_id)] == {"label": label, "size": 50, "node": None}
    assert pv["spec"]["storageClassName"] == "linode-block-storage-retain"
    assert pv["spec"]["persistentVolumeReclaimPolicy"] == "Retain"
    served.call(
        kube.create(
            PODS,
            "default",
            {
                "metadata": {"name": "web"},
                "spec": {
                    "nodeName": node_name(5),
                    "containers": [{"name": "c", "image": "app:1"}],
                    "volumes": [{"name": "m", "persistentVolumeClaim": {"claimName": "media"}}],
                },
            },
        )
    )
    attachment = wait_for(lambda: served.call(kube.list(ATTACHMENTS))["items"])
    assert attachment[0]["spec"]["nodeName"] == node_name(5)
    assert attachment[0]["status"]["attached"] is True
    assert cloud.volumes[int(volume_id)]["node"] == node_name(5)


def test_claims_of_other_provisioners_stay_pending(storage) -> None:
    served, kube, _ = storage
    served.call(
        kube.create(
            PVCS,
            "default",
            {
                "metadata": {"name": "elsewhere"},
                "spec": {
                    "storageClassName": "nfs",
                    "accessModes": ["ReadWriteMany"],
                    "resources": {"requests": {"storage": "1Gi"}},
                },
            },
        )
    )
    time.sleep(0.5)
    assert served.call(kube.get(PVCS, "default", "elsewhere"))["status"]["phase"] == "Pending"
