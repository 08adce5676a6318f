"""The metrics model: every series the sandbox's exporters publish, counters that only move
forward at the rates the model sets, knobs, determinism by seed, and the history's
incidents."""

from __future__ import annotations

import io
from collections.abc import Iterable
from itertools import pairwise
from typing import TypeVar

import pytest
from cpanel_platform.sandbox.metrics import Telemetry, default_platform, plan_incidents
from cpanel_platform.sandbox.metrics.history import (
    COARSE_STEP,
    STEP,
    grid,
    history_grid,
    write_openmetrics,
)
from cpanel_platform.sandbox.metrics.model import DAY
from cpanel_platform.sandbox.metrics.telemetry import Sample, Series, series_key
from prometheus_client.openmetrics.parser import text_string_to_metric_families

from tests.metric_families import FAMILIES as METRIC_FAMILIES

NOW = 1_790_000_000.0  # 2026-09-21 14:13 UTC, a Monday afternoon
MIB = 2**20
T = TypeVar("T", Series, Sample)

FAMILIES = {
    *METRIC_FAMILIES,
    "up",
}


class Clock:
    def __init__(self, t: float) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def make(seed: int = 0, clock: Clock | None = None) -> Telemetry:
    return Telemetry(default_platform(NOW), seed, clock or Clock(NOW))


def pick(series: Iterable[Series], name: str, **labels: str) -> list[Series]:
    return [
        s for s in series if s.family.sample_name == name and labels.items() <= s.labels.items()
    ]


def one_minute_at(telemetry: Telemetry, t: float) -> list[Series]:
    """Every series at `t`, counters holding one minute's worth of the rates at `t`."""
    telemetry.restore(t - 60, {})
    return telemetry.record([t])


def error_ratio(series: list[Series]) -> float:
    requests = pick(series, "nginx_ingress_controller_requests")
    errors = sum(s.values[-1] for s in requests if s.labels["status"].startswith("5"))
    return errors / sum(s.values[-1] for s in requests)


def test_a_sample_holds_every_family_with_its_exporters_labels() -> None:
    samples = make().sample(NOW)
    assert {s.name for s in samples} == FAMILIES
    jobs = {s.labels["job"] for s in samples}
    assert jobs == {
        "node-exporter",
        "kubelet",
        "ingress-nginx-controller-metrics",
        "blackbox",
        "crunchy-postgres-exporter",
        "cert-manager",
    }
    assert all("instance" in s.labels for s in samples)


def test_node_disk_info_ties_each_volume_to_its_device_and_claim() -> None:
    telemetry = make()
    samples = telemetry.sample(NOW)
    for volume in telemetry.platform.volumes:
        [info] = [
            s
            for s in samples
            if s.name == "node_disk_info" and s.labels.get("serial") == volume.label
        ]
        assert (info.labels["instance"], info.labels["device"]) == (volume.node, volume.device)
        [used] = [
            s
            for s in samples
            if s.name == "kubelet_volume_stats_used_bytes"
            and s.labels["persistentvolumeclaim"] == volume.claim
        ]
        assert used.labels["namespace"] == volume.namespace
        assert used.labels["node"] == volume.node
        assert used.value == volume.used_bytes


def test_counters_only_go_forward_and_disks_are_never_more_than_busy() -> None:
    telemetry = make()
    telemetry.restore(NOW - DAY, {})
    series = telemetry.record(grid(NOW - DAY, NOW, STEP))
    for s in series:
        if s.family.cumulative:
            assert all(b >= a for a, b in pairwise(s.values)), s.key
    for busy in pick(series, "node_disk_io_time_seconds_total"):
        steps = [b - a for a, b in pairwise(busy.values)]
        assert max(steps) <= STEP and min(steps) > 0
        [queue] = pick(series, "node_disk_io_time_weighted_seconds_total", **busy.labels)
        assert queue.values[-1] >= busy.values[-1]  # a busy disk has a queue of at least one


def test_the_utilisation_knob_sets_the_rate_of_busy_time() -> None:
    clock = Clock(NOW)
    telemetry = make(clock=clock)
    media = telemetry.platform.volume_for_claim("web", "media")
    device = {"instance": media.node, "device": media.device}
    telemetry.restore(NOW, {})
    telemetry.turn(utilisation={media.label: 1.0})
    later = telemetry.sample(NOW + 60)
    [busy] = pick(later, "node_disk_io_time_seconds_total", **device)
    assert 0.95 * 60 <= busy.value <= 60
    others = [s for s in pick(later, "node_disk_io_time_seconds_total") if s is not busy]
    assert all(s.value < 0.5 * 60 for s in others)


def test_a_knob_acts_from_the_moment_it_is_turned() -> None:
    clock = Clock(NOW)
    telemetry = make(clock=clock)
    media = telemetry.platform.volume_for_claim("web", "media")
    device = {"instance": media.node, "device": media.device}
    telemetry.restore(NOW, {})
    clock.t = NOW + 30
    telemetry.turn(utilisation={media.label: 1.0})
    [busy] = pick(telemetry.sample(NOW + 60), "node_disk_io_time_seconds_total", **device)
    assert 30 * 0.98 < busy.value < 30 + 30 * 0.3  # half a minute of baseline, then 100%


def test_the_same_seed_gives_the_same_series_and_another_seed_other_noise() -> None:
    times = grid(NOW - 3600, NOW, STEP)

    def run(seed: int) -> dict[str, list[float]]:
        telemetry = make(seed)
        telemetry.restore(NOW - 3600, {})
        return {s.key: s.values for s in telemetry.record(times)}

    assert run(5) == run(5)
    assert run(5) != run(6)
    assert run(5).keys() == run(6).keys()


def test_live_scrapes_continue_the_historys_counters() -> None:
    telemetry = make()
    telemetry.restore(NOW - 3600, {})
    history = {s.key: s.values[-1] for s in telemetry.record(grid(NOW - 3600, NOW, STEP))}
    live = telemetry.sample(NOW + 15)
    for sample in live:
        if sample.family.cumulative:
            assert sample.value >= history[series_key(sample.name, sample.labels)]
    for busy in (s for s in live if s.name == "node_disk_io_time_seconds_total"):
        moved = busy.value - history[series_key(busy.name, busy.labels)]
        assert 0 < moved < 15 * 0.5  # a quarter minute more of a quiet disk's busy time


def test_ninety_days_of_history_hold_the_planned_incidents() -> None:
    telemetry = make()
    platform = telemetry.platform
    start, end = NOW // DAY * DAY - 90 * DAY, NOW // DAY * DAY
    plan = telemetry.incidents = plan_incidents(platform, telemetry.seed, start, end)
    assert plan == plan_incidents(platform, telemetry.seed, start, end)
    assert all(start <= i.start < i.end <= end for i in plan)
    outages = [i for i in plan if i.kind == "outage"]
    micro = [i for i in outages if i.end - i.start <= 120]
    [long] = [i for i in outages if i not in micro]
    assert len(micro) == 50
    assert 30 * 60 <= long.end - long.start <= 60 * 60
    for outage in outages:
        now = one_minute_at(telemetry, outage.start)
        assert [s.values[0] for s in pick(now, "probe_success")] == [0]
        assert error_ratio(now) > 0.5

    media = platform.volume_for_claim("web", "media")
    [hot] = [i for i in plan if i.kind == "saturation"]
    assert hot.target == media.label
    now = one_minute_at(telemetry, hot.start + 3600)
    [busy] = pick(now, "node_disk_io_time_seconds_total", device=media.device, instance=media.node)
    assert busy.values[0] >= 0.95 * 60

    [lag] = [i for i in plan if i.kind == "replica-lag"]
    worst = lag.start + 0.7 * (lag.end - lag.start)
    [behind] = pick(one_minute_at(telemetry, worst), "ccp_replication_lag_size_bytes")
    assert behind.values[0] > 100 * MIB
    assert behind.labels["role"] == "master"  # the primary reports its replicas' lag

    quiet = one_minute_at(telemetry, long.end + 3600)
    assert [s.values[0] for s in pick(quiet, "probe_success")] == [1]
    assert error_ratio(quiet) < 0.001
    [calm] = pick(quiet, "ccp_replication_lag_size_bytes")
    assert calm.values[0] < 50 * MIB


def test_the_history_is_sampled_every_minute_for_thirty_days_and_every_two_before() -> None:
    times = history_grid(NOW - 90 * DAY, NOW)
    steps = [b - a for a, b in pairwise(times)]
    assert times[-1] == NOW
    assert set(steps[: 60 * 720 - 1]) == {COARSE_STEP}
    assert set(steps[-30 * 1440 :]) == {STEP}


def test_the_history_is_valid_openmetrics() -> None:
    telemetry = make()
    telemetry.restore(NOW - 3600, {})
    times = grid(NOW - 3600, NOW, STEP)
    out = io.StringIO()
    count = write_openmetrics(telemetry.record(times), times, out)
    families = {f.name: f for f in text_string_to_metric_families(out.getvalue())}
    assert families["node_disk_io_time_seconds"].type == "counter"
    assert families["nginx_ingress_controller_requests"].type == "unknown"
    assert {s.name for f in families.values() for s in f.samples} == FAMILIES
    assert (
        count == sum(len(f.samples) for f in families.values()) == 60 * len(telemetry.sample(NOW))
    )
    assert out.getvalue().endswith("# EOF\n")


def test_backups_age_on_schedule_and_a_manual_backup_resets_the_age() -> None:
    telemetry = make()
    sunday = NOW // DAY * DAY - DAY  # NOW is a Monday
    done = sunday + 3600 + 20 * 60  # the weekly full backup starts at 01:00 and takes 20 min

    def age(t: float) -> float:
        [s] = pick(
            one_minute_at(telemetry, t),
            "ccp_backrest_last_full_backup_time_since_completion_seconds",
        )
        return s.values[0]

    assert age(done + 3600) == 3600
    assert age(done - 60) == 7 * DAY - 60
    telemetry.platform.postgres[0].last_full_backup = done + 7200
    assert age(done + 7300) == 100


def test_certificates_were_renewed_before_the_current_one() -> None:
    telemetry = make()
    [cert] = telemetry.platform.certificates
    period = cert.renewal_time - cert.not_before

    def expiry(t: float) -> float:
        [s] = pick(
            one_minute_at(telemetry, t), "certmanager_certificate_expiration_timestamp_seconds"
        )
        return s.values[0]

    assert expiry(NOW) == cert.not_after
    assert expiry(cert.not_before - 60) == cert.not_after - period
    ready = pick(telemetry.record([NOW + 60]), "certmanager_certificate_ready_status")
    assert {s.labels["condition"]: s.values[0] for s in ready} == {
        "True": 1,
        "False": 0,
        "Unknown": 0,
    }


def test_a_down_node_takes_its_exporters_with_it() -> None:
    telemetry = make()
    node = telemetry.platform.nodes[1]
    node.up = False
    samples = telemetry.sample(NOW)
    assert not [s for s in samples if s.labels.get("instance") == node.name and s.name != "up"]
    assert not [s for s in samples if s.labels.get("node") == node.name and s.name != "up"]
    down = {
        (s.labels["job"], s.labels["instance"]) for s in samples if s.name == "up" and s.value == 0
    }
    assert ("node-exporter", node.name) in down
    assert ("kubelet", f"{node.ip}:10250") in down
    assert len(down) == 4  # node-exporter, kubelet, its ingress controller, its Postgres


@pytest.mark.parametrize("days", [1, 2, 90])
def test_every_history_has_each_kind_of_incident(days: int) -> None:
    platform = default_platform(NOW)
    plan = plan_incidents(platform, 0, NOW - days * DAY, NOW)
    assert {i.kind for i in plan} == {"outage", "saturation", "replica-lag"}
