"""The progress of a rolling operation (recycle, upgrade): each node's steps with their times,
how far it is, what it waits on and why, elapsed time and ETA, the site's availability probed
live, and the error budget spent meanwhile. esc detaches (the operation goes on, the header
shows it and ctrl+o re-opens this); `a` aborts: the recycle rolls back at its next safe point.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from cpanel_platform.views.common import age
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Footer, Static

if TYPE_CHECKING:
    from cpanel.operations import Operation

LABEL = "bold orange1"


def _hms(epoch: float) -> str:
    return time.strftime("%H:%M:%S", time.localtime(epoch))


def status(op: Operation) -> Text:
    if op.running:
        return Text("stopping…" if op.stopping else "running", "bold yellow")
    return Text("stopped" if op.failed else "done", "bold red" if op.failed else "bold green")


def badge(op: Operation) -> Text:
    """The header's line: "recycle pool 412: node 2/3", then how it ended."""
    if not op.running:
        where = status(op)
    elif op.total:
        where = Text(f"node {min(op.done + 1, op.total)}/{op.total}", "yellow")
    else:
        where = Text("starting", "yellow")
    return Text(f"{op.title}: ") + where


def summary(op: Operation, now: float) -> Text:
    rows: list[tuple[str, Text]] = []
    nodes = f"{op.done} of {op.total} recycled" if op.total else "counted once it is recorded"
    moves = (f" (the plan moves {op.plan.pods} before the pool shrinks back)"
             if op.plan is not None else "")
    rows.append(("Nodes", Text(f"{nodes} · pods evicted: {op.evicted}{moves}")))
    if op.running:
        if op.stopping:
            rows.append(("Now", Text("stopping: the recycle rolls back at its next safe point",
                                     "yellow")))
        elif op.waiting:
            rows.append(("Waiting", Text(op.waiting, "yellow")))
        elif op.lines:
            rows.append(("Now", Text(op.lines[-1].message)))
    eta = op.eta(now) if op.running else None
    left = f" · about {age(eta)} left" if eta is not None else (
        " · ETA once a node is done" if op.running else "")
    planned = f" (planned: {age(op.plan.estimate)})" if op.plan is not None else ""
    rows.append(("Time", Text(f"{age(now - op.started)} elapsed{left}{planned}")))
    site = Text(op.availability,
                "yellow" if op.up is None else "green" if op.up else "bold red")
    site.append(f" · {op.failed_probes} of {op.probes} probes failed "
                f"(downtime seen: {op.downtime_seen:.0f} s)", "" if not op.failed_probes
                else "bold red")
    rows.append(("Site", site))
    spent = op.budget_spent
    rows.append(("Budget", Text(
        f"{spent:.1f} bad minute(s) of the SLO's error budget since the start (Prometheus)"
        if spent is not None else "- (Prometheus has not answered)")))
    if op.ended:
        rows.append(("Outcome", Text(op.outcome, "bold red" if op.failed else "bold green")))
    text = Text()
    for label, value in rows:
        text.append(f"{label:<9}", LABEL)
        text.append_text(value)
        text.append("\n")
    text.rstrip()
    return text


def story(op: Operation) -> Text:
    """The lines so far, under the node they are about (the operation's own under its title)."""
    from cpanel.ops_cli import STEP_STYLE  # with the back end: loaded by now, not at start

    text = Text()
    node = None
    for line in op.lines:
        if line.node != node or not text:
            node = line.node
            text.append(f"{node or op.title}\n", "bold")
        text.append(f"  {_hms(line.at)}  ", "dim")
        text.append(f"{line.step:<8} {line.message}\n", STEP_STYLE.get(line.step, ""))
    text.rstrip()
    return text


class ProgressScreen(ModalScreen[None]):
    """Modal, though full screen: the pane's keys under it (describe, drain…) stay off."""

    BINDINGS = [
        Binding("escape", "close", "Detach", id="progress_detach"),
        Binding("a", "abort", "Abort", id="progress_abort"),
    ]

    def __init__(self, operation: Operation) -> None:
        super().__init__()
        self.operation = operation
        self._lines_shown = -1

    def compose(self) -> ComposeResult:
        # Kept as attributes: a report can arrive while the app tears the screen down.
        self.title_bar = Static("", classes="screen-title", id="progress-title")
        self.summary = Static("", id="progress-summary")
        self.steps = VerticalScroll(id="progress-steps")
        self.lines = Static("", id="progress-lines")
        yield self.title_bar
        yield self.summary
        with self.steps:
            yield self.lines
        yield Footer()

    def on_mount(self) -> None:
        self.show()
        self.set_interval(1.0, self.show)  # the elapsed time and the ETA move on

    def show(self) -> None:
        op = self.operation
        self.title_bar.update(Text(f"{op.title[:1].upper()}{op.title[1:]} ", "bold")
                              + status(op))
        self.summary.update(summary(op, self.app.clock()))  # type: ignore[attr-defined]
        if len(op.lines) != self._lines_shown:  # new lines: follow them if at the bottom
            self._lines_shown = len(op.lines)
            steps = self.steps
            following = steps.scroll_y >= steps.max_scroll_y
            self.lines.update(story(op))
            if following:
                steps.call_after_refresh(steps.scroll_end, animate=False)
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "abort":
            return self.operation.running and not self.operation.stopping
        return True

    def action_abort(self) -> None:
        self.operation.abort()
        self.show()

    def action_close(self) -> None:
        self.dismiss()
