"""The pane actions of the app — describe, YAML, logs, delete, restart — and which of them
are offered: hidden where the pane has no such action, in read-only mode for destructive
ones, and where RBAC (SelfSubjectAccessReview) forbids them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cpanel_platform.views.describe import describe
from textual import work

from cpanel import keymap
from cpanel.panes.base import ObjectRef, TablePane
from cpanel.screens.confirm import ConfirmScreen
from cpanel.screens.text import TextScreen

if TYPE_CHECKING:
    from cpanel.app import CpanelApp

DESTRUCTIVE = frozenset({"delete", "restart", "recycle"})
# What each pane action needs from RBAC: (verb, resource, group, subresource). Delete is
# offered on pods only; restart patches the owning Deployment (or StatefulSet/DaemonSet).
ACCESS = {
    "delete": ("delete", "pods", "", ""),
    "restart": ("patch", "deployments", "apps", ""),
    "logs": ("get", "pods", "", "log"),
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
            if action == "recycle":
                return None  # shown, disabled: recycling arrives with the operations work
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
        if ref is None or self.readonly:
            return
        what = f"{ref.kind.kind} {ref.namespace}/{ref.name}"

        def answered(yes: bool | None) -> None:
            if yes:
                self._act(f"deleted {what}", "delete", ref.kind, ref.namespace, ref.name)

        self.push_screen(ConfirmScreen("Delete", f"Delete {what}?"), answered)

    def action_restart(self: CpanelApp) -> None:
        ref = self._ref()
        if ref is None or self.readonly:
            return
        owner = self.pane.restart_target(ref)
        if owner is None:
            self.flash(f"{ref.name} has no Deployment, StatefulSet or DaemonSet to restart",
                       error=True)
            return
        kind, namespace, name = owner
        what = f"{kind.kind} {namespace}/{name}"

        def answered(yes: bool | None) -> None:
            if yes:
                self._act(f"restarted {what}", "restart_rollout", kind, namespace, name)

        self.push_screen(
            ConfirmScreen("Restart", f"Restart the rollout of {what}?\n"
                          "(new pods start before old ones stop, as `kubectl rollout restart`)"),
            answered)

    def action_recycle(self: CpanelApp) -> None:
        self.flash("recycling pools arrives with the operations work", error=True)

    @work(thread=True, group="act")
    def _act(self: CpanelApp, done: str, action: str, *args: Any) -> None:
        """Run `cpanel_platform.kube.actions.<action>` and say how it went."""
        from cpanel_platform.kube import actions

        try:
            getattr(actions, action)(self.api, *args)
        except actions.KubeActionError as err:
            self.call_from_thread(self.flash, f"failed: {err}", True)
            return
        self.call_from_thread(self.flash, done)
