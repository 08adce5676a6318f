"""The `:` command line's input and its completion from the panes' aliases."""

from __future__ import annotations

from textual.binding import Binding
from textual.suggester import Suggester
from textual.widgets import Input

from cpanel import commands


class CommandInput(Input):
    """The `:` line; tab takes the suggested completion, as right-arrow does."""

    BINDINGS = [Binding("tab", "cursor_right", "Complete", show=False, priority=True,
                        id="command_complete")]


class AliasSuggester(Suggester):
    """Completes the command line from the panes' aliases."""

    def __init__(self, aliases: dict[str, str]) -> None:
        super().__init__(use_cache=False)
        self.aliases = aliases

    async def get_suggestion(self, value: str) -> str | None:
        return commands.complete(value, self.aliases)
