"""Kubeconfig wiring: which cluster and user a context means, and an ApiClient for it.

Loading a kubeconfig never touches the network; the first request does.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import yaml
from kubernetes.client import ApiClient, Configuration
from kubernetes.config.config_exception import ConfigException
from kubernetes.config.kube_config import ConfigNode, KubeConfigLoader, KubeConfigMerger

from ..endpoint import HttpEndpoint

DEFAULT_KUBECONFIG = "~/.kube/config"
# Every pane's cache holds a watch open; keep that many connections for reuse.
POOL_SIZE = 32
USER_AGENT = "cpanel"


class KubeConfigError(Exception):
    """A kubeconfig problem, in one line fit for the user."""


@dataclass(frozen=True)
class KubeTarget:
    context: str
    cluster: str  # the kubeconfig's cluster name
    server: str  # API server URL
    user: str  # the kubeconfig's user name (what k9s shows)
    namespace: str  # the context's namespace
    api: ApiClient = field(compare=False, repr=False)


def connect(kubeconfig: str | None = None, context: str | None = None) -> KubeTarget:
    """An ApiClient for `context` (default: the current one) of `kubeconfig` (default:
    $KUBECONFIG, else ~/.kube/config, merged as kubectl does)."""
    where, merged = _load(kubeconfig)
    return _target(where, merged, context)


def connect_config(config: dict[str, Any], source: str) -> KubeTarget:
    """An ApiClient for the current context of a kubeconfig held in memory (as the Linode API
    hands out an LKE cluster's); `source` names it in errors."""
    # Shaped as KubeConfigMerger leaves a file: each named entry is a node of its own.
    sections = ("clusters", "users", "contexts")
    nodes = {s: [ConfigNode(source, e) for e in config.get(s) or []] for s in sections}
    return _target(source, ConfigNode(source, {**config, **nodes}), None)


def _target(where: str, merged: Any, context: str | None) -> KubeTarget:
    names = _context_names(merged)
    if context is None:
        context = merged.value.get("current-context") or None
        if context is None:
            raise KubeConfigError(
                f"{where} sets no current context; choose one with --context "
                f"({_known(names)})"
            )
    if context not in names:
        raise KubeConfigError(f"no context {context!r} in {where} ({_known(names)})")
    ctx = _entries(merged, "contexts")[context].get("context") or {}
    cluster_name = ctx.get("cluster") or ""
    if not cluster_name:
        raise KubeConfigError(f"context {context!r} in {where} names no cluster")
    cluster = _entries(merged, "clusters").get(cluster_name)
    if cluster is None:
        raise KubeConfigError(
            f"context {context!r} names cluster {cluster_name!r}, which {where} does not define"
        )
    if not (cluster.get("cluster") or {}).get("server"):
        raise KubeConfigError(f"cluster {cluster_name!r} in {where} has no server")
    cfg = Configuration()
    try:
        loader = KubeConfigLoader(config_dict=merged, active_context=context, config_base_path=None)
        loader.load_and_set(cfg)  # may write the CA and client certificate to temporary files
    except (ConfigException, KeyError, TypeError, ValueError, OSError) as err:
        raise KubeConfigError(f"{where}: context {context!r}: {_first_line(err)}") from None
    cfg.connection_pool_maxsize = POOL_SIZE
    api = ApiClient(cfg)
    api.user_agent = USER_AGENT
    return KubeTarget(
        context=context,
        cluster=cluster_name,
        server=cfg.host,
        user=ctx.get("user") or "",
        namespace=ctx.get("namespace") or "default",
        api=api,
    )


def contexts(kubeconfig: str | None = None) -> tuple[list[str], str | None]:
    """The kubeconfig's context names and its current context, for a picker."""
    _, merged = _load(kubeconfig)
    return _context_names(merged), merged.value.get("current-context") or None


def service_proxy(target: KubeTarget, namespace: str, service: str, port: str) -> HttpEndpoint:
    """A Service reached through the API server's proxy with the kubeconfig's credentials."""
    cfg = target.api.configuration
    headers = {}
    # auth_settings() refreshes an expiring token first; the value is "Bearer …".
    bearer = cfg.auth_settings().get("BearerToken")
    if bearer:
        headers["Authorization"] = bearer["value"]
    cert = (cfg.cert_file, cfg.key_file) if cfg.cert_file and cfg.key_file else None
    verify: bool | str = (cfg.ssl_ca_cert or True) if cfg.verify_ssl else False
    ns, svc = quote(namespace, safe=""), quote(f"{service}:{port}", safe=":")
    return HttpEndpoint(
        url=f"{target.server}/api/v1/namespaces/{ns}/services/{svc}/proxy",
        headers=headers,
        verify=verify,
        cert=cert,
        via="service proxy",
    )


def _paths(kubeconfig: str | None) -> list[str]:
    if kubeconfig:
        return [os.path.expanduser(kubeconfig)]
    env = os.environ.get("KUBECONFIG", "")
    listed = [os.path.expanduser(p) for p in env.split(os.pathsep) if p]
    return listed or [os.path.expanduser(DEFAULT_KUBECONFIG)]


def _load(kubeconfig: str | None) -> tuple[str, Any]:
    """Where the kubeconfig is (for messages) and its merged contents (a ConfigNode)."""
    paths = _paths(kubeconfig)
    existing = [p for p in paths if Path(p).is_file()]
    where = os.pathsep.join(existing or paths)
    if not existing:
        raise KubeConfigError(f"no kubeconfig at {where}")
    for path in existing:
        _check_yaml(path)
    try:
        merged = KubeConfigMerger(os.pathsep.join(existing)).config
    except (ConfigException, KeyError, TypeError, ValueError, AttributeError, OSError) as err:
        raise KubeConfigError(f"kubeconfig {where} is malformed: {_first_line(err)}") from None
    if merged is None:
        raise KubeConfigError(f"kubeconfig {where} is empty")
    return where, merged


def _check_yaml(path: str) -> None:
    """A clear message for a file that is not YAML, or not a kubeconfig-shaped mapping."""
    try:
        with open(path, encoding="utf-8") as f:
            doc = yaml.safe_load(f)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark
        at = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        raise KubeConfigError(f"kubeconfig {path} is not valid YAML{at}: {err.problem}") from None
    except (yaml.YAMLError, UnicodeDecodeError) as err:
        raise KubeConfigError(f"kubeconfig {path} is not valid YAML: {_first_line(err)}") from None
    except OSError as err:
        raise KubeConfigError(f"cannot read kubeconfig {path}: {err.strerror}") from None
    if doc is None:
        raise KubeConfigError(f"kubeconfig {path} is empty")
    if not isinstance(doc, dict):
        raise KubeConfigError(f"kubeconfig {path} is not a kubeconfig (expected a mapping)")
    for section in ("clusters", "contexts", "users"):
        items = doc.get(section) or []
        if not isinstance(items, list) or not all(
            isinstance(i, dict) and isinstance(i.get("name"), str) for i in items
        ):
            raise KubeConfigError(
                f"kubeconfig {path} is malformed: {section} must be a list of named entries"
            )


def _context_names(merged: Any) -> list[str]:
    return list(_entries(merged, "contexts"))


def _entries(merged: Any, section: str) -> dict[str, dict[str, Any]]:
    """A merged section's entries by name, as plain dicts (the first file's wins)."""
    return {node.value["name"]: node.value for node in merged.value.get(section) or []}


def _known(names: list[str]) -> str:
    return f"known: {', '.join(names)}" if names else "it defines no contexts"


def _first_line(err: BaseException) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__
