"""Discovery documents: legacy (/api, /apis, group versions) and aggregated (apidiscovery v2)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from .resources import ResourceType

AGGREGATED_TYPE = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
# Versions listed first are preferred; custom groups sort after these, as on a real server.
_GROUP_ORDER = [
    "",
    "apps",
    "authorization.k8s.io",
    "batch",
    "policy",
    "storage.k8s.io",
    "coordination.k8s.io",
    "networking.k8s.io",
    "apiextensions.k8s.io",
]

_SUBRESOURCE_VERBS = {
    "status": ["get", "patch", "update"],
    "scale": ["get", "patch", "update"],
    "log": ["get"],
    "eviction": ["create"],
    "binding": ["create"],
    "exec": ["create", "get"],
    "portforward": ["create", "get"],
    "proxy": ["create", "delete", "get", "patch", "update"],
    "finalize": ["update"],
}
_SUBRESOURCE_KIND = {
    "scale": ("autoscaling", "v1", "Scale"),
    "eviction": ("policy", "v1", "Eviction"),
    "binding": ("", "v1", "Binding"),
    "log": ("", "v1", "Pod"),
}


def _groups(types: list[ResourceType]) -> dict[str, dict[str, list[ResourceType]]]:
    groups: dict[str, dict[str, list[ResourceType]]] = defaultdict(lambda: defaultdict(list))
    for rt in types:
        groups[rt.group][rt.version].append(rt)
    return groups


def _order(group: str) -> tuple[int, str]:
    return (_GROUP_ORDER.index(group) if group in _GROUP_ORDER else len(_GROUP_ORDER), group)


def _versions(versions: dict[str, list[ResourceType]], preferred: str) -> list[str]:
    return [preferred, *sorted(v for v in versions if v != preferred)]


def api_versions() -> dict[str, Any]:
    return {
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": ""}],
    }


def _group_doc(group: str, versions: list[str]) -> dict[str, Any]:
    gvs = [{"groupVersion": f"{group}/{v}", "version": v} for v in versions]
    return {"name": group, "versions": gvs, "preferredVersion": gvs[0]}


def api_group_list(types: list[ResourceType], preferred: dict[str, str]) -> dict[str, Any]:
    groups = _groups(types)
    return {
        "kind": "APIGroupList",
        "apiVersion": "v1",
        "groups": [
            _group_doc(g, _versions(groups[g], preferred[g]))
            for g in sorted(groups, key=_order)
            if g
        ],
    }


def api_group(types: list[ResourceType], group: str, preferred: str) -> dict[str, Any] | None:
    versions = _groups(types).get(group)
    if not versions:
        return None
    return {
        "kind": "APIGroup",
        "apiVersion": "v1",
        **_group_doc(group, _versions(versions, preferred)),
    }


def resource_list(types: list[ResourceType], group: str, version: str) -> dict[str, Any] | None:
    members = [rt for rt in types if rt.group == group and rt.version == version]
    if not members:
        return None
    resources: list[dict[str, Any]] = []
    for rt in sorted(members, key=lambda r: r.plural):
        entry: dict[str, Any] = {
            "name": rt.plural,
            "singularName": rt.singular,
            "namespaced": rt.namespaced,
            "kind": rt.kind,
            "verbs": list(rt.verbs),
        }
        if rt.short_names:
            entry["shortNames"] = list(rt.short_names)
        if rt.categories:
            entry["categories"] = list(rt.categories)
        resources.append(entry)
        for sub in rt.subresources:
            g, v, kind = _SUBRESOURCE_KIND.get(sub, (rt.group, rt.version, rt.kind))
            resources.append(
                {
                    "name": f"{rt.plural}/{sub}",
                    "singularName": "",
                    "namespaced": rt.namespaced,
                    "kind": kind,
                    "verbs": _SUBRESOURCE_VERBS.get(sub, ["get"]),
                    **({"group": g, "version": v} if sub in _SUBRESOURCE_KIND and g else {}),
                }
            )
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": f"{group}/{version}" if group else version,
        "resources": resources,
    }


def _aggregated_resource(rt: ResourceType) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "resource": rt.plural,
        "responseKind": {"group": rt.group, "version": rt.version, "kind": rt.kind},
        "scope": "Namespaced" if rt.namespaced else "Cluster",
        "singularResource": rt.singular,
        "verbs": list(rt.verbs),
    }
    if rt.short_names:
        entry["shortNames"] = list(rt.short_names)
    if rt.categories:
        entry["categories"] = list(rt.categories)
    if rt.subresources:
        entry["subresources"] = []
        for sub in rt.subresources:
            g, v, kind = _SUBRESOURCE_KIND.get(sub, (rt.group, rt.version, rt.kind))
            entry["subresources"].append(
                {
                    "subresource": sub,
                    "responseKind": {"group": g, "version": v, "kind": kind},
                    "verbs": _SUBRESOURCE_VERBS.get(sub, ["get"]),
                }
            )
    return entry


def aggregated(
    types: list[ResourceType], preferred: dict[str, str], legacy: bool
) -> dict[str, Any]:
    """APIGroupDiscoveryList for /api (legacy=True, the core group) or /apis (all others)."""
    groups = _groups(types)
    items = []
    for group in sorted(groups, key=_order):
        if (group == "") != legacy:
            continue
        versions = groups[group]
        items.append(
            {
                "metadata": {"name": group, "creationTimestamp": None},
                "versions": [
                    {
                        "version": v,
                        "resources": [
                            _aggregated_resource(rt)
                            for rt in sorted(versions[v], key=lambda r: r.plural)
                        ],
                        "freshness": "Current",
                    }
                    for v in _versions(versions, preferred.get(group, "v1"))
                ],
            }
        )
    return {
        "kind": "APIGroupDiscoveryList",
        "apiVersion": "apidiscovery.k8s.io/v2",
        "metadata": {},
        "items": items,
    }
