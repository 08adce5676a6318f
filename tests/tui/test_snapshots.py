"""SVG snapshots of every pane, the help, a describe screen and a filtered pods pane, over a
fake session (fakes.py) serving fixtures captured from a seeded sandbox: a fixed clock, a
160×48 terminal, no cursor blink and no animation.

After a deliberate UI change: `pytest tests/tui/test_snapshots.py --snapshot-update`, then
look at the SVGs under __snapshots__/ before committing them.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from unittest import mock

import pytest
from cpanel.app import CpanelApp
from cpanel.screens.confirm import ConfirmScreen
from cpanel.screens.help import HelpScreen
from cpanel.screens.progress import ProgressScreen
from cpanel.screens.text import TextScreen
from cpanel_platform.kube.kinds import PODS
from cpanel_platform.kube.watchcache import Caches, WatchCache
from cpanel_platform.provision.template import write_template
from cpanel_platform.session import Session
from textual.pilot import Pilot
from textual.widgets import Input

from tests.tui import fakes
from tests.tui.conftest import SIZE, until

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def snapshot_app(monkeypatch: pytest.MonkeyPatch) -> CpanelApp:
    fakes.patch_api(monkeypatch)
    session = fakes.FakeSession()
    app = CpanelApp(session.settings, namespace="", clock=fakes.clock, session=session)
    app.animation_level = "none"
    return app


async def settle(pilot: Pilot, timeout: float = 10.0) -> None:
    """Wait until every source has answered, no worker runs and no change is pending."""
    app: CpanelApp = pilot.app  # type: ignore[assignment]
    hub = app.hub
    deadline = time.monotonic() + timeout
    quiet = 0
    while quiet < 3:
        if time.monotonic() > deadline:
            raise AssertionError("the app did not settle")
        await pilot.pause()
        busy = any(w.is_running for w in app.workers) or hub._pending
        loaded = None not in (hub.results, hub.linode, hub.keel, hub.server_version)
        quiet = 0 if busy or not loaded else quiet + 1
        await asyncio.sleep(0.02)


async def start(pilot: Pilot) -> None:
    for box in pilot.app.query(Input):
        box.cursor_blink = False
    await settle(pilot)


def goto(alias: str) -> Callable[[Pilot], Awaitable[None]]:
    async def run_before(pilot: Pilot) -> None:
        await start(pilot)
        await pilot.press("colon", *alias, "enter")
        await settle(pilot)

    return run_before


@pytest.mark.parametrize(
    "alias", ["overview", "pods", "nodes", "certs", "pg", "io", "sli", "rollouts"]
)
def test_pane(snap_compare, snapshot_app: CpanelApp, alias: str) -> None:
    run_before = start if alias == "overview" else goto(alias)
    assert snap_compare(snapshot_app, terminal_size=SIZE, run_before=run_before)


@pytest.fixture
def utc() -> Iterator[None]:
    """Clock times in UTC, whatever the machine's zone."""
    with mock.patch.dict(os.environ, {"TZ": "UTC"}):
        time.tzset()
        yield
    time.tzset()


def test_platform_pane(snap_compare, snapshot_app: CpanelApp, utc: None,
                       monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Over a fixed plan (fakes.platform_plan), with ./platform.yaml as the file."""
    monkeypatch.chdir(tmp_path)
    write_template(tmp_path / "platform.yaml")
    fakes.FakeProvisioning(fakes.platform_plan()).patch(monkeypatch)
    assert snap_compare(snapshot_app, terminal_size=SIZE, run_before=goto("pf"))


def test_recycle_progress(snap_compare, snapshot_app: CpanelApp, utc: None,
                          monkeypatch: pytest.MonkeyPatch) -> None:
    """A fixed fake run (fakes.FakeRecycler) of pool 412, 250 s in: one node recycled, the
    second one's drain held by a PDB. One availability probe, so its count is fixed."""
    backend = fakes.FakeRecycler().patch(monkeypatch)
    backend.pause_at = 12
    monkeypatch.setattr("cpanel.operations.PROBE_SECONDS", 3600.0)
    now = [fakes.FIXED]
    snapshot_app.clock = lambda: now[0]

    async def run_before(pilot: Pilot) -> None:
        app: CpanelApp = pilot.app  # type: ignore[assignment]
        await goto("nodes")(pilot)
        await pilot.press("R")
        await until(lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await until(lambda: isinstance(app.screen, ProgressScreen) and app.operation
                    and app.operation.waiting and app.operation.probes)
        now[0] = fakes.FIXED + 250
        app.screen.show()  # not at its next second
        await settle(pilot)

    assert snap_compare(snapshot_app, terminal_size=SIZE, run_before=run_before)
    backend.gate.set()


def test_help(snap_compare, snapshot_app: CpanelApp) -> None:
    async def run_before(pilot: Pilot) -> None:
        await goto("pods")(pilot)
        await pilot.press("question_mark")
        await settle(pilot)
        assert isinstance(pilot.app.screen, HelpScreen)

    assert snap_compare(snapshot_app, terminal_size=SIZE, run_before=run_before)


def test_describe_a_pod(snap_compare, snapshot_app: CpanelApp) -> None:
    async def run_before(pilot: Pilot) -> None:
        await goto("pods")(pilot)
        await pilot.press("slash", *"prometheus-k8s-0", "enter", "d")
        await settle(pilot)
        assert isinstance(pilot.app.screen, TextScreen)

    assert snap_compare(snapshot_app, terminal_size=SIZE, run_before=run_before)


def test_pods_filtered(snap_compare, snapshot_app: CpanelApp) -> None:
    """The filter box stays open with its text; the table shows the matching rows."""

    async def run_before(pilot: Pilot) -> None:
        await goto("pods")(pilot)
        await pilot.press("slash", *"ingress")
        await settle(pilot)

    assert snap_compare(snapshot_app, terminal_size=SIZE, run_before=run_before)


@pytest.mark.parametrize(
    ("real", "fake"),
    [(WatchCache, fakes.FakeCache(PODS, None)), (Caches, fakes.FakeCaches()),
     (Session, fakes.FakeSession())],
    ids=["WatchCache", "Caches", "Session"],
)
def test_the_fakes_offer_what_the_real_classes_do(real: type, fake: object) -> None:
    """A member the app starts to use on a real class must reach the fake too."""
    lifecycle = {"start", "stop", "halt", "join"}
    missing = {n for n in dir(real) if not n.startswith("_")} - lifecycle - set(dir(fake))
    assert not missing, f"{type(fake).__name__} lacks {sorted(missing)}"
