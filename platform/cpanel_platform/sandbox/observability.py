"""The sandbox's monitoring: the metrics model filled from the live cluster, its exporter, and
a real Prometheus with months of backfilled history, kept in step as the world changes."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import functools
import logging
import socket
import time
from pathlib import Path
from typing import Any

import httpx

from .metrics import (
    Certificate,
    Ingress,
    IngressController,
    MetricsExporter,
    Node,
    PgCluster,
    PgInstance,
    Platform,
    Prometheus,
    PrometheusError,
    Telemetry,
    Volume,
    backfill,
    default_platform,
)
from .simulator.kube import NODES, PODS, PVS, Kind, Kube, KubeError
from .simulator.storage import ATTACHMENTS, DRIVER

log = logging.getLogger(__name__)
INGRESSES = Kind("networking.k8s.io", "v1", "ingresses")
PGO = "postgres-operator.crunchydata.com"
CERTIFICATES = Kind("cert-manager.io", "v1", "certificates")
CONFIGMAPS = Kind("", "v1", "configmaps")
HISTORY_DAYS = 90
_PROFILES = {"media": "media", "pgdata": "postgres"}


def _internal_ip(node: dict[str, Any]) -> str:
    return next(
        (a["address"] for a in node["status"].get("addresses", []) if a["type"] == "InternalIP"), ""
    )


async def read_platform(kube: Kube, story: bool = True) -> Platform:
    """The platform as the exporters would see it now: nodes, Block Storage volumes and where
    they are attached, ingress controllers and hosts. With `story`, Postgres, certificates,
    ingresses and probes come from the story's platform until the cluster has its own;
    without, what the cluster lacks is absent (an empty account runs no site)."""
    fallback = default_platform(time.time()) if story else Platform(nodes=[])
    nodes = (await kube.list(NODES))["items"]
    attached = {
        a["spec"]["source"].get("persistentVolumeName"): a["spec"]["nodeName"]
        for a in (await kube.list(ATTACHMENTS))["items"]
    }
    volumes: list[Volume] = []
    devices: dict[str, int] = {}
    for pv in (await kube.list(PVS))["items"]:
        csi, claim = pv["spec"].get("csi") or {}, pv["spec"].get("claimRef") or {}
        node = attached.get(pv["metadata"]["name"])
        if csi.get("driver") != DRIVER or not node:
            continue
        devices[node] = devices.get(node, 0) + 1
        gib = int(pv["spec"]["capacity"]["storage"].removesuffix("Gi"))
        profile = next(
            (p for key, p in _PROFILES.items() if key in claim.get("name", "")), "generic"
        )
        volumes.append(
            Volume(
                csi["volumeHandle"].split("-", 1)[1],
                claim.get("namespace", ""),
                claim.get("name", ""),
                pv["metadata"]["name"],
                node,
                f"sd{chr(ord('b') + devices[node])}",
                gib * 2**30,
                int(gib * 2**30 * 0.55),
                profile,
            )
        )
    controllers = [
        IngressController(p["metadata"]["name"], p["spec"]["nodeName"], p["status"]["podIP"])
        for p in (await kube.list(PODS, "ingress-nginx"))["items"]
        if p["status"].get("podIP")
    ]
    hosts = [
        (ing, rule["host"])
        for ing in (await kube.list(INGRESSES))["items"]
        for rule in ing["spec"].get("rules", [])
        if rule.get("host")
    ]
    ingresses = [
        Ingress(
            ing["metadata"]["namespace"],
            ing["metadata"]["name"],
            host,
            ing["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]["name"],
            share=1.0 / len(hosts),
        )
        for ing, host in hosts
    ]
    return dataclasses.replace(
        fallback,
        postgres=await _postgres(kube) or fallback.postgres,
        certificates=await _certificates(kube) or fallback.certificates,
        nodes=[Node(n["metadata"]["name"], _internal_ip(n)) for n in nodes],
        volumes=volumes,
        controllers=controllers or fallback.controllers,
        ingresses=ingresses or fallback.ingresses,
        probes=[f"https://{hosts[0][1]}/"] if hosts else await _probe_targets(kube)
        or fallback.probes,
    )


async def _probe_targets(kube: Kube) -> list[str]:
    """The URLs the monitoring component's blackbox exporter is given (`cpanel up` writes
    them to a ConfigMap), once an exporter pod runs to probe them."""
    try:
        listed = (await kube.list(CONFIGMAPS, "monitoring"))["items"]
    except KubeError:
        return []
    targets = next(
        (c.get("data", {}).get("targets", "") for c in listed
         if c["metadata"]["name"] == "blackbox-probe-targets"),
        "",
    )
    exporters = (await kube.list(PODS, "monitoring",
                                 labelSelector="app.kubernetes.io/name=blackbox-exporter"))
    running = any(p["status"].get("phase") == "Running" for p in exporters["items"])
    return targets.split() if running else []


async def _postgres(kube: Kube) -> list[PgCluster]:
    """Crunchy clusters as their exporters see them: instances by pod, with their roles."""
    pods = (await kube.list(PODS, labelSelector=f"{PGO}/role"))["items"]
    clusters: dict[tuple[str, str], list[PgInstance]] = {}
    for pod in pods:
        labels = pod["metadata"]["labels"]
        key = (pod["metadata"]["namespace"], labels[f"{PGO}/cluster"])
        clusters.setdefault(key, []).append(
            PgInstance(
                labels[f"{PGO}/instance"],
                pod["metadata"]["name"],
                pod["spec"]["nodeName"],
                pod["status"].get("podIP", ""),
                labels[f"{PGO}/role"],
            )
        )
    return [
        PgCluster(ns, name, sorted(instances, key=lambda i: i.role != "master"))
        for (ns, name), instances in clusters.items()
    ]


def _epoch(stamp: str | None) -> float | None:
    if not stamp:
        return None
    return dt.datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


async def _certificates(kube: Kube) -> list[Certificate]:
    """Issued Certificates as cert-manager's metrics describe them; none before cert-manager's
    CustomResourceDefinitions are installed."""
    try:
        listed = (await kube.list(CERTIFICATES))["items"]
    except KubeError as err:
        if err.code != 404:
            raise
        return []
    certs = []
    for cert in listed:
        status, issuer = cert.get("status") or {}, cert["spec"].get("issuerRef") or {}
        not_before, not_after = _epoch(status.get("notBefore")), _epoch(status.get("notAfter"))
        if not_before is None or not_after is None:
            continue  # not issued yet: cert-manager exports nothing for it either
        ready = next(
            (c["status"] for c in status.get("conditions", []) if c["type"] == "Ready"), "Unknown"
        )
        certs.append(
            Certificate(
                cert["metadata"]["name"],
                cert["metadata"]["namespace"],
                issuer.get("name", ""),
                not_before,
                not_after,
                _epoch(status.get("renewalTime")) or not_after,
                ready,
                issuer.get("kind", "Issuer"),
                issuer.get("group", "cert-manager.io"),
            )
        )
    return certs


class Observability:
    """`days` of history are backfilled (0: none); `story`: see read_platform."""

    def __init__(
        self, root: Path, seed: int = 0, days: int = HISTORY_DAYS, story: bool = True
    ) -> None:
        self.root = root
        self.seed = seed
        self.days = days
        self.story = story
        self.prometheus = Prometheus(root / "prometheus")
        self.telemetry: Telemetry | None = None
        self.exporter: MetricsExporter | None = None
        self.url = ""
        self.history_error = ""
        self._target = ""
        self._tasks: list[asyncio.Task[Any]] = []

    async def start(self, kube: Kube, sock: socket.socket) -> str:
        """Fill the model from the cluster, backfill history, serve the exporter and start
        Prometheus scraping it; returns Prometheus's URL."""
        await asyncio.to_thread(self.prometheus.clear_data)
        if self.days:
            self.telemetry = Telemetry(await self._settled_platform(kube), seed=self.seed)
            await self._backfill(self.telemetry)
        else:  # no history to keep consistent: the model follows the cluster from now on
            self.telemetry = Telemetry(await read_platform(kube, self.story), seed=self.seed)
        self.exporter = MetricsExporter(self.telemetry)
        ready = asyncio.Event()
        self._tasks.append(asyncio.create_task(self.exporter.serve(sock, ready)))
        await ready.wait()
        self._target = f"127.0.0.1:{sock.getsockname()[1]}"
        self.url = await asyncio.to_thread(self.prometheus.start, [self._target])
        self._tasks.append(asyncio.create_task(self._follow(kube), name="metrics-model"))
        return self.url

    async def _backfill(self, telemetry: Telemetry) -> None:
        try:
            done = await asyncio.to_thread(
                functools.partial(backfill, telemetry, self.prometheus.data_dir, days=self.days)
            )
        except PrometheusError as err:  # history is a nicety; live metrics still work
            log.error("no metrics history this time: %s", err)
            self.history_error = str(err)
            await asyncio.to_thread(self.prometheus.clear_data)
        else:
            log.info(
                "metrics history: %d samples in %.1fs (cached: %s)",
                done.samples,
                done.seconds,
                done.cached,
            )

    async def _settled_platform(self, kube: Kube, patience: float = 15.0) -> Platform:
        """The platform once every Block Storage volume is attached (the world has just been
        applied: claims bind and pods start within seconds)."""
        deadline = time.monotonic() + patience
        while True:
            platform = await read_platform(kube, self.story)
            volumes = [
                pv
                for pv in (await kube.list(PVS))["items"]
                if (pv["spec"].get("csi") or {}).get("driver") == DRIVER
            ]
            if (volumes and len(platform.volumes) == len(volumes)) or time.monotonic() > deadline:
                return platform
            await asyncio.sleep(0.5)

    async def _follow(self, kube: Kube) -> None:
        """Keep the model in step with machines that come and go."""
        while True:
            await asyncio.sleep(10)
            try:
                fresh = await read_platform(kube, self.story)
            except (KubeError, httpx.HTTPError) as err:
                log.debug("metrics model: %s", err)
                continue
            assert self.telemetry is not None
            with self.telemetry.lock:
                platform = self.telemetry.platform
                platform.nodes = fresh.nodes
                platform.volumes = fresh.volumes
                platform.controllers = fresh.controllers
                platform.postgres = fresh.postgres
                platform.certificates = fresh.certificates
                platform.probes = fresh.probes

    async def pause_prometheus(self) -> None:
        await asyncio.to_thread(self.prometheus.stop)

    async def resume_prometheus(self) -> None:
        """Prometheus again, on the port clients know, with what it had stored."""
        port = int(self.url.rsplit(":", 1)[1])
        await asyncio.to_thread(functools.partial(self.prometheus.start, [self._target], port=port))

    def media_volume(self) -> str:
        """The label of the site's media volume (the CDN's origin)."""
        assert self.telemetry is not None
        return next((v.label for v in self.telemetry.platform.volumes if v.profile == "media"), "")

    def answering(self) -> bool:
        try:
            return httpx.get(f"{self.url}/-/ready", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    async def stop(self) -> None:
        if self.exporter:
            self.exporter.stop()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await asyncio.to_thread(self.prometheus.stop)
