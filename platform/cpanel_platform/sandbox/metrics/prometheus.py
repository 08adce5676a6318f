"""A real Prometheus for the sandbox: the `prometheus` binary from PATH, run as a child
process on 127.0.0.1, scraping the metrics exporter, its TSDB in the sandbox's state
directory (where the history's blocks are put before it starts).

The exporter stands in for many exporters and sets each series' own `job` and `instance`,
so the one scrape job keeps them (`honor_labels`). Prometheus adds its own
`up{job="cpanel-sandbox-exporter"}` for the exporter itself. It loads the platform's alerting
rules (alert_rules.py) from rules.yml beside prometheus.yml, so `ALERTS` is as in production.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml

from .alert_rules import rule_groups

SCRAPE_JOB = "cpanel-sandbox-exporter"
RETENTION = "400d"  # far beyond the backfill, so Prometheus never drops the history


class PrometheusError(Exception):
    """A Prometheus problem worth a one-line message."""


@dataclass(frozen=True)
class Binaries:
    prometheus: str
    promtool: str


def find_binaries() -> Binaries:
    prometheus, promtool = shutil.which("prometheus"), shutil.which("promtool")
    if prometheus is None or promtool is None:
        missing = [n for n, p in (("prometheus", prometheus), ("promtool", promtool)) if not p]
        raise PrometheusError(
            f"{' and '.join(missing)} not found on PATH: install Prometheus "
            "(`apt-get install prometheus`; `make demo` and `make test` do it)"
        )
    return Binaries(prometheus, promtool)


def scrape_config(
    targets: Sequence[str], interval: float, rule_files: Sequence[str] = ()
) -> dict[str, Any]:
    def duration(seconds: float) -> str:
        return f"{round(seconds * 1000)}ms"  # Prometheus durations take no fractions

    return {
        "global": {
            "scrape_interval": duration(interval),
            "scrape_timeout": duration(min(interval, 10.0)),  # may not exceed the interval
            "evaluation_interval": duration(interval),
        },
        "rule_files": list(rule_files),
        "scrape_configs": [
            {
                "job_name": SCRAPE_JOB,
                "honor_labels": True,
                "static_configs": [{"targets": list(targets)}],
            }
        ],
    }


class Prometheus:
    """Prometheus with its files under `root`: data/, prometheus.yml, prometheus.log."""

    def __init__(self, root: Path, binaries: Binaries | None = None) -> None:
        self.root = root
        self.binaries = binaries or find_binaries()
        self.url = ""
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def rules_file(self) -> Path:
        return self.root / "rules.yml"

    @property
    def log_file(self) -> Path:
        return self.root / "prometheus.log"

    @property
    def _pid_file(self) -> Path:
        return self.root / "prometheus.pid"

    def clear_data(self) -> None:
        """Start the TSDB afresh (the history is backfilled anew at every start)."""
        self._stop_leftover()
        shutil.rmtree(self.data_dir, ignore_errors=True)

    def start(
        self,
        targets: Sequence[str],
        *,
        scrape_interval: float = 15.0,
        port: int = 0,
        timeout: float = 30.0,
    ) -> str:
        """Start scraping `targets` (host:port); returns the URL once Prometheus is ready.
        Port 0 picks a free one."""
        self._stop_leftover()
        self.root.mkdir(parents=True, exist_ok=True)
        config = self.root / "prometheus.yml"
        self.rules_file.write_text(yaml.safe_dump(rule_groups(), sort_keys=False))
        config.write_text(
            yaml.safe_dump(scrape_config(targets, scrape_interval, [str(self.rules_file)]))
        )
        port = port or _free_port()
        self.url = f"http://127.0.0.1:{port}"
        command = [
            self.binaries.prometheus,
            f"--config.file={config}",
            f"--storage.tsdb.path={self.data_dir}",
            f"--storage.tsdb.retention.time={RETENTION}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--web.enable-lifecycle",
        ]
        with self.log_file.open("ab") as log:
            self._process = subprocess.Popen(
                command,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # a Ctrl-C in the terminal is for the sandbox to handle
            )
        self._pid_file.write_text(str(self._process.pid))
        self._wait_ready(timeout)
        return self.url

    def stop(self, timeout: float = 10.0) -> None:
        if self._process is None:
            return
        self._process.terminate()  # Prometheus shuts its TSDB down cleanly on SIGTERM
        try:
            self._process.wait(timeout)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._process = None
        self._pid_file.unlink(missing_ok=True)

    def _wait_ready(self, timeout: float) -> None:
        assert self._process is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                self._process = None
                raise PrometheusError(f"prometheus exited during start-up: {self._last_log_line()}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.url}/-/ready", timeout=1.0).status_code == 200:
                    return
            time.sleep(0.1)
        self.stop()
        raise PrometheusError(
            f"prometheus was not ready within {timeout:.0f}s; see {self.log_file}"
        )

    def _last_log_line(self) -> str:
        lines = self.log_file.read_text(errors="replace").strip().splitlines()
        return lines[-1] if lines else f"no output; see {self.log_file}"

    def _stop_leftover(self) -> None:
        """A Prometheus left running by a sandbox that died holds the TSDB; end it."""
        try:
            pid = int(self._pid_file.read_text())
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except (FileNotFoundError, ValueError):
            self._pid_file.unlink(missing_ok=True)
            return
        if f"--storage.tsdb.path={self.data_dir}".encode() in cmdline:
            os.kill(pid, signal.SIGTERM)
            _wait_gone(pid, 10.0)
        self._pid_file.unlink(missing_ok=True)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_gone(pid: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while Path(f"/proc/{pid}").exists():
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            return
        time.sleep(0.05)
