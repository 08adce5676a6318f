"""`cpanel recycle` and `cpanel upgrade`: the rolling operations, headless, with progress.

Exit codes: 0 done; 1 refused, stopped (and rolled back) or failed; 130 interrupted (the
operation is recorded on the cluster: run the command again to resume it, or `--abort`).
"""

from __future__ import annotations

import argparse
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from cpanel_platform import config
from cpanel_platform.kube.client import KubeConfigError, KubeTarget, connect
from cpanel_platform.ops import journal
from cpanel_platform.ops.drain import DrainStopped
from cpanel_platform.ops.linode_ops import LinodeOps, OpsError
from cpanel_platform.ops.recycle import Progress, RecyclePlan, Recycler
from cpanel_platform.ops.upgrade import UpgradeError, Upgrader
from rich.console import Console
from rich.markup import escape

console = Console(soft_wrap=True, highlight=False)
errors = Console(stderr=True, soft_wrap=True, highlight=False)
DONE, FAILED, INTERRUPTED = 0, 1, 130
STEP_STYLE = {"done": "green", "stopped": "red", "error": "red", "wait": "dim"}


def run(args: argparse.Namespace) -> int:
    try:
        settings = config.load(args.config)
        target = connect(args.kubeconfig or settings.kubeconfig, args.context or settings.context)
        linode = LinodeOps(config.linode_token(), config.linode_url(settings), _say_linode)
        cluster_id = settings.linode.cluster_id or linode.find_cluster(target.server)
        if cluster_id is None:
            raise OpsError(
                f"no LKE cluster of this Linode account serves {target.server} (context "
                f"{target.context}); set linode.cluster_id in the settings"
            )
        stop = threading.Event()
        recycler = Recycler(target.api, linode, print_progress,
                            drain_timeout=args.drain_timeout, stop=stop)
        if args.command == "upgrade":
            return _upgrade(args, target, linode, cluster_id, recycler)
        return _recycle(args, target, recycler, cluster_id)
    except (OpsError, DrainStopped, UpgradeError, KubeConfigError, config.ConfigError) as err:
        errors.print(f"[red]error:[/] {escape(str(err))}")
        return FAILED
    except KeyboardInterrupt:
        errors.print("[yellow]interrupted[/]: the operation is recorded on the cluster; run "
                     "the same command again to resume it, or `cpanel recycle --abort`")
        return INTERRUPTED


@contextmanager
def _journalled(target: KubeTarget, action: str, what: str) -> Iterator[None]:
    """Journal the operation's outcome: ok, or the error that ended it (then raised on)."""
    outcome, detail = "ok", ""
    try:
        yield
    except KeyboardInterrupt:
        outcome, detail = "interrupted", "recorded on the cluster; resumable"
        raise
    except Exception as err:
        outcome, detail = "failed", str(err)
        raise
    finally:
        problem = journal.record(action, what, outcome, who=journal.who(target.user),
                                 detail=detail)
        if problem:
            errors.print(f"[yellow]not journalled:[/] {escape(problem)}")


def _recycle(
    args: argparse.Namespace, target: KubeTarget, recycler: Recycler, cluster_id: int
) -> int:
    if args.abort:
        with _journalled(target, "recycle-abort", f"LKECluster/{cluster_id}"):
            recycler.abort()
        console.print("[green]Aborted[/]: nothing is left cordoned by cpanel; counts restored.")
        return DONE
    pending = recycler.pending()
    if pending is not None:
        console.print(f"A recycle of {pending.scope} is recorded on this cluster: going on.")
        with _journalled(target, "recycle-resume", f"LKECluster/{cluster_id} {pending.scope}"):
            recycler.resume()
        return DONE
    if not (args.pool or args.node or args.cluster):
        errors.print("[red]error:[/] no recycle to resume; say what to recycle: --pool ID, "
                     "--node ID or --cluster")
        return FAILED
    plan = recycler.plan(cluster_id, pool_id=args.pool, node_id=args.node)
    for line in plan_lines(plan):
        console.print(line)
    if not _confirmed(args, "Recycle?"):
        return FAILED
    with _journalled(target, "recycle", f"LKECluster/{cluster_id} {plan.scope}"):
        recycler.start(plan)
    return DONE


def _upgrade(
    args: argparse.Namespace, target: KubeTarget, linode: LinodeOps, cluster_id: int,
    recycler: Recycler,
) -> int:
    upgrader = Upgrader(target.api, linode, recycler, cluster_id)
    check = upgrader.preflight(args.to, args.file)
    for line in check.lines():
        console.print(line)
    if not check.ok:
        return FAILED
    if not _confirmed(args, f"Upgrade to Kubernetes {check.target}?"):
        return FAILED
    with _journalled(target, "upgrade", f"LKECluster/{cluster_id} {check.current} → "
                     f"{check.target}"):
        upgrader.run(check)
    console.print(f"[green]Done[/]: every node runs Kubernetes {check.target}.")
    return DONE


def plan_lines(plan: RecyclePlan) -> list[str]:
    """The recycle plan as rich markup lines (the dashboard's confirm dialog shows them too)."""
    pools = ", ".join(f"pool {p}: {n} → {n + 1} → {n}" for p, n in plan.pools.items())
    lines = [
        f"[bold]Recycle {escape(plan.scope)}[/] of LKE cluster {plan.cluster_id}",
        f"  surge first ({pools}); then one node at a time, in this order:",
        *(f"    {i}. {escape(n.name)} ({n.pods} pod(s) to move)"
          for i, n in enumerate(plan.nodes, 1)),
        f"  pods to move: {plan.pods}",
        f"  PDBs that may make a drain wait: {escape(', '.join(plan.pdbs)) or 'none'}",
    ]
    if plan.single_replica:
        lines.append(
            "  single-replica workloads behind a PDB, moved by a rolling restart (no downtime): "
            + escape(", ".join(plan.single_replica))
        )
    if plan.local_storage:
        lines.append("  [yellow]pods with local (emptyDir) data that is lost:[/] "
                     + escape(", ".join(plan.local_storage)))
    minutes = plan.estimate / 60
    lines.append(f"  estimated duration: {minutes:.0f} min "
                 f"({plan.seconds_per_node:.0f} s per node, from this cluster's boot times)")
    return lines


def _confirmed(args: argparse.Namespace, question: str) -> bool:
    if args.yes:
        return True
    if not sys.stdin.isatty():
        errors.print("[red]not started:[/] no terminal to confirm on; pass --yes")
        return False
    if console.input(f"{question} [y/N] ").strip().lower() in ("y", "yes"):
        return True
    console.print("Nothing done.")
    return False


def print_progress(progress: Progress) -> None:
    style = STEP_STYLE.get(progress.step, "")
    stamp = datetime.fromtimestamp(progress.at).strftime("%H:%M:%S")
    text = escape(f"{progress.node or '-':<28} {progress.step:<8} {progress.message}")
    console.print(f"{stamp} [{style}]{text}[/]" if style else f"{stamp} {text}")


def _say_linode(text: str) -> None:
    console.print(f"[dim]{escape(text)}[/]")
