"""What every pane is: an id with aliases, the sources it reads, a build step that runs in
a thread worker (views are pure functions over cached data) and a show step on the UI thread.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from cpanel_platform.kube.kinds import Kind
from cpanel_platform.views.filtering import Filter
from rich.console import RenderableType
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widget import Widget
from textual.widgets import Static

from cpanel.hub import Hub
from cpanel.widgets.table import Column, ResourceTable, Row


@dataclass(frozen=True)
class ObjectRef:
    """A Kubernetes object a row stands for: what describe, YAML, logs and delete act on."""

    kind: Kind
    namespace: str
    name: str
    container: str | None = None


class Pane(Vertical):
    pane_id: ClassVar[str]
    title: ClassVar[str]
    aliases: ClassVar[tuple[str, ...]] = ()
    kinds: ClassVar[tuple[Kind, ...]] = ()  # watch caches the pane reads
    prometheus: ClassVar[bool] = False
    linode: ClassVar[bool] = False
    keel: ClassVar[bool] = False
    # Pane bindings (keymap.PANE action names) this pane offers.
    offers: ClassVar[frozenset[str]] = frozenset({"describe", "yaml"})

    def __init__(self, hub: Hub, **kwargs: Any) -> None:
        super().__init__(id=f"pane-{self.pane_id}", classes="pane", **kwargs)
        self.hub = hub

    def sources(self) -> set[str]:
        names = {f"kube/{kind.plural}" for kind in self.kinds}
        names |= {n for n, used in (("prometheus", self.prometheus), ("linode", self.linode),
                                    ("keel", self.keel)) if used}
        return names

    def build(self, now: float) -> Any:
        """The pane's view from the hub's data (runs in a thread worker: no widgets here)."""
        raise NotImplementedError

    def show(self, model: Any) -> None:
        """Render a model `build` returned (UI thread)."""
        raise NotImplementedError

    def opened(self) -> None:
        """The pane was switched to (UI thread). Panes whose data is fetched on demand
        rather than watched start fetching here."""

    def apply_filter(self, predicate: Filter | None) -> None:
        """Panes without a table ignore the filter."""

    def summary(self) -> str:
        """What the title bar shows after the pane's name, e.g. "[22]"."""
        return ""

    def current_ref(self) -> ObjectRef | None:
        return None

    def restart_target(self, ref: ObjectRef) -> tuple[Kind, str, str] | None:
        """The workload whose rollout `r` restarts for the selected object."""
        return None

    def focus_main(self) -> None:
        self.take_focus(self)

    def take_focus(self, widget: Widget) -> None:
        """Focus now rather than after the queued messages (Widget.focus defers), so keys
        typed right behind a pane switch reach the new pane."""
        self.screen.set_focus(widget)


class TablePane(Pane):
    """A pane whose body is a ResourceTable, with an optional detail area under it."""

    columns: ClassVar[Sequence[Column]]
    detail_height: ClassVar[int] = 0

    def compose(self) -> ComposeResult:
        # Kept as attributes: a build can finish while the app tears the DOM down.
        self.table = ResourceTable(self.columns, getattr(self.app, "sort_keys", {}),
                                   id=f"table-{self.pane_id}")
        self.detail_area = Static("", classes="detail", id=f"detail-{self.pane_id}")
        self.detail_area.styles.height = self.detail_height
        self.detail_area.display = bool(self.detail_height)
        yield self.table
        yield self.detail_area

    def show(self, model: Sequence[Row]) -> None:
        self.table.set_rows(model)
        self._update_detail()

    def apply_filter(self, predicate: Filter | None) -> None:
        if predicate is None:
            self.table.set_filter(None)
        elif predicate.mode == "labels":
            self.table.set_filter(lambda row: predicate.matches("", dict(row.labels)))
        else:  # text only: no labels mapping built per row and keystroke
            self.table.set_filter(lambda row: predicate.matches(row.search_text))
        self._update_detail()

    def summary(self) -> str:
        if not self.hub.synced(*self.kinds):
            return "[waiting for Kubernetes]"
        table = self.table
        shown, total = len(table.rows), table.total
        return f"[{shown}]" if shown == total else f"[{shown}/{total}]"

    def focus_main(self) -> None:
        self.take_focus(self.table)

    def on_resource_table_highlighted(self, event: ResourceTable.Highlighted) -> None:
        self._update_detail()

    def _update_detail(self) -> None:
        if self.detail_height:
            row = self.table.current
            self.detail_area.update(self.detail(row) if row is not None else "")

    def detail(self, row: Row) -> RenderableType:
        return ""

    def current_ref(self) -> ObjectRef | None:
        row = self.table.current
        return self.ref(row) if row is not None else None

    def ref(self, row: Row) -> ObjectRef | None:
        return None
