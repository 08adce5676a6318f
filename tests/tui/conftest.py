"""The app under Textual's pilot, against a running sandbox."""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cpanel.app import CpanelApp
from cpanel_platform import config
from cpanel_platform.session import Session

from tests.conftest import Sandbox

SIZE = (160, 48)


@pytest.fixture(autouse=True)
def journal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[], list[dict]]:
    """The audit journal in the test's own $XDG_STATE_HOME, never the user's: its entries,
    oldest first."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    path = tmp_path / "state" / "cpanel" / "journal.jsonl"
    return lambda: [json.loads(line) for line in path.read_text().splitlines()] if (
        path.exists()) else []


@pytest.fixture(autouse=True)
def no_linode_token(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No Linode token from the developer's environment or linode-cli: the app looks for an
    interrupted recycle on start when it has one (tests that need it patch the back end)."""
    for name in ("LINODE_TOKEN", "LINODE_CLI_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))


def sandbox_app(box: Sandbox, namespace: str = "", **kwargs: Any) -> CpanelApp:
    """The dashboard on the sandbox's admin context (all namespaces unless told)."""
    settings = config.Settings(**kwargs.pop("settings", {}))
    session = Session(settings, kubeconfig=str(box.kubeconfig),
                      context=kwargs.pop("context", None), env=box.env)
    return CpanelApp(settings, kubeconfig=str(box.kubeconfig), namespace=namespace,
                     session=session, **kwargs)


async def until(check: Callable[[], Any], timeout: float = 10.0) -> Any:
    """Let the app run until `check()` is truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not (result := check()):
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout:.0f}s")
        await asyncio.sleep(0.05)
    return result


def rows(app: CpanelApp) -> list[str]:
    """The keys of the rows the current pane's table shows, in order."""
    return [row.key for row in app.pane.table.rows]  # type: ignore[attr-defined]


def text_of(widget: Any) -> str:
    """A Static's content as plain text, however it was composed (str, Text, Group…)."""
    from rich.console import Console

    console = Console(width=SIZE[0], record=True, file=open(os.devnull, "w"))  # noqa: SIM115
    console.print(widget.content)
    return console.export_text()
