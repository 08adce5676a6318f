"""The dashboard against the sandbox through Textual's pilot: every pane opens by its alias
and shows the sandbox's objects; filter, sort, describe and YAML work; a pod deleted with
kubectl leaves the screen and its replacement arrives without a key press."""

from __future__ import annotations

import time

import pytest
from cpanel.screens.confirm import ConfirmScreen
from cpanel.screens.logs import LogsScreen
from cpanel.screens.text import TextScreen
from textual import events
from textual.widgets import Static

from tests.tui.conftest import SIZE, rows, sandbox_app, text_of, until

pytestmark = pytest.mark.timeout(90)

# alias → a row key prefix the sandbox surely has
PANES = {
    "po": "app/web-",
    "nodes": "lke118447-412-",
    "certs": "app/wildcard-example-com",
    "pg": "app/db-instance1-",
    "io": "app/media",
    "rollouts": "deployment/app/web",
}


async def open_pane(pilot, alias: str) -> None:
    await pilot.press("colon", *alias, "enter")
    await pilot.pause()


async def filter_by(pilot, text: str) -> None:
    """Type a filter and wait until the box has closed (the app has taken the enter)."""
    await pilot.press("slash", *text, "enter")
    await until(lambda: not pilot.app.filter_box.display)


async def test_each_pane_opens_by_alias_and_shows_the_sandbox(sandbox) -> None:
    app = sandbox_app(sandbox)
    async with app.run_test(size=SIZE) as pilot:
        for alias, prefix in PANES.items():
            await open_pane(pilot, alias)
            assert app.pane.pane_id == app.aliases[alias]
            await until(lambda p=prefix: any(k.startswith(p) for k in rows(app)))
        await open_pane(pilot, "sli")
        body = app.query_one("#sli-body", Static)
        await until(lambda: "SLO 99.99%" in text_of(body))
        assert app.crumbs == ["overview", "sli"]
        await pilot.press("escape")
        assert app.pane.pane_id == "overview"


async def test_overview_cards_have_headlines_and_enter_opens_the_pane(sandbox) -> None:
    app = sandbox_app(sandbox)
    async with app.run_test(size=SIZE) as pilot:
        card = app.query_one("#card-pods", Static)
        await until(lambda: "running" in text_of(card))
        await until(lambda: "nodes ready" in text_of(app.query_one("#card-nodes", Static)))
        card.focus()
        await pilot.press("right", "enter")
        assert app.pane.pane_id == "nodes"


async def test_filter_substring_regex_labels_and_invert(sandbox) -> None:
    app = sandbox_app(sandbox)
    async with app.run_test(size=SIZE) as pilot:
        await open_pane(pilot, "pods")
        await until(lambda: len(rows(app)) > 10)
        total = len(rows(app))

        await filter_by(pilot, "ingress")
        shown = rows(app)
        assert len(shown) == 3 and all("ingress-nginx-controller" in k for k in shown)
        assert "/ingress" in text_of(app.query_one("#titlebar", Static))

        await filter_by(pilot, "!ingress")
        assert len(rows(app)) == total - 3

        await filter_by(pilot, "-l app.kubernetes.io/name=ingress-nginx")
        assert len(rows(app)) == 3

        await filter_by(pilot, "^app/db-instance1-.*-0$")
        assert len(rows(app)) == 2

        await pilot.press("escape")  # clears the filter first
        assert len(rows(app)) == total and app.pane.pane_id == "pods"


async def test_sort_by_column_letter_keeps_the_cursor_row(sandbox) -> None:
    app = sandbox_app(sandbox)
    async with app.run_test(size=SIZE) as pilot:
        await open_pane(pilot, "pods")
        await until(lambda: len(rows(app)) > 10)
        table = app.pane.table
        await pilot.press("N")  # shift+n: by name
        names = [r.data.name for r in table.rows]
        assert names == sorted(names)
        await pilot.press("N")  # again: reversed
        assert [r.data.name for r in table.rows] == sorted(names, reverse=True)
        await pilot.press("j", "j")
        chosen = table.current.key
        await pilot.press("P")  # by namespace
        assert table.current.key == chosen
        assert table.sort_state == ("namespace", False)


async def test_describe_and_yaml_of_a_pod(sandbox) -> None:
    app = sandbox_app(sandbox)
    async with app.run_test(size=SIZE) as pilot:
        await open_pane(pilot, "pods")
        await filter_by(pilot, "prometheus-k8s-0")
        await until(lambda: rows(app) == ["monitoring/prometheus-k8s-0"])
        await pilot.press("d")
        screen = await until(lambda: isinstance(app.screen, TextScreen) and app.screen)
        assert "Name:" in screen.text and "prometheus-k8s-0" in screen.text
        assert "Node:" in screen.text and "Events:" in screen.text
        await pilot.press("escape")
        await pilot.press("y")
        screen = await until(lambda: isinstance(app.screen, TextScreen) and app.screen)
        assert "kind: Pod" in screen.text and "managedFields" not in screen.text


async def test_a_deleted_pod_leaves_and_its_replacement_arrives_unprompted(sandbox) -> None:
    app = sandbox_app(sandbox, namespace="app")
    async with app.run_test(size=SIZE) as pilot:
        await open_pane(pilot, "pods")
        await until(lambda: sum(k.startswith("app/web-") for k in rows(app)) == 3)
        before = {k for k in rows(app) if k.startswith("app/web-")}
        victim = sorted(before)[0]
        started = time.monotonic()
        sandbox.kubectl("delete", "pod", "-n", "app", victim.split("/")[1], "--wait=false")
        await until(lambda: victim not in rows(app), timeout=5)
        gone_after = time.monotonic() - started
        await until(lambda: len({k for k in rows(app) if k.startswith("app/web-")} - before) == 1,
                    timeout=15)
        # kubectl itself takes ~0.3 s to start; the rest is watch → cache → view → table.
        assert gone_after < 3, gone_after
        assert app.screen is app.screen_stack[0]  # no key press was involved


async def test_logs_follow_toggle_timestamps_and_previous(sandbox) -> None:
    app = sandbox_app(sandbox, namespace="app")
    async with app.run_test(size=SIZE) as pilot:
        await open_pane(pilot, "pods")
        await filter_by(pilot, "^web-")
        await until(lambda: len(rows(app)) == 3)
        await pilot.press("l")
        screen = await until(lambda: isinstance(app.screen, LogsScreen) and app.screen)
        await until(lambda: "ready to serve" in screen.lines)
        await pilot.press("t")  # timestamps: a new stream, RFC 3339 prefixes
        await until(lambda: any(line.endswith(" ready to serve") and line[:4].isdigit()
                                for line in screen.lines))
        await pilot.press("p")  # the previous container never existed
        await until(lambda: any("previous terminated container" in line or "cannot read logs"
                                in line for line in screen.lines))
        await pilot.press("escape")
        assert not isinstance(app.screen, LogsScreen)


async def test_delete_and_restart_ask_first_then_act(sandbox) -> None:
    app = sandbox_app(sandbox, namespace="app")
    async with app.run_test(size=SIZE) as pilot:
        await open_pane(pilot, "pods")
        await filter_by(pilot, "^web-")
        await until(lambda: len(rows(app)) == 3 and app.allowed)
        victim = app.pane.table.current.key
        await pilot.press("ctrl+d")
        await until(lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("n")  # declined: nothing happens
        await pilot.pause()
        assert victim in rows(app)
        await pilot.press("ctrl+d")
        await until(lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await until(lambda: victim not in rows(app))

        revision = sandbox.json("get", "deployment", "web", "-n", "app")["metadata"][
            "annotations"]["deployment.kubernetes.io/revision"]
        await pilot.press("r")
        screen = await until(lambda: isinstance(app.screen, ConfirmScreen) and app.screen)
        assert "Deployment app/web" in screen.body
        await pilot.press("y")
        await until(lambda: sandbox.json("get", "deployment", "web", "-n", "app")["metadata"][
            "annotations"]["deployment.kubernetes.io/revision"] != revision, timeout=15)


async def test_keys_typed_right_behind_colon_land_in_the_command_line(sandbox) -> None:
    """A paste or a fast typist: no pause between `:` and the rest, as tmux sends them."""
    app = sandbox_app(sandbox)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        for key, char in [("colon", ":"), ("p", "p"), ("g", "g"), ("enter", "\r")]:
            app.post_message(events.Key(key, char))
        await until(lambda: app.pane.pane_id == "postgres")
        await pilot.press("slash", "a", "slash", "b", "enter")  # "/" inside the box is text
        assert app.filters["postgres"] == "a/b"
