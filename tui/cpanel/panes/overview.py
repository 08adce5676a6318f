"""Overview: one card per pane with its headline figure and colour — the platform's pulse.
Arrows or h/j/k/l move between cards; enter opens the card's pane."""

from __future__ import annotations

from typing import Any

from cpanel_platform.kube.kinds import (
    CERTIFICATES,
    CRONJOBS,
    DAEMONSETS,
    DEPLOYMENTS,
    NODES,
    PERSISTENTVOLUMECLAIMS,
    PERSISTENTVOLUMES,
    PODS,
    POSTGRESCLUSTERS,
    REPLICASETS,
    STATEFULSETS,
    Kind,
)
from cpanel_platform.views.certs import certificates_view
from cpanel_platform.views.nodes import nodes_view
from cpanel_platform.views.overview import Card, overview
from cpanel_platform.views.pods import pod_rows
from cpanel_platform.views.postgres import postgres_view
from cpanel_platform.views.rollouts import rollouts_view
from cpanel_platform.views.sli import sli_report
from cpanel_platform.views.volumes import volumes_view
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid
from textual.widgets import Static

from cpanel.panes.base import Pane
from cpanel.widgets.cells import TEXT_STYLE

ORDER = ("pods", "nodes", "certs", "postgres", "volumes", "sli", "rollouts")
COLUMNS = 4


class CardWidget(Static, can_focus=True):
    def __init__(self, pane: str) -> None:
        super().__init__("…", id=f"card-{pane}", classes="card")
        self.pane = pane

    def show(self, card: Card) -> None:
        body = Text(card.title, style="bold")
        body.append("\n")
        body.append(card.headline, style=TEXT_STYLE[card.severity])
        body.append("\n")
        body.append(card.detail or " ", style="dim")
        self.update(body)
        self.set_class(card.severity.name == "ERROR", "error")
        self.set_class(card.severity.name == "WARN", "warn")


class OverviewPane(Pane):
    pane_id = "overview"
    title = "Overview"
    aliases = ("overview", "pulse", "home", "o")
    kinds = (PODS, NODES, CERTIFICATES, CRONJOBS, POSTGRESCLUSTERS, PERSISTENTVOLUMECLAIMS,
             PERSISTENTVOLUMES, DEPLOYMENTS, STATEFULSETS, DAEMONSETS, REPLICASETS)
    prometheus = True
    linode = True
    keel = True
    offers = frozenset()
    BINDINGS = [
        Binding("right,l", "move(1)", "Next", show=False, id="card_next"),
        Binding("left,h", "move(-1)", "Previous", show=False, id="card_previous"),
        Binding("down,j", f"move({COLUMNS})", "Down", show=False, id="card_down"),
        Binding("up,k", f"move(-{COLUMNS})", "Up", show=False, id="card_up"),
        Binding("enter", "open", "Open", id="card_open"),
    ]

    def compose(self) -> ComposeResult:
        # Kept by pane id: a build can land while the app tears the DOM down.
        self.cards = {pane: CardWidget(pane) for pane in ORDER}
        with Grid(id="cards"):
            yield from self.cards.values()

    def build(self, now: float) -> tuple[Card, ...]:
        hub = self.hub
        o = hub.objects
        slo = hub.session.settings.slo

        def when(*kinds: Kind) -> bool:
            """A card whose objects were never listed shows "no data", not "none"."""
            return hub.synced(*kinds)

        workloads = (DEPLOYMENTS, STATEFULSETS, DAEMONSETS, REPLICASETS)
        pods = o(PODS)  # one read of the pod cache for the three cards that use it
        return overview(
            pod_rows(pods, now, hub.results) if when(PODS) else None,
            nodes_view(o(NODES), pods, hub.linode, now) if when(NODES, PODS) else None,
            certificates_view(o(CERTIFICATES), o(CRONJOBS), now)
            if when(CERTIFICATES, CRONJOBS) else None,
            postgres_view(o(POSTGRESCLUSTERS), pods, hub.results, now)
            if when(POSTGRESCLUSTERS, PODS) else None,
            volumes_view(o(PERSISTENTVOLUMECLAIMS), o(PERSISTENTVOLUMES), hub.linode,
                         hub.results, now)
            if when(PERSISTENTVOLUMECLAIMS, PERSISTENTVOLUMES) else None,
            sli_report(hub.results, slo.target, slo.window_days, now)
            if hub.results is not None else None,
            rollouts_view(o(DEPLOYMENTS), o(STATEFULSETS), o(DAEMONSETS), o(REPLICASETS),
                          hub.keel, now) if when(*workloads) else None,
        )

    def show(self, model: tuple[Card, ...]) -> None:
        for card in model:
            self.cards[card.pane].show(card)

    def focus_main(self) -> None:
        focused = self.app.focused
        if not isinstance(focused, CardWidget):
            self.take_focus(self.query_one(CardWidget))

    def action_move(self, step: int) -> None:
        cards = list(self.cards.values())
        focused = self.app.focused
        index = cards.index(focused) if focused in cards else 0
        target = index + step
        if 0 <= target < len(cards):
            self.take_focus(cards[target])

    def action_open(self) -> None:
        focused = self.app.focused
        if isinstance(focused, CardWidget):
            self.app.open_pane(focused.pane)  # type: ignore[attr-defined]

    def on_click(self, event: Any) -> None:
        widget = event.widget
        if isinstance(widget, CardWidget):
            widget.focus()
