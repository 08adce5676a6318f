"""Bearer-token authentication and the two roles the sandbox grants.

`admin` may do everything (system:masters); `viewer` mirrors the stock `view` ClusterRole:
read everything but Secrets, write nothing. SelfSubjectAccessReview answers from these rules.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from .resources import ResourceType

READ = frozenset({"get", "list", "watch"})
# Subresources the `view` role may read.
_VIEWER_SUBRESOURCES = frozenset({"", "status", "log", "scale"})
_VIEWER_HIDDEN = frozenset({("", "secrets")})


@dataclass(frozen=True)
class User:
    name: str
    role: str  # "admin" | "viewer"
    groups: tuple[str, ...] = ("system:authenticated",)


def allowed(user: User, verb: str, group: str, plural: str, subresource: str = "") -> bool:
    if user.role == "admin":
        return True
    if group == "authorization.k8s.io" and plural.startswith("selfsubject"):
        return verb == "create"  # everyone may ask what they may do
    if (group, plural) in _VIEWER_HIDDEN:
        return False
    return verb in READ and subresource in _VIEWER_SUBRESOURCES


def review(user: User, attrs: dict) -> dict:
    """The status of a SelfSubjectAccessReview for resourceAttributes or nonResourceAttributes."""
    if "nonResourceAttributes" in attrs:
        verb = attrs["nonResourceAttributes"].get("verb", "")
        ok = user.role == "admin" or verb in ("get", "head")
        return {"allowed": ok, **({"reason": "sandbox RBAC"} if ok else {})}
    ra = attrs.get("resourceAttributes") or {}
    ok = allowed(
        user,
        ra.get("verb", ""),
        ra.get("group", ""),
        ra.get("resource", ""),
        ra.get("subresource", ""),
    )
    if ok:
        reason = (
            'RBAC: allowed by ClusterRoleBinding "cluster-admin"'
            if user.role == "admin"
            else 'RBAC: allowed by ClusterRoleBinding "view"'
        )
        return {"allowed": True, "reason": reason}
    return {"allowed": False}


def rules(user: User, types: list[ResourceType]) -> dict[str, Any]:
    """The status of a SelfSubjectRulesReview (`kubectl auth can-i --list`)."""
    if user.role == "admin":
        return {
            "resourceRules": [{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}],
            "nonResourceRules": [{"verbs": ["*"], "nonResourceURLs": ["*"]}],
            "incomplete": False,
        }
    readable: dict[str, set[str]] = defaultdict(set)
    for rt in types:
        if (rt.group, rt.plural) in _VIEWER_HIDDEN or "get" not in rt.verbs:
            continue
        readable[rt.group].add(rt.plural)
        readable[rt.group].update(
            f"{rt.plural}/{sub}" for sub in rt.subresources if sub in _VIEWER_SUBRESOURCES
        )
    resource_rules = [
        {"verbs": sorted(READ), "apiGroups": [group], "resources": sorted(plurals)}
        for group, plurals in sorted(readable.items())
    ]
    resource_rules.append(
        {
            "verbs": ["create"],
            "apiGroups": ["authorization.k8s.io"],
            "resources": ["selfsubjectaccessreviews", "selfsubjectrulesreviews"],
        }
    )
    return {
        "resourceRules": resource_rules,
        "nonResourceRules": [
            {
                "verbs": ["get"],
                "nonResourceURLs": [
                    "/api",
                    "/api/*",
                    "/apis",
                    "/apis/*",
                    "/healthz",
                    "/livez",
                    "/readyz",
                    "/version",
                    "/version/",
                ],
            }
        ],
        "incomplete": False,
    }
