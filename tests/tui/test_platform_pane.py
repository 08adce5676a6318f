"""The Platform pane over a fake provisioning back end (fakes.FakeProvisioning): its rows,
`p` for the plan, `u` with its confirmation, live progress, refusals, failures, stopping and
read-only mode."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from cpanel.app import CpanelApp
from cpanel.screens.confirm import ConfirmScreen
from cpanel.screens.help import HelpScreen
from cpanel.screens.text import TextScreen
from cpanel_platform import config
from cpanel_platform.provision.guards import Finding
from cpanel_platform.provision.linode_plan import Change, PlanError
from cpanel_platform.provision.template import write_template
from cpanel_platform.provision.up import UpError
from textual.widgets import RichLog, Static

from tests.tui import fakes
from tests.tui.conftest import SIZE, rows, text_of, until

pytestmark = pytest.mark.timeout(60)
STAMP = time.strftime("%H:%M:%S", time.localtime(fakes.FIXED))


@pytest.fixture
def backend(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> fakes.FakeProvisioning:
    """The fake back end, and a valid platform.yaml in the current directory."""
    monkeypatch.chdir(tmp_path)
    write_template(tmp_path / "platform.yaml")
    return fakes.FakeProvisioning(fakes.platform_plan()).patch(monkeypatch)


def platform_app(readonly: bool = False, **settings: Any) -> CpanelApp:
    session = fakes.FakeSession(config.Settings(**settings))
    return CpanelApp(session.settings, namespace="", clock=fakes.clock, session=session,
                     readonly=readonly)


async def open_platform(pilot: Any) -> None:
    app = pilot.app
    await pilot.press("colon", *"pf", "enter")
    await until(lambda: app.pane.pane_id == "platform" and app.pane.state is not None
                and not app.pane.planning)


def cells(app: CpanelApp, key: str) -> list[str]:
    row = next(r for r in app.pane.table.rows if r.key == key)  # type: ignore[attr-defined]
    return [c if isinstance(c, str) else c.plain for c in row.cells]


def log_lines(app: CpanelApp) -> list[str]:
    return [strip.text for strip in app.query_one("#platform-log", RichLog).lines]


def status(app: CpanelApp) -> str:
    return text_of(app.query_one("#platform-status", Static))


async def test_rows_show_versions_health_drift_and_changes(backend) -> None:
    app = platform_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_platform(pilot)
        assert rows(app) == ["!cluster", "ingress_nginx", "cert_manager", "keel", "monitoring"]
        assert cells(app, "!cluster") == ["cluster prod", "1.36", "1.36", "ready", "-", "1"]
        assert cells(app, "ingress_nginx") == [
            "ingress_nginx", "1.12.1", "1.12.1", "healthy", "1 (spec.replicas)", "1"]
        assert cells(app, "cert_manager")[2:4] == [
            "1.16.2", "Deployment cert-manager/cert-manager: 0/1 replicas updated and available"]
        assert cells(app, "keel") == ["keel", "0.19.1", "-", "not installed", "-", "2"]
        assert cells(app, "monitoring")[3:] == ["healthy", "-", "-"]
        title = text_of(app.query_one("#titlebar", Static))
        assert f"Platform(platform.yaml)[5] plan of {STAMP}" in title
        assert "5 change(s) pending" in status(app)
        assert backend.planned == 1

        await pilot.press("ctrl+r")
        await until(lambda: backend.planned == 2 and not app.pane.planning)
        await pilot.press("question_mark")
        await until(lambda: isinstance(app.screen, HelpScreen))
        ids = {binding_id for _, _, binding_id, _ in app.screen.bindings_shown}
        assert {"platform_plan", "platform_apply", "platform_refresh"} <= ids


async def test_p_shows_the_plan(backend) -> None:
    app = platform_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_platform(pilot)
        await pilot.press("p")
        await until(lambda: isinstance(app.screen, TextScreen))
        assert "Plan for cluster prod" in app.screen.text
        assert "changed outside cpanel" in app.screen.text


async def test_u_confirms_then_applies_with_live_progress_and_plans_again(backend) -> None:
    app = platform_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_platform(pilot)
        await pilot.press("u")
        await until(lambda: isinstance(app.screen, ConfirmScreen))
        body = text_of(app.screen.query_one("#confirm-body", Static))
        assert "1 Linode change(s)" in body and "keel 0.19.1: 2 object(s)" in body
        await pilot.press("y")
        await until(lambda: any("done: the platform matches" in line
                                for line in log_lines(app)))
        lines = log_lines(app)
        assert lines[1].startswith(f"{STAMP} cluster ") and "count 3 → 4" in lines[1]
        assert any("ingress_nginx" in line and "healthy" in line for line in lines)
        assert backend.applied == [backend.plan]
        await until(lambda: backend.planned == 2 and not app.pane.planning)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"findings": (Finding("refuse", "wildcard-http01", "the wildcard needs dns01"),)},
         "not applied, refused: the wildcard needs dns01"),
        ({"findings": (Finding("warn", "production-before-staging", "staging first"),)},
         "cpanel up --production"),
        ({"linode": (Change("replace-cluster", "cluster prod", "region changes", True),)},
         "cpanel up --allow-destroy"),
        ({"linode": (), "components": ()}, "nothing to change"),
    ],
    ids=["refusal", "production", "destructive", "no-changes"],
)
async def test_u_refuses_what_cpanel_up_would_not_do_here(
    backend, changes: dict[str, Any], message: str
) -> None:
    backend.plan = fakes.platform_plan(**changes)
    app = platform_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_platform(pilot)
        await pilot.press("u")
        await pilot.pause()
        assert message in app.flash_text.plain
        assert not isinstance(app.screen, ConfirmScreen)
        assert backend.applied == []


async def test_u_waits_for_a_current_plan_and_a_failed_one_keeps_the_last(backend) -> None:
    app = platform_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_platform(pilot)
        backend.gate.clear()
        backend.plan_error = PlanError("the Linode API at https://api.linode.com/v4 is down")
        await pilot.press("ctrl+r")
        await until(lambda: "computing" in status(app))
        await pilot.press("u")
        await pilot.pause()
        assert "the plan is being computed" in app.flash_text.plain
        backend.gate.set()
        await until(lambda: not app.pane.planning and "is down" in status(app))
        assert f"(showing the plan of {STAMP})" in status(app)
        assert len(rows(app)) == 5  # the last plan stays on screen
        await pilot.press("u")
        await pilot.pause()
        assert "the last plan failed: the Linode API" in app.flash_text.plain
        assert backend.applied == []


async def test_a_failed_apply_shows_its_error_and_the_pane_stays_usable(backend) -> None:
    backend.error = UpError("ingress_nginx: Deployment not available after 900 s")
    app = platform_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_platform(pilot)
        await pilot.press("u", "y")
        await until(lambda: any("not available after 900 s" in line
                                for line in log_lines(app)))
        last = app.query_one("#platform-log", RichLog).lines[-1]
        assert any(seg.style and seg.style.color and seg.style.color.name == "red"
                   for seg in last)
        assert "apply: ingress_nginx" in app.flash_text.plain
        await until(lambda: not app.pane.applying and not app.pane.planning)
        await pilot.press("p")
        await until(lambda: isinstance(app.screen, TextScreen))


async def test_stop_ends_the_apply_between_steps(backend) -> None:
    backend.until_stopped = True
    backend.error = UpError("stopped; run `cpanel up` again to go on from here")
    app = platform_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_platform(pilot)
        await pilot.press("u", "y")
        await until(lambda: app.pane.check_action("stop", ()))
        await pilot.press("x")
        await until(lambda: any("stopped; run" in line for line in log_lines(app)))
        assert any("stopping after the current step" in line for line in log_lines(app))
        await until(lambda: not app.pane.applying)
        assert not app.pane.check_action("stop", ())


async def test_readonly_refuses_u(backend) -> None:
    app = platform_app(readonly=True)
    async with app.run_test(size=SIZE) as pilot:
        await open_platform(pilot)
        assert app.pane.check_action("apply", ()) is False
        await pilot.press("u")
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmScreen)
        assert backend.applied == []


async def test_a_missing_platform_file_is_one_line_not_a_crash(backend) -> None:
    app = platform_app(platform_file="elsewhere.yaml")
    async with app.run_test(size=SIZE) as pilot:
        await open_platform(pilot)
        assert rows(app) == []
        assert "elsewhere.yaml: no such file" in status(app)
        assert backend.planned == 0
