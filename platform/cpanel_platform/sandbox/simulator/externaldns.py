"""external-dns with the Linode provider and the TXT registry, `--policy=sync`: every interval
it gathers the hosts that Ingresses (and LoadBalancer Services annotated with
external-dns.alpha.kubernetes.io/hostname) want under its domain, compares them with the A
records of the Linode domain that its TXT records say it owns, and creates, updates and
deletes records through the Linode API v4 over HTTP.

Ownership is external-dns v0.18+'s TXT format: for the A record "www" a TXT record "a-www"
whose value is "heritage=external-dns,external-dns/owner=<owner>,external-dns/resource=
ingress/<namespace>/<name>" (quotes included). Records it does not own are never touched.
Like the real controller it does not create the domain: until the domain exists in Linode's
DNS Manager each sync logs a warning and changes nothing.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from typing import Any

import httpx

from .keel_policy import go_duration
from .kube import Kind, Kube, KubeError

log = logging.getLogger(__name__)

INGRESSES = Kind("networking.k8s.io", "v1", "ingresses")
SERVICES = Kind("", "v1", "services")
HOSTNAME = "external-dns.alpha.kubernetes.io/hostname"
TTL = "external-dns.alpha.kubernetes.io/ttl"
HERITAGE = "heritage=external-dns"
_PAGE_SIZE = 500  # the Linode API's largest page


class LinodeApiError(Exception):
    """The Linode API refused a request."""


@dataclasses.dataclass(frozen=True)
class Endpoint:
    """An A record external-dns wants: its FQDN, addresses, TTL, and the resource behind it."""

    host: str
    targets: tuple[str, ...]
    ttl: int
    resource: str  # "ingress/<namespace>/<name>" or "service/<namespace>/<name>"


@dataclasses.dataclass
class _Zone:
    """The domain's records as one sync found them, grouped the way the plan needs them."""

    domain_id: int
    a_records: dict[str, list[dict[str, Any]]]  # by relative name
    txt_records: dict[str, dict[str, Any]]  # ownership TXT records, by relative name


def ownership_txt(owner: str, resource: str) -> str:
    """The TXT registry's value for a record (external-dns keeps the quotes in it)."""
    return f'"{HERITAGE},external-dns/owner={owner},external-dns/resource={resource}"'


def txt_name(host: str) -> str:
    """The TXT registry's name for the A record at `host`: its first label gains "a-"."""
    first, dot, rest = host.partition(".")
    return f"a-{first}{dot}{rest}"


def _labels(value: str) -> dict[str, str]:
    """The labels in an ownership TXT value; empty if it is not external-dns's."""
    tokens = value.strip('"').split(",")
    if tokens[0] != HERITAGE:
        return {}
    return dict(t.removeprefix("external-dns/").partition("=")[::2] for t in tokens[1:])


def _ttl(obj: dict[str, Any]) -> int | None:
    """The TTL annotation in seconds ("300" or a Go duration such as "5m")."""
    text = (obj["metadata"].get("annotations") or {}).get(TTL)
    if text is None:
        return None
    seconds = float(text) if text.isdigit() else go_duration(text)
    return int(seconds) if seconds and seconds >= 1 else None


def _annotated_hosts(obj: dict[str, Any]) -> list[str]:
    text = (obj["metadata"].get("annotations") or {}).get(HOSTNAME, "")
    return [h.strip() for h in text.split(",") if h.strip()]


def _ingress_hosts(ingress: dict[str, Any]) -> list[str]:
    spec = ingress.get("spec") or {}
    hosts = [r["host"] for r in spec.get("rules") or [] if r.get("host")]
    hosts += [h for tls in spec.get("tls") or [] for h in tls.get("hosts") or []]
    return hosts + _annotated_hosts(ingress)


def _load_balancer_ips(obj: dict[str, Any]) -> list[str]:
    ingress = ((obj.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []
    return [i["ip"] for i in ingress if i.get("ip")]


class ExternalDns:
    """`linode_api_url` is the API's root (e.g. "http://127.0.0.1:8081"; paths add "/v4").
    `ingress_ip` stands in for an Ingress whose status has no load-balancer address yet (None:
    such an Ingress gets no record, as with the real controller). The sync runs every
    `interval` seconds (external-dns's --interval, 1 minute), divided by `speed`."""

    def __init__(
        self,
        kube: Kube,
        linode_api_url: str,
        token: str,
        domain: str,
        ttl: int = 300,
        owner_id: str = "lke-prod",
        interval: float = 60.0,
        speed: float = 1.0,
        ingress_ip: str | None = None,
    ) -> None:
        self.kube = kube
        self.domain = domain.lower().rstrip(".")
        self.ttl = ttl
        self.owner_id = owner_id
        self.period = interval / speed
        self.ingress_ip = ingress_ip
        self._http = httpx.AsyncClient(
            base_url=linode_api_url.rstrip("/") + "/v4",
            timeout=10,
            headers={
                "Authorization": f"Bearer {token}",
                "User-Agent": "ExternalDNS/sandbox linodego",
            },
        )

    async def close(self) -> None:
        await self._http.aclose()

    async def run(self) -> None:
        while True:
            try:
                await self.sync()
            except (KubeError, httpx.HTTPError, LinodeApiError) as err:
                log.warning("external-dns: sync failed: %s", err)
            await asyncio.sleep(self.period)

    async def sync(self) -> None:
        """One reconciliation: make the owned records match what the cluster asks for."""
        wanted = await self.endpoints()
        zone = await self._zone()
        if zone is None:
            log.warning("external-dns: no Linode domain %s; nothing to do", self.domain)
            return
        for name, endpoint in wanted.items():
            current = zone.a_records.get(name)
            if not current:
                await self._create(zone, name, endpoint)
            elif self._owns(zone, name):
                await self._update(zone, name, endpoint, current)
        for name, records in zone.a_records.items():
            if name not in wanted and self._owns(zone, name):
                await self._delete(zone, name, records)

    # -- what the cluster wants ------------------------------------------------------------
    async def endpoints(self) -> dict[str, Endpoint]:
        """The A records wanted under the domain, by name relative to it ("" for the apex)."""
        ingresses = (await self.kube.list(INGRESSES))["items"]
        services = [
            s
            for s in (await self.kube.list(SERVICES))["items"]
            if s["spec"].get("type") == "LoadBalancer"
        ]
        sources = [("ingress", i, _ingress_hosts(i)) for i in ingresses] + [
            ("service", s, _annotated_hosts(s)) for s in services
        ]
        wanted: dict[str, Endpoint] = {}
        for kind, obj, hosts in sorted(sources, key=lambda s: _resource(s[0], s[1])):
            targets = set(_load_balancer_ips(obj))
            if not targets and kind == "ingress" and self.ingress_ip:
                targets = {self.ingress_ip}
            if not targets:
                continue  # no address yet: nothing to point at
            ttl, resource = _ttl(obj) or self.ttl, _resource(kind, obj)
            for host in hosts:
                name = self._relative(host)
                if name is None:
                    continue
                known = wanted.get(name)
                if known:  # resources sharing a host share its record; the first one owns it
                    merged = tuple(sorted({*known.targets, *targets}))
                    wanted[name] = dataclasses.replace(known, targets=merged)
                else:
                    wanted[name] = Endpoint(host, tuple(sorted(targets)), ttl, resource)
        return wanted

    def _relative(self, host: str) -> str | None:
        host = host.lower().rstrip(".")
        if host == self.domain:
            return ""
        suffix = "." + self.domain
        return host.removesuffix(suffix) if host.endswith(suffix) else None

    # -- what the domain holds -------------------------------------------------------------
    async def _zone(self) -> _Zone | None:
        domains = await self._list("/domains")
        domain = next((d for d in domains if d["domain"] == self.domain), None)
        if domain is None:
            return None
        zone = _Zone(domain["id"], {}, {})
        for record in await self._list(f"/domains/{domain['id']}/records"):
            if record["type"] == "A":
                zone.a_records.setdefault(record["name"], []).append(record)
            elif record["type"] == "TXT" and _labels(record["target"]):
                zone.txt_records[record["name"]] = record
        return zone

    def _owns(self, zone: _Zone, name: str) -> bool:
        txt = zone.txt_records.get(self._txt_name(name))
        return txt is not None and _labels(txt["target"]).get("owner") == self.owner_id

    def _txt_name(self, name: str) -> str:
        """The relative name of the ownership record of the A record `name`."""
        txt = txt_name(f"{name}.{self.domain}" if name else self.domain)
        relative = self._relative(txt)
        # The apex's "a-<domain>" lies outside the domain; the provider sends it unchanged.
        return txt if relative is None else relative

    def _ownership(self, name: str, endpoint: Endpoint) -> dict[str, Any]:
        # external-dns gives the TXT record no TTL of its own: 0, the domain's default.
        value = ownership_txt(self.owner_id, endpoint.resource)
        return _record("TXT", self._txt_name(name), value, 0)

    # -- changes ---------------------------------------------------------------------------
    async def _create(self, zone: _Zone, name: str, endpoint: Endpoint) -> None:
        log.info("external-dns: creating A %s -> %s", endpoint.host, ", ".join(endpoint.targets))
        for target in endpoint.targets:
            await self._write("POST", zone, _record("A", name, target, endpoint.ttl))
        if self._txt_name(name) not in zone.txt_records:  # another owner's record stays theirs
            await self._write("POST", zone, self._ownership(name, endpoint))

    async def _update(
        self, zone: _Zone, name: str, endpoint: Endpoint, current: list[dict[str, Any]]
    ) -> None:
        by_target = {r["target"]: r for r in current}
        for target in endpoint.targets:
            record = by_target.pop(target, None)
            if record is None:
                await self._write("POST", zone, _record("A", name, target, endpoint.ttl))
            elif record["ttl_sec"] != endpoint.ttl:
                await self._write("PUT", zone, _record("A", name, target, endpoint.ttl), record)
        for stale in by_target.values():  # addresses the resource no longer has
            await self._remove(zone, stale)
        ownership = self._ownership(name, endpoint)
        existing = zone.txt_records[ownership["name"]]  # there: the record is owned
        if existing["target"] != ownership["target"]:  # e.g. another resource took the host
            await self._write("PUT", zone, ownership, existing)

    async def _delete(self, zone: _Zone, name: str, records: list[dict[str, Any]]) -> None:
        log.info("external-dns: deleting A %s", name or self.domain)
        for record in [*records, zone.txt_records[self._txt_name(name)]]:
            await self._remove(zone, record)

    # -- the Linode API --------------------------------------------------------------------
    async def _write(
        self, method: str, zone: _Zone, body: dict[str, Any], record: dict[str, Any] | None = None
    ) -> None:
        path = f"/domains/{zone.domain_id}/records" + (f"/{record['id']}" if record else "")
        await self._call(method, path, body)

    async def _remove(self, zone: _Zone, record: dict[str, Any]) -> None:
        await self._call("DELETE", f"/domains/{zone.domain_id}/records/{record['id']}")

    async def _list(self, path: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        page, pages = 1, 1
        while page <= pages:
            answer = await self._call("GET", path, params={"page": page, "page_size": _PAGE_SIZE})
            items += answer["data"]
            page, pages = page + 1, answer["pages"]
        return items

    async def _call(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        params: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        r = await self._http.request(method, path, json=body, params=params)
        data = r.json() if r.content else {}
        if r.status_code >= 400:
            reasons = "; ".join(e.get("reason", "") for e in data.get("errors", []))
            raise LinodeApiError(f"{method} {path}: HTTP {r.status_code}: {reasons}")
        return data


def _resource(kind: str, obj: dict[str, Any]) -> str:
    meta = obj["metadata"]
    return f"{kind}/{meta['namespace']}/{meta['name']}"


def _record(kind: str, name: str, target: str, ttl: int) -> dict[str, Any]:
    # The fields the Linode provider sends with every record it creates or updates.
    return {
        "type": kind,
        "name": name,
        "target": target,
        "ttl_sec": ttl,
        "priority": 0,
        "weight": 1,
        "port": 0,
    }
