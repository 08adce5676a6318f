"""A minimal OpenAPI v3 surface: one document per group version listing each kind's
operations with `x-kubernetes-group-version-kind` and the `fieldValidation` parameter.

kubectl reads it to learn that the server validates fields itself (so it skips client-side
validation). Patch operations advertise no strategic-merge media type, so kubectl computes
strategic patches from its compiled-in types, exactly as it does for any server whose
schema lacks them. Schemas themselves are not served.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from .resources import ResourceType

_PATCH_TYPES = (
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/apply-patch+yaml",
)
_QUERY = ("dryRun", "fieldManager", "fieldValidation", "force", "pretty")


def _gv_path(rt: ResourceType) -> str:
    return f"apis/{rt.group}/{rt.version}" if rt.group else f"api/{rt.version}"


def _operation(
    rt: ResourceType, action: str, params: tuple[str, ...], body: tuple[str, ...]
) -> dict[str, Any]:
    op: dict[str, Any] = {
        "operationId": f"{action}{rt.kind}",
        "x-kubernetes-action": action,
        "x-kubernetes-group-version-kind": {
            "group": rt.group,
            "version": rt.version,
            "kind": rt.kind,
        },
        "parameters": [{"name": p, "in": "query", "schema": {"type": "string"}} for p in params],
        "responses": {"200": {"description": "OK"}},
    }
    if body:
        op["requestBody"] = {
            "content": {t: {"schema": {"type": "object"}} for t in body},
            "required": True,
        }
    return op


def group_version_doc(types: list[ResourceType], gv_path: str) -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for rt in types:
        if _gv_path(rt) != gv_path:
            continue
        scope = "/namespaces/{namespace}" if rt.namespaced else ""
        base = f"/{gv_path}{scope}/{rt.plural}"
        paths[base] = {"post": _operation(rt, "post", _QUERY[:3], ("application/json",))}
        paths[f"{base}/{{name}}"] = {
            "get": _operation(rt, "get", ("pretty",), ()),
            "put": _operation(rt, "put", _QUERY[:3], ("application/json",)),
            "patch": _operation(rt, "patch", _QUERY, _PATCH_TYPES),
            "delete": _operation(rt, "delete", ("dryRun",), ()),
        }
    return {
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": "sandbox"},
        "paths": paths,
        "components": {"schemas": {}},
    }


def root_doc(types: list[ResourceType]) -> dict[str, Any]:
    gvs = sorted({_gv_path(rt) for rt in types})
    return {
        "paths": {
            gv: {"serverRelativeURL": f"/openapi/v3/{gv}?hash={_hash(types, gv)}"} for gv in gvs
        }
    }


def _hash(types: list[ResourceType], gv: str) -> str:
    doc = json.dumps(group_version_doc(types, gv), sort_keys=True).encode()
    return hashlib.sha512(doc).hexdigest()[:64].upper()
