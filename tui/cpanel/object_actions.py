"""The pane actions of the app — describe, YAML, logs, delete, restart — and which of them
are offered: hidden where the pane has no such action, in read-only mode for those that
change the cluster, and where RBAC (SelfSubjectAccessReview) forbids them. The on-call
actions are in oncall_actions."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cpanel_platform.views.describe import describe
from textual import work

from cpanel import keymap
from cpanel.oncall_actions import ref_target, target
from cpanel.operations import OPERATIONS
from cpanel.panes.base import ObjectRef, TablePane
from cpanel.screens.text import TextScreen

if TYPE_CHECKING:
    from cpanel.app import CpanelApp

# Every pane action that changes the cluster: none is offered in read-only mode.
DESTRUCTIVE = frozenset({
    "delete", "restart", "recycle", "renew", "switchover", "backup", "rollback", "approve",
    "reject", "cordon", "uncordon", "drain",
}) | OPERATIONS
PATCH_DEPLOYMENTS = ("patch", "deployments", "apps", "")
PATCH_NODES = ("patch", "nodes", "", "")
PATCH_POSTGRES = ("patch", "postgresclusters", "postgres-operator.crunchydata.com", "")
# What each pane action needs from RBAC: every (verb, resource, group, subresource) listed.
# Restart patches the owning Deployment (or StatefulSet/DaemonSet). Keel has no RBAC of its
# own, so a vote is offered to those who may change the Deployment themselves.
ACCESS = {
    "delete": (("delete", "pods", "", ""),),
    "restart": (PATCH_DEPLOYMENTS,),
    "logs": (("get", "pods", "", "log"),),
    "renew": (("patch", "certificates", "cert-manager.io", "status"),),
    "switchover": (PATCH_POSTGRES,),
    "backup": (PATCH_POSTGRES,),
    "rollback": (PATCH_DEPLOYMENTS,),
    "approve": (PATCH_DEPLOYMENTS,),
    "reject": (PATCH_DEPLOYMENTS,),
    "cordon": (PATCH_NODES,),
    "uncordon": (PATCH_NODES,),
    "drain": (PATCH_NODES, ("create", "pods", "", "eviction")),
    # The rolling recycle and the upgrade cordon and drain nodes one after another.
    **dict.fromkeys(OPERATIONS, (PATCH_NODES, ("create", "pods", "", "eviction"))),
}


class ObjectActions:
    """Mixed into CpanelApp: acts on the object under the pane's cursor. Client calls run in
    thread workers and report back through the app's flash line."""

    def check_action(self: CpanelApp, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "filter":
            return isinstance(self.pane, TablePane)
        if action in {b.action for b in keymap.PANE}:
            pane = self.pane
            if action not in pane.offers:
                return False
            if action in DESTRUCTIVE and self.readonly:
                return False
            if action in ACCESS and not self.allowed.get(action, False):
                return False
        return True

    def _ref(self: CpanelApp) -> ObjectRef | None:
        ref = self.pane.current_ref()
        if ref is None:
            self.flash("nothing selected", error=True)
        return ref

    def action_describe(self: CpanelApp) -> None:
        if ref := self._ref():
            self._describe(ref)

    @work(thread=True, group="describe")
    def _describe(self: CpanelApp, ref: ObjectRef) -> None:
        from cpanel_platform.kube import actions

        api = self.api
        try:
            obj = self.hub.cache(ref.kind).get(ref.namespace, ref.name)
            if obj is None:
                raise actions.KubeActionError(f"{ref.name} is gone")
            events = actions.related_events(api, obj)
        except actions.KubeActionError as err:
            self.call_from_thread(self.flash, f"describe: {err}", True)
            return
        text = describe(obj, events, self.clock())
        title = f"Describe {ref.kind.kind} {ref.namespace + '/' if ref.namespace else ''}{ref.name}"
        self.call_from_thread(self.push_screen, TextScreen(title, text))

    def action_yaml(self: CpanelApp) -> None:
        if ref := self._ref():
            self._yaml(ref)

    @work(thread=True, group="yaml")
    def _yaml(self: CpanelApp, ref: ObjectRef) -> None:
        from cpanel_platform.kube import actions

        try:
            text = actions.get_yaml(self.api, ref.kind, ref.namespace, ref.name)
        except actions.KubeActionError as err:
            self.call_from_thread(self.flash, f"yaml: {err}", True)
            return
        title = f"YAML {ref.kind.kind} {ref.namespace + '/' if ref.namespace else ''}{ref.name}"
        self.call_from_thread(self.push_screen, TextScreen(title, text, yaml=True))

    def action_logs(self: CpanelApp) -> None:
        from cpanel.screens.logs import LogsScreen  # RichLog's import is kept off the start

        if ref := self._ref():
            self.push_screen(LogsScreen(self.api, ref.namespace, ref.name,
                                        ref.container))

    def action_delete(self: CpanelApp) -> None:
        ref = self._ref()
        if ref is None:
            return
        what = f"{ref.kind.kind} {ref.namespace}/{ref.name}"

        def run() -> str:
            from cpanel_platform.kube import actions

            actions.delete(self.api, ref.kind, ref.namespace, ref.name)
            return f"deleted {what}"

        self.change("Delete", f"Delete {what}?", "delete", ref_target(ref), run)

    def action_restart(self: CpanelApp) -> None:
        ref = self._ref()
        if ref is None:
            return
        owner = self.pane.restart_target(ref)
        if owner is None:
            self.flash(f"{ref.name} has no Deployment, StatefulSet or DaemonSet to restart",
                       error=True)
            return
        kind, namespace, name = owner
        what = f"{kind.kind} {namespace}/{name}"

        def run() -> str:
            from cpanel_platform.kube import actions

            actions.restart_rollout(self.api, kind, namespace, name)
            return f"restarted {what}"

        self.change("Restart", f"Restart the rollout of {what}?\n"
                    "(new pods start before old ones stop, as `kubectl rollout restart`)",
                    "restart", target(kind.kind, namespace, name), run)
