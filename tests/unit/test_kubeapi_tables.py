"""Server-side Tables: the columns and cells kubectl prints for each kind."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import pytest
from cpanel_platform.sandbox.kubeapi.tables import human_duration, table

NOW = dt.datetime(2025, 6, 1, 12, 0, 0, tzinfo=dt.UTC)


def ago(seconds: float) -> str:
    return (NOW - dt.timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


def meta(name: str, age: float = 3600, **extra: Any) -> dict[str, Any]:
    return {"name": name, "namespace": "default", "creationTimestamp": ago(age), **extra}


def render(group: str, plural: str, obj: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """Cells of a single object's row, keyed by column name."""
    result = table(group, plural, [obj], NOW, **kwargs)
    names = [c["name"] for c in result["columnDefinitions"]]
    return dict(zip(names, result["rows"][0]["cells"], strict=True))


def columns(group: str, plural: str, **kwargs: Any) -> list[tuple[str, str, int]]:
    defs = table(group, plural, [], NOW, **kwargs)["columnDefinitions"]
    return [(c["name"], c["type"], c["priority"]) for c in defs]


# --- human_duration ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (-5, "<invalid>"),
        (-1.5, "0s"),
        (0, "0s"),
        (5.9, "5s"),
        (119, "119s"),
        (120, "2m"),
        (192, "3m12s"),
        (599, "9m59s"),
        (600, "10m"),
        (45 * 60, "45m"),
        (3 * 3600 - 1, "179m"),
        (3 * 3600 + 5 * 60, "3h5m"),
        (8 * 3600, "8h"),
        (47 * 3600 + 59 * 60, "47h"),
        (48 * 3600, "2d"),
        (52 * 3600, "2d4h"),
        (8 * 86400, "8d"),
        (25 * 86400, "25d"),
        (729 * 86400, "729d"),
        (730 * 86400, "2y"),
        (770 * 86400, "2y40d"),
        (8 * 365 * 86400, "8y"),
    ],
)
def test_human_duration(seconds: float, text: str) -> None:
    assert human_duration(seconds) == text


# --- table envelope ---------------------------------------------------------------------------


def test_table_envelope_and_include_object() -> None:
    pod = {"metadata": meta("p"), "spec": {"containers": [{"name": "c"}]}, "status": {}}
    before = copy.deepcopy(pod)

    result = table("", "pods", [pod], NOW)
    assert result["kind"] == "Table"
    assert result["apiVersion"] == "meta.k8s.io/v1"
    assert result["metadata"] == {"resourceVersion": ""}
    assert result["columnDefinitions"][0] == {
        "name": "Name",
        "type": "string",
        "format": "name",
        "description": result["columnDefinitions"][0]["description"],
        "priority": 0,
    }
    assert result["rows"][0]["object"] == {
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": pod["metadata"],
    }
    assert table("", "pods", [pod], NOW, include_object="Object")["rows"][0]["object"] is pod
    assert "object" not in table("", "pods", [pod], NOW, include_object="None")["rows"][0]
    assert "columnDefinitions" not in table("", "pods", [pod], NOW, with_columns=False)
    assert pod == before
    with pytest.raises(ValueError):
        table("", "pods", [pod], NOW, include_object="Everything")


# --- pods -------------------------------------------------------------------------------------


def test_pod_columns() -> None:
    assert columns("", "pods") == [
        ("Name", "string", 0),
        ("Ready", "string", 0),
        ("Status", "string", 0),
        ("Restarts", "string", 0),
        ("Age", "string", 0),
        ("IP", "string", 1),
        ("Node", "string", 1),
        ("Nominated Node", "string", 1),
        ("Readiness Gates", "string", 1),
    ]


def running(name: str, restarts: int = 0) -> dict[str, Any]:
    return {"name": name, "ready": True, "restartCount": restarts, "state": {"running": {}}}


def test_running_pod() -> None:
    pod = {
        "metadata": meta("web-1", age=3 * 3600 + 300),
        "spec": {"containers": [{"name": "web"}, {"name": "proxy"}], "nodeName": "node-a"},
        "status": {
            "phase": "Running",
            "podIP": "10.0.0.9",
            "podIPs": [{"ip": "10.0.0.9"}, {"ip": "fd00::9"}],
            "containerStatuses": [running("web"), running("proxy")],
        },
    }
    assert render("", "pods", pod) == {
        "Name": "web-1",
        "Ready": "2/2",
        "Status": "Running",
        "Restarts": "0",
        "Age": "3h5m",
        "IP": "10.0.0.9",
        "Node": "node-a",
        "Nominated Node": "<none>",
        "Readiness Gates": "<none>",
    }


def test_crashlooping_pod_shows_restarts_and_last_restart() -> None:
    crashing = {
        "name": "worker",
        "ready": False,
        "restartCount": 3,
        "state": {"waiting": {"reason": "CrashLoopBackOff"}},
        "lastState": {"terminated": {"exitCode": 1, "finishedAt": ago(125)}},
    }
    pod = {
        "metadata": meta("worker-1"),
        "spec": {
            "containers": [{"name": "worker"}, {"name": "sidecar"}],
            "readinessGates": [{"conditionType": "example.com/ready"}],
        },
        "status": {
            "phase": "Running",
            "conditions": [{"type": "example.com/ready", "status": "True"}],
            "containerStatuses": [crashing, running("sidecar", restarts=1)],
        },
    }
    cells = render("", "pods", pod)
    assert cells["Ready"] == "1/2"
    assert cells["Status"] == "CrashLoopBackOff"
    assert cells["Restarts"] == "4 (2m5s ago)"
    assert cells["Readiness Gates"] == "1/1"


def test_terminating_and_node_lost_pods() -> None:
    pod = {
        "metadata": meta("old", deletionTimestamp=ago(10)),
        "spec": {"containers": [{"name": "c"}]},
        "status": {"phase": "Running", "containerStatuses": [running("c")]},
    }
    assert render("", "pods", pod)["Status"] == "Terminating"
    pod["status"]["reason"] = "NodeLost"
    assert render("", "pods", pod)["Status"] == "Unknown"
    pod["status"] = {"phase": "Succeeded"}  # finished pods keep their phase while deleted
    assert render("", "pods", pod)["Status"] == "Succeeded"


@pytest.mark.parametrize(
    ("init_state", "status"),
    [
        ({"running": {}}, "Init:1/2"),
        ({"waiting": {"reason": "PodInitializing"}}, "Init:1/2"),
        ({"waiting": {"reason": "CrashLoopBackOff"}}, "Init:CrashLoopBackOff"),
        ({"terminated": {"exitCode": 2}}, "Init:ExitCode:2"),
        ({"terminated": {"exitCode": 137, "signal": 9}}, "Init:Signal:9"),
        ({"terminated": {"exitCode": 1, "reason": "Error"}}, "Init:Error"),
    ],
)
def test_initializing_pod(init_state: dict[str, Any], status: str) -> None:
    pod = {
        "metadata": meta("init"),
        "spec": {"initContainers": [{"name": "a"}, {"name": "b"}], "containers": [{"name": "c"}]},
        "status": {
            "phase": "Pending",
            "initContainerStatuses": [
                {"name": "a", "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}},
                {"name": "b", "restartCount": 2, "state": init_state},
            ],
            "containerStatuses": [
                {"name": "c", "state": {"waiting": {"reason": "PodInitializing"}}}
            ],
        },
    }
    cells = render("", "pods", pod)
    assert (cells["Status"], cells["Ready"], cells["Restarts"]) == (status, "0/1", "2")


def test_sidecar_counts_as_a_container() -> None:
    pod = {
        "metadata": meta("with-sidecar"),
        "spec": {
            "initContainers": [{"name": "proxy", "restartPolicy": "Always"}],
            "containers": [{"name": "app"}],
        },
        "status": {
            "phase": "Running",
            "conditions": [{"type": "Initialized", "status": "True"}],
            "initContainerStatuses": [{**running("proxy", restarts=1), "started": True}],
            "containerStatuses": [running("app")],
        },
    }
    cells = render("", "pods", pod)
    assert (cells["Ready"], cells["Status"], cells["Restarts"]) == ("2/2", "Running", "1")


def test_completed_pod_and_partly_completed_pod() -> None:
    done = {"name": "c", "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}}
    pod = {
        "metadata": meta("job-pod"),
        "spec": {"containers": [{"name": "c"}]},
        "status": {"phase": "Succeeded", "containerStatuses": [done]},
    }
    result = table("", "pods", [pod], NOW)
    assert result["rows"][0]["cells"][2] == "Completed"
    assert result["rows"][0]["conditions"][0]["reason"] == "Succeeded"

    # A completed container beside a running one reads Running, or NotReady without Ready.
    pod["spec"]["containers"].append({"name": "d"})
    pod["status"] = {"phase": "Running", "containerStatuses": [running("d"), done]}
    assert render("", "pods", pod)["Status"] == "NotReady"
    pod["status"]["conditions"] = [{"type": "Ready", "status": "True"}]
    assert render("", "pods", pod)["Status"] == "Running"


def test_exit_code_and_container_creating() -> None:
    pod = {
        "metadata": meta("p"),
        "spec": {"containers": [{"name": "c"}]},
        "status": {
            "phase": "Pending",
            "containerStatuses": [
                {"name": "c", "state": {"waiting": {"reason": "ContainerCreating"}}}
            ],
        },
    }
    assert render("", "pods", pod)["Status"] == "ContainerCreating"
    pod["status"]["containerStatuses"][0]["state"] = {"terminated": {"exitCode": 3}}
    assert render("", "pods", pod)["Status"] == "ExitCode:3"


# --- nodes, services, endpoints, events --------------------------------------------------------


def test_cordoned_not_ready_node() -> None:
    node = {
        "metadata": {
            "name": "node-b",
            "creationTimestamp": ago(25 * 86400),
            "labels": {
                "node-role.kubernetes.io/control-plane": "",
                "node-role.kubernetes.io/worker": "",
                "kubernetes.io/role": "infra",
            },
        },
        "spec": {"unschedulable": True},
        "status": {
            "conditions": [
                {"type": "MemoryPressure", "status": "False"},
                {"type": "Ready", "status": "Unknown"},
            ],
            "addresses": [
                {"type": "Hostname", "address": "node-b"},
                {"type": "InternalIP", "address": "192.168.1.20"},
            ],
            "nodeInfo": {"kubeletVersion": "v1.33.1", "osImage": "Debian GNU/Linux 12"},
        },
    }
    assert list(render("", "nodes", node).values()) == [
        "node-b",
        "NotReady,SchedulingDisabled",
        "control-plane,infra,worker",
        "25d",
        "v1.33.1",
        "192.168.1.20",
        "<none>",
        "Debian GNU/Linux 12",
        "<unknown>",
        "<unknown>",
    ]
    node["metadata"]["labels"] = {}
    node["status"]["conditions"] = []
    cells = render("", "nodes", node)
    assert (cells["Status"], cells["Roles"]) == ("Unknown,SchedulingDisabled", "<none>")


def test_service_with_ports() -> None:
    svc = {
        "metadata": meta("web", age=45 * 60),
        "spec": {
            "type": "NodePort",
            "clusterIP": "10.96.0.10",
            "clusterIPs": ["10.96.0.10"],
            "selector": {"app": "web", "tier": "front"},
            "ports": [
                {"port": 80, "protocol": "TCP"},
                {"port": 443, "nodePort": 30443, "protocol": "TCP"},
            ],
        },
    }
    assert render("", "services", svc) == {
        "Name": "web",
        "Type": "NodePort",
        "Cluster-IP": "10.96.0.10",
        "External-IP": "<none>",
        "Port(s)": "80/TCP,443:30443/TCP",
        "Age": "45m",
        "Selector": "app=web,tier=front",
    }


def test_service_external_ip() -> None:
    svc: dict[str, Any] = {"metadata": meta("lb"), "spec": {"type": "LoadBalancer"}}
    assert render("", "services", svc)["External-IP"] == "<pending>"
    assert render("", "services", svc)["Port(s)"] == "<none>"
    svc["status"] = {"loadBalancer": {"ingress": [{"ip": "203.0.113.9"}, {"hostname": "a.lb"}]}}
    assert render("", "services", svc)["External-IP"] == "203.0.113.9,a.lb"
    svc["spec"] = {"type": "ExternalName", "externalName": "db.example.com", "clusterIP": "None"}
    cells = render("", "services", svc)
    assert (cells["External-IP"], cells["Cluster-IP"]) == ("db.example.com", "None")


def test_endpoints_lists_three_then_counts() -> None:
    ep = {
        "metadata": meta("web"),
        "subsets": [
            {
                "addresses": [{"ip": "10.0.0.1"}, {"ip": "10.0.0.2"}, {"ip": "fd00::3"}],
                "ports": [{"port": 8080}, {"port": 9090}],
            }
        ],
    }
    expected = "10.0.0.1:8080,10.0.0.2:8080,[fd00::3]:8080 + 3 more..."
    assert render("", "endpoints", ep)["Endpoints"] == expected
    assert render("", "endpoints", {"metadata": meta("none")})["Endpoints"] == "<none>"


def test_event() -> None:
    event = {
        "metadata": meta("web-1.17f", age=600),
        "involvedObject": {"kind": "Pod", "name": "web-1", "fieldPath": "spec.containers{web}"},
        "reason": "BackOff",
        "message": "Back-off restarting failed container\n",
        "type": "Warning",
        "source": {"component": "kubelet", "host": "node-a"},
        "firstTimestamp": ago(600),
        "lastTimestamp": ago(30),
        "count": 7,
    }
    assert columns("", "events")[:4] == [
        ("Last Seen", "string", 0),
        ("Type", "string", 0),
        ("Reason", "string", 0),
        ("Object", "string", 0),
    ]
    assert list(render("", "events", event).values()) == [
        "30s",
        "Warning",
        "BackOff",
        "pod/web-1",
        "spec.containers{web}",
        "kubelet, node-a",
        "Back-off restarting failed container",
        "10m",
        7,
        "web-1.17f",
    ]


def test_event_from_the_events_api() -> None:
    event = {
        "metadata": meta("e"),
        "involvedObject": {"kind": "Node"},
        "eventTime": "2025-06-01T11:59:00.000000Z",
        "reportingComponent": "scheduler",
        "series": {"count": 4, "lastObservedTime": "2025-06-01T11:59:50.000000Z"},
    }
    cells = render("", "events", event)
    assert (cells["Last Seen"], cells["First Seen"], cells["Count"]) == ("10s", "60s", 4)
    assert (cells["Object"], cells["Source"]) == ("node", "scheduler")


# --- workloads --------------------------------------------------------------------------------


def test_deployment() -> None:
    deploy = {
        "metadata": meta("web", age=2 * 86400 + 4 * 3600),
        "spec": {
            "replicas": 3,
            "selector": {
                "matchLabels": {"app": "web"},
                "matchExpressions": [{"key": "env", "operator": "In", "values": ["prod", "dev"]}],
            },
            "template": {
                "spec": {
                    "containers": [
                        {"name": "web", "image": "nginx:1.27"},
                        {"name": "log", "image": "fluent-bit:3"},
                    ]
                }
            },
        },
        "status": {"replicas": 3, "readyReplicas": 2, "updatedReplicas": 3, "availableReplicas": 2},
    }
    assert render("apps", "deployments", deploy) == {
        "Name": "web",
        "Ready": "2/3",
        "Up-to-date": 3,
        "Available": 2,
        "Age": "2d4h",
        "Containers": "web,log",
        "Images": "nginx:1.27,fluent-bit:3",
        "Selector": "app=web,env in (dev,prod)",
    }


def test_statefulset_daemonset_replicaset() -> None:
    template = {"spec": {"containers": [{"name": "db", "image": "postgres:17"}]}}
    sts = {"metadata": meta("db"), "spec": {"template": template}, "status": {"readyReplicas": 1}}
    assert render("apps", "statefulsets", sts)["Ready"] == "1/1"

    ds = {
        "metadata": meta("agent"),
        "spec": {"template": {"spec": {"nodeSelector": {"kubernetes.io/os": "linux"}}}},
        "status": {"desiredNumberScheduled": 3, "currentNumberScheduled": 3, "numberReady": 2},
    }
    assert list(render("apps", "daemonsets", ds).values())[1:8] == [
        3,
        3,
        2,
        0,
        0,
        "kubernetes.io/os=linux",
        "60m",
    ]

    rs = {"metadata": meta("web-abc"), "spec": {"replicas": 2}, "status": {"replicas": 2}}
    cells = render("apps", "replicasets", rs)
    assert (cells["Desired"], cells["Current"], cells["Ready"], cells["Selector"]) == (
        2,
        2,
        0,
        "<none>",
    )


def test_jobs_and_cronjobs() -> None:
    job = {
        "metadata": meta("backup", age=600),
        "spec": {"completions": 1, "template": {}},
        "status": {
            "succeeded": 1,
            "startTime": ago(590),
            "completionTime": ago(545),
            "conditions": [{"type": "Complete", "status": "True"}],
        },
    }
    cells = render("batch", "jobs", job)
    assert (cells["Status"], cells["Completions"], cells["Duration"]) == ("Complete", "1/1", "45s")
    job["spec"] = {"parallelism": 3}
    job["status"] = {"startTime": ago(200), "conditions": [{"type": "Suspended", "status": "True"}]}
    cells = render("batch", "jobs", job)
    assert (cells["Status"], cells["Completions"], cells["Duration"]) == (
        "Suspended",
        "0/1 of 3",
        "3m20s",
    )

    cron = {
        "metadata": meta("nightly"),
        "spec": {"schedule": "0 2 * * *", "suspend": False},
        "status": {"active": [{"name": "nightly-1"}], "lastScheduleTime": ago(300)},
    }
    assert list(render("batch", "cronjobs", cron).values())[:7] == [
        "nightly",
        "0 2 * * *",
        "<none>",
        "False",
        1,
        "5m",
        "60m",
    ]


def test_pod_disruption_budget() -> None:
    pdb = {"metadata": meta("web"), "spec": {"minAvailable": "50%"}, "status": {}}
    assert list(render("policy", "poddisruptionbudgets", pdb).values()) == [
        "web",
        "50%",
        "N/A",
        0,
        "60m",
    ]


# --- storage and the rest ---------------------------------------------------------------------


def test_storage_class_default_marker() -> None:
    sc = {
        "metadata": meta(
            "standard", annotations={"storageclass.kubernetes.io/is-default-class": "true"}
        ),
        "provisioner": "linodebs.csi.linode.com",
        "allowVolumeExpansion": True,
    }
    assert list(render("storage.k8s.io", "storageclasses", sc).values()) == [
        "standard (default)",
        "linodebs.csi.linode.com",
        "Delete",
        "Immediate",
        True,
        "60m",
    ]


def test_persistent_volume_claim_and_volume() -> None:
    pvc = {
        "metadata": meta("data"),
        "spec": {"storageClassName": "standard", "volumeName": "pv-1"},
        "status": {
            "phase": "Bound",
            "capacity": {"storage": "10Gi"},
            "accessModes": ["ReadWriteMany", "ReadWriteOnce"],
        },
    }
    assert list(render("", "persistentvolumeclaims", pvc).values()) == [
        "data",
        "Bound",
        "pv-1",
        "10Gi",
        "RWO,RWX",
        "standard",
        "<unset>",
        "60m",
        "<unset>",
    ]
    pv = {
        "metadata": meta("pv-1"),
        "spec": {
            "capacity": {"storage": "10Gi"},
            "accessModes": ["ReadWriteOnce"],
            "persistentVolumeReclaimPolicy": "Retain",
            "claimRef": {"namespace": "default", "name": "data"},
            "storageClassName": "standard",
            "volumeMode": "Filesystem",
        },
        "status": {"phase": "Bound"},
    }
    cells = render("", "persistentvolumes", pv)
    assert (cells["Claim"], cells["Status"], cells["VolumeMode"]) == (
        "default/data",
        "Bound",
        "Filesystem",
    )


def test_ingress_lease_and_volume_attachment() -> None:
    ingress = {
        "metadata": meta("web"),
        "spec": {
            "ingressClassName": "nginx",
            "rules": [{}, {"host": "a.example.com"}, {"host": "b.example.com"}],
            "tls": [{"hosts": ["a.example.com"]}],
        },
        "status": {"loadBalancer": {"ingress": [{"ip": "203.0.113.7"}]}},
    }
    assert list(render("networking.k8s.io", "ingresses", ingress).values()) == [
        "web",
        "nginx",
        "a.example.com,b.example.com",
        "203.0.113.7",
        "80, 443",
        "60m",
    ]
    lease = {"metadata": meta("node-a"), "spec": {"holderIdentity": "node-a"}}
    assert render("coordination.k8s.io", "leases", lease)["Holder"] == "node-a"
    va = {
        "metadata": meta("csi-1"),
        "spec": {
            "attacher": "linodebs.csi.linode.com",
            "nodeName": "node-a",
            "source": {"persistentVolumeName": "pv-1"},
        },
        "status": {"attached": True},
    }
    assert list(render("storage.k8s.io", "volumeattachments", va).values())[2:5] == [
        "pv-1",
        "node-a",
        True,
    ]


def test_custom_resource_definitions_show_created_at() -> None:
    crd = {"metadata": {"name": "widgets.example.com", "creationTimestamp": ago(90)}}
    assert columns("apiextensions.k8s.io", "customresourcedefinitions") == [
        ("Name", "string", 0),
        ("Created At", "date", 0),
    ]
    cells = render("apiextensions.k8s.io", "customresourcedefinitions", crd)
    assert cells == {"Name": "widgets.example.com", "Created At": "2025-06-01T11:58:30Z"}


# --- custom resources -------------------------------------------------------------------------

WIDGET_COLUMNS = [
    {"name": "Replicas", "type": "integer", "jsonPath": ".spec.replicas"},
    {
        "name": "Ready",
        "type": "string",
        "jsonPath": '.status.conditions[?(@.type=="Ready")].status',
    },
    {"name": "First Port", "type": "integer", "jsonPath": ".spec.ports[0].port"},
    {"name": "Hosts", "type": "string", "jsonPath": ".spec.ports[*].host"},
    {"name": "Ratio", "type": "number", "jsonPath": ".status.ratio", "priority": 1},
    {"name": "Paused", "type": "boolean", "jsonPath": ".spec.paused"},
    {"name": "Owner", "type": "string", "jsonPath": ".metadata.labels.app\\.kubernetes\\.io/name"},
    {"name": "Missing", "type": "string", "jsonPath": ".status.nothing"},
    {"name": "Last Sync", "type": "date", "jsonPath": ".status.lastSync", "format": "date-time"},
]


def test_custom_resource_printer_columns() -> None:
    widget = {
        "metadata": meta("w1", labels={"app.kubernetes.io/name": "shop"}),
        "spec": {
            "replicas": 2,
            "paused": False,
            "ports": [{"port": 80, "host": "a"}, {"host": "b"}],
        },
        "status": {
            "ratio": 1,
            "lastSync": ago(192),
            "conditions": [
                {"type": "Synced", "status": "False"},
                {"type": "Ready", "status": "True"},
            ],
        },
    }
    result = table("example.com", "widgets", [widget], NOW, printer_columns=WIDGET_COLUMNS)
    defs = result["columnDefinitions"]
    assert [c["name"] for c in defs] == ["Name", *(c["name"] for c in WIDGET_COLUMNS)]
    assert (defs[5]["priority"], defs[9]["type"], defs[9]["format"]) == (1, "date", "date-time")
    assert result["rows"][0]["cells"] == [
        "w1",
        2,
        "True",
        80,
        "a",
        1.0,
        False,
        "shop",
        None,
        "3m12s",
    ]


def test_custom_resource_cells_that_do_not_fit() -> None:
    widget = {
        "metadata": meta("w2"),
        "spec": {"replicas": "two", "paused": "no", "ports": []},
        "status": {"lastSync": "yesterday", "ratio": 0.25, "conditions": {"Ready": True}},
    }
    cells = table("example.com", "widgets", [widget], NOW, printer_columns=WIDGET_COLUMNS)
    assert cells["rows"][0]["cells"] == [
        "w2",
        None,
        None,
        None,
        None,
        0.25,
        None,
        None,
        None,
        "<invalid>",
    ]


def test_custom_resource_string_columns_print_like_go() -> None:
    spec_columns = [
        {"name": n, "type": "string", "jsonPath": f".spec.{n}"} for n in ("a", "b", "c", "d")
    ]
    widget = {
        "metadata": meta("w"),
        "spec": {"a": 3, "b": 2500000.5, "c": True, "d": {"z": 1, "y": [1]}},
    }
    cells = table("example.com", "widgets", [widget], NOW, printer_columns=spec_columns)
    assert cells["rows"][0]["cells"][1:] == ["3", "2.5000005e+06", "true", '{"y":[1],"z":1}']


def test_custom_resource_without_printer_columns_and_unknown_kinds() -> None:
    obj = {"metadata": meta("thing", age=25 * 86400)}
    for group, plural in (("example.com", "gadgets"), ("rbac.authorization.k8s.io", "roles")):
        result = table(group, plural, [obj], NOW, printer_columns=[])
        assert [(c["name"], c["type"]) for c in result["columnDefinitions"]] == [
            ("Name", "string"),
            ("Age", "date"),
        ]
        assert result["rows"][0]["cells"] == ["thing", "25d"]
