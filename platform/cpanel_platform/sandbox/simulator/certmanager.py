"""cert-manager v1 as the sandbox runs it.

Issuers and ClusterIssuers become Ready (an ACME one once its account is registered).
A Certificate is issued through one CertificateRequest per revision, `<cert>-<revision>` (for
an ACME issuer with an Order and a DNS-01 Challenge per name), into a kubernetes.io/tls Secret;
it is issued again when its Secret goes missing or stale, when its renewalTime passes, or when
`cmctl renew` sets Issuing=True with reason ManuallyTriggered. An issuer named in
`failing_issuers` has a broken DNS-01 solver: its challenges end invalid with Let's Encrypt's
NXDOMAIN error, the Certificate gets Issuing=False/Failed and lastFailureTime, and the next
automatic attempt waits 1h, 2h, 4h … 32h (divided by `speed`), while the certificate already in
the Secret keeps its notAfter and so heads for expiry.

No real keys exist here: the Secret's PEM blocks wrap a readable description of the
certificate (names, issuer, validity), and that is where this controller reads the validity
back from, as the real one parses the certificate.
"""

from __future__ import annotations

import base64
import copy
import datetime as dt
import hashlib
import json
import textwrap
import zlib

from .keel_policy import go_duration
from .kube import Kind, Kube
from .reconciler import (
    Clock,
    ControllerPod,
    Key,
    Obj,
    Reconciler,
    Watch,
    conditions_of,
    controller_ref,
    find_condition,
    is_true,
    parse_time,
    remove_condition,
    set_condition,
    stamp,
    utcnow,
    where,
)

GROUP = "cert-manager.io"
CERTIFICATES = Kind(GROUP, "v1", "certificates")
REQUESTS = Kind(GROUP, "v1", "certificaterequests")
ISSUERS = Kind(GROUP, "v1", "issuers")
CLUSTER_ISSUERS = Kind(GROUP, "v1", "clusterissuers")
ORDERS = Kind("acme.cert-manager.io", "v1", "orders")
CHALLENGES = Kind("acme.cert-manager.io", "v1", "challenges")
SECRETS = Kind("", "v1", "secrets")

OWNED_SECRET_LABEL = "controller.cert-manager.io/fao"
CERTIFICATE_NAME = "cert-manager.io/certificate-name"
CERTIFICATE_REVISION = "cert-manager.io/certificate-revision"

DEFAULT_DURATION = dt.timedelta(hours=2160)
# Let's Encrypt ignores the requested duration, backdates notBefore by an hour and signs for
# 90 days less a second.
ACME_BACKDATE = dt.timedelta(hours=1)
ACME_VALIDITY = dt.timedelta(days=90) - dt.timedelta(seconds=1)
ACME_ISSUANCE = dt.timedelta(seconds=20)  # DNS-01 propagation and validation, before `speed`
ISSUER_WAIT = dt.timedelta(seconds=5)  # how often a request looks for its missing issuer
FIRST_BACKOFF = dt.timedelta(hours=1)
MAX_BACKOFF = dt.timedelta(hours=32)

# The controllers inside cert-manager, as Events name them.
TRIGGER = "cert-manager-certificates-trigger"
REQUEST_MANAGER = "cert-manager-certificates-request-manager"
ISSUING = "cert-manager-certificates-issuing"
REQUESTER = "system:serviceaccount:cert-manager:cert-manager"
# The controller Deployment's pods, in the release manifests and the sandbox's baseline.
CONTROLLER_POD = ControllerPod(
    "cert-manager",
    {"app.kubernetes.io/name": "cert-manager", "app.kubernetes.io/component": "controller"},
)

_ISSUER_READY = {
    "acme": ("ACMEAccountRegistered", "The ACME account was registered with the ACME server"),
    "ca": ("KeyPairVerified", "Signing CA verified"),
    "vault": ("VaultVerified", "Vault verified"),
    "selfSigned": ("IsReady", ""),
}


# -- formats -----------------------------------------------------------------------------------
def duration(text: str | None) -> dt.timedelta | None:
    """A Go duration such as "2160h0m0s"; None when absent or unreadable."""
    seconds = go_duration(text or "")
    return None if seconds is None else dt.timedelta(seconds=seconds)


def go_time(when: dt.datetime) -> str:
    """How Go prints a metav1.Time with %s, as in the Renewing message."""
    return when.strftime("%Y-%m-%d %H:%M:%S +0000 UTC")


def placeholder_pem(label: str, fields: Obj) -> str:
    """A PEM block whose body is a readable description, never real key material."""
    body = json.dumps({"sandbox": "placeholder, not real key material", **fields}, sort_keys=True)
    lines = textwrap.wrap(base64.b64encode(body.encode()).decode(), 64)
    return "\n".join([f"-----BEGIN {label}-----", *lines, f"-----END {label}-----", ""])


def read_placeholder(pem: str) -> Obj:
    """The description inside a placeholder PEM block; {} for anything else."""
    body = "".join(line for line in pem.splitlines() if not line.startswith("-----"))
    try:
        fields = json.loads(base64.b64decode(body))
    except ValueError:
        return {}
    return fields if isinstance(fields, dict) else {}


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def _unb64(text: str | None) -> str:
    return base64.b64decode(text or "").decode(errors="replace")


def secret_certificate(secret: Obj | None) -> Obj:
    """What the Secret's tls.crt says about its certificate; {} without a usable key pair."""
    data = (secret or {}).get("data") or {}
    if not data.get("tls.crt") or not data.get("tls.key"):
        return {}
    return read_placeholder(_unb64(data["tls.crt"]))


def renewal_time(spec: Obj, not_before: dt.datetime, not_after: dt.datetime) -> dt.datetime:
    """notAfter less spec.renewBefore (or renewBeforePercentage of the lifetime); a third of
    the lifetime when neither is set or renewBefore is not shorter than the lifetime."""
    lifetime = not_after - not_before
    before = duration(spec.get("renewBefore"))
    if spec.get("renewBeforePercentage"):
        before = lifetime * int(spec["renewBeforePercentage"]) / 100
    elif before is None or before >= lifetime:
        before = lifetime / 3
    return (not_after - before).replace(microsecond=0)


def _acme(issuer: Obj | None) -> Obj | None:
    return ((issuer or {}).get("spec") or {}).get("acme")


def _acme_base(issuer: Obj) -> str:
    server = (_acme(issuer) or {}).get("server", "https://acme-v02.api.letsencrypt.org/directory")
    return server.removesuffix("/directory")


def _number(*parts: str) -> int:
    """A stable number standing in for the ids and hashes the real systems generate."""
    return zlib.crc32("/".join(parts).encode())


def _failed(request: Obj) -> bool:
    return bool((request.get("status") or {}).get("failureTime"))


def _earliest(*times: dt.datetime | None) -> dt.datetime | None:
    return min((t for t in times if t is not None), default=None)


class CertManager(Reconciler):
    """`speed` > 1 shortens every wait (issuance, failure backoff) that many times; the
    validity of certificates is not scaled. `failing_issuers` holds names of issuers whose
    DNS-01 solver is broken. With `controller` (CONTROLLER_POD), nothing happens unless the
    controller's pod runs."""

    def __init__(
        self,
        kube: Kube,
        clock: Clock = utcnow,
        speed: float = 1.0,
        poll: float = 0.2,
        controller: ControllerPod | None = None,
    ) -> None:
        super().__init__(kube, clock, poll, controller)
        self.speed = speed
        self.failing_issuers: set[str] = set()
        self._attempts: dict[Key, dt.datetime] = {}  # when the current issuance began

    def watches(self) -> list[Watch]:
        return [
            Watch(CERTIFICATES, lambda o: [("Certificate", *where(o))]),
            Watch(ISSUERS, lambda o: [("Issuer", *where(o))]),
            Watch(CLUSTER_ISSUERS, lambda o: [("ClusterIssuer", *where(o))]),
            # A deleted or edited Secret makes its Certificate issue again.
            Watch(SECRETS, self._secret_owner, {"labelSelector": OWNED_SECRET_LABEL}),
        ]

    @staticmethod
    def _secret_owner(secret: Obj) -> list[Key]:
        name = (secret["metadata"].get("annotations") or {}).get(CERTIFICATE_NAME)
        return [("Certificate", secret["metadata"]["namespace"], name)] if name else []

    async def reconcile(self, key: Key) -> dt.datetime | None:
        if not self.controller_running:
            return None
        kind, namespace, name = key
        if kind == "Certificate":
            return await self._certificate(namespace, name)
        await self._issuer_ready(ISSUERS if kind == "Issuer" else CLUSTER_ISSUERS, namespace, name)
        return None

    # -- issuers -------------------------------------------------------------------------------
    async def _issuer_ready(self, kind: Kind, namespace: str, name: str) -> None:
        """Ready=True once the issuer is set up. A broken DNS-01 solver does not show here,
        as on a real cluster: the ACME account is fine, only its challenges fail."""
        issuer = await self.kube.get(kind, namespace, name)
        if issuer is None:
            return
        spec = issuer.get("spec") or {}
        status = copy.deepcopy(issuer.get("status") or {})
        reason, message = next(
            (ready for field, ready in _ISSUER_READY.items() if field in spec), ("IsReady", "")
        )
        generation = issuer["metadata"].get("generation")
        conditions = status.setdefault("conditions", [])
        set_condition(conditions, "Ready", "True", reason, message, self.clock(), generation)
        if "acme" in spec:
            status["acme"] = self._account(issuer)
        if status != issuer.get("status"):
            await self.kube.replace_status(kind, {**issuer, "status": status})

    @staticmethod
    def _account(issuer: Obj) -> Obj:
        uid = issuer["metadata"]["uid"]
        account = {
            "uri": f"{_acme_base(issuer)}/acme/acct/{_number(uid)}",
            "lastPrivateKeyHash": base64.b64encode(hashlib.sha256(uid.encode()).digest()).decode(),
        }
        email = (_acme(issuer) or {}).get("email")
        if email:
            account["lastRegisteredEmail"] = email
        return account

    async def _issuer(self, cert: Obj) -> Obj | None:
        ref = cert["spec"]["issuerRef"]
        if ref.get("kind") == "ClusterIssuer":
            return await self.kube.get(CLUSTER_ISSUERS, "", ref["name"])
        return await self.kube.get(ISSUERS, cert["metadata"]["namespace"], ref["name"])

    # -- certificates --------------------------------------------------------------------------
    async def _certificate(self, namespace: str, name: str) -> dt.datetime | None:
        cert = await self.kube.get(CERTIFICATES, namespace, name)
        if cert is None:
            self._attempts.pop(("Certificate", namespace, name), None)
            return None
        now = self.clock()
        status = copy.deepcopy(cert.get("status") or {})
        status.setdefault("conditions", [])
        secret = await self.kube.get(SECRETS, namespace, cert["spec"]["secretName"])
        if is_true(status["conditions"], "Issuing"):
            secret, due = await self._issue(cert, status, secret, now)
        else:
            due = await self._trigger(cert, status, secret, now)
        not_after = self._readiness(cert, status, secret, now)
        if status != cert.get("status"):
            await self.kube.replace_status(CERTIFICATES, {**cert, "status": status})
        return _earliest(due, not_after if not_after and not_after > now else None)

    @staticmethod
    def _readiness(
        cert: Obj,
        status: Obj,
        secret: Obj | None,
        now: dt.datetime,
    ) -> dt.datetime | None:
        """The readiness controller: Ready from the certificate in the Secret. A failed
        renewal leaves Ready=True until that certificate expires. Returns its notAfter."""
        issued = secret_certificate(secret)
        not_after = parse_time(issued.get("notAfter"))
        if not_after is None:
            ready = ("False", "DoesNotExist", "Issuing certificate as Secret does not exist")
        elif now > not_after:
            expired = f"Certificate expired on {not_after.strftime('%a, %d %b %Y %H:%M:%S UTC')}"
            ready = ("False", "Expired", expired)
        else:
            ready = ("True", "Ready", "Certificate is up to date and has not expired")
        generation = cert["metadata"].get("generation")
        set_condition(status["conditions"], "Ready", *ready, now, generation)
        return not_after

    @staticmethod
    def _reissue_reason(
        cert: Obj,
        status: Obj,
        secret: Obj | None,
        now: dt.datetime,
    ) -> tuple[str, str] | None:
        issued = secret_certificate(secret)
        if not issued:
            return "DoesNotExist", "Issuing certificate as Secret does not exist"
        if issued.get("dnsNames") != (cert["spec"].get("dnsNames") or []):
            return (
                "SecretMismatch",
                "Existing issued Secret is not up to date for spec: [spec.dnsNames]",
            )
        renewal = parse_time(status.get("renewalTime"))
        if renewal and now >= renewal:
            return (
                "Renewing",
                f"Renewing certificate as renewal was scheduled at {go_time(renewal)}",
            )
        return None

    def _retry_at(self, status: Obj) -> dt.datetime | None:
        """The end of the backoff after failed issuances: 1h doubling per failure, at most 32h."""
        failed = parse_time(status.get("lastFailureTime"))
        if failed is None:
            return None
        attempts = status.get("failedIssuanceAttempts", 1)
        return failed + min(FIRST_BACKOFF * 2 ** (attempts - 1), MAX_BACKOFF) / self.speed

    async def _trigger(
        self,
        cert: Obj,
        status: Obj,
        secret: Obj | None,
        now: dt.datetime,
    ) -> dt.datetime | None:
        """The trigger controller: Issuing=True when the Secret is missing or stale or the
        renewal time has come, unless backing off after a failure. Returns when to look again."""
        why = self._reissue_reason(cert, status, secret, now)
        if why is None:
            return parse_time(status.get("renewalTime"))
        retry_at = self._retry_at(status)
        if retry_at and now < retry_at:
            return retry_at
        generation = cert["metadata"].get("generation")
        set_condition(status["conditions"], "Issuing", "True", *why, now, generation)
        await self.events.record(TRIGGER, cert, "Normal", "Issuing", why[1])
        return None

    async def _issue(
        self,
        cert: Obj,
        status: Obj,
        secret: Obj | None,
        now: dt.datetime,
    ) -> tuple[Obj | None, dt.datetime | None]:
        """The request manager and issuing controllers, while Issuing=True (set by the trigger
        or by `cmctl renew`, which skips the backoff): the request for the next revision, then
        the Secret and the revision, or the failure. Returns the Secret and when to look again."""
        namespace, name = where(cert)
        key = ("Certificate", namespace, name)
        revision = status.get("revision", 0) + 1
        request = await self.kube.get(REQUESTS, namespace, f"{name}-{revision}")
        if request is not None and _failed(request):
            if status.get("lastFailureTime", "") < request["status"]["failureTime"]:
                await self._record_failure(cert, status, request, now)  # not yet noted here
                return secret, None
            # Issuing again after a failed attempt: that request makes way for a new one.
            await self.kube.delete(REQUESTS, namespace, request["metadata"]["name"])
            request = None
        issuer = await self._issuer(cert)
        if request is None:
            request = await self._request(cert, revision, issuer, now)
            self._attempts[key] = now
            message = f'Created new CertificateRequest resource "{request["metadata"]["name"]}"'
            await self.events.record(REQUEST_MANAGER, cert, "Normal", "Requested", message)
        if is_true(conditions_of(request), "Ready"):
            return await self._store(cert, status, request, now), None
        if issuer is None:
            return secret, now + ISSUER_WAIT
        took = ACME_ISSUANCE / self.speed if _acme(issuer) else dt.timedelta(0)
        done_at = self._attempts.setdefault(key, now) + took
        if now < done_at:
            return secret, done_at
        if _acme(issuer) and issuer["metadata"]["name"] in self.failing_issuers:
            request = await self._fail(cert, request, issuer, now)
            await self._record_failure(cert, status, request, now)
            return secret, None
        request = await self._sign(cert, request, issuer, now)
        return await self._store(cert, status, request, now), None

    async def _record_failure(
        self,
        cert: Obj,
        status: Obj,
        request: Obj,
        now: dt.datetime,
    ) -> None:
        self._attempts.pop(("Certificate", *where(cert)), None)
        failure = find_condition(conditions_of(request), "Ready") or {}
        message = (
            "The certificate request has failed to complete and will be retried: "
            f"{failure.get('message', '')}"
        )
        status["lastFailureTime"] = request["status"]["failureTime"]
        status["failedIssuanceAttempts"] = status.get("failedIssuanceAttempts", 0) + 1
        generation = cert["metadata"].get("generation")
        set_condition(status["conditions"], "Issuing", "False", "Failed", message, now, generation)
        await self.events.record(ISSUING, cert, "Warning", "Failed", message)

    async def _store(
        self,
        cert: Obj,
        status: Obj,
        request: Obj,
        now: dt.datetime,
    ) -> Obj:
        """The issuing controller's success: the signed certificate into the Secret, its
        validity and revision into the status, and the Issuing condition gone."""
        namespace, name = where(cert)
        issued = read_placeholder(_unb64(request["status"]["certificate"]))
        secret = await self._write_secret(cert, request)
        not_before = parse_time(issued.get("notBefore")) or now
        not_after = parse_time(issued.get("notAfter")) or now
        status.update(
            notBefore=stamp(not_before),
            notAfter=stamp(not_after),
            renewalTime=stamp(renewal_time(cert["spec"], not_before, not_after)),
            revision=int(request["metadata"]["annotations"][CERTIFICATE_REVISION]),
        )
        status.pop("lastFailureTime", None)
        status.pop("failedIssuanceAttempts", None)
        remove_condition(status["conditions"], "Issuing")
        self._attempts.pop(("Certificate", namespace, name), None)
        message = "The certificate has been successfully issued"
        await self.events.record(ISSUING, cert, "Normal", "Issuing", message)
        await self._prune(cert, status["revision"])
        return secret

    async def _write_secret(self, cert: Obj, request: Obj) -> Obj:
        namespace, name = where(cert)
        spec = cert["spec"]
        ref = spec["issuerRef"]
        revision = request["metadata"]["annotations"][CERTIFICATE_REVISION]
        metadata = {
            "labels": {OWNED_SECRET_LABEL: "true"},
            "annotations": {
                "cert-manager.io/alt-names": ",".join(spec.get("dnsNames") or []),
                CERTIFICATE_NAME: name,
                "cert-manager.io/common-name": spec.get("commonName", ""),
                "cert-manager.io/ip-sans": ",".join(spec.get("ipAddresses") or []),
                "cert-manager.io/issuer-group": ref.get("group") or GROUP,
                "cert-manager.io/issuer-kind": ref.get("kind") or "Issuer",
                "cert-manager.io/issuer-name": ref["name"],
                "cert-manager.io/uri-sans": ",".join(spec.get("uris") or []),
            },
        }
        key = placeholder_pem("PRIVATE KEY", {"certificate": name, "revision": revision})
        data = {
            "tls.crt": request["status"]["certificate"],
            "tls.key": _b64(key),
            "ca.crt": request["status"].get("ca", ""),
        }
        if await self.kube.get(SECRETS, namespace, spec["secretName"]) is None:
            body = {
                "metadata": {"name": spec["secretName"], **metadata},
                "type": "kubernetes.io/tls",
                "data": data,
            }
            return await self.kube.create(SECRETS, namespace, body)
        # A merge keeps whatever labels, annotations and keys others added to the Secret.
        return await self.kube.patch(
            SECRETS, namespace, spec["secretName"], {"metadata": metadata, "data": data}
        )

    async def _prune(self, cert: Obj, revision: int) -> None:
        """Keep spec.revisionHistoryLimit requests (all of them when it is unset)."""
        limit = cert["spec"].get("revisionHistoryLimit")
        if not limit:
            return
        namespace, name = where(cert)
        for old in range(1, revision - limit + 1):
            await self.kube.delete(REQUESTS, namespace, f"{name}-{old}")

    # -- requests, orders and challenges -------------------------------------------------------
    async def _request(
        self,
        cert: Obj,
        revision: int,
        issuer: Obj | None,
        now: dt.datetime,
    ) -> Obj:
        namespace, name = where(cert)
        spec = cert["spec"]
        csr = placeholder_pem(
            "CERTIFICATE REQUEST",
            {"commonName": spec.get("commonName", ""), "dnsNames": spec.get("dnsNames") or []},
        )
        body: Obj = {
            "metadata": {
                "name": f"{name}-{revision}",
                "labels": dict(cert["metadata"].get("labels") or {}),
                "annotations": {CERTIFICATE_NAME: name, CERTIFICATE_REVISION: str(revision)},
                "ownerReferences": [controller_ref(cert)],
            },
            "spec": {
                "issuerRef": spec["issuerRef"],
                "request": _b64(csr),
                "usages": spec.get("usages") or ["digital signature", "key encipherment"],
                "username": REQUESTER,
                "groups": [
                    "system:serviceaccounts",
                    "system:serviceaccounts:cert-manager",
                    "system:authenticated",
                ],
            },
        }
        if spec.get("duration"):
            body["spec"]["duration"] = spec["duration"]
        request = await self.kube.create(REQUESTS, namespace, body)
        conditions: list[Obj] = []
        approved = "Certificate request has been approved by cert-manager.io"
        set_condition(conditions, "Approved", "True", "cert-manager.io", approved, now)
        ref = spec["issuerRef"]
        if issuer is None:
            kind = ref.get("kind") or "Issuer"
            pending = (
                f'Referenced "{kind}" not found: {kind.lower()}.{GROUP} "{ref["name"]}" not found'
            )
            set_condition(conditions, "Ready", "False", "Pending", pending, now)
        elif _acme(issuer):
            order = await self._order(cert, request, issuer)
            pending = (
                "Waiting on certificate issuance from order "
                f'{namespace}/{order["metadata"]["name"]}: "pending"'
            )
            set_condition(conditions, "Ready", "False", "Pending", pending, now)
        return await self.kube.replace_status(
            REQUESTS, {**request, "status": {"conditions": conditions}}
        )

    @staticmethod
    def _certificate_pem(cert: Obj, issuer: Obj, now: dt.datetime) -> tuple[str, str]:
        """The placeholder certificate the issuer signs, and its CA."""
        spec = cert["spec"]
        now = now.replace(microsecond=0)
        if _acme(issuer):
            not_before, not_after = now - ACME_BACKDATE, now - ACME_BACKDATE + ACME_VALIDITY
            signer, root = (
                "CN=R11,O=Let's Encrypt,C=US",
                "CN=ISRG Root X1,O=Internet Security Research Group,C=US",
            )
        else:
            lifetime = duration(spec.get("duration")) or DEFAULT_DURATION
            not_before, not_after = now, now + lifetime
            signer = root = f"CN={issuer['metadata']['name']}"
        fields = {
            "subject": f"CN={spec.get('commonName') or (spec.get('dnsNames') or [''])[0]}",
            "issuer": signer,
            "dnsNames": spec.get("dnsNames") or [],
            "serialNumber": f"{_number(cert['metadata']['uid'], stamp(now)):08x}",
            "notBefore": stamp(not_before),
            "notAfter": stamp(not_after),
        }
        return placeholder_pem("CERTIFICATE", fields), placeholder_pem(
            "CERTIFICATE", {"subject": root}
        )

    async def _sign(
        self,
        cert: Obj,
        request: Obj,
        issuer: Obj,
        now: dt.datetime,
    ) -> Obj:
        certificate, ca = self._certificate_pem(cert, issuer, now)
        if _acme(issuer):
            order = await self._order(cert, request, issuer)
            for challenge in await self._challenges(order):  # solved challenges are cleaned up
                await self.kube.delete(CHALLENGES, *where(challenge))
            status = {
                **(order.get("status") or {}),
                "state": "valid",
                "certificate": _b64(certificate),
            }
            await self.kube.replace_status(ORDERS, {**order, "status": status})
        status = copy.deepcopy(request.get("status") or {})
        issued = "Certificate fetched from issuer successfully"
        set_condition(status.setdefault("conditions", []), "Ready", "True", "Issued", issued, now)
        status.update(certificate=_b64(certificate), ca=_b64(ca))
        return await self.kube.replace_status(REQUESTS, {**request, "status": status})

    async def _fail(
        self,
        cert: Obj,
        request: Obj,
        issuer: Obj,
        now: dt.datetime,
    ) -> Obj:
        """What Let's Encrypt answers when the _acme-challenge TXT record never appeared."""
        order = await self._order(cert, request, issuer)
        errors = []
        for challenge in await self._challenges(order):
            domain = challenge["spec"]["dnsName"]
            error = (
                f"acme: authorization error for {domain}: 400 urn:ietf:params:acme:error:dns: "
                f"DNS problem: NXDOMAIN looking up TXT for _acme-challenge.{domain} - check "
                "that a DNS record exists for this domain"
            )
            errors.append(error)
            status = {
                **challenge.get("status", {}),
                "processing": False,
                "presented": False,
                "state": "invalid",
                "reason": f"Error accepting authorization: {error}",
            }
            await self.kube.replace_status(CHALLENGES, {**challenge, "status": status})
        reason = errors[0] if errors else ""
        status = {
            **(order.get("status") or {}),
            "state": "invalid",
            "reason": reason,
            "failureTime": stamp(now),
        }
        await self.kube.replace_status(ORDERS, {**order, "status": status})
        message = (
            f'Failed to wait for order resource "{order["metadata"]["name"]}" to become ready: '
            f'order is in "invalid" state: {reason}'
        )
        status = copy.deepcopy(request.get("status") or {})
        set_condition(status.setdefault("conditions", []), "Ready", "False", "Failed", message, now)
        status["failureTime"] = stamp(now)
        return await self.kube.replace_status(REQUESTS, {**request, "status": status})

    async def _order(self, cert: Obj, request: Obj, issuer: Obj) -> Obj:
        """The request's ACME Order, `<request>-<hash>`, with a pending DNS-01 Challenge per
        name; made on first use."""
        namespace, request_name = where(request)
        name = f"{request_name}-{_number(request['metadata']['uid'])}"
        order = await self.kube.get(ORDERS, namespace, name)
        if order is not None:
            return order
        spec = cert["spec"]
        names = spec.get("dnsNames") or [spec.get("commonName", "")]
        body = {
            "metadata": {"name": name, "ownerReferences": [controller_ref(request)]},
            "spec": {
                "request": request["spec"]["request"],
                "issuerRef": request["spec"]["issuerRef"],
                "dnsNames": names,
                **({"commonName": spec["commonName"]} if spec.get("commonName") else {}),
            },
        }
        order = await self.kube.create(ORDERS, namespace, body)
        base, account = _acme_base(issuer), _number(issuer["metadata"]["uid"])
        status = {
            "state": "pending",
            "url": f"{base}/acme/order/{account}/{_number(name)}",
            "finalizeURL": f"{base}/acme/finalize/{account}/{_number(name)}",
        }
        order = await self.kube.replace_status(ORDERS, {**order, "status": status})
        for dns_name in names:
            await self._challenge(order, issuer, dns_name)
        return order

    async def _challenge(self, order: Obj, issuer: Obj, dns_name: str) -> None:
        namespace, order_name = where(order)
        domain = dns_name.removeprefix("*.")
        authz = _number(order_name, dns_name)
        base = _acme_base(issuer)
        solver = next((s for s in (_acme(issuer) or {}).get("solvers") or [] if "dns01" in s), {})
        body = {
            "metadata": {
                "name": f"{order_name}-{authz}",
                "ownerReferences": [controller_ref(order)],
            },
            "spec": {
                "dnsName": domain,
                "wildcard": dns_name.startswith("*."),
                "type": "DNS-01",
                "url": f"{base}/acme/chall-v3/{authz}/{authz % 4096:03x}",
                "authorizationURL": f"{base}/acme/authz-v3/{authz}",
                "token": f"{authz:x}",
                "key": _b64(f"{authz:x}")[:43],
                "issuerRef": order["spec"]["issuerRef"],
                "solver": solver,
            },
        }
        challenge = await self.kube.create(CHALLENGES, namespace, body)
        status = {
            "processing": True,
            "presented": True,
            "state": "pending",
            "reason": (
                f'Waiting for DNS-01 challenge propagation: DNS record for "{domain}" '
                "not yet propagated"
            ),
        }
        await self.kube.replace_status(CHALLENGES, {**challenge, "status": status})

    async def _challenges(self, order: Obj) -> list[Obj]:
        uid = order["metadata"]["uid"]
        listed = await self.kube.list(CHALLENGES, order["metadata"]["namespace"])
        return [
            c
            for c in listed["items"]
            if any(r.get("uid") == uid for r in c["metadata"].get("ownerReferences") or [])
        ]
