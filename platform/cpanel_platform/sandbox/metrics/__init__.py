"""The sandbox's metrics: a real Prometheus scraping an exporter that publishes what the
platform's real exporters would, over months of backfilled history.

    telemetry = Telemetry(default_platform(time.time()), seed=0)  # or a Platform of your own
    prometheus = Prometheus(state_dir / "prometheus")
    prometheus.clear_data()
    backfill(telemetry, prometheus.data_dir, days=90)  # history up to now, counters at now
    exporter = MetricsExporter(telemetry)
    asyncio.create_task(exporter.serve(sock, ready))   # sock from serving.listen()
    prometheus.start([f"127.0.0.1:{port}"])            # returns the URL once ready
    telemetry.turn(utilisation={media.label: 1.0})      # an incident, from now on
    ...
    prometheus.stop(); exporter.stop()

model.py holds the plain data (the platform, knobs, incidents), signals.py the baseline
dynamics per exporter, telemetry.py the counters and samples, history.py the backfill,
exporter.py the /metrics endpoint and prometheus.py the child process.
"""

from .exporter import MetricsExporter
from .history import Backfill, backfill, plan_incidents
from .model import (
    Certificate,
    Incident,
    Ingress,
    IngressController,
    Knobs,
    Node,
    PgCluster,
    PgInstance,
    Platform,
    Volume,
    default_platform,
)
from .prometheus import Prometheus, PrometheusError, find_binaries
from .telemetry import Sample, Telemetry

__all__ = [
    "Backfill",
    "Certificate",
    "Incident",
    "Ingress",
    "IngressController",
    "Knobs",
    "MetricsExporter",
    "Node",
    "PgCluster",
    "PgInstance",
    "Platform",
    "Prometheus",
    "PrometheusError",
    "Sample",
    "Telemetry",
    "Volume",
    "backfill",
    "default_platform",
    "find_binaries",
    "plan_incidents",
]
