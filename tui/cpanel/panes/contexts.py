"""`:ctx` — the kubeconfig's contexts; enter switches to one (a new session)."""

from __future__ import annotations

from cpanel.panes.base import TablePane
from cpanel.widgets.table import Column, Row


class ContextsPane(TablePane):
    pane_id = "contexts"
    title = "Contexts"
    aliases = ("ctx", "context", "contexts")
    offers = frozenset()
    columns = (Column("name", "NAME", 60), Column("current", "CURRENT"))

    def build(self, now: float) -> list[Row]:
        from cpanel_platform.kube.client import KubeConfigError, contexts

        try:
            names, _ = contexts(self.app.kubeconfig)  # type: ignore[attr-defined]
        except KubeConfigError as err:
            return [Row(key="!", cells=(str(err), ""), sort_values=("", ""))]
        current = self.hub.session.target.context
        return [Row(key=n, cells=(n, "*" if n == current else ""), sort_values=(n, n == current),
                    style="bold" if n == current else "") for n in names]

    def on_select(self, row: Row) -> None:
        if row.key != "!":
            self.app.switch_context(row.key)  # type: ignore[attr-defined]
