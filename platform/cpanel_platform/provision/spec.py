"""`platform.yaml`: the declarative description of an LKE cluster and its baseline components.

Defaults follow the reference platform (REFERENCE.md). Errors name the file, the line and the
field, so a typo is fixed without reading a traceback.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

import yaml
from croniter import croniter
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)

from cpanel_platform.config import YamlProblem, line_of, read_yaml


class SpecError(Exception):
    """A problem with the platform file, worded for the user (file, line and field)."""


def _cron(value: str) -> str:
    if not croniter.is_valid(value):
        raise ValueError(f"not a cron schedule: {value!r} (e.g. '0 9 * * *')")
    return value


def _http_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"not an http(s) URL: {value!r}")
    return value


Cron = Annotated[str, AfterValidator(_cron)]
HttpUrl = Annotated[str, AfterValidator(_http_url)]
# A Kubernetes resource quantity as the platform uses them: "50Gi", "500Mi".
Quantity = Annotated[str, Field(pattern=r"^[0-9]+(\.[0-9]+)?(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$")]
# A Kubernetes object name (DNS-1123 label).
Name = Annotated[str, Field(pattern=r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")]
Version = Annotated[str, Field(min_length=1, pattern=r"^\S+$")]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --- cluster ---------------------------------------------------------------------------------


class Autoscaler(_Model):
    enabled: bool = True
    min: int = Field(ge=1)
    max: int = Field(ge=1)

    @model_validator(mode="after")
    def _ordered(self) -> Autoscaler:
        if self.min > self.max:
            raise ValueError(f"min ({self.min}) is greater than max ({self.max})")
        return self


class Taint(_Model):
    key: str = Field(min_length=1)
    value: str = ""
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"]


class Pool(_Model):
    type: str = Field(min_length=1)  # a Linode plan, e.g. g6-dedicated-8
    count: int = Field(ge=1)
    autoscaler: Autoscaler | None = None
    labels: dict[str, str] = Field(default_factory=dict)
    taints: list[Taint] = Field(default_factory=list)


class Cluster(_Model):
    label: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$")
    region: str = Field(min_length=1)
    k8s_version: str = Field(pattern=r"^[0-9]+\.[0-9]+$")  # a minor, as the Linode API names it
    high_availability: bool = False
    pools: list[Pool] = Field(min_length=1)


# --- components ------------------------------------------------------------------------------


class _Component(_Model):
    enabled: bool = True


class IngressNginx(_Component):
    version: Version = "1.12.1"
    replicas_per_node: int = Field(1, ge=1)


class ExternalDns(_Component):
    version: Version = "0.15.1"
    domain: str | None = None  # required when enabled
    ttl: int = Field(300, ge=1)

    @model_validator(mode="after")
    def _domain_when_enabled(self) -> ExternalDns:
        if self.enabled and not self.domain:
            raise ValueError("domain is required when external_dns is enabled")
        return self


class WildcardCertificate(_Model):
    name: Name
    namespace: Name
    dns_names: list[str] = Field(min_length=1)

    @model_validator(mode="after")
    def _has_wildcard(self) -> WildcardCertificate:
        if not any(name.startswith("*.") for name in self.dns_names):
            raise ValueError("dns_names needs at least one wildcard name, e.g. '*.example.com'")
        return self


class CertManager(_Component):
    version: Version = "1.16.3"
    acme_email: str | None = Field(None, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    solver: Literal["dns01", "http01"] = "dns01"
    provider: str = "linode"  # the DNS-01 webhook's DNS provider
    wildcard_certificate: WildcardCertificate | None = None
    issuer: Literal["staging", "production"] = "staging"

    @model_validator(mode="after")
    def _email_when_enabled(self) -> CertManager:
        if self.enabled and not self.acme_email:
            raise ValueError("acme_email is required when cert_manager is enabled")
        return self


class PostgresCluster(_Model):
    name: Name = "db"
    namespace: Name = "app"
    instances: int = Field(2, ge=1)  # one primary, the rest replicas
    storage: Quantity = "50Gi"
    backup_schedule: Cron = "0 1 * * 0"


class Postgres(_Component):
    version: Version = "5.7.4"  # the Crunchy Postgres Operator
    cluster: PostgresCluster = PostgresCluster()


class Keel(_Component):
    version: Version = "0.19.1"
    default_policy: Literal["all", "major", "minor", "patch", "force"] = "minor"
    webhook: bool = True


class Monitoring(_Component):
    version: Version = "0.14.0"  # kube-prometheus
    retention: str = Field("30d", pattern=r"^([0-9]+(ms|s|m|h|d|w|y))+$")
    pvc_size: Quantity = "10Gi"
    probe_targets: list[HttpUrl] = Field(default_factory=list)


class CertSync(_Component):
    version: Version = "1.3.0"
    schedule: Cron = "0 9 * * *"


def _off(model: type[_Component]) -> Any:
    return Field(default_factory=lambda: model(enabled=False))


class Components(_Model):
    """Listing a component installs it; one left out, or `enabled: false`, is not installed."""

    ingress_nginx: IngressNginx = _off(IngressNginx)
    external_dns: ExternalDns = _off(ExternalDns)
    cert_manager: CertManager = _off(CertManager)
    postgres: Postgres = _off(Postgres)
    keel: Keel = _off(Keel)
    monitoring: Monitoring = _off(Monitoring)
    cert_sync: CertSync = _off(CertSync)


KNOWN_COMPONENTS = tuple(Components.model_fields)


# --- SLOs ------------------------------------------------------------------------------------


class Slo(_Model):
    name: str = Field(min_length=1)
    target: float = Field(gt=0, lt=1)
    window_days: int = Field(30, gt=0)
    sli: Literal["probe", "requests"] = "requests"


def _unique_names(slos: list[Slo]) -> list[Slo]:
    names = [slo.name for slo in slos]
    if len(names) != len(set(names)):
        raise ValueError("each SLO needs its own name")
    return slos


class PlatformSpec(_Model):
    cluster: Cluster
    components: Components = Components()
    slos: Annotated[list[Slo], AfterValidator(_unique_names)] = Field(default_factory=list)


# --- loading ---------------------------------------------------------------------------------


def load_spec(path: Path) -> PlatformSpec:
    """The platform file at `path`, validated; `SpecError` names the file, line and field."""
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise SpecError(f"{path}: no such file (`cpanel init` writes a starting one)") from None
    except OSError as exc:
        raise SpecError(f"{path}: cannot read: {exc.strerror}") from None
    return parse_spec(text, str(path))


def parse_spec(text: str, source: str = "platform.yaml") -> PlatformSpec:
    """The platform file's `text`; `source` names it in errors."""
    try:
        root, data = read_yaml(text, source)
    except YamlProblem as exc:
        raise SpecError(str(exc)) from None
    if data is None:
        raise SpecError(f"{source}: the file is empty (`cpanel init` writes a starting one)")
    if not isinstance(data, dict):
        raise SpecError(
            f"{source}: expected a mapping with cluster, components and slos, "
            f"not {type(data).__name__}"
        )
    _refuse_duplicate_keys(root, source)
    try:
        return PlatformSpec.model_validate(data)
    except ValidationError as exc:
        raise SpecError("\n".join(_describe(err, root, source) for err in exc.errors())) from None


def _refuse_duplicate_keys(node: yaml.Node | None, source: str, loc: tuple[Any, ...] = ()) -> None:
    # PyYAML keeps the last of two equal keys silently; in a platform file that hides an edit.
    if isinstance(node, yaml.MappingNode):
        seen: set[Any] = set()
        for key, value in node.value:
            if key.value in seen:
                where = f"{source}:{key.start_mark.line + 1}"
                raise SpecError(f"{where}: {_field((*loc, key.value))}: given twice in one mapping")
            seen.add(key.value)
            _refuse_duplicate_keys(value, source, (*loc, key.value))
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _refuse_duplicate_keys(item, source, (*loc, index))


def _field(loc: tuple[Any, ...]) -> str:
    text = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in loc)
    return text.lstrip(".") or "(top level)"


def _describe(err: Any, root: yaml.Node | None, source: str) -> str:
    loc = tuple(err["loc"])
    line = line_of(root, loc)
    where = f"{source}:{line}" if line else source
    field = _field(loc)
    message = err["msg"].removeprefix("Value error, ")
    if err["type"] == "extra_forbidden" and loc[:1] == ("components",) and len(loc) == 2:
        message = f"unknown component; known: {', '.join(KNOWN_COMPONENTS)}"
    return f"{where}: {field}: {message}"
