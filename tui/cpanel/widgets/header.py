"""The header: where you are (context, cluster, user), how production is (SLI vs SLO,
error budget, alerts) and how fresh each source is."""

from __future__ import annotations

import time

from cpanel_platform.freshness import Freshness, State
from cpanel_platform.views.header import HeaderInfo
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from cpanel.widgets.cells import percent

BADGE = {State.LIVE: ("●", "green"), State.CONNECTING: ("○", "dim"),
         State.RECONNECTING: ("◐", "yellow"), State.STALE: ("✖", "bold red")}


def badge(fresh: Freshness, now: float | None = None) -> Text:
    """`● kube` when live; `✖ prometheus stale since 09:12:03 (connection refused)`."""
    symbol, style = BADGE[fresh.state]
    text = Text(f"{symbol} {fresh.source}", style=style)
    if fresh.state in (State.RECONNECTING, State.STALE):
        since = time.strftime("%H:%M:%S", time.localtime(fresh.since))
        word = "stale" if fresh.state is State.STALE else "reconnecting"
        text.append(f" {word} since {since}", style=style)
        if fresh.reason:
            text.append(f" ({fresh.reason})", style="dim")
    # One line per source, however long the reason: the header must keep its height.
    text.no_wrap = True
    text.overflow = "ellipsis"
    return text


class HeaderBar(Static):
    def __init__(self, **kwargs: object) -> None:
        super().__init__("", **kwargs)  # type: ignore[arg-type]
        self.info: HeaderInfo | None = None
        self.operation: Text | None = None  # a rolling operation's badge, under the alerts

    def show_operation(self, badge: Text | None) -> None:
        self.operation = badge
        if self.info is not None:
            self.show(self.info)

    def show(self, info: HeaderInfo) -> None:
        self.info = info
        self.update(self._compose_info(info))

    def _compose_info(self, info: HeaderInfo) -> RenderableType:
        grid = Table.grid(padding=(0, 3), expand=True)
        grid.add_column(no_wrap=True)
        grid.add_column(no_wrap=True)
        grid.add_column(ratio=1, no_wrap=True)
        where = Table.grid(padding=(0, 1))
        where.add_column(style="bold orange1")
        where.add_column()
        cluster = info.cluster_label or "-"
        if info.region:
            cluster += f" ({info.region})"
        where.add_row("Context:", info.context)
        where.add_row("Cluster:", cluster)
        where.add_row("K8s Rev:", info.k8s_version or "-")
        where.add_row("User:", info.user)
        health = Table.grid(padding=(0, 1))
        health.add_column(style="bold orange1")
        health.add_column()
        health.add_row("SLI 30d:", self._sli(info))
        health.add_row("Budget:", self._budget(info))
        health.add_row("Alerts:", self._alerts(info))
        if self.operation is not None:
            health.add_row("Operation:", self.operation)
        sources = Group(*(badge(f) for f in info.sources))
        grid.add_row(where, health, sources)
        return grid

    @staticmethod
    def _sli(info: HeaderInfo) -> Text:
        target = f" / SLO {info.slo_target * 100:g}%"
        if info.sli_30d is None:
            return Text("-" + target, style="dim")
        style = "green" if info.sli_30d >= info.slo_target else "bold red"
        return Text(f"{info.sli_30d * 100:.3f}%", style=style) + Text(target, style="dim")

    @staticmethod
    def _budget(info: HeaderInfo) -> Text:
        left = info.budget_left_ratio
        if left is None:
            return Text("-", style="dim")
        if left < 0:  # overspent: say by how much, not "-20825% left"
            return Text(f"overspent: {1 - left:.1f}× the budget", style="bold red")
        return Text(f"{percent(left)} left", style="yellow" if left < 0.25 else "green")

    @staticmethod
    def _alerts(info: HeaderInfo) -> Text:
        if info.alerts_firing is None:
            return Text("-", style="dim")
        if not info.alerts_firing:
            return Text("none firing", style="green")
        names = ", ".join(info.alerts[:3]) + (" …" if len(info.alerts) > 3 else "")
        return Text(f"{info.alerts_firing} firing: {names}", style="bold red")
