"""Kubernetes protobuf request bodies decode to the JSON the real API server would see."""

from __future__ import annotations

import base64
import re

import pytest
from cpanel_platform.sandbox.kubeapi import protobuf
from cpanel_platform.sandbox.kubeapi.protobuf import MAGIC, decode

# --- a minimal encoder, laid out as Go's generated marshallers write messages -----------------


def varint(n: int) -> bytes:
    n &= (1 << 64) - 1  # negative numbers take ten bytes, as in Go
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def num(field: int, value: int) -> bytes:
    return varint(field << 3) + varint(value)


def ln(field: int, data: bytes | str) -> bytes:
    data = data.encode() if isinstance(data, str) else data
    return varint(field << 3 | 2) + varint(len(data)) + data


def msg(field: int, *parts: bytes) -> bytes:
    return ln(field, b"".join(parts))


def entry(field: int, key: str, value: bytes | str) -> bytes:
    return msg(field, ln(1, key), ln(2, value))


def quantity(field: int, key: str, text: str) -> bytes:
    return msg(field, ln(1, key), msg(2, ln(1, text)))


def int_or_string(field: int, value: int | str) -> bytes:
    if isinstance(value, int):
        return msg(field, num(1, 0), num(2, value), ln(3, ""))
    return msg(field, num(1, 1), num(2, 0), ln(3, value))


def body(api_version: str, kind: str, *parts: bytes) -> bytes:
    type_meta = msg(1, ln(1, api_version), ln(2, kind))
    return MAGIC + type_meta + ln(2, b"".join(parts)) + ln(3, "") + ln(4, "")


def meta(name: str, namespace: str = "", *extra: bytes) -> bytes:
    """ObjectMeta as kubectl sends it: every value field written, a zero creationTimestamp."""
    fixed = (ln(1, name), ln(2, ""), ln(3, namespace), ln(4, ""), ln(5, ""), ln(6, ""))
    return msg(1, *fixed, num(7, 0), msg(8), *extra)


# --- kinds ------------------------------------------------------------------------------------


def test_deployment() -> None:
    container = msg(
        2,
        ln(1, "app"),
        ln(2, "nginx:1.25"),
        ln(3, "nginx"),
        ln(3, "-g"),
        msg(6, ln(1, "http"), num(2, 0), num(3, 8080), ln(4, "TCP"), ln(5, "")),
        msg(7, ln(1, "A"), ln(2, "1")),
        msg(7, ln(1, "POD"), ln(2, ""), msg(3, msg(1, ln(1, "v1"), ln(2, "metadata.name")))),
        msg(7, ln(1, "PW"), msg(3, msg(4, msg(1, ln(1, "creds")), ln(2, "pw"), num(3, 0)))),
        msg(
            8,
            quantity(1, "cpu", "500m"),
            quantity(1, "memory", "128Mi"),
            quantity(2, "cpu", "250m"),
        ),
        msg(9, ln(1, "data"), num(2, 0), ln(3, "/data")),
        msg(11, msg(1, msg(2, ln(1, "/healthz"), int_or_string(2, "http"))), num(4, 5), num(2, 0)),
        ln(14, "IfNotPresent"),
        num(16, 0),
    )
    pod_spec = msg(2, msg(1, ln(1, "data"), msg(2, msg(2, ln(1, "")))), container, num(4, 0))
    template = msg(3, meta("", "", entry(11, "app", "web")), pod_spec)
    strategy = msg(4, ln(1, "RollingUpdate"), msg(2, int_or_string(1, "25%"), int_or_string(2, 1)))
    selector = msg(
        2,
        entry(1, "app", "web"),
        msg(2, ln(1, "tier"), ln(2, "In"), ln(3, "frontend"), ln(3, "backend")),
    )
    spec = msg(2, num(1, 2), selector, template, strategy, num(5, 0), num(6, 0), num(7, 0))
    status = msg(3, num(1, 7), num(2, 2))

    got = decode(
        body("apps/v1", "Deployment", meta("web", "prod", entry(11, "app", "web")), spec, status)
    )

    assert got == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "prod", "labels": {"app": "web"}},
        "spec": {
            "replicas": 2,
            "selector": {
                "matchLabels": {"app": "web"},
                "matchExpressions": [
                    {"key": "tier", "operator": "In", "values": ["frontend", "backend"]}
                ],
            },
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {
                    "volumes": [{"name": "data", "emptyDir": {}}],
                    "containers": [
                        {
                            "name": "app",
                            "image": "nginx:1.25",
                            "command": ["nginx", "-g"],
                            "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}],
                            "env": [
                                {"name": "A", "value": "1"},
                                {
                                    "name": "POD",
                                    "valueFrom": {
                                        "fieldRef": {
                                            "apiVersion": "v1",
                                            "fieldPath": "metadata.name",
                                        }
                                    },
                                },
                                {
                                    "name": "PW",
                                    "valueFrom": {
                                        "secretKeyRef": {
                                            "name": "creds",
                                            "key": "pw",
                                            "optional": False,
                                        }
                                    },
                                },
                            ],
                            "resources": {
                                "limits": {"cpu": "500m", "memory": "128Mi"},
                                "requests": {"cpu": "250m"},
                            },
                            "volumeMounts": [{"name": "data", "mountPath": "/data"}],
                            "readinessProbe": {
                                "httpGet": {"path": "/healthz", "port": "http"},
                                "periodSeconds": 5,
                            },
                            "imagePullPolicy": "IfNotPresent",
                        }
                    ],
                    "terminationGracePeriodSeconds": 0,
                },
            },
            "strategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": 1},
            },
            "revisionHistoryLimit": 0,
        },
    }


@pytest.mark.parametrize("grace", [0, 30])
def test_eviction_keeps_an_explicit_grace_period(grace: int) -> None:
    options = msg(2, num(1, grace), msg(2, ln(1, "uid-1")), ln(5, "All"))
    got = decode(body("policy/v1", "Eviction", meta("web-1", "prod"), options))
    assert got == {
        "apiVersion": "policy/v1",
        "kind": "Eviction",
        "metadata": {"name": "web-1", "namespace": "prod"},
        "deleteOptions": {
            "gracePeriodSeconds": grace,
            "preconditions": {"uid": "uid-1"},
            "dryRun": ["All"],
        },
    }


def test_self_subject_access_review() -> None:
    attributes = (ln(1, "prod"), ln(2, "list"), ln(3, ""), ln(4, ""), ln(5, "pods"))
    spec = msg(2, msg(1, *attributes, ln(6, "log"), ln(7, "")))
    status = msg(3, num(1, 0), ln(2, ""))
    got = decode(body("authorization.k8s.io/v1", "SelfSubjectAccessReview", meta(""), spec, status))
    assert got == {
        "apiVersion": "authorization.k8s.io/v1",
        "kind": "SelfSubjectAccessReview",
        "metadata": {},
        "spec": {
            "resourceAttributes": {
                "namespace": "prod",
                "verb": "list",
                "resource": "pods",
                "subresource": "log",
            }
        },
    }


def test_secret_bytes_are_base64() -> None:
    got = decode(
        body(
            "v1",
            "Secret",
            meta("creds", "prod"),
            entry(2, "key", b"\x00\xffhi"),
            entry(2, "empty", b""),
            ln(3, "Opaque"),
            entry(4, "plain", "text"),
        )
    )
    assert got["data"] == {"key": "AP9oaQ==", "empty": ""}
    assert got["stringData"] == {"plain": "text"}
    assert got["type"] == "Opaque"


def test_value_zeros_are_dropped_and_pointer_zeros_kept() -> None:
    port = msg(1, ln(1, ""), ln(2, "TCP"), num(3, 80), int_or_string(4, 0), num(5, 0))
    spec = msg(2, port, ln(7, ""), num(13, 0), num(20, 0), ln(17, ""))
    got = decode(body("v1", "Service", meta("web", "prod"), spec))
    assert got["spec"] == {
        "ports": [{"protocol": "TCP", "port": 80}],  # targetPort 0 means "unset"
        "allocateLoadBalancerNodePorts": False,
        "ipFamilyPolicy": "",
    }


def test_times() -> None:
    got = decode(
        body(
            "v1",
            "Event",
            meta("e", "prod", msg(8, num(1, 1704164645), num(2, 0))),
            msg(6, num(1, 1704164645), num(2, 999)),
            msg(7),
            msg(10, num(1, 1704164645), num(2, 123456789)),
            num(8, 2),
        )
    )
    assert got["metadata"]["creationTimestamp"] == "2024-01-02T03:04:05Z"
    assert got["firstTimestamp"] == "2024-01-02T03:04:05Z"  # Time drops sub-second precision
    assert "lastTimestamp" not in got  # the zero time, null in Go's JSON
    assert got["eventTime"] == "2024-01-02T03:04:05.123456Z"
    assert got["count"] == 2


def test_negative_and_packed_integers() -> None:
    security = msg(14, varint(4 << 3 | 2) + varint(4) + varint(1000) + varint(2000), num(4, 3000))
    spec = msg(2, num(25, -5), num(5, -1), security)
    got = decode(body("v1", "Pod", meta("p", "prod"), spec))
    assert got["spec"]["priority"] == -5
    assert got["spec"]["activeDeadlineSeconds"] == -1
    assert got["spec"]["securityContext"] == {"supplementalGroups": [1000, 2000, 3000]}


def test_a_repeated_message_field_is_merged() -> None:
    got = decode(
        body("v1", "ConfigMap", meta("cm"), msg(1, entry(11, "a", "b")), entry(2, "k", "v"))
    )
    assert got["metadata"] == {"name": "cm", "labels": {"a": "b"}}
    assert got["data"] == {"k": "v"}


def test_unknown_fields_and_status_are_skipped() -> None:
    unknown = (
        num(99, 7) + varint(98 << 3 | 1) + bytes(8) + varint(97 << 3 | 5) + bytes(4) + ln(96, "x")
    )
    spec = msg(2, ln(1, "kubernetes"), unknown)
    got = decode(
        body("v1", "Namespace", meta("ns", "", unknown), spec, msg(3, ln(1, "Active")), unknown)
    )
    assert got == {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": "ns"},
        "spec": {"finalizers": ["kubernetes"]},
    }


def test_rbac_binding_kinds_share_a_message() -> None:
    subject = msg(2, ln(1, "User"), ln(2, "rbac.authorization.k8s.io"), ln(3, "bob"), ln(4, ""))
    role_ref = msg(3, ln(1, "rbac.authorization.k8s.io"), ln(2, "ClusterRole"), ln(3, "view"))
    got = decode(
        body("rbac.authorization.k8s.io/v1", "ClusterRoleBinding", meta("b"), subject, role_ref)
    )
    assert got["subjects"] == [
        {"kind": "User", "apiGroup": "rbac.authorization.k8s.io", "name": "bob"}
    ]
    assert got["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "ClusterRole",
        "name": "view",
    }


def test_delete_options_in_any_group_version() -> None:
    got = decode(body("apps/v1", "DeleteOptions", num(1, 0), ln(4, "Foreground")))
    assert got == {
        "apiVersion": "apps/v1",
        "kind": "DeleteOptions",
        "gracePeriodSeconds": 0,
        "propagationPolicy": "Foreground",
    }


# --- bodies captured from kubectl v1.37.1 -----------------------------------------------------
# Each expected dict equals kubectl's own `--dry-run=client -o json` rendering minus `status`.

CAPTURED = {
    # kubectl create deployment web --image=nginx:1.25 --replicas=3 --port=8080 -n pbtest
    "deployment": (
        "azhzAAoVCgdhcHBzL3YxEgpEZXBsb3ltZW50EsQBCiUKA3dlYhIAGgZwYnRlc3QiACoAMgA4AEIAWgoKA2FwcBID"
        "d2ViEowBCAMSDAoKCgNhcHASA3dlYhpyChwKABIAGgAiACoAMgA4AEIAWgoKA2FwcBIDd2ViElISNAoFbmdpbngS"
        "Cm5naW54OjEuMjUqADILCgAQABiQPyIAKgBCAGoAcgCAAQCIAQCQAQCiAQAaADIAQgBKAFIAWABgAGgAggEAigEA"
        "mgEAwgEAIgIKACgAOAAaDAgAEAAYACAAKAA4ABoAIgA=",
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "pbtest", "labels": {"app": "web"}},
            "spec": {
                "replicas": 3,
                "selector": {"matchLabels": {"app": "web"}},
                "template": {
                    "metadata": {"labels": {"app": "web"}},
                    "spec": {
                        "containers": [
                            {
                                "name": "nginx",
                                "image": "nginx:1.25",
                                "ports": [{"containerPort": 8080}],
                                "resources": {},
                            }
                        ]
                    },
                },
                "strategy": {},
            },
        },
    ),
    # kubectl create secret generic s --from-literal=pw=hunter2 --from-literal=bin= -n pbtest
    "secret": (
        "azhzAAoMCgJ2MRIGU2VjcmV0EjMKFwoBcxIAGgZwYnRlc3QiACoAMgA4AEIAEgcKA2JpbhIAEg0KAnB3EgdodW50"
        "ZXIyGgAaACIA",
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "s", "namespace": "pbtest"},
            "data": {"bin": "", "pw": "aHVudGVyMg=="},
        },
    ),
    # kubectl create poddisruptionbudget pdb0 --selector=app=web --max-unavailable=0 -n pbtest
    "pdb": (
        "azhzAAogCglwb2xpY3kvdjESE1BvZERpc3J1cHRpb25CdWRnZXQSQAoaCgRwZGIwEgAaBnBidGVzdCIAKgAyADgA"
        "QgASFhIMCgoKA2FwcBIDd2ViGgYIABAAGgAaCggAGAAgACgAMAAaACIA",
        {
            "apiVersion": "policy/v1",
            "kind": "PodDisruptionBudget",
            "metadata": {"name": "pdb0", "namespace": "pbtest"},
            "spec": {"selector": {"matchLabels": {"app": "web"}}, "maxUnavailable": 0},
        },
    ),
    # kubectl auth can-i create pods -n pbtest
    "selfsubjectaccessreview": (
        "azhzAAoyChdhdXRob3JpemF0aW9uLms4cy5pby92MRIXU2VsZlN1YmplY3RBY2Nlc3NSZXZpZXcSPgoQCgASABoA"
        "IgAqADIAOABCABIgCh4KBnBidGVzdBIGY3JlYXRlGgAiACoEcG9kczIAOgAaCAgAEgAaACAAGgAiAA==",
        {
            "apiVersion": "authorization.k8s.io/v1",
            "kind": "SelfSubjectAccessReview",
            "metadata": {},
            "spec": {
                "resourceAttributes": {"namespace": "pbtest", "verb": "create", "resource": "pods"}
            },
        },
    ),
    # kubectl create ingress ing --rule=foo.com/bar*=svc:8080,tls=my-cert --class=nginx
    #   --default-backend=defsvc:http --annotation=a=b -n pbtest
    "ingress": (
        "azhzAAofChRuZXR3b3JraW5nLms4cy5pby92MRIHSW5ncmVzcxKJAQohCgNpbmcSABoGcGJ0ZXN0IgAqADIAOABC"
        "AGIGCgFhEgFiEmAKFCISCgZkZWZzdmMSCAoEaHR0cBAAEhIKB2Zvby5jb20SB215LWNlcnQaLQoHZm9vLmNvbRIi"
        "CiAKHgoEL2JhchIOIgwKA3N2YxIFCgAQkD8aBlByZWZpeCIFbmdpbngaAgoAGgAiAA==",
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "Ingress",
            "metadata": {"name": "ing", "namespace": "pbtest", "annotations": {"a": "b"}},
            "spec": {
                "ingressClassName": "nginx",
                "defaultBackend": {"service": {"name": "defsvc", "port": {"name": "http"}}},
                "tls": [{"hosts": ["foo.com"], "secretName": "my-cert"}],
                "rules": [
                    {
                        "host": "foo.com",
                        "http": {
                            "paths": [
                                {
                                    "path": "/bar",
                                    "pathType": "Prefix",
                                    "backend": {
                                        "service": {"name": "svc", "port": {"number": 8080}}
                                    },
                                }
                            ]
                        },
                    }
                ],
            },
        },
    ),
}


@pytest.mark.parametrize("name", CAPTURED)
def test_captured_kubectl_bodies(name: str) -> None:
    encoded, expected = CAPTURED[name]
    assert decode(base64.b64decode(encoded)) == expected


# --- malformed input --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b'{"kind": "Namespace"}', "lacks the k8s"),
        (b"k8s", "lacks the k8s"),
        (MAGIC + b"\x0a\x80", "truncated protobuf varint"),
        (MAGIC + b"\x0a\x05ab", "truncated: 5 bytes declared, 2 left"),
        (MAGIC + b"\xff" * 11, "longer than 10 bytes"),
        (MAGIC + varint(1 << 3 | 3), "unsupported protobuf wire type 3"),
        (MAGIC + varint(2 << 3 | 1) + b"\x00\x00", "truncated: fixed 8 bytes, 2 left"),
        (MAGIC + num(0, 1), "field number 0"),
        (MAGIC + num(1, 1), "typeMeta: protobuf wire type 0, expected 2"),
        (body("v1", "Namespace", num(1, 5)), "Namespace field 1 (metadata): protobuf wire type 0"),
        (body("v1", "Namespace", msg(1, num(1, 5))), "ObjectMeta field 1 (name): protobuf wire"),
        (body("v1", "Frobnicator"), "no protobuf decoding for v1 Frobnicator"),
        (body("apps/v2", "Deployment"), "no protobuf decoding for apps/v2 Deployment"),
        (MAGIC + msg(1, ln(1, "v1")), "no kind"),
        (body("v1", "Namespace") + ln(3, "gzip"), "contentEncoding 'gzip'"),
        (body("v1", "Namespace") + ln(4, "application/json"), "contentType 'application/json'"),
        (body("apps/v1", "Deployment", msg(2, msg(4, msg(2, msg(1, num(1, 2)))))), "IntOrString"),
        (body("v1", "ConfigMap", msg(1, b"\x0a\x05ab")), "field 1 is truncated"),
    ],
)
def test_malformed_bodies_are_rejected(data: bytes, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        decode(data)


def test_nesting_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(protobuf.MESSAGES, "Loop", {1: protobuf._field("loop", "Loop")})
    monkeypatch.setitem(protobuf.KINDS, ("v1", "Loop"), "Loop")
    nested = b""
    for _ in range(protobuf.MAX_DEPTH + 5):
        nested = msg(1, nested)
    with pytest.raises(ValueError, match="nested deeper"):
        decode(body("v1", "Loop", nested))


def test_schema_refers_only_to_known_types() -> None:
    leaves = {
        "string",
        "bytes",
        "bool",
        "int32",
        "int64",
        "Quantity",
        "IntOrString",
        "Time",
        "MicroTime",
        "FieldsV1",
    }
    known = leaves | set(protobuf.MESSAGES)
    for name, fields in protobuf.MESSAGES.items():
        for number, field in fields.items():
            assert field.kind in known, f"{name} field {number} has unknown type {field.kind}"
            assert field.name or field.kind in protobuf.MESSAGES, f"{name} inlines a non-message"
    assert set(protobuf.KINDS.values()) <= set(protobuf.MESSAGES)
