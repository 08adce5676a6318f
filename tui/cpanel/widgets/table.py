"""A virtual table for live resources: rows keyed by a stable id, updated in place.

Only the visible lines are rendered, so 5,000 rows scroll and filter as fast as 50. The
cursor follows its row's key across updates and re-sorts, as K9s keeps the selection when
a pod above it goes away.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.binding import Binding
from textual.cache import LRUCache
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

Cell = str | Text


@dataclass(frozen=True)
class Column:
    key: str
    title: str
    max_width: int = 60
    align: str = "left"  # left | right
    sort_letter: str = ""  # the shift+letter that sorts by it ("" → first free letter)


@dataclass(frozen=True)
class Row:
    key: str
    cells: tuple[Cell, ...]
    sort_values: tuple[Any, ...]  # one per column, comparable (None sorts last)
    style: str = ""  # a Rich style for the whole row (severity colour)
    labels: tuple[tuple[str, str], ...] = ()  # what `/-l` matches against
    data: Any = None  # the view row behind it, for actions

    @cached_property
    def widths(self) -> tuple[int, ...]:
        """Each cell's width on screen, measured once per row (rows are reused)."""
        return tuple(c.cell_len if isinstance(c, Text) else cell_len(c) for c in self.cells)

    @cached_property
    def search_text(self) -> str:
        """What `/` matches: the key and every cell, one per line (so ^…$ anchors a cell)."""
        cells = (c.plain if isinstance(c, Text) else c for c in self.cells)
        return "\n".join((self.key, *cells))


GAP = 2  # spaces between columns
STRIPS_KEPT = 512  # drawn rows kept: a few screens' worth


class ResourceTable(ScrollView, can_focus=True):
    """Rows in, lines out. `set_rows` diffs by key; the cursor keeps its key."""

    BINDINGS = [
        Binding("j,down", "cursor_down", "Down", show=False, id="cursor_down"),
        Binding("k,up", "cursor_up", "Up", show=False, id="cursor_up"),
        Binding("g,home", "top", "Top", show=False, id="top"),
        Binding("G,end", "bottom", "Bottom", show=False, id="bottom"),
        Binding("pagedown,ctrl+f", "page_down", "Page down", show=False, id="page_down"),
        Binding("pageup,ctrl+b", "page_up", "Page up", show=False, id="page_up"),
        Binding("enter", "select", "Select", show=False, id="select"),
    ]

    DEFAULT_CSS = """
    ResourceTable { height: 1fr; scrollbar-size-vertical: 1; }
    """

    cursor = reactive(0, always_update=True, repaint=True)

    class Selected(Message):
        def __init__(self, table: ResourceTable, row: Row) -> None:
            super().__init__()
            self.table = table
            self.row = row

    class Highlighted(Message):
        def __init__(self, table: ResourceTable, row: Row | None) -> None:
            super().__init__()
            self.table = table
            self.row = row

    # Upper-case letters that other bindings own (G: bottom, R: recycle).
    RESERVED = frozenset("GR")

    def __init__(
        self, columns: Sequence[Column], sort_keys: dict[str, str] | None = None, **kwargs: Any
    ) -> None:
        """`sort_keys` maps a binding id `sort_<column key>` to the key that sorts by it,
        overriding the letter chosen from the column title."""
        super().__init__(**kwargs)
        self.columns = tuple(columns)
        self._all: dict[str, Row] = {}
        self._visible: list[Row] = []
        self._index: dict[str, int] = {}
        self._widths: list[int] = [cell_len(c.title) for c in self.columns]
        self._predicate: Callable[[Row], bool] | None = None
        self._sort_column: int | None = None
        self._sort_reverse = False
        self._cursor_key: str | None = None
        self._strips: LRUCache[tuple[Any, ...], tuple[Row, Strip]] = LRUCache(STRIPS_KEPT)
        self.sort_letters = self._assign_letters(sort_keys or {})
        self._letter_to_column = {v: k for k, v in self.sort_letters.items()}

    # -- data ---------------------------------------------------------------------------
    def set_rows(self, rows: Sequence[Row]) -> None:
        """Replace the contents by key: unchanged rows stay, the cursor keeps its row.
        Column widths follow all rows, not the filtered ones, so a filter does not make
        the columns jump."""
        self._all = {row.key: row for row in rows}
        widths = [cell_len(c.title) + 1 for c in self.columns]  # room for the sort arrow
        for row in rows:
            for i, n in enumerate(row.widths):
                if n > widths[i]:
                    widths[i] = n
        widths = [min(w, c.max_width) for w, c in zip(widths, self.columns, strict=True)]
        if widths != self._widths:
            self._strips.clear()
        self._widths = widths
        self._refilter()

    def set_filter(self, predicate: Callable[[Row], bool] | None) -> None:
        self._predicate = predicate
        self._refilter()

    def sort_by(self, column_key: str) -> None:
        """Sort by a column; the same column again reverses the order."""
        index = next(i for i, c in enumerate(self.columns) if c.key == column_key)
        if self._sort_column == index:
            self._sort_reverse = not self._sort_reverse
        else:
            self._sort_column, self._sort_reverse = index, False
        self._refilter()

    @property
    def rows(self) -> Sequence[Row]:
        """The rows shown, in order."""
        return self._visible

    @property
    def total(self) -> int:
        return len(self._all)

    @property
    def current(self) -> Row | None:
        return self._visible[self.cursor] if self._visible else None

    @property
    def sort_state(self) -> tuple[str, bool] | None:
        if self._sort_column is None:
            return None
        return self.columns[self._sort_column].key, self._sort_reverse

    def _refilter(self) -> None:
        rows = list(self._all.values())
        if self._predicate is not None:
            rows = [row for row in rows if self._predicate(row)]
        if self._sort_column is not None:
            i = self._sort_column
            present = [r for r in rows if r.sort_values[i] is not None]
            missing = [r for r in rows if r.sort_values[i] is None]
            present.sort(key=lambda r: r.sort_values[i], reverse=self._sort_reverse)
            rows = present + missing
        self._visible = rows
        self._index = {row.key: i for i, row in enumerate(rows)}
        width = sum(self._widths) + GAP * len(self._widths)
        self.virtual_size = Size(width, len(rows) + 1)
        new = self._index.get(self._cursor_key, None) if self._cursor_key else None
        self.cursor = new if new is not None else min(self.cursor, max(0, len(rows) - 1))
        self.refresh()

    # -- cursor -------------------------------------------------------------------------
    def watch_cursor(self, old: int, new: int) -> None:
        row = self.current
        changed = row is None or row.key != self._cursor_key
        self._cursor_key = row.key if row else None
        self._scroll_cursor_into_view()
        if changed:
            self.post_message(self.Highlighted(self, row))

    def validate_cursor(self, value: int) -> int:
        return max(0, min(value, len(self._visible) - 1)) if self._visible else 0

    def _scroll_cursor_into_view(self) -> None:
        body = max(1, self.size.height - 1)
        top = int(self.scroll_offset.y)
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False)
        elif self.cursor >= top + body:
            self.scroll_to(y=self.cursor - body + 1, animate=False)

    def action_cursor_down(self) -> None:
        self.cursor += 1

    def action_cursor_up(self) -> None:
        self.cursor -= 1

    def action_top(self) -> None:
        self.cursor = 0

    def action_bottom(self) -> None:
        self.cursor = len(self._visible) - 1

    def action_page_down(self) -> None:
        self.cursor += max(1, self.size.height - 2)

    def action_page_up(self) -> None:
        self.cursor -= max(1, self.size.height - 2)

    def action_select(self) -> None:
        if self.current is not None:
            self.post_message(self.Selected(self, self.current))

    def on_resize(self) -> None:
        self._scroll_cursor_into_view()

    def on_click(self, event: Any) -> None:
        row = int(self.scroll_offset.y) + event.y - 1
        if 0 <= row < len(self._visible):
            self.cursor = row

    # -- rendering ----------------------------------------------------------------------
    def render_line(self, y: int) -> Strip:
        width = self.size.width
        scroll_x, scroll_y = self.scroll_offset
        if y == 0:
            strip = self._header_strip()
        else:
            index = int(scroll_y) + y - 1
            if index >= len(self._visible):
                return Strip.blank(width, self.rich_style)
            strip = self._row_strip(self._visible[index], selected=index == self.cursor)
        return strip.crop_extend(int(scroll_x), int(scroll_x) + width, self.rich_style)

    def _header_strip(self) -> Strip:
        style = self.get_component_rich_style("resource-table--header", partial=True)
        cells = []
        for i, column in enumerate(self.columns):
            title = column.title
            if self._sort_column == i:
                title += "↓" if self._sort_reverse else "↑"
            cells.append(Text(title))
        return self._strip(cells, self.rich_style + style)

    def _row_strip(self, row: Row, selected: bool) -> Strip:
        """A row's line, drawn once and kept while the row object, its column widths and
        the styles stay (rows are immutable and reused across updates)."""
        key = (id(row), selected, selected and self.has_focus, self.rich_style)
        cached = self._strips.get(key)
        if cached is not None and cached[0] is row:  # the same object, not a reused id
            return cached[1]
        strip = self._draw_row(row, selected)
        self._strips[key] = (row, strip)
        return strip

    def _draw_row(self, row: Row, selected: bool) -> Strip:
        base = self.rich_style
        if row.style:
            base = base + Style.parse(row.style)
        if selected:
            cursor = self.get_component_rich_style("resource-table--cursor", partial=True)
            base = base + cursor
        return self._strip(row.cells, base)

    def _strip(self, cells: Sequence[Cell], style: Style) -> Strip:
        segments: list[Segment] = []
        for cell, width, column in zip(cells, self._widths, self.columns, strict=False):
            text = cell if isinstance(cell, Text) else Text(cell)
            if text.cell_len > width:
                text = text.copy()
                text.truncate(width, overflow="ellipsis")
            pad = " " * (width - text.cell_len)
            if column.align == "right":
                segments.append(Segment(pad, style))
            segments.extend(
                Segment(seg.text, style + seg.style if seg.style else style)
                for seg in text.render(self.app.console)
                if seg.text != "\n"
            )
            if column.align != "right":
                segments.append(Segment(pad, style))
            segments.append(Segment(" " * GAP, style))
        return Strip(segments)

    COMPONENT_CLASSES = {"resource-table--header", "resource-table--cursor"}

    def on_key(self, event: Any) -> None:
        column = self._letter_to_column.get(event.key)
        if column is not None:
            event.stop()
            self.sort_by(column)

    def _assign_letters(self, overrides: dict[str, str]) -> dict[str, str]:
        """Column key → the key that sorts by it (K9s' shift+<letter>)."""
        letters = {
            c.key: overrides[f"sort_{c.key}"] for c in self.columns if f"sort_{c.key}" in overrides
        }
        taken = set(letters.values()) | self.RESERVED
        for column in self.columns:
            if column.key in letters:
                continue
            candidates = column.sort_letter or "".join(ch for ch in column.title if ch.isalpha())
            for ch in candidates.upper():
                if ch not in taken:
                    letters[column.key] = ch
                    taken.add(ch)
                    break
        return letters
