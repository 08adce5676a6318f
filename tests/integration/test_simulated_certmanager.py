"""The simulated cert-manager over HTTP: issuance, manual and scheduled renewal, a broken
DNS-01 solver with its backoff, and the columns kubectl prints. The controller's clock stands
still until a test moves it, so every wait on it is explicit."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import datetime as dt
import itertools
import time
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from cpanel_platform.sandbox.manifests import load
from cpanel_platform.sandbox.simulator.certmanager import (
    CERTIFICATES,
    CHALLENGES,
    CLUSTER_ISSUERS,
    ISSUERS,
    ORDERS,
    REQUESTS,
    SECRETS,
    CertManager,
    read_placeholder,
)
from cpanel_platform.sandbox.simulator.kube import EVENTS, Kind, Kube
from cpanel_platform.sandbox.simulator.reconciler import find_condition, parse_time

from tests.integration.conftest import TOKEN, Served

CRDS = Kind("apiextensions.k8s.io", "v1", "customresourcedefinitions")
NAMESPACES = Kind("", "v1", "namespaces")
SPEED = 60.0  # an hour of backoff is a minute on the controller's clock
ISSUANCE = dt.timedelta(seconds=1)  # more than an ACME issuance takes at SPEED
_namespaces = itertools.count()


class Clock:
    """A clock that moves only when told to."""

    def __init__(self) -> None:
        self.now = dt.datetime(2025, 3, 1, 9, 0, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


@dataclass
class Setup:
    served: Served
    kube: Kube
    manager: CertManager
    clock: Clock
    namespace: str

    def call(self, coro: Coroutine[Any, Any, Any]) -> Any:
        return self.served.call(coro)

    def certificate(self, name: str) -> dict:
        return self.call(self.kube.get(CERTIFICATES, self.namespace, name))

    def condition(self, name: str, ctype: str) -> dict:
        status = self.certificate(name).get("status") or {}
        return find_condition(status.get("conditions", []), ctype) or {}


@pytest.fixture(scope="module")
def crds(bare_cluster: Served) -> Served:
    async def install() -> None:
        kube = Kube(bare_cluster.url, TOKEN, None, "test")
        for crd in load("crds/cert-manager"):
            await kube.create(CRDS, "", crd)
        await kube.close()

    bare_cluster.call(install())
    return bare_cluster


@pytest.fixture
def cm(crds: Served) -> Iterator[Setup]:
    """A cert-manager of its own, with its own clock, and a namespace for the test."""
    clock = Clock()
    namespace = f"certs-{next(_namespaces)}"

    async def start() -> tuple[Kube, CertManager, asyncio.Task]:
        kube = Kube(crds.url, TOKEN, None, "test")
        await kube.create(NAMESPACES, "", {"metadata": {"name": namespace}})
        manager = CertManager(kube, clock=clock, speed=SPEED, poll=0.02)
        return kube, manager, asyncio.get_running_loop().create_task(manager.run())

    kube, manager, task = crds.call(start())
    yield Setup(crds, kube, manager, clock, namespace)

    async def stop() -> None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await kube.delete(NAMESPACES, "", namespace)
        await kube.close()

    crds.call(stop())


def wait(check, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while not (result := check()):
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)
    return result


def _issuer(setup: Setup, name: str, kind: Kind = ISSUERS) -> None:
    body = {
        "metadata": {"name": name},
        "spec": {
            "acme": {
                "server": "https://acme-v02.api.letsencrypt.org/directory",
                "email": "ops@example.com",
                "privateKeySecretRef": {"name": f"{name}-account"},
                "solvers": [
                    {"dns01": {"webhook": {"groupName": "acme.linode.com", "solverName": "linode"}}}
                ],
            }
        },
    }
    setup.call(setup.kube.create(kind, setup.namespace if kind == ISSUERS else "", body))


def _certificate(
    setup: Setup, name: str, issuer: str, kind: str = "Issuer", **spec: object
) -> None:
    body = {
        "metadata": {"name": name},
        "spec": {
            "secretName": f"{name}-tls",
            "dnsNames": ["example.com", "*.example.com"],
            "issuerRef": {"name": issuer, "kind": kind, "group": "cert-manager.io"},
            **spec,
        },
    }
    setup.call(setup.kube.create(CERTIFICATES, setup.namespace, body))


def _issuing(setup: Setup, name: str) -> dict:
    return wait(lambda: (c := setup.condition(name, "Issuing")).get("status") == "True" and c)


def _let_issue(setup: Setup, name: str, revision: int) -> None:
    """Once the request for `revision` waits on its ACME order, let the order complete."""
    wait(
        lambda: (
            (request := setup.call(setup.kube.get(REQUESTS, setup.namespace, f"{name}-{revision}")))
            and (
                find_condition(request.get("status", {}).get("conditions", []), "Ready") or {}
            ).get("reason")
            == "Pending"
        )
    )
    setup.clock.advance(seconds=ISSUANCE.total_seconds())


def _ready(setup: Setup, name: str, revision: int) -> dict:
    """The certificate once issued at `revision`."""
    _let_issue(setup, name, revision)
    return wait(
        lambda: (
            (c := setup.certificate(name))["status"].get("revision") == revision
            and not find_condition(c["status"]["conditions"], "Issuing")
            and c
        )
    )


def _renew(setup: Setup, name: str) -> None:
    """What `cmctl renew` does: Issuing=True, reason ManuallyTriggered, on the status."""
    cert = setup.certificate(name)
    conditions = cert["status"]["conditions"]
    conditions[:] = [c for c in conditions if c["type"] != "Issuing"] + [
        {
            "type": "Issuing",
            "status": "True",
            "reason": "ManuallyTriggered",
            "message": "Certificate re-issuance manually triggered",
            "lastTransitionTime": setup.clock().strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
    ]
    setup.call(setup.kube.replace_status(CERTIFICATES, cert))


def _fail_dns01(setup: Setup, issuer: str, broken: bool = True) -> None:
    change = setup.manager.failing_issuers.add if broken else setup.manager.failing_issuers.discard
    setup.served.loop.call_soon_threadsafe(change, issuer)


def _secret(setup: Setup, name: str) -> dict:
    return setup.call(setup.kube.get(SECRETS, setup.namespace, f"{name}-tls"))


def _request_uid(setup: Setup, name: str) -> str | None:
    request = setup.call(setup.kube.get(REQUESTS, setup.namespace, name))
    return request and request["metadata"]["uid"]


def _pem(secret: dict, key: str) -> str:
    return base64.b64decode(secret["data"][key]).decode()


def test_an_acme_issuer_registers_its_account(cm: Setup) -> None:
    _issuer(cm, "letsencrypt")
    issuer = wait(
        lambda: (
            (i := cm.call(cm.kube.get(ISSUERS, cm.namespace, "letsencrypt"))).get("status") and i
        )
    )
    ready = find_condition(issuer["status"]["conditions"], "Ready")
    assert (ready["status"], ready["reason"]) == ("True", "ACMEAccountRegistered")
    assert ready["message"] == "The ACME account was registered with the ACME server"
    account = issuer["status"]["acme"]
    assert account["uri"].startswith("https://acme-v02.api.letsencrypt.org/acme/acct/")
    assert account["lastRegisteredEmail"] == "ops@example.com"


def test_a_certificate_is_issued_through_a_request_into_a_tls_secret(cm: Setup) -> None:
    _issuer(cm, "letsencrypt")
    _certificate(cm, "wildcard", "letsencrypt")
    issuing = _issuing(cm, "wildcard")
    assert issuing["reason"] == "DoesNotExist"
    assert issuing["message"] == "Issuing certificate as Secret does not exist"
    pending = wait(
        lambda: (
            (r := cm.call(cm.kube.get(REQUESTS, cm.namespace, "wildcard-1")))
            and "status" in r
            and r
        )
    )
    order = cm.call(cm.kube.list(ORDERS, cm.namespace))["items"][0]
    assert order["metadata"]["name"].startswith("wildcard-1-")
    assert order["status"]["state"] == "pending"
    challenges = cm.call(cm.kube.list(CHALLENGES, cm.namespace))["items"]
    assert sorted((c["spec"]["dnsName"], c["spec"]["wildcard"]) for c in challenges) == [
        ("example.com", False),
        ("example.com", True),
    ]
    assert find_condition(pending["status"]["conditions"], "Ready")["reason"] == "Pending"

    cert = _ready(cm, "wildcard", revision=1)
    status = cert["status"]
    ready = find_condition(status["conditions"], "Ready")
    assert (ready["status"], ready["reason"]) == ("True", "Ready")
    assert ready["message"] == "Certificate is up to date and has not expired"
    not_before, not_after = parse_time(status["notBefore"]), parse_time(status["notAfter"])
    assert not_after - not_before == dt.timedelta(days=90, seconds=-1)  # Let's Encrypt's
    assert not_after - parse_time(status["renewalTime"]) == dt.timedelta(days=30)
    assert "lastFailureTime" not in status

    secret = _secret(cm, "wildcard")
    assert secret["type"] == "kubernetes.io/tls"
    assert set(secret["data"]) == {"tls.crt", "tls.key", "ca.crt"}
    assert _pem(secret, "tls.crt").startswith("-----BEGIN CERTIFICATE-----\n")
    assert _pem(secret, "tls.key").startswith("-----BEGIN PRIVATE KEY-----\n")
    assert read_placeholder(_pem(secret, "tls.crt"))["notAfter"] == status["notAfter"]
    annotations = secret["metadata"]["annotations"]
    assert annotations["cert-manager.io/certificate-name"] == "wildcard"
    assert annotations["cert-manager.io/issuer-name"] == "letsencrypt"
    assert annotations["cert-manager.io/issuer-kind"] == "Issuer"
    assert annotations["cert-manager.io/alt-names"] == "example.com,*.example.com"

    request = cm.call(cm.kube.get(REQUESTS, cm.namespace, "wildcard-1"))
    conditions = {c["type"]: c for c in request["status"]["conditions"]}
    assert (conditions["Approved"]["status"], conditions["Approved"]["reason"]) == (
        "True",
        "cert-manager.io",
    )
    assert (conditions["Ready"]["status"], conditions["Ready"]["reason"]) == ("True", "Issued")
    assert request["metadata"]["annotations"]["cert-manager.io/certificate-revision"] == "1"
    owner = request["metadata"]["ownerReferences"][0]
    assert (owner["kind"], owner["name"], owner["controller"]) == ("Certificate", "wildcard", True)
    assert (
        cm.call(cm.kube.get(ORDERS, cm.namespace, order["metadata"]["name"]))["status"]["state"]
        == "valid"
    )
    assert cm.call(cm.kube.list(CHALLENGES, cm.namespace))["items"] == []  # cleaned up

    events = cm.call(cm.kube.list(EVENTS, cm.namespace))["items"]
    assert {(e["reason"], e["message"]) for e in events} >= {
        ("Issuing", "Issuing certificate as Secret does not exist"),
        ("Requested", 'Created new CertificateRequest resource "wildcard-1"'),
        ("Issuing", "The certificate has been successfully issued"),
    }


def test_cmctl_renew_and_the_renewal_time_issue_new_revisions(cm: Setup) -> None:
    _issuer(cm, "letsencrypt")
    _certificate(cm, "site", "letsencrypt", renewBefore="360h")
    _issuing(cm, "site")
    first = _ready(cm, "site", revision=1)["status"]
    assert parse_time(first["notAfter"]) - parse_time(first["renewalTime"]) == dt.timedelta(days=15)

    cm.clock.advance(days=1)
    _renew(cm, "site")
    assert _issuing(cm, "site")["reason"] == "ManuallyTriggered"
    second = _ready(cm, "site", revision=2)["status"]
    assert parse_time(second["notAfter"]) > parse_time(first["notAfter"])
    assert read_placeholder(_pem(_secret(cm, "site"), "tls.crt"))["notAfter"] == second["notAfter"]
    assert cm.call(cm.kube.get(REQUESTS, cm.namespace, "site-2")) is not None

    cm.clock.now = parse_time(second["renewalTime"])
    issuing = _issuing(cm, "site")
    assert issuing["reason"] == "Renewing"
    assert issuing["message"].startswith("Renewing certificate as renewal was scheduled at ")
    assert _ready(cm, "site", revision=3)["status"]["notAfter"] > second["notAfter"]


def test_a_deleted_secret_is_issued_again(cm: Setup) -> None:
    _issuer(cm, "letsencrypt")
    _certificate(cm, "blog", "letsencrypt")
    _issuing(cm, "blog")
    _ready(cm, "blog", revision=1)
    cm.call(cm.kube.delete(SECRETS, cm.namespace, "blog-tls"))
    issuing = _issuing(cm, "blog")
    assert issuing["message"] == "Issuing certificate as Secret does not exist"
    _ready(cm, "blog", revision=2)
    assert _secret(cm, "blog") is not None


def test_a_broken_dns01_solver_fails_the_issuance_and_backs_off(cm: Setup) -> None:
    _issuer(cm, "letsencrypt")
    _fail_dns01(cm, "letsencrypt")
    _certificate(cm, "shop", "letsencrypt")
    _issuing(cm, "shop")
    _let_issue(cm, "shop", revision=1)
    failed = wait(lambda: (c := cm.condition("shop", "Issuing")).get("status") == "False" and c)
    assert failed["reason"] == "Failed"
    assert failed["message"].startswith(
        "The certificate request has failed to complete and will be retried: "
        'Failed to wait for order resource "shop-1-'
    )
    assert 'order is in "invalid" state: ' in failed["message"]
    assert (
        "DNS problem: NXDOMAIN looking up TXT for _acme-challenge.example.com"
        in (failed["message"])
    )
    status = cm.certificate("shop")["status"]
    assert status["lastFailureTime"] == "2025-03-01T09:00:01Z"
    assert status["failedIssuanceAttempts"] == 1
    ready = find_condition(status["conditions"], "Ready")
    assert (ready["status"], ready["reason"]) == ("False", "DoesNotExist")
    assert {
        c["status"]["state"] for c in cm.call(cm.kube.list(CHALLENGES, cm.namespace))["items"]
    } == {"invalid"}
    request_uid = _request_uid(cm, "shop-1")

    # Half the hour of backoff (scaled): no new attempt.
    cm.clock.advance(seconds=3600 / SPEED / 2)
    time.sleep(0.3)
    assert cm.condition("shop", "Issuing")["status"] == "False"
    assert _request_uid(cm, "shop-1") == request_uid

    # Past it: a new request, which fails again and doubles the backoff.
    cm.clock.advance(seconds=3600 / SPEED / 2)
    _issuing(cm, "shop")
    wait(lambda: _request_uid(cm, "shop-1") not in (None, request_uid))
    _let_issue(cm, "shop", revision=1)
    wait(lambda: cm.certificate("shop")["status"].get("failedIssuanceAttempts") == 2)
    assert _request_uid(cm, "shop-1") != request_uid

    # Fixed, and renewed by hand without waiting out the backoff.
    _fail_dns01(cm, "letsencrypt", broken=False)
    _renew(cm, "shop")
    status = _ready(cm, "shop", revision=1)["status"]
    assert "lastFailureTime" not in status and "failedIssuanceAttempts" not in status
    assert find_condition(status["conditions"], "Ready")["status"] == "True"


def test_a_failed_renewal_keeps_the_old_certificate_until_it_expires(cm: Setup) -> None:
    _issuer(cm, "letsencrypt")
    _certificate(cm, "api", "letsencrypt")
    _issuing(cm, "api")
    issued = _ready(cm, "api", revision=1)["status"]

    _fail_dns01(cm, "letsencrypt")
    cm.clock.now = parse_time(issued["renewalTime"])
    _issuing(cm, "api")
    _let_issue(cm, "api", revision=2)
    wait(lambda: cm.condition("api", "Issuing").get("status") == "False")
    status = cm.certificate("api")["status"]
    assert (status["revision"], status["notAfter"]) == (1, issued["notAfter"])
    assert find_condition(status["conditions"], "Ready")["status"] == "True"

    cm.clock.now = parse_time(issued["notAfter"]) + dt.timedelta(seconds=1)
    expired = wait(lambda: (c := cm.condition("api", "Ready"))["status"] == "False" and c)
    assert expired["reason"] == "Expired"
    assert expired["message"] == (
        f"Certificate expired on {parse_time(issued['notAfter']):%a, %d %b %Y %H:%M:%S} UTC"
    )


def test_kubectl_shows_the_real_columns_and_short_names(cm: Setup) -> None:
    issuer = f"letsencrypt-{cm.namespace}"  # cluster-scoped: one per test
    _issuer(cm, issuer, CLUSTER_ISSUERS)
    _certificate(cm, "www", issuer, kind="ClusterIssuer")
    _issuing(cm, "www")
    _ready(cm, "www", revision=1)
    headers = {
        "Authorization": f"Bearer {TOKEN}",
        "Accept": "application/json;as=Table;v=v1;g=meta.k8s.io",
    }
    base = f"{cm.served.url}/apis/cert-manager.io/v1/namespaces/{cm.namespace}"
    table = httpx.get(f"{base}/certificates", headers=headers).json()
    columns = [(c["name"], c["priority"]) for c in table["columnDefinitions"]]
    assert columns == [
        ("Name", 0),
        ("Ready", 0),
        ("Secret", 0),
        ("Issuer", 1),
        ("Status", 1),
        ("Age", 0),
    ]
    assert table["rows"][0]["cells"][:5] == [
        "www",
        "True",
        "www-tls",
        issuer,
        "Certificate is up to date and has not expired",
    ]
    cluster_issuers = f"{cm.served.url}/apis/cert-manager.io/v1/clusterissuers/{issuer}"
    table = httpx.get(cluster_issuers, headers=headers).json()
    assert [c["name"] for c in table["columnDefinitions"]] == ["Name", "Ready", "Status", "Age"]
    assert table["rows"][0]["cells"][:3] == [
        issuer,
        "True",
        "The ACME account was registered with the ACME server",
    ]
    table = httpx.get(f"{base}/issuers", headers=headers).json()
    assert [c["name"] for c in table["columnDefinitions"]] == ["Name", "Ready", "Status", "Age"]
    discovery = httpx.get(
        f"{cm.served.url}/apis/cert-manager.io/v1", headers={"Authorization": f"Bearer {TOKEN}"}
    ).json()
    names = {r["name"]: r.get("shortNames") for r in discovery["resources"]}
    assert names["certificates"] == ["cert", "certs"]
