"""Running the sandbox: its state directory, credentials, kubeconfig, and process lifecycle.

`up` serves in the foreground; `up --detach` starts the same in a background process and
returns once every server answers. State lives under `$XDG_STATE_HOME/cpanel/sandbox`.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import secrets
import signal
import ssl
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml

from . import tls
from .control import ControlServer
from .incidents import Incidents
from .kubeapi.auth import User
from .kubeapi.cluster import NODE_GRACE_SECONDS, KubeCluster
from .linodeapi import LinodeServer
from .mirror import MirrorServer
from .observability import Observability
from .seed import seed_cluster
from .serving import listen
from .simulator.keel_api import KeelApi
from .simulator.kube import Kube
from .world import World

READY_TIMEOUT = 180.0  # a cold start backfills 90 days of metrics: about 40 s on 2 cores


@dataclass(frozen=True)
class WorldOptions:
    """How the sandbox's world is made: deterministic for a seed; sped up; grown for scale;
    or `empty`: an account without an LKE cluster, for provisioning one (no metrics history
    then, whatever `history_days` says)."""

    seed: int = 0
    speed: float = 1.0
    nodes: int = 3
    pods: int = 0
    history_days: int = 90
    empty: bool = False

    def argv(self) -> list[str]:
        return [
            "--history-days",
            str(self.history_days),
            "--seed",
            str(self.seed),
            "--speed",
            str(self.speed),
            "--nodes",
            str(self.nodes),
            "--pods",
            str(self.pods),
            *(["--empty"] if self.empty else []),
        ]


class SandboxError(Exception):
    """A sandbox lifecycle problem worth a clear one-line message."""


def default_state_dir() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or os.path.expanduser("~/.local/state")
    return Path(base) / "cpanel" / "sandbox"


@dataclass(frozen=True)
class Paths:
    root: Path

    @property
    def kubeconfig(self) -> Path:
        return self.root / "kubeconfig"

    @property
    def runtime(self) -> Path:
        return self.root / "sandbox.json"

    @property
    def tokens(self) -> Path:
        return self.root / "tokens.json"

    @property
    def kube_store(self) -> Path:
        return self.root / "kube-store.json"

    @property
    def log(self) -> Path:
        return self.root / "sandbox.log"


def _tokens(paths: Paths) -> dict[str, str]:
    """Bearer tokens per sandbox user, made once per state directory."""
    tokens = json.loads(paths.tokens.read_text()) if paths.tokens.exists() else {}
    missing = [user for user in USERS if user not in tokens]
    if not missing:
        return tokens
    tokens.update({user: secrets.token_urlsafe(24) for user in missing})
    paths.tokens.write_text(json.dumps(tokens))
    paths.tokens.chmod(0o600)
    return tokens


USERS = ("admin", "viewer", "actors", "linode", "keel", "external-dns")
KEEL_USER = "admin"


def _users(tokens: dict[str, str]) -> dict[str, User]:
    masters = ("system:masters", "system:authenticated")
    return {
        tokens["admin"]: User("sandbox-admin", "admin", masters),
        tokens["viewer"]: User("sandbox-viewer", "viewer"),
        # The simulated kubelets and controllers, as the cluster's own components.
        tokens["actors"]: User("system:sandbox-actors", "admin", masters),
    }


def empty_kubeconfig() -> dict[str, Any]:
    """A kubeconfig with nothing in it, for a tool to merge a new cluster's context into."""
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [],
        "users": [],
        "contexts": [],
        "current-context": "",
        "preferences": {},
    }


def _kubeconfig(
    server: str, ca_pem: bytes, cluster: str, contexts: dict[str, tuple[str, str]]
) -> dict[str, Any]:
    """One cluster and, per context name, its (user, token); the first context is current."""
    ca = base64.b64encode(ca_pem).decode()
    return {
        **empty_kubeconfig(),
        "clusters": [
            {"name": cluster, "cluster": {"server": server, "certificate-authority-data": ca}}
        ],
        "users": [{"name": user, "user": {"token": token}} for user, token in contexts.values()],
        "contexts": [
            {"name": name, "context": {"cluster": cluster, "user": user, "namespace": "default"}}
            for name, (user, _) in contexts.items()
        ],
        "current-context": next(iter(contexts)),
    }


def kubeconfig(server: str, tokens: dict[str, str], ca_pem: bytes) -> dict[str, Any]:
    """The sandbox's own: contexts `sandbox` (admin) and `sandbox-viewer` (read-only)."""
    return _kubeconfig(
        server,
        ca_pem,
        "cpanel-sandbox",
        {
            "sandbox": ("sandbox-admin", tokens["admin"]),
            "sandbox-viewer": ("sandbox-viewer", tokens["viewer"]),
        },
    )


def lke_kubeconfig(server: str, token: str, ca_pem: bytes, cluster_id: int) -> dict[str, Any]:
    """What LKE serves for a cluster: cluster `lke<id>`, user `lke<id>-admin`, context
    `lke<id>-ctx`."""
    name = f"lke{cluster_id}"
    return _kubeconfig(server, ca_pem, name, {f"{name}-ctx": (f"{name}-admin", token)})


def _write_private(path: Path, text: str) -> None:
    path.write_text(text)
    path.chmod(0o600)


async def serve(
    state_dir: Path,
    options: WorldOptions | None = None,
    on_ready: Callable[[dict[str, Any]], None] | None = None,
) -> None:
    """Run every sandbox server until signalled; `on_ready` gets the runtime info once all
    servers answer (the same info `sandbox.json` records for other processes)."""
    paths = Paths(state_dir)
    state_dir.mkdir(parents=True, exist_ok=True)
    tokens = _tokens(paths)
    certs = tls.ensure(state_dir)
    socks = [listen() for _ in range(6)]
    kube_sock, linode_sock, control_sock, keel_sock, metrics_sock, mirror_sock = socks
    kube_url = f"https://127.0.0.1:{kube_sock.getsockname()[1]}"
    linode_url = f"http://127.0.0.1:{linode_sock.getsockname()[1]}/v4"
    control_url = f"http://127.0.0.1:{control_sock.getsockname()[1]}"
    keel_url = f"http://127.0.0.1:{keel_sock.getsockname()[1]}"
    mirror_url = f"https://127.0.0.1:{mirror_sock.getsockname()[1]}"
    options = options or WorldOptions()
    world = World(options.seed, options.speed, options.nodes, options.pods, options.empty)
    cluster = KubeCluster(
        _users(tokens),
        world.git_version,
        None if options.empty else paths.kube_store,  # empty means empty, after a restart too
        seed=None if options.empty else seed_cluster,
        names_seed=options.seed,
        node_grace=NODE_GRACE_SECONDS / options.speed,
    )
    ca_pem = certs.ca.read_bytes()
    if world.cluster_id is None:
        config = yaml.safe_dump(empty_kubeconfig(), sort_keys=False)
    else:
        config = yaml.safe_dump(kubeconfig(kube_url, tokens, ca_pem), sort_keys=False)
        world.linode.set_kubeconfig(world.cluster_id, config)
    _write_private(paths.kubeconfig, config)
    world.kube_server = cluster.server
    world.kubeconfig_for = lambda cluster_id: yaml.safe_dump(
        lke_kubeconfig(kube_url, tokens["admin"], ca_pem, cluster_id), sort_keys=False
    )
    monitoring = Observability(
        state_dir,
        options.seed,
        0 if options.empty else options.history_days,
        story=not options.empty,
    )
    world.monitoring = monitoring
    # external-dns has a token of its own, so that request logs tell its calls from clients'.
    linode = LinodeServer(
        world.linode, {tokens["linode"]: "sandbox", tokens["external-dns"]: "external-dns"}
    )
    health = {"kubernetes-api": f"{kube_url}/readyz", "linode-api": f"{linode_url}/regions"}
    requests = {"kubernetes": cluster.server.requests, "linode": linode.requests}
    control = ControlServer(world, Incidents(world), tokens["admin"], health, requests)
    mirror = MirrorServer()
    keel: KeelApi | None = None
    kube_ready, linode_ready, control_ready = asyncio.Event(), asyncio.Event(), asyncio.Event()
    mirror_ready = asyncio.Event()
    servers = [
        asyncio.create_task(cluster.serve(kube_sock, kube_ready, (certs.cert, certs.key))),
        asyncio.create_task(linode.serve(linode_sock, linode_ready)),
        asyncio.create_task(control.serve(control_sock, control_ready)),
        asyncio.create_task(mirror.serve(mirror_sock, mirror_ready, (certs.cert, certs.key))),
    ]

    async def shutdown() -> None:
        # Actors first: their watches would otherwise reconnect to a server on its way down.
        await world.stop()
        await monitoring.stop()
        for server in (cluster, linode, control, mirror, keel):
            if server:
                server.stop()

    loop = asyncio.get_running_loop()
    stopping: list[asyncio.Task[None]] = []  # holds the one shutdown task

    def request_shutdown() -> None:
        if not stopping:
            stopping.append(asyncio.create_task(shutdown()))

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, request_shutdown)
    await kube_ready.wait()
    await linode_ready.wait()
    await control_ready.wait()
    await mirror_ready.wait()
    health["release-mirror"] = f"{mirror_url}/healthz"
    world_kube = Kube(kube_url, tokens["actors"], str(certs.ca), "sandbox")
    await world.start(world_kube, cluster.logs, linode_url, tokens["external-dns"])
    assert world.keel is not None
    keel = KeelApi(world.keel, KEEL_USER, tokens["keel"])
    keel_ready = asyncio.Event()
    servers.append(asyncio.create_task(keel.serve(keel_sock, keel_ready)))
    await keel_ready.wait()
    cluster.server.proxy.register("keel", "keel", keel_url)
    health["keel-api"] = f"{keel_url}/healthz"
    prometheus_url = await monitoring.start(world_kube, metrics_sock)
    cluster.server.proxy.register("monitoring", "prometheus-k8s", prometheus_url)
    health["prometheus"] = f"{prometheus_url}/-/ready"
    info = {
        "prometheus": prometheus_url,
        "pid": os.getpid(),
        "kube": kube_url,
        "linode": linode_url,
        "control": control_url,
        "keel": keel_url,
        "mirror": mirror_url,
        "empty": options.empty,
    }
    paths.runtime.write_text(json.dumps(info))
    if on_ready:
        on_ready(info)
    try:
        await asyncio.gather(*servers)
    finally:
        await world.stop()
        paths.runtime.unlink(missing_ok=True)


def read_runtime(state_dir: Path) -> dict[str, Any] | None:
    """The running sandbox's pid and URLs, or None when none runs (a stale file is removed)."""
    paths = Paths(state_dir)
    try:
        info = json.loads(paths.runtime.read_text())
        os.kill(info["pid"], 0)
    except (FileNotFoundError, ValueError, KeyError, ProcessLookupError):
        paths.runtime.unlink(missing_ok=True)
        return None
    except PermissionError:
        pass
    return info


def answers(url: str, state_dir: Path) -> bool:
    try:
        ca = str(state_dir / "ca.crt")
        tls = ssl.create_default_context(cafile=ca)
        return httpx.get(f"{url}/healthz", timeout=1.0, verify=tls).status_code == 200
    except httpx.HTTPError:
        return False


def start_detached(state_dir: Path, options: WorldOptions | None = None) -> dict[str, Any]:
    """Start the sandbox in the background; return once every server answers."""
    running = read_runtime(state_dir)
    if running:
        return running
    state_dir.mkdir(parents=True, exist_ok=True)
    paths = Paths(state_dir)
    with paths.log.open("ab") as log:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "cpanel_platform.sandbox",
                "--state-dir",
                str(state_dir),
                *(options or WorldOptions()).argv(),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    deadline = time.monotonic() + READY_TIMEOUT
    try:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise SandboxError(f"the sandbox exited during start-up; see {paths.log}")
            info = read_runtime(state_dir)
            if info and answers(info["kube"], state_dir):
                return info
            time.sleep(0.1)
    except BaseException:  # Ctrl-C or a test's timeout: no sandbox left behind, unrecorded
        proc.terminate()
        raise
    proc.terminate()
    raise SandboxError(f"the sandbox did not answer within {READY_TIMEOUT:.0f}s; see {paths.log}")


def stop(state_dir: Path, timeout: float = 10.0) -> bool:
    """Stop a detached sandbox. False when none was running."""
    info = read_runtime(state_dir)
    if not info:
        return False
    pid = info["pid"]
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(0.05)
    os.kill(pid, signal.SIGKILL)
    return True


def _alive(pid: int) -> bool:
    try:
        # Reap it when it is our own child: an exited child lingers as a zombie until then.
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return False
    except ChildProcessError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def admin_token(state_dir: Path) -> str:
    return _tokens(Paths(state_dir))["admin"]


def env_exports(state_dir: Path, info: dict[str, Any]) -> dict[str, str]:
    """What a shell needs to point kubectl, linode-cli and cpanel at this sandbox."""
    token = _tokens(Paths(state_dir))["linode"]
    linode = httpx.URL(info["linode"])
    return {
        "KUBECONFIG": str(Paths(state_dir).kubeconfig),
        "LINODE_TOKEN": token,
        "LINODE_API_URL": info["linode"],
        "LINODE_CLI_TOKEN": token,
        "LINODE_CLI_API_HOST": f"{linode.host}:{linode.port}",
        "LINODE_CLI_API_SCHEME": linode.scheme,
        "LINODE_CLI_API_VERSION": "v4",
        "PROMETHEUS_URL": info["prometheus"],
        "KEEL_URL": info["keel"],
        "KEEL_USERNAME": KEEL_USER,
        "KEEL_PASSWORD": _tokens(Paths(state_dir))["keel"],
        "CPANEL_MIRROR_URL": info["mirror"],
        "CPANEL_MIRROR_CA": str(tls.ensure(state_dir).ca),
    }
