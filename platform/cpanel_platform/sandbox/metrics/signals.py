"""Baseline dynamics: what each real exporter would report about the platform over a grid of
times. Counters come out as per-second rates, for `Telemetry` to integrate.

Every function works on whole lists rather than one time at a time, so ninety days of
history cost a few list passes per series instead of a Python call per sample.
"""

from __future__ import annotations

import math
import random
import zlib
from bisect import bisect_left
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from .model import (
    DAY,
    PROFILES,
    Certificate,
    Incident,
    IngressController,
    IoProfile,
    Knobs,
    Node,
    PgCluster,
    PgInstance,
    Platform,
    Volume,
)


@dataclass(frozen=True)
class Family:
    name: str
    type: str  # as OpenMetrics names it: counter, gauge or unknown
    help: str
    cumulative: bool = False  # the signal is a per-second rate that the series integrates
    whole: bool = False  # counts, bytes, timestamps: whole numbers

    @property
    def sample_name(self) -> str:
        return f"{self.name}_total" if self.type == "counter" else self.name


def _counter(name: str, help: str, whole: bool = True) -> Family:
    return Family(name, "counter", help, cumulative=True, whole=whole)


IO_TIME = _counter(
    "node_disk_io_time_seconds", "Seconds the disk spent busy with I/O.", whole=False
)
IO_WEIGHTED = _counter(
    "node_disk_io_time_weighted_seconds",
    "Seconds of I/O weighted by requests in flight.",
    whole=False,
)
READ_BYTES = _counter("node_disk_read_bytes", "Bytes read from the disk.")
WRITTEN_BYTES = _counter("node_disk_written_bytes", "Bytes written to the disk.")
READS = _counter("node_disk_reads_completed", "Reads the disk completed.")
WRITES = _counter("node_disk_writes_completed", "Writes the disk completed.")
DISK_INFO = Family("node_disk_info", "gauge", "Identity of a block device (always 1).", whole=True)
VOLUME_CAPACITY = Family(
    "kubelet_volume_stats_capacity_bytes",
    "gauge",
    "Size of the volume's filesystem in bytes.",
    whole=True,
)
VOLUME_AVAILABLE = Family(
    "kubelet_volume_stats_available_bytes",
    "gauge",
    "Bytes free on the volume.",
    whole=True,
)
VOLUME_USED = Family(
    "kubelet_volume_stats_used_bytes", "gauge", "Bytes in use on the volume.", whole=True
)
# ingress-nginx exposes a counter without the _total suffix, which OpenMetrics forbids for
# counters; "unknown" keeps the exact name in both exposition formats.
REQUESTS = Family(
    "nginx_ingress_controller_requests",
    "unknown",
    "Requests the controller answered.",
    cumulative=True,
    whole=True,
)
PROBE_SUCCESS = Family("probe_success", "gauge", "1 when the probe succeeded.", whole=True)
PROBE_DURATION = Family("probe_duration_seconds", "gauge", "Seconds the probe took.")
IN_RECOVERY = Family(
    "ccp_is_in_recovery_status",
    "gauge",
    "Is the instance in recovery: 1 replica, 2 primary",
    whole=True,
)
REPLAY_TIME = Family(
    "ccp_replication_lag_replay_time", "gauge", "Seconds since the replica last replayed WAL"
)
LAG_BYTES = Family(
    "ccp_replication_lag_size_bytes", "gauge", "Bytes of WAL a replica is behind", whole=True
)
BACKUP_AGE = Family(
    "ccp_backrest_last_full_backup_time_since_completion_seconds",
    "gauge",
    "Seconds since the last completed full pgBackRest backup",
    whole=True,
)
CERT_EXPIRY = Family(
    "certmanager_certificate_expiration_timestamp_seconds",
    "gauge",
    "When the certificate expires (Unix time).",
    whole=True,
)
CERT_RENEWAL = Family(
    "certmanager_certificate_renewal_timestamp_seconds",
    "gauge",
    "When cert-manager renews the certificate (Unix time).",
    whole=True,
)
CERT_READY = Family(
    "certmanager_certificate_ready_status",
    "gauge",
    "1 for the certificate's current Ready condition.",
    whole=True,
)
UP = Family("up", "gauge", "Whether the target's last scrape succeeded.", whole=True)


@dataclass
class Signal:
    family: Family
    labels: dict[str, str]
    values: list[float]  # one per grid time; a rate per second for cumulative families


NOISE_SIZE = 1 << 17  # one value a minute for 91 days before the noise repeats


def noise_table(seed: int) -> list[float]:
    rng = random.Random(seed)
    return [rng.uniform(-1.0, 1.0) for _ in range(NOISE_SIZE)]


class Grid:
    """The times to evaluate and what acts at them: traffic shape, noise, incidents, knobs."""

    def __init__(
        self,
        times: Sequence[float],
        noise: list[float],
        knobs: Knobs,
        incidents: Sequence[Incident],
    ) -> None:
        self.times = times
        self.knobs = knobs
        self.ones = [1.0] * len(times)
        self.traffic = [_traffic_shape(t) for t in times]
        self._noise = noise
        self._minutes = [int(t // 60) for t in times]
        self._incidents = incidents

    def noise(self, stream: str) -> list[float]:
        """Uniform in [-1, 1), one draw per minute: the same for a stream and minute whether
        the history or a live scrape asks."""
        offset = zlib.crc32(stream.encode())
        table, mask = self._noise, NOISE_SIZE - 1
        return [table[(minute + offset) & mask] for minute in self._minutes]

    def incident(self, kind: str, target: str = "") -> list[float]:
        """The strongest matching incident's strength at each time (0 where none acts)."""
        levels = [0.0] * len(self.times)
        for incident in self._incidents:
            if incident.kind != kind or incident.target != target:
                continue
            first = bisect_left(self.times, incident.start)
            last = bisect_left(self.times, incident.end)
            for i in range(first, last):
                levels[i] = max(levels[i], incident.peak * incident.level(self.times[i]))
        return levels


def _traffic_shape(t: float) -> float:
    """Visitors through the day: 30% of the peak at 03:00 UTC, the peak at 15:00 UTC, and a
    fifth fewer at weekends."""
    hour = t % DAY / 3600
    daily = 0.3 + 0.7 * (0.5 + 0.5 * math.cos(2 * math.pi * (hour - 15) / 24))
    weekend = int(t // DAY + 4) % 7 >= 5  # 1970-01-01 was a Thursday
    return daily * (0.8 if weekend else 1.0)


def _clamp(value: float) -> float:
    return min(1.0, max(0.0, value))


# -- the exporters' target labels (what scrape configs and relabelling would attach) -----
def node_exporter(node: Node) -> dict[str, str]:
    # kube-prometheus relabels node-exporter's instance to the node name.
    return {"job": "node-exporter", "instance": node.name}


def kubelet(node: Node) -> dict[str, str]:
    return {
        "job": "kubelet",
        "instance": f"{node.ip}:10250",
        "node": node.name,
        "metrics_path": "/metrics",
    }


def controller(c: IngressController) -> dict[str, str]:
    return {"job": "ingress-nginx-controller-metrics", "instance": f"{c.ip}:10254"}


def blackbox(url: str) -> dict[str, str]:
    return {"job": "blackbox", "instance": url}


def crunchy(cluster: PgCluster, instance: PgInstance) -> dict[str, str]:
    # The labels the Crunchy scrape config's relabelling makes from the pod's labels.
    return {
        "job": "crunchy-postgres-exporter",
        "instance": f"{instance.ip}:9187",
        "kubernetes_namespace": cluster.namespace,
        "cluster": cluster.name,
        "pg_cluster": f"{cluster.namespace}:{cluster.name}",
        "pod": instance.pod,
        "ip": instance.ip,
        "deployment": instance.name,
        "role": instance.role,
    }


def cert_manager(platform: Platform) -> dict[str, str]:
    return {"job": "cert-manager", "instance": f"{platform.cert_manager_ip}:9402"}


# -- node-exporter -------------------------------------------------------------------------
def node_disks(platform: Platform, grid: Grid) -> Iterator[Signal]:
    for node in platform.nodes:
        if not node.up:
            continue
        yield from _disk(node, "sda", None, grid)
        for volume in platform.volumes:
            if volume.node == node.name:
                yield from _disk(node, volume.device, volume, grid)


def _disk(node: Node, device: str, volume: Volume | None, grid: Grid) -> Iterator[Signal]:
    profile = PROFILES[volume.profile if volume else "root"]
    util = _utilisation(profile, grid, volume.label if volume else f"{node.name}/{device}")
    labels = {**node_exporter(node), "device": device}
    read = [u * profile.throughput * profile.read_share for u in util]
    written = [u * profile.throughput * (1 - profile.read_share) for u in util]
    yield Signal(IO_TIME, labels, util)
    # Average queue depth grows without bound as a disk nears 100% busy; cap it at 20.
    yield Signal(IO_WEIGHTED, labels, [u / (1 - min(u, 0.95)) for u in util])
    yield Signal(READ_BYTES, labels, read)
    yield Signal(WRITTEN_BYTES, labels, written)
    yield Signal(READS, labels, [r / profile.read_size for r in read])
    yield Signal(WRITES, labels, [w / profile.write_size for w in written])
    yield Signal(DISK_INFO, {**labels, **_disk_info(device, volume)}, grid.ones)


def _disk_info(device: str, volume: Volume | None) -> dict[str, str]:
    index = ord(device[-1]) - ord("a")  # sda, sdb, … are SCSI disks 8:0, 8:16, …
    info = {"major": "8", "minor": str(16 * index)}
    if volume is None:
        return {**info, "model": "QEMU_HARDDISK"}
    # The Linode volume shows up as /dev/disk/by-id/scsi-0Linode_Volume_<label>.
    return {**info, "model": "Volume", "serial": volume.label}


def _utilisation(profile: IoProfile, grid: Grid, stream: str) -> list[float]:
    """Busy fraction per time: the knob's target, or 100% while saturated, or the baseline
    following traffic."""
    jitter = grid.noise(stream)
    target = grid.knobs.utilisation.get(stream)
    if target is not None:
        return [_clamp(target * (1 - 0.02 * abs(x))) for x in jitter]
    saturated = grid.incident("saturation", stream)
    return [
        1 - 0.02 * abs(x) if hot else _clamp(profile.utilisation * shape * (1 + 0.25 * x))
        for x, hot, shape in zip(jitter, saturated, grid.traffic, strict=True)
    ]


# -- kubelet -------------------------------------------------------------------------------
def kubelet_volumes(platform: Platform, grid: Grid) -> Iterator[Signal]:
    nodes = {node.name: node for node in platform.nodes if node.up}
    for volume in platform.volumes:
        node = nodes.get(volume.node)
        if node is None:
            continue
        labels = {
            **kubelet(node),
            "namespace": volume.namespace,
            "persistentvolumeclaim": volume.claim,
        }
        free = max(0, volume.capacity_bytes - volume.used_bytes)
        yield Signal(VOLUME_CAPACITY, labels, [volume.capacity_bytes] * len(grid.times))
        yield Signal(VOLUME_USED, labels, [volume.used_bytes] * len(grid.times))
        yield Signal(VOLUME_AVAILABLE, labels, [free] * len(grid.times))


# -- ingress-nginx -------------------------------------------------------------------------
# (method, status, share): the mix of answers; the 5xx shares split the error ratio.
ANSWERS = (
    ("GET", "200", 0.885),
    ("GET", "304", 0.05),
    ("GET", "301", 0.01),
    ("GET", "404", 0.025),
    ("POST", "200", 0.03),
)
ERRORS = (("GET", "502", 0.6), ("GET", "503", 0.3), ("POST", "500", 0.1))
BASELINE_ERROR_RATIO = 0.00003  # well inside a 99.99% SLO when nothing is wrong
OUTAGE_ERROR_RATIO = 0.9


def ingress_requests(platform: Platform, grid: Grid) -> Iterator[Signal]:
    controllers = [c for c in platform.controllers if platform.node_up(c.node)]
    shares = sum(ingress.share for ingress in platform.ingresses)
    if not controllers or not shares:
        return
    errors = _error_ratio(grid)
    per_controller = platform.peak_rps * grid.knobs.traffic / len(controllers) / shares
    for c in controllers:
        constant = {
            **controller(c),
            "controller_namespace": c.namespace,
            "controller_class": "k8s.io/ingress-nginx",
            "controller_pod": c.pod,
        }
        for ingress in platform.ingresses:
            jitter = grid.noise(f"{c.pod}/{ingress.namespace}/{ingress.name}")
            scale = per_controller * ingress.share
            rps = [scale * s * (1 + 0.1 * x) for s, x in zip(grid.traffic, jitter, strict=True)]
            labels = {
                **constant,
                "namespace": ingress.namespace,
                "ingress": ingress.name,
                "host": ingress.host,
                "path": ingress.path,
                "service": ingress.service,
            }
            for method, status, share in ANSWERS:
                rates = [r * (1 - e) * share for r, e in zip(rps, errors, strict=True)]
                yield Signal(REQUESTS, {**labels, "method": method, "status": status}, rates)
            for method, status, share in ERRORS:
                rates = [r * e * share for r, e in zip(rps, errors, strict=True)]
                yield Signal(REQUESTS, {**labels, "method": method, "status": status}, rates)


def _error_ratio(grid: Grid) -> list[float]:
    if grid.knobs.error_ratio is not None:
        return [_clamp(grid.knobs.error_ratio)] * len(grid.times)
    down = grid.incident("outage")
    return [max(BASELINE_ERROR_RATIO, OUTAGE_ERROR_RATIO * d) for d in down]


# -- blackbox-exporter ---------------------------------------------------------------------
def probes(platform: Platform, grid: Grid) -> Iterator[Signal]:
    down = [1.0] * len(grid.times) if grid.knobs.probe_failing else grid.incident("outage")
    for url in platform.probes:
        jitter = grid.noise(url)
        # A healthy answer takes a TLS handshake and a page; a 502 comes back at once.
        took = [
            0.02 + 0.005 * x if d else 0.15 * (1 + 0.3 * x)
            for d, x in zip(down, jitter, strict=True)
        ]
        yield Signal(PROBE_SUCCESS, blackbox(url), [0 if d else 1 for d in down])
        yield Signal(PROBE_DURATION, blackbox(url), took)


# -- Crunchy postgres exporter -------------------------------------------------------------
REPLAY_RATE = 2 * 2**20  # bytes of WAL a lagging replica replays per second
SUNDAY_0100 = 3 * DAY + 3600  # the first Sunday 01:00 UTC after the epoch


def postgres(platform: Platform, grid: Grid) -> Iterator[Signal]:
    for cluster in platform.postgres:
        running = [i for i in cluster.instances if platform.node_up(i.node)]
        for instance in running:
            yield from _pg_instance(cluster, instance, running, grid)


def _pg_instance(
    cluster: PgCluster, instance: PgInstance, running: list[PgInstance], grid: Grid
) -> Iterator[Signal]:
    labels = crunchy(cluster, instance)
    n = len(grid.times)
    primary = instance.role == "master"
    yield Signal(IN_RECOVERY, labels, [2 if primary else 1] * n)
    if not primary:
        lag = _lag_bytes(instance, grid)
        jitter = grid.noise(f"{instance.name}/replay")
        replay = [0.5 + 0.4 * x + b / REPLAY_RATE for b, x in zip(lag, jitter, strict=True)]
        yield Signal(REPLAY_TIME, labels, replay)
        return
    yield Signal(REPLAY_TIME, labels, [0.0] * n)
    # The primary reports every streaming replica's lag (pg_stat_replication).
    for replica in running:
        if replica.role == "replica":
            port = str(40000 + zlib.crc32(replica.pod.encode()) % 20000)
            lag_labels = {**labels, "replica": replica.ip, "replica_port": port}
            yield Signal(LAG_BYTES, lag_labels, _lag_bytes(replica, grid))
    backups = [t - _last_full_backup(cluster, t) for t in grid.times]
    yield Signal(BACKUP_AGE, {**labels, "stanza": "db", "repo": "repo1"}, backups)


def _lag_bytes(replica: PgInstance, grid: Grid) -> list[float]:
    target = grid.knobs.replica_lag_bytes.get(replica.name)
    if target is not None:
        return [target] * len(grid.times)
    behind = grid.incident("replica-lag", replica.name)
    # Streaming replicas trail by a few hundred KiB of WAL in flight.
    jitter = grid.noise(f"{replica.name}/lag")
    return [max(b, 131072 * (1 + x)) for b, x in zip(behind, jitter, strict=True)]


def _last_full_backup(cluster: PgCluster, t: float) -> float:
    """When the last full backup before `t` completed: the schedule's, or a manual one."""
    first = SUNDAY_0100 + cluster.full_backup_takes
    done = first + (t - first) // cluster.full_backup_every * cluster.full_backup_every
    manual = cluster.last_full_backup
    return manual if manual is not None and done < manual <= t else done


# -- cert-manager --------------------------------------------------------------------------
def certificates(platform: Platform, grid: Grid) -> Iterator[Signal]:
    for cert in platform.certificates:
        labels = {
            **cert_manager(platform),
            "name": cert.name,
            "namespace": cert.namespace,
            "issuer_name": cert.issuer_name,
            "issuer_kind": cert.issuer_kind,
            "issuer_group": cert.issuer_group,
        }
        period = _renewal_period(cert)
        earlier = [_renewals_since(cert, t, period) for t in grid.times]
        yield Signal(CERT_EXPIRY, labels, [cert.not_after - k * period for k in earlier])
        yield Signal(CERT_RENEWAL, labels, [cert.renewal_time - k * period for k in earlier])
        for condition in ("True", "False", "Unknown"):
            # Earlier certificates were all issued fine; the current one is as it is now.
            before = float(condition == "True")
            current = float(cert.ready == condition)
            values = [before if k else current for k in earlier]
            yield Signal(CERT_READY, {**labels, "condition": condition}, values)


def _renewal_period(cert: Certificate) -> float:
    """How long each certificate served before the next was issued: as long as the current
    one will (at least a day, should its status be odd)."""
    return max(cert.renewal_time - cert.not_before, DAY)


def _renewals_since(cert: Certificate, t: float, period: float) -> int:
    """How many renewals ago the certificate valid at `t` was issued."""
    if t >= cert.not_before:
        return 0
    return math.ceil((cert.not_before - t) / period)


# -- up ------------------------------------------------------------------------------------
def targets_up(platform: Platform, grid: Grid) -> Iterator[Signal]:
    """`up` for every exporter this one stands in for; a down node takes its exporters
    with it."""
    n = len(grid.times)
    up = {node.name: float(node.up) for node in platform.nodes}
    for node in platform.nodes:
        yield Signal(UP, node_exporter(node), [up[node.name]] * n)
        yield Signal(UP, kubelet(node), [up[node.name]] * n)
    for c in platform.controllers:
        yield Signal(UP, controller(c), [up.get(c.node, 0.0)] * n)
    for url in platform.probes:
        yield Signal(UP, blackbox(url), grid.ones)
    for cluster in platform.postgres:
        for instance in cluster.instances:
            yield Signal(UP, crunchy(cluster, instance), [up.get(instance.node, 0.0)] * n)
    yield Signal(UP, cert_manager(platform), grid.ones)


SOURCES: tuple[Callable[[Platform, Grid], Iterator[Signal]], ...] = (
    node_disks,
    kubelet_volumes,
    ingress_requests,
    probes,
    postgres,
    certificates,
    targets_up,
)
