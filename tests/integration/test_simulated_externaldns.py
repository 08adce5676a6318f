"""external-dns against the Linode emulator over HTTP: A records and their TXT ownership records
follow Ingresses and annotated LoadBalancer Services, with the TTL, and records it does not
own are left alone."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from cpanel_platform.sandbox.linodeapi import LinodeServer, LinodeState
from cpanel_platform.sandbox.serving import listen
from cpanel_platform.sandbox.simulator.externaldns import INGRESSES, SERVICES, ExternalDns
from cpanel_platform.sandbox.simulator.kube import Kube

from tests.integration.conftest import TOKEN, Served
from tests.waiting import wait_for

LINODE_TOKEN = "external-dns-token"
DEFAULT_IP = "198.51.100.7"  # the ingress controller's address, for Ingresses without one
OWNED = '"heritage=external-dns,external-dns/owner=lke-prod,external-dns/resource={}"'


@dataclass
class DnsWorld:
    served: Served
    kube: Kube
    state: LinodeState
    domain_id: int
    linode_url: str

    def records(self) -> dict[tuple[str, str], list[dict[str, Any]]]:
        """The domain's records by (type, name), read on the server's loop."""

        async def read() -> list[dict[str, Any]]:
            return self.state.dns.list_records(self.domain_id)

        found: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for record in self.served.call(read()):
            found.setdefault((record["type"], record["name"]), []).append(record)
        return found

    def ingress(self, name: str, host: str, ip: str | None = None, **annotations: str) -> None:
        body = {
            "metadata": {"name": name, "annotations": annotations},
            "spec": {
                "rules": [
                    {
                        "host": host,
                        "http": {
                            "paths": [
                                {
                                    "path": "/",
                                    "pathType": "Prefix",
                                    "backend": {"service": {"name": name, "port": {"number": 80}}},
                                }
                            ]
                        },
                    }
                ]
            },
        }
        self.served.call(self.kube.create(INGRESSES, "default", body))
        if ip:
            self.set_address(INGRESSES, name, ip)

    def set_address(self, kind, name: str, ip: str) -> None:
        status = {"status": {"loadBalancer": {"ingress": [{"ip": ip}]}}}
        self.served.call(self.kube.patch(kind, "default", name, status, sub="status"))


@pytest.fixture(scope="module")
def world(bare_cluster: Served) -> Iterator[DnsWorld]:
    state = LinodeState(seed=5)
    domain = state.dns.create_domain(
        {"domain": "example.com", "type": "master", "soa_email": "ops@example.com"}
    )
    linode = LinodeServer(state, {LINODE_TOKEN: "sandbox"}, rate_limit=None)
    sock = listen()

    url = f"http://127.0.0.1:{sock.getsockname()[1]}"

    async def start() -> tuple[Kube, ExternalDns, list[asyncio.Task[None]]]:
        ready = asyncio.Event()
        serving = asyncio.create_task(linode.serve(sock, ready))
        await ready.wait()
        kube = Kube(bare_cluster.url, TOKEN, None, "external-dns")
        dns = ExternalDns(
            kube,
            url,
            LINODE_TOKEN,
            "example.com",
            interval=0.2,
            ingress_ip=DEFAULT_IP,
        )
        return kube, dns, [asyncio.create_task(dns.run()), serving]

    kube, dns, tasks = bare_cluster.call(start())
    yield DnsWorld(bare_cluster, kube, state, domain["id"], url)

    async def stop() -> None:
        tasks[0].cancel()
        linode.stop()
        await asyncio.gather(*tasks, return_exceptions=True)
        await dns.close()
        await kube.close()

    bare_cluster.call(stop())


def test_an_ingress_host_gets_an_a_record_and_its_ownership_txt(world) -> None:
    world.ingress("web", "web.example.com", "203.0.113.10")
    records = wait_for(lambda: (r := world.records()).get(("A", "web")) and r)
    [a] = records[("A", "web")]
    assert (a["target"], a["ttl_sec"]) == ("203.0.113.10", 300)
    [txt] = records[("TXT", "a-web")]
    assert txt["target"] == OWNED.format("ingress/default/web")
    assert txt["ttl_sec"] == 0  # external-dns leaves the TXT record on the domain default

    world.set_address(INGRESSES, "web", "203.0.113.20")
    wait_for(
        lambda: [r["target"] for r in world.records().get(("A", "web"), [])] == ["203.0.113.20"]
    )

    world.served.call(world.kube.delete(INGRESSES, "default", "web"))
    wait_for(lambda: not {("A", "web"), ("TXT", "a-web")} & world.records().keys())


def test_an_ingress_without_an_address_points_at_the_ingress_controller(world) -> None:
    world.ingress("docs", "docs.example.com", **{"external-dns.alpha.kubernetes.io/ttl": "1h"})
    [a] = wait_for(lambda: world.records().get(("A", "docs")))
    assert (a["target"], a["ttl_sec"]) == (DEFAULT_IP, 3600)


def test_an_annotated_load_balancer_service_gets_a_record(world) -> None:
    service = {
        "metadata": {
            "name": "mail",
            "annotations": {"external-dns.alpha.kubernetes.io/hostname": "mail.example.com"},
        },
        "spec": {"type": "LoadBalancer", "ports": [{"port": 25}], "selector": {"app": "mail"}},
    }
    world.served.call(world.kube.create(SERVICES, "default", service))
    world.set_address(SERVICES, "mail", "203.0.113.25")
    wait_for(lambda: world.records().get(("A", "mail")))
    [txt] = world.records()[("TXT", "a-mail")]
    assert txt["target"] == OWNED.format("service/default/mail")


def test_records_it_does_not_own_and_hosts_elsewhere_are_left_alone(world) -> None:
    async def hand_made() -> None:
        for name in ("legacy", "shop"):
            body = {"type": "A", "name": name, "target": "192.0.2.1", "ttl_sec": 3600}
            world.state.dns.create_record(world.domain_id, body)

    world.served.call(hand_made())
    world.ingress("shop", "shop.example.com", "203.0.113.30")  # shop exists without a TXT
    world.ingress("blog", "blog.example.org", "203.0.113.40")  # not under the domain
    world.ingress("marker", "marker.example.com", "203.0.113.50")
    wait_for(lambda: world.records().get(("A", "marker")))  # a sync has run since

    records = world.records()
    assert [r["target"] for r in records[("A", "shop")]] == ["192.0.2.1"]
    assert ("TXT", "a-shop") not in records
    assert [r["target"] for r in records[("A", "legacy")]] == ["192.0.2.1"]
    assert not any("blog" in name for _, name in records)


def test_a_missing_domain_is_not_created(world) -> None:
    async def sync_elsewhere() -> list[dict[str, Any]]:
        dns = ExternalDns(world.kube, world.linode_url, LINODE_TOKEN, "example.net")
        try:
            await dns.sync()
        finally:
            await dns.close()
        return world.state.dns.list_domains()

    assert [d["domain"] for d in world.served.call(sync_elsewhere())] == ["example.com"]
