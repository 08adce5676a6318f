"""Pick one of a few choices (a revision to roll back to, an approval to vote on): arrows or
j/k move, enter picks, esc cancels. Dismissed with the choice's id, or None."""

from __future__ import annotations

from collections.abc import Sequence

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option


class ChooseScreen(ModalScreen[str | None]):
    BINDINGS = [
        Binding("escape", "dismiss(None)", "Cancel", id="choose_cancel"),
        Binding("j", "move('cursor_down')", "Down", show=False, id="choose_down"),
        Binding("k", "move('cursor_up')", "Up", show=False, id="choose_up"),
    ]

    def __init__(self, title: str, choices: Sequence[tuple[str, str]]) -> None:
        """`choices`: (id, label), the first highlighted."""
        super().__init__()
        self.title_text = title
        self.choices = choices

    def compose(self) -> ComposeResult:
        with Vertical(id="choose"):
            yield Static(self.title_text, id="choose-title")
            yield OptionList(*(Option(label, id=key) for key, label in self.choices),
                             id="choose-list")
            yield Static("[b]enter[/b]: choose    [b]esc[/b]: cancel", id="choose-keys")

    def action_move(self, action: str) -> None:
        getattr(self.query_one(OptionList), f"action_{action}")()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)
