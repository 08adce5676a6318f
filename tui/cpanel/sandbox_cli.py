"""`cpanel sandbox …`: start, inspect and stop the local platform. Imported only for these
commands, so the dashboard starts without loading the sandbox."""

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


def run(args: argparse.Namespace) -> int:
    """Carry out a parsed `cpanel sandbox` command."""
    if args.state_dir is None:
        args.state_dir = runner.default_state_dir()
    try:
        return _sandbox(args)
    except runner.SandboxError as err:
        console.print(f"[red]error:[/] {err}")
        return 1


def _options(args: argparse.Namespace) -> runner.WorldOptions:
    return runner.WorldOptions(
        args.seed, args.speed, max(1, args.nodes), args.pods, args.history_days, args.empty
    )


def _print_ready(info: dict, state: Path, stop_hint: str) -> None:
    flag = "" if state == runner.default_state_dir() else f" --state-dir {state}"
    console.print(
        f"[green]Sandbox ready[/]: Kubernetes API {info['kube']}, Linode API {info['linode']}"
    )
    if info.get("empty"):
        console.print(
            f'In another shell:  eval "$({sys.argv[0]} sandbox env{flag})"; '
            "linode-cli lke clusters-list"
        )
        console.print(
            "The Linode account is empty: an LKE cluster created through the Linode API gets "
            "a kubeconfig for the sandbox's Kubernetes API once its control plane is up "
            f"(one cluster at a time). {stop_hint}"
        )
        return
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
