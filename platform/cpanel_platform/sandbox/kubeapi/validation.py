"""Validation that answers 422 Invalid with field causes, as the real API server does."""

from __future__ import annotations

import re
from typing import Any

from .errors import invalid
from .resources import ResourceType
from .selectors import selector_from_dict

_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")

# Kinds whose names must be DNS-1123 labels rather than subdomains.
_LABEL_NAMED = {("", "namespaces"), ("", "services")}

Cause = tuple[str, str, str]


def _name_causes(rt: ResourceType, meta: dict[str, Any]) -> list[Cause]:
    name = meta.get("name") or ""
    if not name:
        if meta.get("generateName"):
            return []
        return [
            (
                "metadata.name",
                "FieldValueRequired",
                "Required value: name or generateName is required",
            )
        ]
    if (rt.group, rt.plural) in _LABEL_NAMED:
        if len(name) > 63 or not _LABEL.match(name):
            return [
                (
                    "metadata.name",
                    "FieldValueInvalid",
                    f'Invalid value: "{name}": a lowercase RFC 1123 label must consist of lower '
                    "case alphanumeric characters or '-', and must start and end with an "
                    "alphanumeric character",
                )
            ]
    elif len(name) > 253 or not _SUBDOMAIN.match(name):
        return [
            (
                "metadata.name",
                "FieldValueInvalid",
                f'Invalid value: "{name}": a lowercase RFC 1123 subdomain must consist of lower '
                "case alphanumeric characters, '-' or '.', and must start and end with an "
                "alphanumeric character",
            )
        ]
    return []


def _label_causes(meta: dict[str, Any]) -> list[Cause]:
    causes = []
    labels = meta.get("labels") or {}
    if not isinstance(labels, dict):
        return [("metadata.labels", "FieldValueInvalid", "Invalid value: labels must be a map")]
    for key, value in labels.items():
        if not isinstance(value, str) or len(value) > 63 or not _LABEL_VALUE.match(value):
            causes.append(
                (
                    "metadata.labels",
                    "FieldValueInvalid",
                    f'Invalid value: "{value}": a valid label must be an empty string or '
                    "consist of alphanumeric characters, '-', '_' or '.'",
                )
            )
        if not key or len(key.rpartition("/")[2]) > 63:
            causes.append(("metadata.labels", "FieldValueInvalid", f'Invalid value: "{key}"'))
    return causes


def _pod_spec_causes(spec: Any, path: str) -> list[Cause]:
    if not isinstance(spec, dict):
        return [(path, "FieldValueRequired", "Required value")]
    containers = spec.get("containers")
    if not containers:
        return [(f"{path}.containers", "FieldValueRequired", "Required value")]
    causes = []
    seen = set()
    for i, c in enumerate(containers):
        if not isinstance(c, dict):
            causes.append((f"{path}.containers[{i}]", "FieldValueInvalid", "Invalid value"))
            continue
        if not c.get("name"):
            causes.append((f"{path}.containers[{i}].name", "FieldValueRequired", "Required value"))
        elif c["name"] in seen:
            causes.append(
                (
                    f"{path}.containers[{i}].name",
                    "FieldValueDuplicate",
                    f'Duplicate value: "{c["name"]}"',
                )
            )
        seen.add(c.get("name"))
        if not c.get("image"):
            causes.append((f"{path}.containers[{i}].image", "FieldValueRequired", "Required value"))
    return causes


def _workload_causes(obj: dict[str, Any]) -> list[Cause]:
    spec = obj.get("spec") or {}
    selector = spec.get("selector")
    causes = []
    if not selector or not (selector.get("matchLabels") or selector.get("matchExpressions")):
        causes.append(("spec.selector", "FieldValueRequired", "Required value"))
    template = spec.get("template") or {}
    labels = (template.get("metadata") or {}).get("labels") or {}
    if selector and not causes and not selector_from_dict(selector).matches(labels):
        causes.append(
            (
                "spec.template.metadata.labels",
                "FieldValueInvalid",
                f"Invalid value: {labels}: `selector` does not match template `labels`",
            )
        )
    replicas = spec.get("replicas")
    if replicas is not None and (not isinstance(replicas, int) or replicas < 0):
        causes.append(
            (
                "spec.replicas",
                "FieldValueInvalid",
                f"Invalid value: {replicas}: must be greater than or equal to 0",
            )
        )
    causes += _pod_spec_causes(template.get("spec"), "spec.template.spec")
    return causes


def _kind_causes(rt: ResourceType, obj: dict[str, Any]) -> list[Cause]:
    key = (rt.group, rt.plural)
    if key == ("", "pods"):
        return _pod_spec_causes(obj.get("spec"), "spec")
    if rt.group == "apps" and rt.plural in (
        "deployments",
        "replicasets",
        "statefulsets",
        "daemonsets",
    ):
        return _workload_causes(obj)
    if key == ("batch", "jobs"):
        return _pod_spec_causes(
            (obj.get("spec") or {}).get("template", {}).get("spec"), "spec.template.spec"
        )
    if key == ("batch", "cronjobs"):
        spec = obj.get("spec") or {}
        if not spec.get("schedule"):
            return [("spec.schedule", "FieldValueRequired", "Required value")]
    if key == ("apiextensions.k8s.io", "customresourcedefinitions"):
        return _crd_causes(obj)
    return []


def _crd_causes(obj: dict[str, Any]) -> list[Cause]:
    spec = obj.get("spec") or {}
    names = spec.get("names") or {}
    causes = []
    for field in ("plural", "kind"):
        if not names.get(field):
            causes.append((f"spec.names.{field}", "FieldValueRequired", "Required value"))
    if not spec.get("group"):
        causes.append(("spec.group", "FieldValueRequired", "Required value"))
    versions = spec.get("versions") or []
    if not versions:
        causes.append(("spec.versions", "FieldValueRequired", "Required value"))
    elif sum(1 for v in versions if v.get("storage")) != 1:
        causes.append(
            (
                "spec.versions",
                "FieldValueInvalid",
                "Invalid value: must have exactly one version marked as storage version",
            )
        )
    expected = f"{names.get('plural')}.{spec.get('group')}"
    if not causes and obj["metadata"].get("name") != expected:
        causes.append(
            (
                "metadata.name",
                "FieldValueInvalid",
                f'Invalid value: "{obj["metadata"].get("name")}": '
                'must be spec.names.plural+"."+spec.group',
            )
        )
    return causes


def validate(rt: ResourceType, obj: dict[str, Any]) -> None:
    """Raise 422 Invalid when `obj` would not be accepted by a real API server."""
    meta = obj.get("metadata") or {}
    causes = _name_causes(rt, meta) + _label_causes(meta) + _kind_causes(rt, obj)
    if causes:
        raise invalid(rt.kind, rt.group, meta.get("name") or meta.get("generateName", ""), causes)
