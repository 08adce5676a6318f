"""cpanel's settings: `$XDG_CONFIG_HOME/cpanel/config.yaml`, then the environment, then flags.

Secrets never live in this file: the Linode token comes from `LINODE_TOKEN` or linode-cli's
own config, Keel's password from `KEEL_PASSWORD`, Kubernetes credentials from the kubeconfig.
"""

from __future__ import annotations

import configparser
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

DEFAULT_LINODE_URL = "https://api.linode.com/v4"


class ConfigError(Exception):
    """A settings problem, worded for the user (file, line and field when known)."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PrometheusSettings(_Section):
    url: str | None = None  # else $PROMETHEUS_URL, else the service proxy below
    namespace: str = "monitoring"
    service: str = "prometheus-k8s"
    port: str = "web"
    refresh_seconds: float = Field(10.0, gt=0)


class KeelSettings(_Section):
    url: str | None = None  # else $KEEL_URL, else the service proxy below
    username: str | None = None  # else $KEEL_USERNAME
    namespace: str = "keel"
    service: str = "keel"
    port: str = "9300"
    refresh_seconds: float = Field(15.0, gt=0)


class LinodeSettings(_Section):
    url: str | None = None  # else $LINODE_API_URL, else the public API
    cluster_id: int | None = None  # else found from the kube context's API server
    refresh_seconds: float = Field(15.0, gt=0)


class SloSettings(_Section):
    target: float = Field(0.9999, gt=0, lt=1)
    window_days: int = Field(30, gt=0)
    sli: Literal["requests", "probe"] = "requests"


class Settings(_Section):
    kubeconfig: str | None = None
    context: str | None = None
    namespace: str | None = None  # None: the context's namespace; "" : all namespaces
    readonly: bool = False
    platform_file: str = "platform.yaml"  # the Platform pane's spec; relative to the cwd
    favourites: list[str] = Field(default_factory=lambda: ["app", "monitoring"])
    prometheus: PrometheusSettings = PrometheusSettings()
    keel: KeelSettings = KeelSettings()
    linode: LinodeSettings = LinodeSettings()
    slo: SloSettings = SloSettings()
    keys: dict[str, str] = Field(default_factory=dict)  # binding id → "key[,key…]"


def config_path(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    base = env.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "cpanel" / "config.yaml"


def load(path: Path | None = None, env: Mapping[str, str] | None = None) -> Settings:
    """Settings from `path` (default: the XDG config file; a missing file is fine)."""
    path = path or config_path(env)
    try:
        text = path.read_text()
    except FileNotFoundError:
        return Settings()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
    try:
        root, data = read_yaml(text, str(path))
    except YamlProblem as exc:
        raise ConfigError(str(exc)) from None
    if data is None:
        return Settings()
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of settings, not {type(data).__name__}")
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = first["loc"]
        field = ".".join(str(part) for part in loc)
        line = line_of(root, loc)
        where = f":{line}" if line else ""
        raise ConfigError(f"{path}{where}: {field}: {first['msg']}") from None


class YamlProblem(Exception):
    """Text that is not YAML; the message names the source and line."""


def read_yaml(text: str, source: str) -> tuple[yaml.Node | None, Any]:
    """The parsed document and its node tree (whose marks give line numbers)."""
    try:
        return yaml.compose(text, Loader=yaml.SafeLoader), yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise YamlProblem(f"{source}{where}: not valid YAML: {problem}") from None


def line_of(node: yaml.Node | None, loc: tuple[Any, ...]) -> int | None:
    """The 1-based line of the YAML node at `loc`, or of its nearest ancestor."""
    line = node.start_mark.line + 1 if node is not None else None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            match = next((v for k, v in node.value if k.value == str(part)), None)
            if match is None:
                key = next((k for k, _ in node.value if k.value == str(part)), None)
                return key.start_mark.line + 1 if key is not None else line
            node = match
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if part >= len(node.value):
                return line
            node = node.value[part]
        else:
            return line
        line = node.start_mark.line + 1
    return line


def linode_token(env: Mapping[str, str] | None = None, home: Path | None = None) -> str | None:
    """`LINODE_TOKEN`, else `LINODE_CLI_TOKEN`, else the default user's token in linode-cli's
    config (`~/.config/linode-cli`)."""
    env = os.environ if env is None else env
    for name in ("LINODE_TOKEN", "LINODE_CLI_TOKEN"):
        if env.get(name):
            return env[name]
    base = Path(env.get("XDG_CONFIG_HOME") or (home or Path.home()) / ".config")
    parser = configparser.ConfigParser()
    try:
        parser.read(base / "linode-cli")
    except configparser.Error:
        return None
    user = parser.get("DEFAULT", "default-user", fallback=None)
    if user and parser.has_section(user):
        return parser.get(user, "token", fallback=None)
    return parser.get("DEFAULT", "token", fallback=None)


def linode_url(settings: Settings, env: Mapping[str, str] | None = None) -> str:
    env = os.environ if env is None else env
    return settings.linode.url or env.get("LINODE_API_URL") or DEFAULT_LINODE_URL
