"""Bearer-token authentication and the two roles the sandbox grants.

`admin` may do everything (system:masters); `viewer` mirrors the stock `view` ClusterRole:
read everything but Secrets, write nothing. SelfSubjectAccessReview answers from these rules.
"""

from __future__ import annotations

from dataclasses import dataclass

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
    if (group, plural) == ("authorization.k8s.io", "selfsubjectaccessreviews"):
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
