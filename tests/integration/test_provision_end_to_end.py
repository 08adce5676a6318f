"""`cpanel plan` and `cpanel up` from an empty sandbox account to a running platform, as a user
runs them: the `cpanel` command, with the environment `cpanel sandbox env` prints.

The tests run in order on one sandbox: plan on the empty account; `up` killed after creating
the cluster and again mid-components, then run to the end; a second `up` that writes nothing;
drift made with kubectl, seen by `plan` and undone by `up`.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cpanel.app import CpanelApp
from cpanel_platform import config
from cpanel_platform.provision.template import TEMPLATE
from cpanel_platform.sandbox import runner
from cpanel_platform.session import Session
from textual.widgets import Static

from tests.conftest import Sandbox, start_sandbox
from tests.tui.conftest import SIZE, rows, text_of, until

CPANEL = str(Path(sys.executable).parent / "cpanel")
SPEED = 10.0  # machines boot ten times faster than on LKE


@dataclass
class Platform:
    box: Sandbox
    spec: Path
    env: dict[str, str]

    def cpanel(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [CPANEL, *args, "-f", str(self.spec)], capture_output=True, text=True,
            timeout=timeout, env=self.env, stdin=subprocess.DEVNULL,
        )

    def up_until(self, text: str, timeout: float = 240) -> str:
        """Run `cpanel up --yes`, and kill it (SIGKILL: no clean-up) once `text` is printed."""
        proc = subprocess.Popen(
            [CPANEL, "up", "--yes", "-f", str(self.spec)], stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True, env=self.env, stdin=subprocess.DEVNULL,
        )
        assert proc.stdout is not None
        seen = []
        deadline = time.monotonic() + timeout
        for line in proc.stdout:
            seen.append(line)
            if text in line or time.monotonic() > deadline:
                break
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        output = "".join(seen)
        assert text in output, output
        return output

    def labels(self) -> list[str]:
        return [c["label"] for c in self.box.linode_cli("lke", "clusters-list")]


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    state = tmp_path_factory.mktemp("empty-sandbox")
    box = start_sandbox(state, speed=SPEED, history_days=0, empty=True)
    home = tmp_path_factory.mktemp("home")
    spec = home / "platform.yaml"
    spec.write_text(TEMPLATE)
    env = {
        **os.environ, **box.env, "HOME": str(home), "XDG_CACHE_HOME": str(home / "cache"),
        "XDG_CONFIG_HOME": str(home / "config"),
    }
    yield Platform(box, spec, env)
    runner.stop(state)


def test_plan_on_an_empty_account_lists_everything(platform: Platform) -> None:
    assert platform.labels() == []
    proc = platform.cpanel("plan")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    out = proc.stdout
    assert "+ create-cluster cluster prod: us-east, Kubernetes 1.36, HA control plane" in out
    assert "the cluster does not exist yet" in out
    for component in ("ingress_nginx", "external_dns", "cert_manager", "postgres", "keel",
                      "monitoring", "cert_sync"):
        assert f"  {component} " in out
    assert "+ PostgresCluster app/db" in out
    assert "+ Certificate app/wildcard-example-com" in out
    assert platform.labels() == []  # a plan changes nothing


def test_up_killed_twice_then_run_again_converges(platform: Platform) -> None:
    # Killed right after the cluster is created: the next run finds it by its label.
    platform.up_until("created LKE cluster prod")
    assert platform.labels() == ["prod"]
    # Killed in the middle of the components.
    output = platform.up_until("postgres       Namespace postgres-operator created")
    assert "created LKE cluster" not in output
    assert "ingress_nginx  healthy" in output

    started = time.monotonic()
    proc = platform.cpanel("up", "--yes")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "created LKE cluster" not in proc.stdout
    assert "Namespace ingress-nginx created" not in proc.stdout  # applied before the kill
    assert "Done." in proc.stdout
    print(f"up after two kills: {time.monotonic() - started:.1f} s")

    # One of everything: one cluster, the pool's three Linodes, one database of two.
    assert platform.labels() == ["prod"]
    linodes = platform.box.linode_cli("linodes", "list")
    assert len(linodes) == 3
    box = platform.box
    context = ["--context", _context(platform)]
    assert len(box.json("get", "postgresclusters", "-A", *context)["items"]) == 1
    db = box.json("get", "pods", "-n", "app", "-l",
                  "postgres-operator.crunchydata.com/data=postgres", *context)["items"]
    assert len(db) == 2 and all(p["status"]["phase"] == "Running" for p in db)
    [cert] = box.json("get", "certificates", "-n", "app", *context)["items"]
    assert {c["type"]: c["status"] for c in cert["status"]["conditions"]}["Ready"] == "True"
    nodes = box.json("get", "nodes", *context)["items"]
    assert len(nodes) == 3 and all(n["status"]["nodeInfo"]["kubeletVersion"].startswith("v1.36")
                                   for n in nodes)

    plan = platform.cpanel("plan")
    assert plan.returncode == 0, plan.stdout + plan.stderr
    assert "No changes." in plan.stdout


def _context(platform: Platform) -> str:
    proc = platform.box.kubectl("config", "current-context")
    name = proc.stdout.strip()
    assert name.startswith("lke") and name.endswith("-ctx"), name
    return name


def _dashboard(platform: Platform, monkeypatch: pytest.MonkeyPatch) -> CpanelApp:
    """The dashboard on the new cluster's context, as `cpanel` run in that shell would be."""
    for name in ("LINODE_TOKEN", "LINODE_API_URL", "CPANEL_MIRROR_URL", "CPANEL_MIRROR_CA",
                 "XDG_CACHE_HOME"):
        monkeypatch.setenv(name, platform.env[name])
    settings = config.Settings(platform_file=str(platform.spec), slo={"sli": "probe"})
    kubeconfig = str(platform.box.kubeconfig)
    session = Session(settings, kubeconfig=kubeconfig, context=_context(platform),
                      env=platform.env)
    return CpanelApp(settings, kubeconfig=kubeconfig, namespace="", session=session)


async def test_the_dashboard_shows_the_platform_healthy(
    platform: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = _dashboard(platform, monkeypatch)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("colon", *"certs", "enter")
        await until(lambda: rows(app) == ["app/wildcard-example-com"], timeout=20)
        assert [row.data.ready for row in app.pane.table.rows] == ["True"]

        await pilot.press("colon", *"pg", "enter")
        roles = lambda: sorted(row.data[1].role for row in app.pane.table.rows)  # noqa: E731
        await until(lambda: roles() == ["primary", "replica"], timeout=20)

        # The blackbox exporter probes the file's target: the SLI is from probes, all good.
        header = app.query_one("#header", Static)
        await until(lambda: "100.000%" in text_of(header), timeout=90)
        assert "none firing" in text_of(header)

        await pilot.press("colon", *"platform", "enter")
        await until(lambda: len(rows(app)) == 8, timeout=30)
        health = {row.key: str(row.cells[3]) for row in app.pane.table.rows}
        assert health.pop("!cluster") == "ready"
        assert set(health.values()) == {"healthy"}, health


def test_a_second_up_writes_nothing_and_takes_seconds(platform: Platform) -> None:
    _, kube_from = platform.box.requests("kubernetes")
    _, linode_from = platform.box.requests("linode")
    started = time.monotonic()
    proc = platform.cpanel("up", "--yes")
    took = time.monotonic() - started
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "No changes." in proc.stdout
    assert took < 10, took
    kube, _ = platform.box.requests("kubernetes", kube_from)
    linode, _ = platform.box.requests("linode", linode_from)
    writes = [r for r in kube if r["method"] not in ("GET", "HEAD") and not r["dry_run"]
              and r["user"] != "system:sandbox-actors"]
    assert writes == []
    assert [r for r in linode if r["method"] != "GET"] == []
    assert any(r["dry_run"] for r in kube)  # it did compare every object
    print(f"second up: {took:.1f} s, {len(kube)} Kubernetes and {len(linode)} Linode requests")


def test_drift_shows_in_the_plan_and_up_restores_it(platform: Platform) -> None:
    context = ["--context", _context(platform)]
    platform.box.kubectl("scale", "deployment", "keel", "-n", "keel", "--replicas=3", *context)
    plan = platform.cpanel("plan")
    assert plan.returncode == 2, plan.stdout + plan.stderr
    assert "~ Deployment keel/keel (changed outside cpanel)" in plan.stdout
    assert "spec.replicas: 3 → 1" in plan.stdout

    proc = platform.cpanel("up", "--yes")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Deployment keel/keel updated (spec.replicas)" in proc.stdout
    deployment = platform.box.json("get", "deployment", "keel", "-n", "keel", *context)
    assert deployment["spec"]["replicas"] == 1
    assert platform.cpanel("plan").returncode == 0


async def test_drift_shows_in_the_platform_pane(
    platform: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    context = ["--context", _context(platform)]
    platform.box.kubectl("scale", "deployment", "keel", "-n", "keel", "--replicas=2", *context)
    app = _dashboard(platform, monkeypatch)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("colon", *"platform", "enter")
        drift = lambda: {row.key: str(row.cells[4]) for row in app.pane.table.rows}  # noqa: E731
        await until(lambda: drift().get("keel") == "1 (spec.replicas)", timeout=30)
        assert drift()["monitoring"] == "-"
    assert platform.cpanel("up", "--yes").returncode == 0
