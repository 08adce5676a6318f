"""A plain, typed picture of the platform the metrics describe, and the knobs incidents turn.

The sandbox fills a `Platform` from its Kubernetes and Linode state (or starts from
`default_platform`); `Telemetry` turns it into series. Everything here is plain data: change
fields under `Telemetry.lock`, and the next scrape reports the change.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Literal

from ..seed import node_name

DAY = 86400.0

Role = Literal["master", "replica"]  # the Crunchy pod label's values
Condition = Literal["True", "False", "Unknown"]
IncidentKind = Literal["outage", "saturation", "replica-lag"]


@dataclass
class Node:
    name: str
    ip: str  # InternalIP: the kubelet's scrape address
    up: bool = True  # False: its exporters stop answering (up 0, their series go stale)


@dataclass(frozen=True)
class IoProfile:
    """How a kind of disk is used at peak traffic."""

    utilisation: float  # busy fraction at peak
    throughput: float  # bytes/s when 100% busy
    read_share: float  # of the bytes moved
    read_size: int  # bytes per completed read
    write_size: int


PROFILES = {
    # Block Storage served the media files at 6 MB/s when the CDN was off (REFERENCE.md).
    "media": IoProfile(0.08, 6e6, 0.95, 128 * 1024, 64 * 1024),
    "postgres": IoProfile(0.15, 40e6, 0.35, 8 * 1024, 8 * 1024),
    "generic": IoProfile(0.05, 40e6, 0.2, 16 * 1024, 32 * 1024),
    # The nodes' local SSD: 267 MB/s for the same files.
    "root": IoProfile(0.03, 267e6, 0.5, 16 * 1024, 16 * 1024),
}


@dataclass
class Volume:
    """A Linode Block Storage volume bound to a PVC and attached to a node."""

    label: str  # the Linode volume label; node-exporter reports it as the disk's serial
    namespace: str  # of the PVC
    claim: str
    pv: str
    node: str
    device: str  # e.g. "sdc" (sda is the root disk, sdb the swap disk)
    capacity_bytes: int
    used_bytes: int
    profile: str = "generic"  # a key of PROFILES


@dataclass
class IngressController:
    pod: str
    node: str
    ip: str
    namespace: str = "ingress-nginx"


@dataclass
class Ingress:
    namespace: str
    name: str
    host: str
    service: str
    share: float = 1.0  # of the site's requests, relative to the other ingresses
    path: str = "/"


@dataclass
class PgInstance:
    name: str  # the postgres-operator.crunchydata.com/instance label
    pod: str
    node: str
    ip: str
    role: Role


@dataclass
class PgCluster:
    namespace: str
    name: str
    instances: list[PgInstance]
    last_full_backup: float | None = None  # a manual backup's completion (epoch seconds)
    full_backup_every: float = 7 * DAY  # the schedule: weekly, Sunday 01:00 UTC
    full_backup_takes: float = 20 * 60.0


@dataclass
class Certificate:
    name: str
    namespace: str
    issuer_name: str
    not_before: float  # epoch seconds
    not_after: float
    renewal_time: float
    ready: Condition = "True"
    issuer_kind: str = "ClusterIssuer"
    issuer_group: str = "cert-manager.io"


@dataclass
class Platform:
    nodes: list[Node]
    volumes: list[Volume] = field(default_factory=list)
    controllers: list[IngressController] = field(default_factory=list)
    ingresses: list[Ingress] = field(default_factory=list)
    probes: list[str] = field(default_factory=list)  # URLs the blackbox exporter checks
    postgres: list[PgCluster] = field(default_factory=list)
    certificates: list[Certificate] = field(default_factory=list)
    cert_manager_ip: str = "10.2.0.20"
    peak_rps: float = 50.0  # requests per second across the site at the daily peak

    def node_up(self, name: str) -> bool:
        return any(node.up for node in self.nodes if node.name == name)

    def volume_for_claim(self, namespace: str, claim: str) -> Volume:
        return next(v for v in self.volumes if (v.namespace, v.claim) == (namespace, claim))

    def fingerprint(self) -> str:
        """Changes whenever anything the history is made from changes."""
        return hashlib.sha256(repr(self).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Knobs:
    """Live overrides of the baseline; an empty knob leaves the baseline alone."""

    utilisation: dict[str, float] = field(default_factory=dict)  # volume label -> 0..1
    error_ratio: float | None = None  # share of requests answered 5xx, 0..1
    probe_failing: bool = False
    replica_lag_bytes: dict[str, float] = field(default_factory=dict)  # replica instance name
    traffic: float = 1.0  # multiplies the site's request rate


@dataclass(frozen=True)
class Incident:
    """Something that happened from `start` to `end` (epoch seconds).

    outage: the site is down (probe fails, most requests 5xx); saturation: volume `target`
    is 100% busy; replica-lag: replica `target` falls behind, up to `peak` bytes, and
    catches up again.
    """

    kind: IncidentKind
    start: float
    end: float
    target: str = ""
    peak: float = 1.0  # strength at its worst: 1 = fully; for replica-lag, bytes behind

    def level(self, t: float) -> float:
        """How strongly the incident acts at `t`: 0 outside it, up to 1."""
        if not self.start <= t < self.end:
            return 0.0
        if self.kind != "replica-lag":
            return 1.0
        # Lag builds up for most of the incident, then drains once the replica catches up.
        turn = self.start + 0.7 * (self.end - self.start)
        if t < turn:
            return (t - self.start) / (turn - self.start)
        return (self.end - t) / (self.end - turn)


def _uid(name: str) -> str:
    digest = hashlib.sha256(name.encode()).hexdigest()
    return f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}"


def _volume(
    claim: str, namespace: str, node: str, device: str, gib: int, used: float, profile: str
) -> Volume:
    uid = _uid(f"{namespace}/{claim}")
    return Volume(
        label=("pvc" + uid.replace("-", ""))[:32],  # as the Linode CSI driver names them
        namespace=namespace,
        claim=claim,
        pv=f"pvc-{uid}",
        node=node,
        device=device,
        capacity_bytes=gib * 2**30,
        used_bytes=int(used * gib * 2**30),
        profile=profile,
    )


def default_platform(today: float) -> Platform:
    """The story's platform: three nodes, the media volume, Postgres with one replica,
    Prometheus's volume, two ingresses and a wildcard certificate. `today` (epoch seconds)
    dates the certificate; any time within the same UTC day gives the same platform."""
    day = today // DAY * DAY
    nodes = [Node(node_name(i), f"192.168.139.{10 + i}") for i in range(3)]
    names = [n.name for n in nodes]
    db = [
        PgInstance("db-instance1-8kqz", "db-instance1-8kqz-0", names[1], "10.2.1.31", "master"),
        PgInstance("db-instance1-4tmn", "db-instance1-4tmn-0", names[2], "10.2.2.31", "replica"),
    ]
    issued = day - 29 * DAY
    return Platform(
        nodes=nodes,
        volumes=[
            _volume("media", "web", names[0], "sdc", 200, 0.62, "media"),
            _volume("db-instance1-8kqz-pgdata", "postgres", names[1], "sdc", 50, 0.41, "postgres"),
            _volume("db-instance1-4tmn-pgdata", "postgres", names[2], "sdc", 50, 0.41, "postgres"),
            _volume(
                "prometheus-k8s-db-prometheus-k8s-0",
                "monitoring",
                names[2],
                "sdd",
                10,
                0.7,
                "generic",
            ),
        ],
        controllers=[
            IngressController(f"ingress-nginx-controller-{i}7f9c", name, f"10.2.{i}.10")
            for i, name in enumerate(names)
        ],
        ingresses=[
            Ingress("web", "app", "www.example.com", "app", share=0.7),
            Ingress("web", "media", "media.example.com", "media", share=0.3),
        ],
        probes=["https://www.example.com/"],
        postgres=[PgCluster("postgres", "db", db)],
        certificates=[
            Certificate(
                "wildcard-example-com",
                "web",
                "letsencrypt-dns01",
                not_before=issued,
                not_after=issued + 90 * DAY,
                renewal_time=issued + 60 * DAY,
            )
        ],
    )
