"""Finding and configuring Prometheus, without running it."""

from __future__ import annotations

import pytest
from cpanel_platform.sandbox.metrics import PrometheusError, find_binaries
from cpanel_platform.sandbox.metrics.prometheus import SCRAPE_JOB, scrape_config


def test_a_missing_prometheus_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "")
    with pytest.raises(PrometheusError, match=r"prometheus and promtool not found.*apt-get"):
        find_binaries()


def test_the_one_scrape_job_keeps_the_exporters_own_job_and_instance() -> None:
    config = scrape_config(["127.0.0.1:9100"], interval=1.0)
    assert config["global"]["scrape_interval"] == "1000ms"
    assert config["global"]["scrape_timeout"] == "1000ms"  # never longer than the interval
    [job] = config["scrape_configs"]
    assert job["job_name"] == SCRAPE_JOB
    assert job["honor_labels"] is True
    assert job["static_configs"] == [{"targets": ["127.0.0.1:9100"]}]
    assert scrape_config([], interval=15.0)["global"]["scrape_timeout"] == "10000ms"
