"""`cpanel sandbox …` as a user runs it: status, env, a second up, and incidents."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

from tests.conftest import Sandbox
from tests.waiting import wait_for

CPANEL = str(Path(sys.executable).parent / "cpanel")


def cpanel(box: Sandbox, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CPANEL, "sandbox", *args, "--state-dir", str(box.state_dir)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "COLUMNS": "200"},
    )


def test_status_env_and_a_second_up(fresh_sandbox) -> None:
    box: Sandbox = fresh_sandbox(speed=8)
    status = cpanel(box, "status")
    assert status.returncode == 0, status.stderr
    for part in (
        "kubernetes-api",
        "linode-api",
        "release-mirror",
        "kubelets",
        "cloud-controller-manager",
    ):
        assert part in status.stderr
    exports = dict(
        shlex.split(line.removeprefix("export "))[0].split("=", 1)
        for line in cpanel(box, "env").stdout.splitlines()
    )
    assert set(exports) >= {
        "KUBECONFIG",
        "LINODE_TOKEN",
        "LINODE_API_URL",
        "LINODE_CLI_TOKEN",
        "LINODE_CLI_API_HOST",
        "LINODE_CLI_API_SCHEME",
        "CPANEL_MIRROR_URL",
        "CPANEL_MIRROR_CA",
    }
    again = cpanel(box, "up", "--detach")
    assert again.returncode != 0 and "already runs" in again.stderr


def test_incidents_start_show_and_end(fresh_sandbox) -> None:
    box: Sandbox = fresh_sandbox(speed=8)
    listing = cpanel(box, "incident").stderr
    assert "node-loss" in listing and "apiserver-flap" in listing
    unknown = cpanel(box, "incident", "meteor-strike")
    assert unknown.returncode == 1 and "no incident called 'meteor-strike'" in unknown.stderr

    assert cpanel(box, "incident", "apiserver-flap").returncode == 0
    refused = wait_for(
        lambda: (r := box.kubectl("get", "nodes", check=False)).returncode != 0 and r
    )
    assert "ServiceUnavailable" in refused.stderr or "unable to handle" in refused.stderr
    assert "apiserver-flap" in cpanel(box, "status").stderr
    assert cpanel(box, "incident", "apiserver-flap", "--stop").returncode == 0
    box.kubectl("get", "nodes")

    before = {n["metadata"]["name"] for n in box.json("get", "nodes")["items"]}
    assert cpanel(box, "incident", "recycle-all-at-once").returncode == 0
    after = wait_for(
        lambda: (
            (names := {n["metadata"]["name"] for n in box.json("get", "nodes")["items"]})
            and len(names) == 3
            and not names & before
            and names
        ),
        timeout=90,
    )
    assert len(after) == 3
    events = box.linode_cli("events", "list")
    assert any(e["action"] == "lke_pool_recycle" for e in events)
