"""The `cpanel` command line."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rich.console import Console

console = Console(stderr=True, soft_wrap=True)


def _sandbox_parser(sub: argparse._SubParsersAction) -> None:
    sandbox = sub.add_parser("sandbox", help="a local copy of an LKE production platform")
    actions = sandbox.add_subparsers(dest="action", required=True)
    for name, text in (
        ("up", "start the sandbox (foreground unless --detach)"),
        ("incident", "start or stop a named incident (without NAME: list them)"),
        ("env", "print shell exports for the running sandbox"),
        ("status", "show whether the sandbox runs and where"),
        ("down", "stop a detached sandbox"),
    ):
        p = actions.add_parser(name, help=text)
        p.add_argument(
            "--state-dir",
            type=Path,
            default=None,
            help="where the sandbox keeps its state (default: $XDG_STATE_HOME/cpanel/sandbox)",
        )
        if name == "incident":
            p.add_argument("name", nargs="?", help="the incident, e.g. node-loss")
            p.add_argument("--stop", action="store_true", help="end the incident")
        if name == "up":
            p.add_argument("--detach", action="store_true", help="run in the background")
            p.add_argument(
                "--speed",
                type=_positive,
                default=1.0,
                help="simulated time runs this many times faster (default: 1)",
            )
            p.add_argument("--seed", type=int, default=0, help="the world's random seed")
            p.add_argument("--nodes", type=_count, default=3, help="nodes in the LKE pool")
            p.add_argument(
                "--pods", type=_count, default=0, help="extra filler pods, for scale work"
            )
            p.add_argument(
                "--history-days",
                type=_count,
                default=90,
                help="days of Prometheus history to backfill (default: 90)",
            )
            p.add_argument(
                "--empty",
                action="store_true",
                help="start with no LKE cluster and an empty Kubernetes API, for provisioning",
            )


def _provision_parsers(sub: argparse._SubParsersAction) -> None:
    for name, text in (
        ("plan", "show what `up` would change (exit 0: nothing, 2: changes, 1: error)"),
        ("up", "create or update the cluster and its components to match the platform file"),
        ("down", "delete the platform file's LKE cluster (asks for its label)"),
    ):
        p = sub.add_parser(name, help=text)
        p.add_argument("-f", "--file", type=Path, default=Path("platform.yaml"),
                       help="the platform file (default: ./platform.yaml)")
        p.add_argument("--config", type=Path,
                       help="settings file (default: $XDG_CONFIG_HOME/cpanel/config.yaml)")
        if name in ("plan", "up"):
            p.add_argument("--production", action="store_true",
                           help="use the production ACME issuer before staging has worked")
        if name == "up":
            p.add_argument("--yes", action="store_true", help="apply without asking")
            p.add_argument("--dry-run", action="store_true",
                           help="show the plan and apply nothing")
            p.add_argument("--allow-destroy", action="store_true",
                           help="allow a plan that deletes the cluster or a pool")
            p.add_argument("--timeout", type=float, default=900.0,
                           help="seconds to wait for each step to become healthy (default 900)")
        if name in ("up", "down"):
            p.add_argument("--confirm", metavar="LABEL",
                           help="the cluster's label, typed in advance for a destructive step")


def _ops_parsers(sub: argparse._SubParsersAction) -> None:
    recycle = sub.add_parser(
        "recycle", help="replace nodes one at a time, surge first, never taking the site down "
        "(without a flag: resume an interrupted recycle)")
    which = recycle.add_mutually_exclusive_group()
    which.add_argument("--pool", type=int, help="every node of the pool with this id")
    which.add_argument("--node", help="one node, by its LKE node id (e.g. 412-3a9f0c21)")
    which.add_argument("--cluster", action="store_true", help="every node of every pool")
    which.add_argument("--abort", action="store_true",
                       help="roll back an interrupted recycle: uncordon, restore the count")
    upgrade = sub.add_parser(
        "upgrade", help="upgrade Kubernetes by one minor: control plane, then a rolling recycle")
    upgrade.add_argument("--to", help="the minor to upgrade to (default: the next one)")
    upgrade.add_argument("-f", "--file", type=Path, default=Path("platform.yaml"),
                         help="the platform file whose components must support the version")
    for p in (recycle, upgrade):
        p.add_argument("--kubeconfig", help="kubeconfig file (default: $KUBECONFIG)")
        p.add_argument("--context", help="kube context (default: the current one)")
        p.add_argument("--config", type=Path, help="settings file")
        p.add_argument("--yes", action="store_true", help="start without asking")
        p.add_argument("--drain-timeout", type=_positive, default=300.0,
                       help="seconds a node's drain may wait on PDBs before the recycle "
                       "stops and rolls back (default 300)")


def _init_parser(sub: argparse._SubParsersAction) -> None:
    init = sub.add_parser("init", help="write a commented starting platform.yaml")
    init.add_argument("-f", "--file", type=Path, default=Path("platform.yaml"),
                      help="where to write it (default: ./platform.yaml)")
    init.add_argument("--force", action="store_true", help="overwrite an existing file")


def _init(args: argparse.Namespace) -> int:
    from cpanel_platform.provision.template import write_template

    try:
        write_template(args.file, force=args.force)
    except FileExistsError:
        console.print(f"[red]error:[/] {args.file} exists; --force overwrites it")
        return 1
    except OSError as exc:
        console.print(f"[red]error:[/] {args.file}: cannot write: {exc.strerror}")
        return 1
    console.print(f"wrote {args.file}: the reference platform, to edit into yours")
    return 0


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError("must be greater than 0")
    return value


def _count(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}")
    return int(text)


def _dashboard_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--kubeconfig", help="kubeconfig file (default: $KUBECONFIG, "
                        "~/.kube/config)")
    parser.add_argument("--context", help="kube context (default: the current one)")
    scope = parser.add_mutually_exclusive_group()
    scope.add_argument("-n", "--namespace", help="namespace (default: the context's)")
    scope.add_argument("-A", "--all-namespaces", action="store_true",
                       help="all namespaces")
    parser.add_argument("--readonly", action="store_true",
                        help="refuse every action that changes the cluster")
    parser.add_argument("--config", type=Path,
                        help="settings file (default: $XDG_CONFIG_HOME/cpanel/config.yaml)")


def _dashboard(args: argparse.Namespace) -> int:
    from cpanel_platform.config import ConfigError
    from cpanel_platform.kube.client import KubeConfigError

    from cpanel.app import run
    from cpanel.keymap import KeymapError

    namespace = "" if args.all_namespaces else args.namespace
    try:
        return run(
            {"kubeconfig": args.kubeconfig, "context": args.context, "namespace": namespace,
             "readonly": args.readonly},
            args.config,
        )
    except (ConfigError, KeymapError, KubeConfigError) as err:
        console.print(f"[red]error:[/] {err}")
        return 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="cpanel",
        description="The dashboard for the current kube context; `cpanel sandbox` for a "
        "local platform to point it at.",
    )
    _dashboard_arguments(parser)
    sub = parser.add_subparsers(dest="command")
    _sandbox_parser(sub)
    _init_parser(sub)
    _provision_parsers(sub)
    _ops_parsers(sub)
    args = parser.parse_args(argv)
    if args.command == "init":
        return _init(args)
    if args.command in ("recycle", "upgrade"):
        from cpanel.ops_cli import run as operate

        return operate(args)
    if args.command in ("plan", "up", "down"):
        from cpanel.provision_cli import run as provision

        return provision(args)
    if args.command == "sandbox":
        from cpanel.sandbox_cli import run

        return run(args)
    return _dashboard(args)


if __name__ == "__main__":
    sys.exit(main())
