"""`?`: every binding of the screen below, with its id (what config.yaml remaps)."""

from __future__ import annotations

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

from cpanel.widgets.table import ResourceTable


class HelpScreen(Screen[None]):
    BINDINGS = [Binding("escape,q,question_mark", "app.pop_screen", "Back", id="help_back")]

    def __init__(self, bindings: list[tuple[str, str, str, bool]],
                 table: ResourceTable | None, aliases: dict[str, str]) -> None:
        super().__init__()
        self.bindings_shown = bindings  # (keys, description, id, enabled)
        self.table = table
        self.aliases = aliases

    def compose(self) -> ComposeResult:
        yield Static("Help — keys (remap by id in $XDG_CONFIG_HOME/cpanel/config.yaml)",
                     classes="screen-title")
        with VerticalScroll():
            yield Static(self._keys())
            yield Static(self._commands())
        yield Footer()

    def _keys(self) -> Table:
        table = Table(box=None, pad_edge=False, header_style="bold")
        table.add_column("KEY")
        table.add_column("ACTION")
        table.add_column("ID", style="dim")
        for keys, description, binding_id, enabled in self.bindings_shown:
            style = "" if enabled else "dim strike"
            table.add_row(keys, description, binding_id, style=style)
        if self.table is not None:
            for column in self.table.columns:
                letter = self.table.sort_letters.get(column.key)
                if letter:
                    table.add_row(f"shift+{letter.lower()}", f"Sort by {column.title}",
                                  f"sort_{column.key}")
        return table

    def _commands(self) -> Table:
        by_pane: dict[str, list[str]] = {}
        for alias, pane in self.aliases.items():
            by_pane.setdefault(pane, []).append(alias)
        table = Table(box=None, pad_edge=False, header_style="bold", title="\nCommands (:)",
                      title_justify="left")
        table.add_column("PANE")
        table.add_column("ALIASES")
        for pane, names in by_pane.items():
            table.add_row(pane, ", ".join(f":{n}" for n in sorted(names, key=len)))
        table.add_row("quit", ":q, :quit")
        return table
