"""SLI: availability against the SLO over 1 h / 1 d / 30 d / year to date, the error budget,
the workbook's burn-rate pairs, daily availability and the worst recent hours."""

from __future__ import annotations

import time

from cpanel_platform.views.sli import SliReport, sli_report
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from cpanel.panes.base import Pane
from cpanel.widgets.cells import TEXT_STYLE, percent, sparkline


def _availability(value: float | None, target: float) -> Text:
    if value is None:
        return Text("-", style="dim")
    return Text(f"{value * 100:.3f}%", style="green" if value >= target else "bold red")


class SliPane(Pane):
    pane_id = "sli"
    title = "SLI"
    aliases = ("sli", "slo", "budget", "availability")
    prometheus = True
    offers = frozenset()

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="sli-scroll"):
            yield Static("waiting for Prometheus…", id="sli-body")

    def build(self, now: float) -> SliReport:
        slo = self.hub.session.settings.slo
        return sli_report(self.hub.results, slo.target, slo.window_days, now)

    def show(self, model: SliReport) -> None:
        self.query_one("#sli-body", Static).update(self.render_report(model))

    def focus_main(self) -> None:
        self.take_focus(self.query_one("#sli-scroll"))

    @staticmethod
    def render_report(r: SliReport) -> RenderableType:
        head = Text(f"SLO {r.target * 100:g}% availability over {r.window_days} days", style="bold")
        if not r.metrics:
            head.append("   no metrics: Prometheus did not answer", style="yellow")
        budget = Text(f"Error budget: {r.budget_total_minutes:.2f} min per {r.window_days} d, ")
        if r.budget_left_minutes is None:
            budget.append("left unknown", style="dim")
        elif r.budget_left_minutes < 0:
            spent = r.budget_total_minutes - r.budget_left_minutes
            budget.append(f"overspent by {-r.budget_left_minutes:.2f} min "
                          f"({spent:.2f} min spent, {spent / r.budget_total_minutes:.1f}×)",
                          style=TEXT_STYLE[r.severity])
        else:
            budget.append(f"{r.budget_left_minutes:.2f} min ({percent(r.budget_left_ratio)}) left",
                          style=TEXT_STYLE[r.severity])

        windows = Table(title="Availability", title_justify="left", box=None,
                        header_style="bold", pad_edge=False)
        for name in ("WINDOW", "AVAILABILITY", "DOWNTIME (min)", "BUDGET (min)"):
            windows.add_column(name, justify="right")
        for w in r.windows:
            downtime = "-" if w.downtime_minutes is None else f"{w.downtime_minutes:.2f}"
            windows.add_row(w.window, _availability(w.availability, r.target), downtime,
                            f"{w.budget_minutes:.2f}")

        burns = Table(title="Burn rates (× budget)", title_justify="left", box=None,
                      header_style="bold", pad_edge=False)
        for name in ("WINDOW", "ERROR RATIO", "BURN", "THRESHOLDS"):
            burns.add_column(name, justify="right")
        for b in r.burn_rates:
            # Red: its alert pair fires; yellow: over one of its thresholds on its own.
            over = b.rate is not None and any(b.rate >= t for t in b.thresholds)
            style = "bold red" if b.alerting is not None else "yellow" if over else ""
            rate = Text("-" if b.rate is None else f"{b.rate:.2f}×", style=style)
            ratio = "-" if b.error_ratio is None else f"{b.error_ratio * 100:.4f}%"
            thresholds = ", ".join(f"{t:g}×" for t in b.thresholds)
            burns.add_row(b.window, ratio, rate, thresholds)
        pairs = Text("")
        for p in r.burn_pairs:
            if p.alerting:
                pairs.append(f"FIRING {p.alert} {p.long}+{p.short} ≥ {p.threshold:g}×  ",
                             style="bold red")
        if not pairs:
            pairs = Text("no burn-rate alert firing", style="green")

        days = [a for _, a in r.daily]
        daily = Text("Daily availability (30 d): ", style="bold")
        low = min((a for a in days if a is not None), default=r.target)
        daily.append(sparkline(days, lo=min(low, r.target - (1 - r.target)), hi=1.0),
                     style="cyan")

        worst = Table(title="Worst hours (7 d)", title_justify="left", box=None,
                      header_style="bold", pad_edge=False)
        worst.add_column("FROM (UTC)")
        worst.add_column("AVAILABILITY", justify="right")
        for start, _end, availability in r.worst:
            worst.add_row(time.strftime("%Y-%m-%d %H:%M", time.gmtime(start)),
                          _availability(availability, r.target))
        if not r.worst:
            worst.add_row("-", "no bad hour")

        side = Table.grid(padding=(0, 6))
        side.add_row(windows, burns, worst)
        return Group(head, budget, Text(""), side, Text(""), pairs, Text(""), daily)
