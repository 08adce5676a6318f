"""Every pane, in the order the help and the overview list them."""

from __future__ import annotations

from cpanel.panes.base import Pane
from cpanel.panes.certs import CertificatesPane
from cpanel.panes.contexts import ContextsPane
from cpanel.panes.namespaces import NamespacesPane
from cpanel.panes.nodes import NodesPane
from cpanel.panes.overview import OverviewPane
from cpanel.panes.platform import PlatformPane
from cpanel.panes.pods import PodsPane
from cpanel.panes.postgres import PostgresPane
from cpanel.panes.rollouts import RolloutsPane
from cpanel.panes.sli import SliPane
from cpanel.panes.volumes import VolumesPane

PANES: tuple[type[Pane], ...] = (
    OverviewPane, PodsPane, NodesPane, CertificatesPane, PostgresPane, VolumesPane, SliPane,
    RolloutsPane, PlatformPane, NamespacesPane, ContextsPane,
)
