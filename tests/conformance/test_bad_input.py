"""Malformed requests get the real Status and code, and never change what is stored."""

from __future__ import annotations

import base64
import ssl
from collections.abc import Iterator

import httpx
import pytest
import yaml

from tests.conftest import Sandbox


@pytest.fixture
def http(sandbox: Sandbox) -> Iterator[httpx.Client]:
    cfg = yaml.safe_load(sandbox.kubeconfig.read_text())
    ca = base64.b64decode(cfg["clusters"][0]["cluster"]["certificate-authority-data"])
    ca_file = sandbox.state_dir / "test-ca.pem"
    ca_file.write_bytes(ca)
    token = cfg["users"][0]["user"]["token"]
    with httpx.Client(
        base_url=sandbox.kube_url,
        verify=ssl.create_default_context(cafile=str(ca_file)),
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    ) as c:
        yield c


CMS = "/api/v1/namespaces/default/configmaps"


def _snapshot(http: httpx.Client) -> list[tuple[str, str]]:
    items = http.get(CMS).json()["items"]
    return [(i["metadata"]["name"], i["metadata"]["resourceVersion"]) for i in items]


@pytest.mark.parametrize(
    ("method", "path", "headers", "body", "code", "reason"),
    [
        (
            "POST",
            CMS,
            {"Content-Type": "application/json"},
            b'{"metadata": {"name": ',
            400,
            "BadRequest",
        ),
        (
            "POST",
            CMS,
            {"Content-Type": "application/yaml"},
            b"metadata: [unclosed",
            400,
            "BadRequest",
        ),
        (
            "POST",
            CMS,
            {"Content-Type": "application/json"},
            b'["not", "an", "object"]',
            400,
            "BadRequest",
        ),
        ("POST", CMS, {"Content-Type": "text/csv"}, b"a,b", 415, "UnsupportedMediaType"),
        (
            "POST",
            CMS,
            {"Content-Type": "application/json"},
            b'{"metadata": {"name": "Bad_Name"}}',
            422,
            "Invalid",
        ),
        (
            "POST",
            CMS,
            {"Content-Type": "application/json"},
            b'{"kind": "Secret", "apiVersion": "v1", "metadata": {"name": "x"}}',
            400,
            "BadRequest",
        ),
        (
            "PATCH",
            f"{CMS}/kube-root-ca.crt",
            {"Content-Type": "application/merge-patch+json"},
            b"{broken",
            400,
            "BadRequest",
        ),
        (
            "PATCH",
            f"{CMS}/kube-root-ca.crt",
            {"Content-Type": "application/json-patch+json"},
            b'[{"op": "explode", "path": "/data"}]',
            422,
            "Invalid",
        ),
        (
            "PATCH",
            f"{CMS}/kube-root-ca.crt",
            {"Content-Type": "text/plain"},
            b"{}",
            415,
            "UnsupportedMediaType",
        ),
        ("GET", "/api/v1/namespaces/default/gizmos", {}, b"", 404, "NotFound"),
        ("GET", "/apis/nope.example.com/v1/things", {}, b"", 404, "NotFound"),
        ("GET", f"{CMS}?labelSelector=a%20in%20(", {}, b"", 400, "BadRequest"),
        ("GET", f"{CMS}?labelSelector=-bad-=x", {}, b"", 400, "BadRequest"),
        ("GET", f"{CMS}?fieldSelector=spec.nodeName%3Dx", {}, b"", 400, "BadRequest"),
        ("GET", f"{CMS}/missing", {}, b"", 404, "NotFound"),
    ],
)
def test_bad_request_gets_a_status_and_changes_nothing(
    http: httpx.Client,
    method: str,
    path: str,
    headers: dict,
    body: bytes,
    code: int,
    reason: str | None,
) -> None:
    before = _snapshot(http)
    r = http.request(method, path, headers=headers, content=body)
    assert r.status_code == code, r.text
    status = r.json()
    assert status["kind"] == "Status" and status["status"] == "Failure"
    assert status["code"] == code
    if reason:
        assert status["reason"] == reason
    assert _snapshot(http) == before


def test_huge_body_is_refused(http: httpx.Client) -> None:
    before = _snapshot(http)
    body = b'{"metadata": {"name": "huge"}, "data": {"k": "' + b"x" * (4 * 1024 * 1024) + b'"}}'
    r = http.post(CMS, content=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 413 and r.json()["reason"] == "RequestEntityTooLarge"
    assert _snapshot(http) == before


def test_missing_or_wrong_token_is_401(sandbox: Sandbox) -> None:
    for headers in ({}, {"Authorization": "Bearer wrong"}):
        r = httpx.get(f"{sandbox.kube_url}/api/v1/pods", headers=headers, verify=False)
        assert r.status_code == 401 and r.json()["reason"] == "Unauthorized"


def test_conflicting_create_is_409_already_exists(http: httpx.Client) -> None:
    r = http.post(CMS, json={"metadata": {"name": "kube-root-ca.crt"}})
    assert r.status_code == 409 and r.json()["reason"] == "AlreadyExists"
