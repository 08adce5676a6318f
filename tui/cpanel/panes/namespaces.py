"""`:ns` — namespaces; enter makes one current (0 or `:ns` then `all` for every namespace)."""

from __future__ import annotations

from cpanel_platform.kube.kinds import NAMESPACES
from cpanel_platform.timestamps import parse_time
from cpanel_platform.views.common import age, name_of

from cpanel.panes.base import ObjectRef, TablePane
from cpanel.widgets.table import Column, Row

ALL = "(all)"


class NamespacesPane(TablePane):
    pane_id = "namespaces"
    title = "Namespaces"
    aliases = ("ns", "namespace", "namespaces")
    kinds = (NAMESPACES,)
    columns = (Column("name", "NAME", 60), Column("status", "STATUS"),
               Column("age", "AGE", align="right"))

    def build(self, now: float) -> list[Row]:
        rows = [Row(key=ALL, cells=(ALL, "", ""), sort_values=("", "", 0))]
        for ns in self.hub.objects(NAMESPACES):
            name = name_of(ns)
            created = parse_time(ns["metadata"].get("creationTimestamp"))
            phase = (ns.get("status") or {}).get("phase", "")
            style = "" if phase == "Active" else "yellow"
            rows.append(Row(key=name, cells=(name, phase, age(now - created if created else None)),
                            sort_values=(name, phase, -(created or 0)), style=style))
        return rows

    def on_select(self, row: Row) -> None:
        self.app.set_namespace("" if row.key == ALL else row.key)  # type: ignore[attr-defined]
        self.app.action_back()

    def ref(self, row: Row) -> ObjectRef | None:
        return None if row.key == ALL else ObjectRef(NAMESPACES, "", row.key)
