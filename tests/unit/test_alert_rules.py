"""The sandbox Prometheus's alerting rules: valid for promtool, loaded by the generated
config, and firing where the SRE workbook and the exporters' mixins say (promtool's own rule
unit tests, on synthetic series)."""

from __future__ import annotations

import copy
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from cpanel_platform.sandbox.metrics.alert_rules import BURN_RATE_ALERTS, rule_groups
from cpanel_platform.sandbox.metrics.prometheus import (
    Prometheus,
    PrometheusError,
    find_binaries,
    scrape_config,
)

MIB = 2**20


@pytest.fixture(scope="module")
def promtool() -> str:
    try:
        return find_binaries().promtool
    except PrometheusError as err:
        pytest.skip(str(err))


def _alerts() -> list[dict[str, Any]]:
    return [r for g in rule_groups()["groups"] for r in g["rules"] if "alert" in r]


def test_promtool_accepts_the_rules(promtool: str, tmp_path: Path) -> None:
    rules = tmp_path / "rules.yml"
    rules.write_text(yaml.safe_dump(rule_groups(), sort_keys=False))
    checked = subprocess.run(
        [promtool, "check", "rules", str(rules)], capture_output=True, text=True, timeout=30
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert f"SUCCESS: {sum(len(g['rules']) for g in rule_groups()['groups'])} rules" in (
        checked.stdout
    )


def test_every_alert_has_a_severity_and_the_expected_names() -> None:
    alerts = _alerts()
    assert {a["labels"]["severity"] for a in alerts} == {"critical", "warning"}
    assert {a["alert"] for a in alerts} == {
        "IngressErrorBudgetBurn",
        "PostgresReplicationLagHigh",
        "CertificateNotReady",
        "CertificateExpiringSoon",
        "VolumeIOSaturated",
        "ProbeFailing",
    }
    burn = [a for a in alerts if a["alert"] == "IngressErrorBudgetBurn"]
    assert [(a["labels"]["long"], a["labels"]["short"]) for a in burn] == [
        (long, short) for long, short, *_ in BURN_RATE_ALERTS
    ]


def test_the_generated_config_loads_the_rules_file(tmp_path: Path) -> None:
    config = scrape_config(["127.0.0.1:9100"], 15.0, [str(tmp_path / "rules.yml")])
    assert config["rule_files"] == [str(tmp_path / "rules.yml")]
    assert Prometheus(tmp_path, find_binaries()).rules_file == tmp_path / "rules.yml"


def _series(metric: str, values: str, **labels: str) -> dict[str, str]:
    inner = ",".join(f'{k}="{v}"' for k, v in labels.items())
    return {"series": f"{metric}{{{inner}}}", "values": values}


def _expect(at: str, alert: str, *labels: dict[str, str]) -> dict[str, Any]:
    return {"eval_time": at, "alertname": alert, "exp_alerts": [{"exp_labels": x} for x in labels]}


def test_the_alerts_fire_at_their_thresholds(promtool: str, tmp_path: Path) -> None:
    # Annotations are checked by `check rules`; here only expressions, `for` and labels.
    groups = copy.deepcopy(rule_groups())
    for group in groups["groups"]:
        for rule in group["rules"]:
            rule.pop("annotations", None)
    rules = tmp_path / "rules.yml"
    rules.write_text(yaml.safe_dump(groups, sort_keys=False))
    requests = "nginx_ingress_controller_requests"
    page_fast = {"severity": "critical", "long": "1h", "short": "5m"}
    page_slow = {"severity": "critical", "long": "6h", "short": "30m"}
    lag = {"replica": "10.2.0.32", "pg_cluster": "app:db"}
    tests = {
        "rule_files": [str(rules)],
        "evaluation_interval": "1m",
        "tests": [
            {  # 2% of requests fail: far past 14.4x a 0.01% budget
                "interval": "1m",
                "input_series": [
                    _series(requests, "0+1000x60", status="200"),
                    _series(requests, "0+20x60", status="503"),
                ],
                "alert_rule_test": [
                    _expect("1m", "IngressErrorBudgetBurn"),  # pending for 2m first
                    _expect("10m", "IngressErrorBudgetBurn", page_fast),
                    _expect("30m", "IngressErrorBudgetBurn", page_fast, page_slow),
                ],
            },
            {  # 0.01% fail: within budget, no alert
                "interval": "1m",
                "input_series": [
                    _series(requests, "0+10000x60", status="200"),
                    _series(requests, "0+1x60", status="500"),
                ],
                "alert_rule_test": [_expect("59m", "IngressErrorBudgetBurn")],
            },
            {
                "interval": "15s",
                "input_series": [
                    _series("ccp_replication_lag_size_bytes", f"{160 * MIB}x20", **lag),
                    _series("probe_success", "1 1 0x20", instance="https://example.com/"),
                    _series(
                        "certmanager_certificate_ready_status",
                        "1x300",
                        name="web-tls",
                        namespace="app",
                        condition="False",
                    ),
                    _series(
                        "certmanager_certificate_expiration_timestamp_seconds",
                        f"{3 * 86400}x300",  # promtool's clock starts at 0: 3 days left
                        name="web-tls",
                        namespace="app",
                    ),
                    _series(
                        "node_disk_io_time_seconds_total",
                        "0+15x80",  # busy the whole time: rate 1.0
                        device="sdc",
                        instance="node-1",
                    ),
                ],
                "alert_rule_test": [
                    _expect(
                        "2m",
                        "PostgresReplicationLagHigh",
                        {**lag, "severity": "critical"},
                        {**lag, "severity": "warning"},
                    ),
                    _expect("30s", "ProbeFailing"),
                    _expect(
                        "2m",
                        "ProbeFailing",
                        {"instance": "https://example.com/", "severity": "critical"},
                    ),
                    _expect("9m", "CertificateNotReady"),
                    _expect(
                        "11m",
                        "CertificateNotReady",
                        {
                            "name": "web-tls",
                            "namespace": "app",
                            "condition": "False",
                            "severity": "critical",
                        },
                    ),
                    _expect("59m", "CertificateExpiringSoon"),
                    _expect(
                        "61m",
                        "CertificateExpiringSoon",
                        {"name": "web-tls", "namespace": "app", "severity": "warning"},
                    ),
                    _expect("5m", "VolumeIOSaturated"),
                    _expect(
                        "16m",
                        "VolumeIOSaturated",
                        {"device": "sdc", "instance": "node-1", "severity": "warning"},
                    ),
                ],
            },
        ],
    }
    spec = tmp_path / "tests.yml"
    spec.write_text(yaml.safe_dump(tests, sort_keys=False))
    tested = subprocess.run(
        [promtool, "test", "rules", str(spec)], capture_output=True, text=True, timeout=30
    )
    assert tested.returncode == 0, tested.stdout + tested.stderr
