"""What a fresh LKE cluster holds before anyone deploys to it: the system namespaces, the
`kubernetes` Service, Linode's storage classes, and one pool of three nodes."""

from __future__ import annotations

from typing import Any

from .kubeapi.api import Api

K8S_VERSION = "v1.36.2"
POOL_ID = 412
CLUSTER_ID = 118447
NODE_TYPE = "g6-dedicated-8"
REGION = "us-east"


def node(
    name: str,
    index: int,
    linode_id: int,
    *,
    version: str = K8S_VERSION,
    pool_id: int = POOL_ID,
    instance_type: str = NODE_TYPE,
    region: str = REGION,
    ips: tuple[str, str] | None = None,
) -> dict[str, Any]:
    """The Node a kubelet registers for Linode `linode_id`; `ips` are (public, private)."""
    public, private = ips or (f"172.105.{index}.{20 + index}", f"192.168.139.{10 + index}")
    ready = {
        "type": "Ready",
        "status": "True",
        "reason": "KubeletReady",
        "message": "kubelet is posting ready status",
    }
    pressure = [
        {"type": t, "status": "False", "reason": f"KubeletHas{r}", "message": f"kubelet has {m}"}
        for t, r, m in (
            ("MemoryPressure", "SufficientMemory", "sufficient memory available"),
            ("DiskPressure", "NoDiskPressure", "no disk pressure"),
            ("PIDPressure", "SufficientPID", "sufficient PID available"),
        )
    ]
    return {
        "metadata": {
            "name": name,
            "labels": {
                "kubernetes.io/hostname": name,
                "kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64",
                "node.kubernetes.io/instance-type": instance_type,
                "topology.kubernetes.io/region": region,
                "lke.linode.com/pool-id": str(pool_id),
            },
            "annotations": {"lke.linode.com/wgip": f"172.31.0.{index + 1}"},
        },
        "spec": {
            "podCIDR": f"10.2.{index}.0/24",
            "podCIDRs": [f"10.2.{index}.0/24"],
            "providerID": f"linode://{linode_id}",
        },
        "status": {
            "conditions": [*pressure, ready],
            "addresses": [
                {"type": "Hostname", "address": name},
                {"type": "ExternalIP", "address": public},
                {"type": "InternalIP", "address": private},
            ],
            "capacity": {
                "cpu": "8",
                "memory": "16365580Ki",
                "pods": "110",
                "ephemeral-storage": "322031548Ki",
            },
            "allocatable": {
                "cpu": "8",
                "memory": "16263180Ki",
                "pods": "110",
                "ephemeral-storage": "296784015108",
            },
            "nodeInfo": {
                "kubeletVersion": version,
                "kubeProxyVersion": version,
                "osImage": "Debian GNU/Linux 12 (bookworm)",
                "kernelVersion": "6.1.0-28-cloud-amd64",
                "containerRuntimeVersion": "containerd://1.7.24",
                "operatingSystem": "linux",
                "architecture": "amd64",
                "machineID": f"{linode_id:032x}",
                "systemUUID": f"{linode_id:08x}-0000-0000-0000-000000000000",
                "bootID": "",
            },
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
        },
    }


def node_name(index: int) -> str:
    return f"lke{CLUSTER_ID}-{POOL_ID}-{0x5F3A1C0 + index * 0x1111:08x}"


def seed_cluster(api: Api, nodes: int = 0) -> None:
    """The cluster's objects before anything runs; nodes register themselves when their
    kubelets start, so tests of the bare API server may ask for some here."""
    for ns in ("default", "kube-system", "kube-public", "kube-node-lease"):
        api.create(api.preferred("", "namespaces"), "", {"metadata": {"name": ns}})
    api.create(
        api.preferred("", "services"),
        "default",
        {
            "metadata": {
                "name": "kubernetes",
                "labels": {"component": "apiserver", "provider": "kubernetes"},
            },
            "spec": {
                "clusterIP": "10.128.0.1",
                "ports": [{"name": "https", "port": 443, "targetPort": 6443}],
            },
        },
    )
    for name, default, policy in (
        ("linode-block-storage-retain", True, "Retain"),
        ("linode-block-storage", False, "Delete"),
    ):
        api.create(
            api.preferred("storage.k8s.io", "storageclasses"),
            "",
            {
                "metadata": {
                    "name": name,
                    "annotations": {
                        "storageclass.kubernetes.io/is-default-class": str(default).lower()
                    },
                },
                "provisioner": "linodebs.csi.linode.com",
                "reclaimPolicy": policy,
                "allowVolumeExpansion": True,
                "volumeBindingMode": "Immediate",
            },
        )
    for i in range(nodes):
        api.create(api.preferred("", "nodes"), "", node(node_name(i), i, 61000000 + i))
