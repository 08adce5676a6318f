"""The app under Textual's pilot, against a running sandbox."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable
from typing import Any

from cpanel.app import CpanelApp
from cpanel_platform import config
from cpanel_platform.session import Session

from tests.conftest import Sandbox

SIZE = (160, 48)


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
