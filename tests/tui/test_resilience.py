"""A failing source never crashes the app: its badge says since when and why, its panes keep
the last data, and it recovers by itself — for Prometheus and for the Kubernetes API."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from cpanel_platform.freshness import State
from textual.widgets import Static

from tests.tui.conftest import SIZE, rows, sandbox_app, text_of, until

pytestmark = pytest.mark.timeout(240)  # includes a private sandbox's start
CPANEL = str(Path(sys.executable).with_name("cpanel"))


def incident(box, name: str, stop: bool = False) -> None:
    args = [CPANEL, "sandbox", "incident", name, "--state-dir", str(box.state_dir)]
    subprocess.run([*args, "--stop"] if stop else args, check=True, capture_output=True)


def badge(app, source: str) -> State:
    return next(f.state for f in app.hub.freshness() if f.source == source)


async def test_prometheus_and_apiserver_outages_mark_stale_and_recover(fresh_sandbox) -> None:
    box = fresh_sandbox(speed=4)
    app = sandbox_app(box, settings={"prometheus": {"refresh_seconds": 0.5}})
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("colon", *"io", "enter")
        await until(lambda: "app/media" in rows(app))
        await until(lambda: app.pane.view is not None and app.pane.view.metrics)
        header = app.query_one("#header", Static)

        incident(box, "prometheus-down")
        await until(lambda: badge(app, "prometheus") in (State.RECONNECTING, State.STALE))
        await until(lambda: "prometheus reconnecting since" in text_of(header)
                    or "prometheus stale since" in text_of(header))
        assert "app/media" in rows(app)  # the last data stays
        incident(box, "prometheus-down", stop=True)
        await until(lambda: badge(app, "prometheus") is State.LIVE, timeout=20)

        await pilot.press("colon", *"pods", "enter")
        await until(lambda: len(rows(app)) > 10)
        shown = len(rows(app))
        incident(box, "apiserver-flap")
        await until(lambda: badge(app, "kubernetes") in (State.RECONNECTING, State.STALE))
        assert len(rows(app)) == shown
        await until(lambda: "kubernetes reconnecting since" in text_of(header)
                    or "kubernetes stale since" in text_of(header))
        incident(box, "apiserver-flap", stop=True)
        await until(lambda: badge(app, "kubernetes") is State.LIVE, timeout=30)
        await until(lambda: "reconnecting" not in text_of(header) and "stale" not in
                    text_of(header), timeout=10)
        assert app.is_running


async def test_viewer_sees_no_write_actions_and_readonly_refuses_them(sandbox) -> None:
    app = sandbox_app(sandbox, context="sandbox-viewer")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("colon", *"pods", "enter")
        await until(lambda: len(rows(app)) > 10)
        await until(lambda: app.allowed)  # the access review has answered
        assert app.check_action("describe", ()) is True
        assert app.check_action("delete", ()) is False
        assert app.check_action("restart", ()) is False
        before = len(rows(app))
        await pilot.press("ctrl+d")
        assert len(app.screen_stack) == 1  # no confirmation even offered

    app = sandbox_app(sandbox, readonly=True)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("colon", *"pods", "enter")
        await until(lambda: app.allowed)
        assert app.allowed["delete"] is True  # admin may, but read-only mode refuses
        assert app.check_action("delete", ()) is False
        await pilot.press("ctrl+d")
        assert len(app.screen_stack) == 1
    assert before > 10
