"""A full-screen, scrollable text: describe output or an object's YAML."""

from __future__ import annotations

from rich.console import RenderableType
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static


class TextScreen(Screen[None]):
    BINDINGS = [
        Binding("escape,q", "app.pop_screen", "Back", id="text_back"),
        Binding("j,down", "scroll('down')", "Down", show=False, id="text_down"),
        Binding("k,up", "scroll('up')", "Up", show=False, id="text_up"),
        Binding("g,home", "scroll('home')", "Top", show=False, id="text_top"),
        Binding("G,end", "scroll('end')", "Bottom", show=False, id="text_bottom"),
    ]

    def __init__(self, title: str, text: str, yaml: bool = False) -> None:
        super().__init__()
        self.title_text = title
        self.body: RenderableType = text
        if yaml:
            from rich.syntax import Syntax  # Pygments: loaded when YAML is first shown

            self.body = Syntax(text, "yaml", theme="ansi_dark", background_color="default")
        self.text = text

    def compose(self) -> ComposeResult:
        yield Static(self.title_text, classes="screen-title")
        with VerticalScroll(id="text-body"):
            yield Static(self.body, id="text")
        yield Footer()

    def action_scroll(self, where: str) -> None:
        body = self.query_one("#text-body", VerticalScroll)
        {"down": body.scroll_down, "up": body.scroll_up, "home": body.scroll_home,
         "end": body.scroll_end}[where](animate=False)
