"""`cpanel plan`, `cpanel up` and `cpanel down`: the platform file carried out from a shell.

Exit codes: `plan` 0 when nothing would change, 2 when something would, 1 on an error or a
refusal (as `terraform plan -detailed-exitcode`); `up` and `down` 0 when done, 1 when they
did not run or stopped, 130 when interrupted.
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import datetime
from functools import partial

from cpanel_platform import config
from cpanel_platform.kube.client import KubeConfigError
from cpanel_platform.provision import manifests
from cpanel_platform.provision.components import Fetch
from cpanel_platform.provision.kube_apply import KubeApplyError
from cpanel_platform.provision.kubeconfig import user_kubeconfig_path
from cpanel_platform.provision.linode_plan import PlanError
from cpanel_platform.provision.manifests import ManifestError
from cpanel_platform.provision.plan import Plan, make_plan
from cpanel_platform.provision.spec import PlatformSpec, SpecError, load_spec
from cpanel_platform.provision.up import Event, UpError, carry_out, down
from rich.console import Console
from rich.markup import escape

from cpanel.plan_text import plan_lines

console = Console(soft_wrap=True, highlight=False)
errors = Console(stderr=True, soft_wrap=True, highlight=False)
# What a bad file, token, network or answer raises: each message is the whole story.
USER_ERRORS = (
    SpecError, PlanError, ManifestError, KubeApplyError, KubeConfigError, UpError,
    config.ConfigError,
)
NO_CHANGES, CHANGES, FAILED, INTERRUPTED = 0, 2, 1, 130


def run(args: argparse.Namespace) -> int:
    try:
        spec = load_spec(args.file)
        settings = config.load(args.config)
        token, url = config.linode_token(), config.linode_url(settings)
        if args.command == "down":
            return _down(args, spec, token, url)
        fetch = fetcher()
        with console.status("reading the Linode API and the cluster…"):
            plan = make_plan(spec, token=token, linode_url=url, fetch=fetch,
                             production_ok=args.production)
        for line in plan_lines(plan, args.file):
            console.print(line)
        if args.command == "plan":
            return FAILED if plan.refusals else (CHANGES if plan.has_changes else NO_CHANGES)
        return _up(args, spec, plan, token or "", url, fetch)
    except USER_ERRORS as err:
        errors.print(f"[red]error:[/] {escape(str(err))}")
        return FAILED
    except KeyboardInterrupt:
        errors.print(
            "[yellow]interrupted[/]: what was applied stays; run `cpanel up` again to go on"
        )
        return INTERRUPTED


def fetcher() -> Fetch:
    client = manifests.mirror_client(os.environ)
    return partial(manifests.fetch, mirror=manifests.mirror_url(os.environ), client=client)


# --- up and down ----------------------------------------------------------------------------


def _up(
    args: argparse.Namespace, spec: PlatformSpec, plan: Plan, token: str, url: str, fetch: Fetch
) -> int:
    if plan.refusals:
        return FAILED
    if not plan.has_changes:
        return NO_CHANGES
    blocking = [f for f in plan.findings if f.code == "production-before-staging"]
    if blocking:
        errors.print("[red]not applied:[/] the production issuer needs --production (see above)")
        return FAILED
    if plan.destructive:
        if not args.allow_destroy:
            errors.print("[red]not applied:[/] the plan deletes things; --allow-destroy allows it")
            return FAILED
        if not _typed(args, spec.cluster.label, "to destroy what the plan lists"):
            return FAILED
    if args.dry_run:
        console.print("dry run: nothing applied")
        return CHANGES
    if not args.yes:
        if not sys.stdin.isatty():
            errors.print("[red]not applied:[/] no terminal to confirm on; pass --yes")
            return FAILED
        if console.input("Apply this plan? [y/N] ").strip().lower() not in ("y", "yes"):
            console.print("Nothing applied.")
            return FAILED
    context = carry_out(
        spec, plan, token=token, linode_url=url, fetch=fetch,
        kubeconfig_path=user_kubeconfig_path(), report=_print_event,
        allow_destroy=args.allow_destroy, timeout=args.timeout,
    )
    console.print(f"[green]Done.[/] The platform matches the file; kube context {context}.")
    return NO_CHANGES


def _print_event(event: Event) -> None:
    colour = {"step": "", "wait": "[dim]", "done": "[green]"}[event.kind]
    end = "[/]" if colour else ""
    stamp = datetime.now().strftime("%H:%M:%S")
    console.print(f"{stamp} {event.component:<14} {colour}{escape(event.message)}{end}")


def _typed(args: argparse.Namespace, label: str, why: str) -> bool:
    """A typed confirmation of the cluster's label: `--confirm LABEL`, or typed at a prompt."""
    if args.confirm is not None:
        typed = args.confirm
    elif sys.stdin.isatty():
        typed = console.input(f"Type the cluster's label ({label}) {why}: ").strip()
    else:
        errors.print(f"[red]not done:[/] no terminal to confirm on; pass --confirm {label}")
        return False
    if typed != label:
        errors.print(f"[red]not done:[/] {typed!r} is not the cluster's label {label!r}")
        return False
    return True


def _down(args: argparse.Namespace, spec: PlatformSpec, token: str | None, url: str) -> int:
    label = spec.cluster.label
    if not _typed(args, label, "to delete it and everything on it"):
        return FAILED
    with console.status(f"deleting LKE cluster {label}…"):
        deleted = down(spec, token=token or "", linode_url=url,
                       kubeconfig_path=user_kubeconfig_path())
    if deleted is None:
        console.print(f"No LKE cluster labelled {label}; nothing deleted.")
    else:
        console.print(f"Deleted LKE cluster {label} (id {deleted}) and its kubeconfig context.")
    return NO_CHANGES

