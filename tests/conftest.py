"""Shared fixtures: a running sandbox and a kubectl bound to it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cpanel_platform.sandbox import control, runner

KUBECTL = shutil.which("kubectl", path=str(Path(sys.executable).parent)) or "kubectl"
LINODE_CLI = shutil.which("linode-cli", path=str(Path(sys.executable).parent)) or "linode-cli"


@dataclass
class Sandbox:
    state_dir: Path
    kube_url: str
    kubeconfig: Path
    home: Path
    env: dict[str, str]

    def kubectl(
        self,
        *args: str,
        context: str | None = None,
        input: str | None = None,
        check: bool = True,
        timeout: float = 60,
    ) -> subprocess.CompletedProcess[str]:
        cmd = [KUBECTL, "--kubeconfig", str(self.kubeconfig)]
        if context:
            cmd += ["--context", context]
        env = {**os.environ, "HOME": str(self.home), "KUBECONFIG": str(self.kubeconfig)}
        proc = subprocess.run(
            [*cmd, *args], capture_output=True, text=True, input=input, timeout=timeout, env=env
        )
        if check and proc.returncode != 0:
            raise AssertionError(
                f"kubectl {' '.join(args)} failed ({proc.returncode}):\n"
                f"{proc.stdout}\n{proc.stderr}"
            )
        return proc

    def json(self, *args: str, context: str | None = None) -> dict:
        return json.loads(self.kubectl(*args, "-o", "json", context=context).stdout)

    def env_url(self, name: str) -> str:
        return self.env[name]

    def linode_cli(self, *args: str) -> Any:
        """linode-cli's JSON answer, pointed at the sandbox's Linode API."""
        env = {
            **os.environ,
            **self.env,
            "HOME": str(self.home),
            "XDG_CONFIG_HOME": str(self.home / ".config"),
        }
        proc = subprocess.run(
            [LINODE_CLI, "--suppress-warnings", *args, "--json"],
            capture_output=True,
            text=True,
            timeout=60,
            env=env,
        )
        if proc.returncode != 0:
            raise AssertionError(f"linode-cli {' '.join(args)} failed:\n{proc.stderr}")
        return json.loads(proc.stdout) if proc.stdout.strip() else None

    def requests(self, api: str, since: int = 0) -> tuple[list[dict], int]:
        """The requests the "kubernetes" or "linode" emulator answered from number `since`
        on, and the number to ask from next time."""
        info = runner.read_runtime(self.state_dir)
        assert info, "the sandbox is not running"
        token = runner.admin_token(self.state_dir)
        code, body = control.call(info, token, "GET", f"/requests/{api}?since={since}")
        assert code == 200, body
        return body["requests"], body["next"]


def start_sandbox(
    state_dir: Path, speed: float = 1.0, history_days: int = 1, empty: bool = False
) -> Sandbox:
    # A day of metrics history keeps start-up fast; the platform test asks for all 90.
    options = runner.WorldOptions(speed=speed, history_days=history_days, empty=empty)
    info = runner.start_detached(state_dir, options)
    home = state_dir / "home"
    home.mkdir(exist_ok=True)
    return Sandbox(
        state_dir,
        info["kube"],
        runner.Paths(state_dir).kubeconfig,
        home,
        runner.env_exports(state_dir, info),
    )


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    state = tmp_path_factory.mktemp("sandbox")
    box = start_sandbox(state)
    yield box
    runner.stop(state)


@pytest.fixture
def fresh_sandbox(tmp_path: Path) -> Iterator[Callable[[], Sandbox]]:
    """A private sandbox for tests that restart or stop it (or want it empty)."""
    state = tmp_path / "sandbox"
    yield lambda speed=1.0, empty=False: start_sandbox(state, speed, empty=empty)
    runner.stop(state)
