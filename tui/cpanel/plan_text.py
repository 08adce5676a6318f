"""A plan as text: the same lines for `cpanel plan` and the dashboard's Platform pane."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from cpanel_platform.provision.kube_apply import ObjectChange
from cpanel_platform.provision.plan import Plan
from rich.markup import escape

SIGNS = {"create": "[green]+[/]", "update": "[yellow]~[/]", "unchanged": " "}


def plan_lines(plan: Plan, source: Path | str) -> Iterator[str]:
    """The plan as lines of rich markup."""
    yield f"[bold]Plan for cluster {escape(plan.label)}[/] ({escape(str(source))})"
    yield ""
    yield "[bold]Linode[/]"
    if not plan.linode:
        yield "  no changes"
    for change in plan.linode:
        sign = "[red]-/+[/]" if change.destructive else "[yellow]~[/]"
        if change.action.startswith("create"):
            sign = "[green]+[/]"
        elif change.action.startswith("delete"):
            sign = "[red]-[/]"
        yield f"  {sign} {change.action} {escape(change.target)}: {escape(change.detail)}"
    note = f" ({escape(plan.kube_note)})" if plan.kube_note else ""
    yield ""
    yield f"[bold]Kubernetes[/]{note}"
    for component in plan.components:
        pending = component.pending
        installed = f", installed {component.installed}" if component.installed else ""
        head = f"  {component.name} {component.version}{installed}: "
        if not pending:
            state = "up to date" if not component.waiting else "up to date, not healthy yet"
            yield head + state
        else:
            yield head + _counts(pending)
        for change in pending:
            yield from _change_lines(change)
        for why in component.waiting:
            yield f"      [yellow]waiting[/] {escape(why)}"
    if plan.findings:
        yield ""
        yield "[bold]Guard rails[/]"
    for finding in plan.findings:
        mark = "[red]refused[/]" if finding.level == "refuse" else "[yellow]warning[/]"
        yield f"  {mark} {escape(finding.message)}"
    yield ""
    yield _summary(plan)


def _change_lines(change: ObjectChange) -> Iterator[str]:
    note = f" [dim]({escape(change.note)})[/]" if change.note else ""
    drift = " [magenta](changed outside cpanel)[/]" if change.drift else ""
    yield f"    {SIGNS[change.action]} {escape(change.ref)}{note}{drift}"
    for field in change.fields:
        if field.before is None:
            text = f"+ {field.path}: {field.after}"
        elif field.after is None:
            text = f"- {field.path}: {field.before}"
        else:
            text = f"{field.path}: {field.before} → {field.after}"
        yield f"        {escape(text)}"


def _counts(changes: tuple[ObjectChange, ...]) -> str:
    creates = sum(c.action == "create" for c in changes)
    updates = len(changes) - creates
    parts = [f"{creates} to create"] if creates else []
    parts += [f"{updates} to update"] if updates else []
    return ", ".join(parts)


def _summary(plan: Plan) -> str:
    if plan.refusals:
        return f"[red]Refused[/]: {len(plan.refusals)} guard rail(s) above must be fixed first."
    if not plan.has_changes:
        return "[green]No changes.[/] The platform matches the file."
    objects = [c for p in plan.components for c in p.pending]
    return (
        f"Plan: {len(plan.linode)} Linode change(s), "
        f"{sum(c.action == 'create' for c in objects)} object(s) to create, "
        f"{sum(c.action == 'update' for c in objects)} to update."
    )
