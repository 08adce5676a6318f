"""Remapped bindings take effect and typos are refused; the resource table updates in place,
keeping the cursor on its row through inserts, removals, filters and sorts."""

from __future__ import annotations

import pytest
from cpanel.keymap import KeymapError, check
from cpanel.screens.help import HelpScreen
from cpanel.screens.text import TextScreen
from cpanel.widgets.table import Column, ResourceTable, Row
from textual.app import App, ComposeResult

from tests.tui.conftest import SIZE, rows, sandbox_app, until


def test_keymap_check_refuses_unknown_ids_and_empty_keys() -> None:
    assert check({"describe": "D", "cursor_down": "j,down"}) == {
        "describe": "D", "cursor_down": "j,down"}
    assert check({"platform_apply": "U"}) == {"platform_apply": "U"}  # pane keys too
    with pytest.raises(KeymapError, match="unknown binding id descrbe"):
        check({"descrbe": "D"})
    with pytest.raises(KeymapError, match="no key given for yaml"):
        check({"yaml": " "})


async def test_a_remapped_binding_works_and_help_lists_it(sandbox) -> None:
    app = sandbox_app(sandbox, settings={"keys": {"describe": "D", "sort_name": "M"}})
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("colon", *"pods", "enter")
        await until(lambda: len(rows(app)) > 10)
        await pilot.press("d")  # no longer bound
        await pilot.pause()
        assert not isinstance(app.screen, TextScreen)
        await pilot.press("M")
        names = [r.data.name for r in app.pane.table.rows]
        assert names == sorted(names)
        await pilot.press("D")
        await until(lambda: isinstance(app.screen, TextScreen))
        await pilot.press("escape", "question_mark")
        await until(lambda: isinstance(app.screen, HelpScreen))
        listed = {(keys, binding_id) for keys, _, binding_id, _ in app.screen.bindings_shown}
        assert ("D", "describe") in listed


def row(key: str, n: int) -> Row:
    return Row(key=key, cells=(key, str(n)), sort_values=(key, n), labels=(("n", str(n)),))


class TableApp(App[None]):
    def compose(self) -> ComposeResult:
        yield ResourceTable([Column("name", "NAME"), Column("n", "N", align="right")])


async def test_table_keeps_the_cursor_row_through_changes() -> None:
    app = TableApp()
    async with app.run_test(size=(60, 12)) as pilot:
        table = app.query_one(ResourceTable)
        table.set_rows([row(k, i) for i, k in enumerate("abcdef")])
        table.focus()
        await pilot.press("j", "j")
        assert table.current.key == "c"
        table.set_rows([row(k, i) for i, k in enumerate("xabcdef")])  # a row above arrives
        assert table.current.key == "c" and table.cursor == 3
        table.set_rows([row(k, i) for i, k in enumerate("xbcdef")])  # one above leaves
        assert table.current.key == "c"
        table.sort_by("n")
        table.sort_by("n")  # reversed
        assert [r.key for r in table.rows] == list("fedcbx") and table.current.key == "c"
        table.set_filter(lambda r: r.key in "cd")
        assert [r.key for r in table.rows] == ["d", "c"] and table.current.key == "c"
        table.set_rows([row(k, i) for i, k in enumerate("xbdef")])  # the cursor's row goes
        assert table.current is not None and table.current.key == "d"
        await pilot.press("G")
        assert table.cursor == len(table.rows) - 1
        table.set_filter(None)
        assert table.total == 5 and len(table.rows) == 5
