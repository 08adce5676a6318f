"""API errors as Kubernetes `Status` objects (metav1.Status), with the real reasons and codes."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """An error the API server answers with a Status body."""

    def __init__(
        self,
        code: int,
        reason: str,
        message: str,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details

    def status(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        }
        if self.details:
            body["details"] = self.details
        return body


def _details(kind: str, name: str, group: str = "") -> dict[str, Any]:
    details: dict[str, Any] = {"name": name, "kind": kind}
    if group:
        details["group"] = group
    return details


def qualified(plural: str, group: str) -> str:
    """`deployments.apps` style resource name used in messages."""
    return f"{plural}.{group}" if group else plural


def not_found(plural: str, group: str, name: str) -> ApiError:
    return ApiError(
        404,
        "NotFound",
        f'{qualified(plural, group)} "{name}" not found',
        _details(plural, name, group),
    )


def already_exists(plural: str, group: str, name: str) -> ApiError:
    return ApiError(
        409,
        "AlreadyExists",
        f'{qualified(plural, group)} "{name}" already exists',
        _details(plural, name, group),
    )


def conflict(plural: str, group: str, name: str, why: str) -> ApiError:
    return ApiError(
        409,
        "Conflict",
        f'Operation cannot be fulfilled on {qualified(plural, group)} "{name}": {why}',
        _details(plural, name, group),
    )


def stale(plural: str, group: str, name: str) -> ApiError:
    """A write that carried an outdated resourceVersion (optimistic concurrency)."""
    return conflict(
        plural,
        group,
        name,
        "the object has been modified; please apply your changes to the latest version and try "
        "again",
    )


def invalid(kind: str, group: str, name: str, causes: list[tuple[str, str, str]]) -> ApiError:
    """422 Invalid. `causes` are (field, reason type, message), e.g.
    ("metadata.name", "FieldValueRequired", "Required value: name is required")."""
    details = _details(kind, name, group)
    details["causes"] = [{"reason": r, "message": m, "field": f} for f, r, m in causes]
    summary = ", ".join(f"{f}: {m}" for f, _, m in causes)
    return ApiError(
        422,
        "Invalid",
        f'{kind}{"." + group if group else ""} "{name}" is invalid: {summary}',
        details,
    )


def bad_request(message: str) -> ApiError:
    return ApiError(400, "BadRequest", message)


def forbidden(
    user: str, verb: str, plural: str, group: str, namespace: str, name: str = ""
) -> ApiError:
    where = f' in the namespace "{namespace}"' if namespace else " at the cluster scope"
    target = f'{qualified(plural, group)} "{name}"' if name else qualified(plural, group)
    return ApiError(
        403,
        "Forbidden",
        f'{target} is forbidden: User "{user}" cannot {verb} resource "{plural}" in API group '
        f'"{group}"{where}',
        _details(plural, name, group),
    )


def unauthorized() -> ApiError:
    return ApiError(401, "Unauthorized", "Unauthorized")


def method_not_allowed(
    message: str = "the server does not allow this method on the requested resource",
) -> ApiError:
    return ApiError(405, "MethodNotAllowed", message)


BODY_MEDIA = ("application/json", "application/yaml", "application/vnd.kubernetes.protobuf")
PATCH_MEDIA = (
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
    "application/apply-patch+yaml",
)


def unsupported_media_type(got: str, accepted: tuple[str, ...]) -> ApiError:
    return ApiError(
        415,
        "UnsupportedMediaType",
        "the body of the request was in an unknown format - accepted media types include: "
        f'{", ".join(accepted)} (got "{got}")',
    )


def too_large() -> ApiError:
    return ApiError(413, "RequestEntityTooLarge", "Request entity too large: limit is 3145728")


def gone(message: str) -> ApiError:
    return ApiError(410, "Expired", message)


def too_many_requests(message: str, causes: list[dict[str, str]] | None = None) -> ApiError:
    details = {"causes": causes} if causes else None
    return ApiError(429, "TooManyRequests", message, details)
