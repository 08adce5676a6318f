"""describe(): kubectl-describe-like text per kind, events, and no Secret values."""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime
from typing import Any

from cpanel_platform.views.describe import LAST_APPLIED, MAX_ANNOTATION, describe, tabulate

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC).timestamp()


def ts(ago: float) -> str:
    return datetime.fromtimestamp(NOW - ago, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def value_of(text: str, title: str) -> str:
    """The value on the line that starts (after indentation) with `title:`."""
    match = re.search(rf"^\s*{re.escape(title)}:[ ]+(.*)$", text, re.MULTILINE)
    assert match, f"no {title!r} line in:\n{text}"
    return match.group(1)


def event(kind: str, name: str, reason: str, ago: float, **extra: Any) -> dict[str, Any]:
    return {
        "metadata": {"name": f"{name}.1", "namespace": "app"},
        "involvedObject": {"kind": kind, "name": name, "namespace": "app"},
        "type": "Normal",
        "reason": reason,
        "message": f"{reason} happened",
        "source": {"component": "kubelet", "host": "lke1-a"},
        "firstTimestamp": ts(ago),
        "lastTimestamp": ts(ago),
        "count": 1,
        **extra,
    }


POD = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {
        "name": "web-abc",
        "namespace": "app",
        "uid": "pod-uid",
        "creationTimestamp": "2024-05-01T11:00:00Z",
        "labels": {"app": "web", "pod-template-hash": "7d9c"},
        "annotations": {"note": "x" * 500},
        "ownerReferences": [{"kind": "ReplicaSet", "name": "web-7d9c", "controller": True}],
    },
    "spec": {
        "nodeName": "lke1-a",
        "containers": [
            {
                "name": "web",
                "image": "ghcr.io/example/shop:2.14.1",
                "ports": [{"containerPort": 4000, "protocol": "TCP"}],
                "volumeMounts": [{"name": "media", "mountPath": "/srv/media"}],
            }
        ],
        "volumes": [{"name": "media", "persistentVolumeClaim": {"claimName": "media"}}],
    },
    "status": {
        "phase": "Running",
        "hostIP": "192.168.128.10",
        "podIP": "10.2.0.7",
        "startTime": "2024-05-01T11:00:01Z",
        "conditions": [{"type": "Ready", "status": "False"}],
        "containerStatuses": [
            {
                "name": "web",
                "ready": False,
                "restartCount": 4,
                "state": {"waiting": {"reason": "CrashLoopBackOff"}},
                "lastState": {"terminated": {"exitCode": 1, "reason": "Error"}},
            }
        ],
    },
}


def test_pod() -> None:
    events = [
        event("Pod", "web-abc", "BackOff", 60, type="Warning", count=7, firstTimestamp=ts(900)),
        event("Pod", "web-abc", "Pulled", 1200),
        event("Pod", "other", "Killing", 30),  # about another pod
    ]
    text = describe(POD, events, NOW)
    assert value_of(text, "Name") == "web-abc"
    assert value_of(text, "Namespace") == "app"
    assert value_of(text, "Node") == "lke1-a/192.168.128.10"
    assert value_of(text, "Start Time") == "Wed, 01 May 2024 11:00:01 +0000"
    assert value_of(text, "Status") == "Running"
    assert value_of(text, "IP") == "10.2.0.7"
    assert value_of(text, "Controlled By") == "ReplicaSet/web-7d9c"
    assert value_of(text, "Image") == "ghcr.io/example/shop:2.14.1"
    assert value_of(text, "Port") == "4000/TCP"
    assert value_of(text, "State") == "Waiting"
    assert value_of(text, "Reason") == "CrashLoopBackOff"
    assert value_of(text, "Last State") == "Terminated"
    assert value_of(text, "Restart Count") == "4"
    assert "/srv/media from media (rw)" in text
    assert value_of(text, "ClaimName") == "media"
    assert re.search(r"^  Ready\s+False$", text, re.MULTILINE)
    # Labels one per line, aligned under the first; top-level values share one column.
    lines = text.splitlines()
    labels = lines.index(next(line for line in lines if line.startswith("Labels:")))
    column = lines[labels].index("app=web")
    assert lines[labels + 1].index("pod-template-hash=7d9c") == column
    assert lines[0].index("web-abc") == column
    # Long annotation values are cut.
    assert value_of(text, "Annotations") == "note: " + "x" * MAX_ANNOTATION + "..."
    # Events: only this pod's, oldest first, with repeat counts.
    after = text[text.index("Events:") :].splitlines()
    assert after[1].split() == ["Type", "Reason", "Age", "From", "Message"]
    assert after[3].split()[:2] == ["Normal", "Pulled"]
    assert "Warning  BackOff  60s (x7 over 15m)  kubelet, lke1-a  BackOff happened" in text
    assert "Killing" not in text


def test_terminating_pod_and_no_events() -> None:
    pod = {**POD, "metadata": {**POD["metadata"], "deletionTimestamp": ts(20)}}
    text = describe(pod, [], NOW)
    assert value_of(text, "Status") == "Terminating (lasts 20s)"
    assert re.search(r"^Events:\s+<none>$", text, re.MULTILINE)


def test_secret_shows_keys_and_sizes_never_values() -> None:
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "kubernetes.io/tls",
        "metadata": {
            "name": "wildcard-example-com-tls",
            "namespace": "app",
            "annotations": {
                "cert-manager.io/certificate-name": "wildcard-example-com",
                LAST_APPLIED: '{"data":{"tls.key":"c3VwZXI="}}',
            },
        },
        "data": {
            "tls.crt": base64.b64encode(b"-----BEGIN CERTIFICATE-----").decode(),
            "tls.key": base64.b64encode(b"super-secret-key-material").decode(),
        },
    }
    text = describe(secret, [], NOW)
    assert value_of(text, "Type") == "kubernetes.io/tls"
    assert value_of(text, "tls.crt") == "27 bytes"
    assert value_of(text, "tls.key") == "25 bytes"
    assert "certificate-name: wildcard-example-com" in text
    for leaked in ("super-secret", "c3VwZXI", "BEGIN CERTIFICATE", *secret["data"].values()):
        assert leaked not in text
    assert "last-applied-configuration" not in text
    # A list item has no kind: it is still described as a Secret.
    item = {k: v for k, v in secret.items() if k not in ("kind", "apiVersion")}
    assert describe(item, [], NOW) == text


def test_node() -> None:
    node = {
        "kind": "Node",
        "metadata": {
            "name": "lke1-a",
            "uid": "node-uid",
            "labels": {
                "node-role.kubernetes.io/worker": "",
                "topology.kubernetes.io/region": "us-east",
            },
        },
        "spec": {
            "providerID": "linode://101",
            "unschedulable": True,
            "taints": [
                {"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"},
                {"key": "dedicated", "value": "db", "effect": "NoExecute"},
            ],
        },
        "status": {
            "conditions": [
                {
                    "type": "Ready",
                    "status": "True",
                    "reason": "KubeletReady",
                    "message": "kubelet is posting ready status",
                    "lastHeartbeatTime": ts(10),
                    "lastTransitionTime": ts(7200),
                }
            ],
            "addresses": [{"type": "InternalIP", "address": "192.168.128.10"}],
            "capacity": {"cpu": "8", "memory": "16Gi"},
            "allocatable": {"cpu": "7910m", "memory": "15Gi"},
            "nodeInfo": {"kubeletVersion": "v1.31.4", "osImage": "Debian GNU/Linux 12"},
        },
    }
    events = [
        event(
            "Node",
            "lke1-a",
            "NodeNotSchedulable",
            30,
            involvedObject={"kind": "Node", "name": "lke1-a", "uid": "node-uid"},
        )
    ]
    text = describe(node, events, NOW)
    assert "Namespace:" not in text
    assert value_of(text, "Roles") == "worker"
    assert value_of(text, "Unschedulable") == "true"
    assert value_of(text, "Taints") == "node.kubernetes.io/unschedulable:NoSchedule"
    assert re.search(r"^\s+dedicated=db:NoExecute$", text, re.MULTILINE)
    header = next(line for line in text.splitlines() if "LastHeartbeatTime" in line)
    assert header.split() == [
        "Type",
        "Status",
        "LastHeartbeatTime",
        "LastTransitionTime",
        "Reason",
        "Message",
    ]
    assert re.search(r"^  Ready\s+True\s+.*KubeletReady\s+kubelet is posting", text, re.MULTILINE)
    assert value_of(text, "InternalIP") == "192.168.128.10"
    assert text.index("Capacity:") < text.index("7910m")
    assert value_of(text, "Kubelet Version") == "v1.31.4"
    assert value_of(text, "ProviderID") == "linode://101"
    assert "NodeNotSchedulable" in text


def test_deployment() -> None:
    deployment = {
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "app"},
        "spec": {
            "replicas": 3,
            "selector": {"matchLabels": {"app": "web"}},
            "strategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0},
            },
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "web", "image": "ghcr.io/example/shop:2.14.1"}]},
            },
        },
        "status": {
            "replicas": 4,
            "updatedReplicas": 1,
            "availableReplicas": 3,
            "unavailableReplicas": 1,
            "conditions": [
                {"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable"},
                {"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded"},
            ],
        },
    }
    text = describe(deployment, [], NOW)
    assert value_of(text, "Selector") == "app=web"
    assert value_of(text, "Replicas") == (
        "3 desired | 1 updated | 4 total | 3 available | 1 unavailable"
    )
    assert value_of(text, "StrategyType") == "RollingUpdate"
    assert value_of(text, "RollingUpdateStrategy") == "0 max unavailable, 1 max surge"
    assert value_of(text, "Image") == "ghcr.io/example/shop:2.14.1"
    assert re.search(r"^  Progressing\s+False\s+ProgressDeadlineExceeded$", text, re.MULTILINE)


def test_certificate() -> None:
    cert = {
        "kind": "Certificate",
        "metadata": {"name": "wildcard-example-com", "namespace": "app"},
        "spec": {
            "secretName": "wildcard-example-com-tls",
            "dnsNames": ["example.com", "*.example.com"],
            "issuerRef": {"name": "letsencrypt-prod", "kind": "ClusterIssuer"},
        },
        "status": {
            "conditions": [{"type": "Ready", "status": "True", "reason": "Ready"}],
            "notAfter": ts(-60 * 86400),
            "renewalTime": ts(-30 * 86400),
            "revision": 2,
        },
    }
    text = describe(cert, [], NOW)
    assert value_of(text, "DNS Names") == "example.com"
    assert re.search(r"^\s+\*\.example\.com$", text, re.MULTILINE)
    assert value_of(text, "Issuer") == "ClusterIssuer/letsencrypt-prod"
    assert value_of(text, "Not After") == "Sun, 30 Jun 2024 12:00:00 +0000 (in 60d)"
    assert value_of(text, "Renewal Time") == "Fri, 31 May 2024 12:00:00 +0000"
    assert re.search(r"^    Ready\s+True\s+Ready", text, re.MULTILINE)


def test_unknown_kind_falls_back_to_yaml() -> None:
    service = {
        "metadata": {"name": "web", "namespace": "app"},  # a list item: no kind field
        "spec": {"selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": "http"}]},
        "status": {"loadBalancer": {}},
    }
    text = describe(service, [event("Service", "web", "Synced", 5)], NOW, kind="Service")
    assert "Spec:\n  selector:\n    app: web\n  ports:\n  - port: 80\n" in text
    assert "Status:\n  loadBalancer: {}\n" in text
    assert "Synced" in text  # matched by kind, name and namespace


def test_tabulate_aligns_runs_of_cells() -> None:
    lines = ["Name:\tweb", "Namespace:\tapp", "Containers:", "  web:", "    Image:\tshop"]
    assert tabulate(lines) == (
        "Name:       web\nNamespace:  app\nContainers:\n  web:\n    Image:  shop\n"
    )
