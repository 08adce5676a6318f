"""The `cpanel` command line."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import shlex
import sys
from pathlib import Path

from cpanel_platform.sandbox import control, runner
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
            default=runner.default_state_dir(),
            help="where the sandbox keeps its state (default: %(default)s)",
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


def _options(args: argparse.Namespace) -> runner.WorldOptions:
    return runner.WorldOptions(
        args.seed, args.speed, max(1, args.nodes), args.pods, args.history_days
    )


def _print_ready(info: dict, state: Path, stop_hint: str) -> None:
    flag = "" if state == runner.default_state_dir() else f" --state-dir {state}"
    console.print(
        f"[green]Sandbox ready[/]: Kubernetes API {info['kube']}, Linode API {info['linode']}"
    )
    console.print(
        f'In another shell:  eval "$({sys.argv[0]} sandbox env{flag})"; '
        "kubectl get nodes; linode-cli lke clusters-list"
    )
    console.print(f"Contexts: sandbox (admin), sandbox-viewer (read-only). {stop_hint}")


def _running(state: Path) -> dict | None:
    info = runner.read_runtime(state)
    if not info:
        console.print(f"No sandbox runs for {state}; start one with `cpanel sandbox up --detach`.")
    return info


def _status(state: Path) -> int:
    info = _running(state)
    if not info:
        return 3
    console.print(f"Sandbox pid {info['pid']} ({state})")
    code, body = control.call(info, runner.admin_token(state), "GET", "/status")
    if code != 200:
        console.print(f"[red]the sandbox's control API answered {code}[/]")
        return 1
    healthy = True
    for section in ("servers", "actors"):
        for name, health in body[section].items():
            ok = health in ("healthy", "running")
            healthy &= ok
            console.print(f"  {name:<26} [{'green' if ok else 'red'}]{health}[/]")
    if body["incidents"]:
        console.print(f"  incidents: [yellow]{', '.join(body['incidents'])}[/]")
    console.print(f"  Kubernetes API {info['kube']}, Linode API {info['linode']}")
    return 0 if healthy else 1


def _incident(state: Path, name: str | None, stop: bool) -> int:
    info = _running(state)
    if not info:
        return 3
    token = runner.admin_token(state)
    if not name:
        _, body = control.call(info, token, "GET", "/incidents")
        for item in body["incidents"]:
            mark = "[yellow]active[/] " if item["active"] else "       "
            console.print(f"{mark}{item['name']:<22} {item['summary']}")
        return 0
    code, body = control.call(info, token, "DELETE" if stop else "POST", f"/incidents/{name}")
    if code != 200:
        console.print(f"[red]error:[/] {body.get('error', code)}")
        return 1
    console.print(f"Incident {name} {'ended' if stop else 'started'}.")
    return 0


def _sandbox(args: argparse.Namespace) -> int:
    state: Path = args.state_dir
    if args.action == "up":
        if runner.read_runtime(state):
            console.print(
                f"[yellow]A sandbox already runs for {state}[/]; `cpanel sandbox status` shows it."
            )
            return 1
        if args.detach:
            flag = "" if state == runner.default_state_dir() else f" --state-dir {state}"
            _print_ready(
                runner.start_detached(state, _options(args)),
                state,
                f"`cpanel sandbox down{flag}` stops it.",
            )
            return 0
        console.print("Starting the sandbox…")
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(
                runner.serve(
                    state,
                    _options(args),
                    on_ready=lambda info: _print_ready(info, state, "Ctrl-C stops it."),
                )
            )
        console.print("Sandbox stopped.")
        return 0
    if args.action == "env":
        info = runner.read_runtime(state)
        if not info:
            console.print("[red]No sandbox runs[/]; start one with `cpanel sandbox up --detach`.")
            return 1
        for key, value in runner.env_exports(state, info).items():
            print(f"export {key}={shlex.quote(value)}")
        return 0
    if args.action == "status":
        return _status(state)
    if args.action == "incident":
        return _incident(state, args.name, args.stop)
    stopped = runner.stop(state)
    console.print("Sandbox stopped." if stopped else "No sandbox was running.")
    return 0


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
    args = parser.parse_args(argv)
    if args.command == "sandbox":
        try:
            return _sandbox(args)
        except runner.SandboxError as err:
            console.print(f"[red]error:[/] {err}")
            return 1
    return _dashboard(args)


if __name__ == "__main__":
    sys.exit(main())
