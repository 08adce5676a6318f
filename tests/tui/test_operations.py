"""The rolling operations from the Nodes pane over a fake back end (fakes.FakeRecycler): the
plan in the confirmation, the progress screen, detaching and re-opening, aborting, the
journal, read-only mode and RBAC, resuming an interrupted recycle on start, the upgrade, and
errors."""

from __future__ import annotations

from typing import Any

import pytest
from cpanel.app import CpanelApp
from cpanel.screens.confirm import ConfirmScreen
from cpanel.screens.progress import ProgressScreen
from cpanel.screens.text import TextScreen
from cpanel_platform import config
from cpanel_platform.ops.linode_ops import OpsError
from cpanel_platform.ops.recycle import State
from textual.widgets import Static

from tests.tui import fakes
from tests.tui.conftest import SIZE, text_of, until

pytestmark = pytest.mark.timeout(60)
KEYS = {"recycle": "R", "recycle_node": "ctrl+k", "recycle_cluster": "C", "upgrade": "U"}


class Viewer(fakes.FakeAccess):
    """A read-only user: get, list and watch only."""

    def can_i(self, verb: str, resource: str, **kwargs: Any) -> bool:
        return verb in ("get", "list", "watch")


@pytest.fixture
def backend(monkeypatch: pytest.MonkeyPatch) -> fakes.FakeRecycler:
    return fakes.FakeRecycler().patch(monkeypatch)


def nodes_app(readonly: bool = False, access: Any = None) -> CpanelApp:
    session = fakes.FakeSession(config.Settings())
    if access is not None:
        session.access = access
    return CpanelApp(session.settings, namespace="", clock=fakes.clock, session=session,
                     readonly=readonly, start_pane="nodes")


async def ready(pilot: Any) -> CpanelApp:
    """The Nodes pane with its rows, the Linode snapshot and the access review in."""
    app = pilot.app
    await until(lambda: app.allowed and app.hub.linode and len(app.pane.table.rows) == 3)
    await pilot.pause()
    return app


async def showing(pilot: Any, screen: type) -> None:
    """Until a screen of this type is in front, composed."""
    await until(lambda: isinstance(pilot.app.screen, screen))
    await pilot.pause()


def body(app: CpanelApp) -> str:
    return text_of(app.screen.query_one("#confirm-body", Static))


def progress(app: CpanelApp) -> str:
    screen = app.screen
    return "\n".join(text_of(screen.query_one(f"#progress-{part}", Static))
                     for part in ("title", "summary", "lines"))


def header(app: CpanelApp) -> str:
    return text_of(app.query_one("#header", Static))


async def start_recycle(pilot: Any, key: str = "R") -> CpanelApp:
    app = await ready(pilot)
    await pilot.press(key)
    await showing(pilot, ConfirmScreen)
    await pilot.press("y")
    await showing(pilot, ProgressScreen)
    return app


async def test_r_shows_the_plan_then_the_progress_of_each_node(backend, journal) -> None:
    app = nodes_app()
    async with app.run_test(size=SIZE) as pilot:
        app = await ready(pilot)
        await pilot.press("R")
        await showing(pilot, ConfirmScreen)
        plan = body(app)
        assert "Recycle pool 412 of LKE cluster 118447" in plan
        assert f"1. {fakes.NODES_412[0]} (2 pod(s) to move)" in plan
        assert "pods to move: 6" in plan and "app/web" in plan and "app/cache-0" in plan
        assert backend.planned == [{"pool_id": 412, "node_id": None}]
        await pilot.press("y")
        await showing(pilot, ProgressScreen)
        await until(lambda: app.operation.ended)
        await until(lambda: "up: 4 host(s)" in progress(app))
        shown = progress(app)
        assert "Recycle pool 412 done" in shown
        assert "3 of 3 recycled · pods evicted: 6 (the plan moves 6 before" in shown
        assert "0 of 1 probes failed" in shown or "probes failed (downtime seen: 0 s)" in shown
        assert "recycled 3 node(s) of pool 412 in 900 s" in shown
        for name in fakes.NODES_412:
            assert name in shown
        assert "cordon   cordoned" in shown and "recycle  recycle requested from LKE" in shown
        assert [(e["action"], e["target"], e["outcome"]) for e in journal()] == [
            ("recycle", "pool 412", "started"), ("recycle", "pool 412", "ok")]
        await pilot.press("escape")
        await until(lambda: app.operation is None)  # seen: it leaves the header
        assert "Operation:" not in header(app)


@pytest.mark.parametrize(("key", "scope"), [("ctrl+k", "node_id"), ("C", None)])
async def test_ctrl_k_plans_the_node_and_c_the_cluster(backend, key: str, scope: str) -> None:
    app = nodes_app()
    async with app.run_test(size=SIZE) as pilot:
        app = await ready(pilot)
        selected = app.pane.current_node()
        await pilot.press(key)
        await showing(pilot, ConfirmScreen)
        expected = {"pool_id": None, "node_id": None}
        if scope:
            expected[scope] = selected.linode_node_id
        assert backend.planned == [expected]


async def test_esc_detaches_the_header_shows_it_and_ctrl_o_reopens(backend) -> None:
    backend.pause_at = 12  # in the second node's drain, held by a PDB
    app = nodes_app()
    async with app.run_test(size=SIZE) as pilot:
        app = await start_recycle(pilot)
        await until(lambda: "PDB app/web allows no disruption" in progress(app))
        assert "Waiting  waiting: PDB app/web" in progress(app)
        await pilot.press("escape")
        assert not isinstance(app.screen, ProgressScreen)
        await until(lambda: "recycle pool 412: node 2/3" in header(app))
        assert app.operation.running  # it goes on
        await pilot.press("ctrl+o")
        await showing(pilot, ProgressScreen)
        await pilot.press("escape")
        await pilot.press("R")  # the key again re-opens it rather than planning another
        await showing(pilot, ProgressScreen)
        assert len(backend.planned) == 1
        backend.gate.set()
        await until(lambda: "Recycle pool 412 done" in progress(app))
        await pilot.press("escape")
        await until(lambda: "Operation:" not in header(app))


async def test_a_aborts_and_the_screen_says_it_stopped(backend, journal) -> None:
    backend.pause_at = 5
    app = nodes_app()
    async with app.run_test(size=SIZE) as pilot:
        app = await start_recycle(pilot)
        await until(lambda: app.screen.check_action("abort", ()))
        await pilot.press("a")
        assert backend.stop.is_set()
        await until(lambda: app.operation.ended)
        shown = progress(app)
        assert "Recycle pool 412 stopped" in shown
        assert "0 of 3 recycled" in shown
        assert "the recycle of pool 412 stopped: stopped on request. Rolled back" in shown
        assert not app.screen.check_action("abort", ())
        assert journal()[-1]["outcome"] == "stopped"
        assert journal()[-1]["detail"].startswith("the recycle of pool 412 stopped")
        await pilot.press("escape")
        assert "stopped" in app.flash_text.plain


async def test_upgrade_confirms_the_preflight_and_runs_a_recycle(backend) -> None:
    app = nodes_app()
    async with app.run_test(size=SIZE) as pilot:
        app = await ready(pilot)
        await pilot.press("U")
        await showing(pilot, ConfirmScreen)
        assert "Upgrade Kubernetes 1.36 → 1.37" in body(app)
        assert "ok the Linode API offers 1.37" in body(app)
        await pilot.press("y")
        await showing(pilot, ProgressScreen)
        await until(lambda: app.operation.ended)
        shown = progress(app)
        assert "Upgrade Kubernetes 1.36 → 1.37 done" in shown
        assert "the control plane: 1.36 → 1.37" in shown
        assert "every node runs Kubernetes 1.37" in shown


async def test_a_refused_upgrade_shows_why_and_starts_nothing(backend) -> None:
    backend.preflight_problems = ("cert_manager 1.16.3 supports Kubernetes 1.30–1.36",)
    app = nodes_app()
    async with app.run_test(size=SIZE) as pilot:
        app = await ready(pilot)
        await pilot.press("U")
        await showing(pilot, TextScreen)
        assert "refused cert_manager 1.16.3" in text_of(app.screen.query_one("#text", Static))
        assert "upgrade refused" in app.flash_text.plain
        assert app.operation is None


async def test_an_error_while_planning_is_flashed_and_the_app_goes_on(backend) -> None:
    backend.plan_error = OpsError("LKE cluster 118447 has no pool 412")
    app = nodes_app()
    async with app.run_test(size=SIZE) as pilot:
        app = await ready(pilot)
        await pilot.press("R")
        await until(lambda: "has no pool 412" in app.flash_text.plain)
        assert "recycle: LKE cluster 118447 has no pool 412" in app.flash_text.plain
        assert not isinstance(app.screen, ConfirmScreen)
        backend.plan_error = None
        await pilot.press("R")
        await showing(pilot, ConfirmScreen)


async def test_an_interrupted_recycle_is_offered_on_start(backend) -> None:
    backend.pending_state = State(118447, "pool 412", {"412": 3}, ["412-1", "412-2"],
                                  done=["412-0"], phase="nodes")
    app = nodes_app()
    async with app.run_test(size=SIZE) as pilot:
        await showing(pilot, ConfirmScreen)
        assert "A recycle of pool 412 was interrupted with 1 of 3 node(s) recycled" in body(app)
        await pilot.press("y")
        await showing(pilot, ProgressScreen)
        await until(lambda: app.operation.ended)
        shown = progress(app)
        assert "resuming the recycle of pool 412" in shown
        assert "3 of 3 recycled" in shown
        assert backend.planned == []


@pytest.mark.parametrize("who", ["readonly", "viewer"])
async def test_readonly_and_rbac_hide_the_operation_keys(backend, who: str) -> None:
    backend.pending_state = State(118447, "pool 412", {"412": 3}, ["412-1"], done=["412-0"])
    app = nodes_app(readonly=True) if who == "readonly" else nodes_app(access=Viewer())
    async with app.run_test(size=SIZE) as pilot:
        app = await ready(pilot)
        for action, key in KEYS.items():
            assert app.check_action(action, ()) is False
            await pilot.press(key)
        await pilot.pause()
        assert app.screen is app.screen_stack[0]  # no plan, no resume offer
        assert backend.planned == [] and app.operation is None


async def test_ctrl_c_or_q_during_an_operation_asks_first(backend) -> None:
    backend.pause_at = 5
    app = nodes_app()
    async with app.run_test(size=SIZE) as pilot:
        app = await start_recycle(pilot)
        await pilot.press("ctrl+c")
        await showing(pilot, ConfirmScreen)
        assert "The recycle pool 412 is running. Quit anyway?" in body(app)
        await pilot.press("n")
        await showing(pilot, ProgressScreen)
        await pilot.press("escape", "colon", "q", "enter")
        await showing(pilot, ConfirmScreen)
        await pilot.press("n")
        assert app.is_running
        backend.gate.set()
