"""Adding an LKE cluster's kubeconfig to the user's, as `linode-cli lke kubeconfig-view` users
do by hand: its cluster, user and context are merged in by name, other entries are kept as
they are, and the new context becomes the current one."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import yaml

from cpanel_platform.kube.client import DEFAULT_KUBECONFIG, KubeConfigError

SECTIONS = ("clusters", "users", "contexts")


def user_kubeconfig_path(env: dict[str, str] | None = None) -> Path:
    """The file kubectl writes to: the first of `$KUBECONFIG`, else ~/.kube/config."""
    env = dict(os.environ) if env is None else env
    listed = [p for p in env.get("KUBECONFIG", "").split(os.pathsep) if p]
    return Path(os.path.expanduser(listed[0] if listed else DEFAULT_KUBECONFIG))


def parse(text: str, source: str) -> dict[str, Any]:
    try:
        config = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise KubeConfigError(f"{source} is not valid YAML: {exc}") from None
    if not isinstance(config, dict):
        raise KubeConfigError(f"{source} is not a kubeconfig (a mapping)")
    return config


def context_name(config: dict[str, Any]) -> str:
    name = config.get("current-context") or next(
        (c["name"] for c in config.get("contexts") or []), ""
    )
    if not name:
        raise KubeConfigError("the LKE kubeconfig names no context")
    return str(name)


def merge(path: Path, addition: dict[str, Any]) -> str:
    """Merge `addition` into the kubeconfig at `path` (created if missing); return the context
    now current. The file is replaced atomically and kept private (0600)."""
    current = parse(path.read_text(), str(path)) if path.exists() else {}
    merged = {"apiVersion": "v1", "kind": "Config", "preferences": {}, **current}
    for section in SECTIONS:
        new = {entry["name"]: entry for entry in addition.get(section) or []}
        kept = [e for e in merged.get(section) or [] if e.get("name") not in new]
        merged[section] = [*kept, *new.values()]
    context = context_name(addition)
    merged["current-context"] = context
    _write_private(path, yaml.safe_dump(merged, sort_keys=False))
    return context


def remove(path: Path, addition: dict[str, Any]) -> bool:
    """Remove `addition`'s entries from the kubeconfig at `path`; True if any were there."""
    if not path.exists():
        return False
    current = parse(path.read_text(), str(path))
    found = False
    for section in SECTIONS:
        names = {entry["name"] for entry in addition.get(section) or []}
        kept = [e for e in current.get(section) or [] if e.get("name") not in names]
        found |= len(kept) != len(current.get(section) or [])
        current[section] = kept
    if current.get("current-context") == context_name(addition):
        current["current-context"] = ""
    if found:
        _write_private(path, yaml.safe_dump(current, sort_keys=False))
    return found


def _write_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w") as out:
            out.write(text)
        os.chmod(name, 0o600)
        os.replace(name, path)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
