"""The Kubernetes side of plan and apply: what a server-side apply would change, doing it, and
whether the result is healthy.

The plan asks the API server itself: a dry-run server-side apply (field manager `cpanel`,
forcing conflicts, as `up` will) returns the object as it would be, and the difference from
the live object is the change. Only objects whose dry run differs are written, so a second
`up` on a converged cluster makes no write at all.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from cpanel_platform.kube.kinds import Kind
from cpanel_platform.kube.rest import ApiError, TransportError, call

if TYPE_CHECKING:
    from kubernetes.client import ApiClient

FIELD_MANAGER = "cpanel"
APPLY_PATCH = "application/apply-patch+yaml"
# What the server fills in or owns itself: never part of a change.
_SERVER_METADATA = (
    "managedFields", "resourceVersion", "generation", "creationTimestamp", "uid", "selfLink",
)
_SECRET_FIELDS = {"data", "stringData"}
MAX_VALUE = 60

Doc = dict[str, Any]
Action = Literal["create", "update", "unchanged"]


class KubeApplyError(Exception):
    """The API server refused or could not be reached; the message names the object."""


@dataclass(frozen=True)
class FieldChange:
    path: str
    before: str | None  # None: the field is added
    after: str | None  # None: the field is removed
    outside: bool = False  # the live value was set by someone other than cpanel (drift)


@dataclass(frozen=True)
class ObjectChange:
    kind: str
    namespace: str
    name: str
    action: Action
    fields: tuple[FieldChange, ...] = ()
    note: str = ""  # why a create could not be checked yet

    @property
    def ref(self) -> str:
        return object_ref(self.kind, self.namespace, self.name)

    @property
    def drift(self) -> bool:
        return any(f.outside for f in self.fields)


def object_ref(kind: str, namespace: str | None, name: str) -> str:
    """`Kind namespace/name`, as kubectl names an object."""
    return f"{kind} {namespace}/{name}" if namespace else f"{kind} {name}"


def doc_ref(doc: Doc) -> str:
    meta = doc["metadata"]
    return object_ref(doc["kind"], meta.get("namespace"), meta["name"])


class Discovery:
    """(apiVersion, kind) → the REST resource, from the API server's discovery documents,
    fetched once per group version; `forget` after installing CRDs."""

    def __init__(self, api: ApiClient) -> None:
        self.api = api
        self._served: dict[str, dict[str, Kind] | None] = {}

    def kind(self, api_version: str, kind: str) -> Kind | None:
        """None when the API server does not serve it (yet: its CRD may come in this plan)."""
        if api_version not in self._served:
            self._served[api_version] = self._fetch(api_version)
        return (self._served[api_version] or {}).get(kind)

    def forget(self, api_version: str) -> None:
        self._served.pop(api_version, None)

    def _fetch(self, api_version: str) -> dict[str, Kind] | None:
        group, _, version = api_version.rpartition("/")
        path = f"/apis/{api_version}" if group else f"/api/{version}"
        try:
            listing = call(self.api, "GET", path)
        except ApiError as err:
            if err.code == 404:
                return None
            raise KubeApplyError(f"discovery of {api_version}: {err.message}") from err
        except TransportError as err:
            raise KubeApplyError(f"the Kubernetes API is unreachable ({err})") from err
        return {
            r["kind"]: Kind(group, version, r["name"], r["kind"], bool(r.get("namespaced")))
            for r in listing.get("resources", [])
            if "/" not in r["name"]  # subresources
        }


class Applier:
    """Dry runs, applies and reads for desired objects on one cluster."""

    def __init__(self, api: ApiClient) -> None:
        self.api = api
        self.discovery = Discovery(api)

    def _path(self, doc: Doc) -> tuple[Kind | None, str]:
        kind = self.discovery.kind(doc["apiVersion"], doc["kind"])
        meta = doc["metadata"]
        if kind is None:
            return None, ""
        namespace = meta.get("namespace") if kind.namespaced else None
        return kind, kind.object_path(namespace, meta["name"])

    def live(self, doc: Doc) -> Doc | None:
        """The object as it is now, or None when it does not exist (or its kind isn't served)."""
        kind, path = self._path(doc)
        if kind is None:
            return None
        try:
            return self._call("GET", path, doc)
        except KubeApplyError as err:
            if isinstance(err.__cause__, ApiError) and err.__cause__.code == 404:
                return None
            raise

    def change(self, doc: Doc) -> tuple[ObjectChange, Doc | None]:
        """What applying `doc` would change, from a dry-run server-side apply; and the live
        object (None when there is none)."""
        meta = doc["metadata"]
        namespace = meta.get("namespace", "")
        kind, _ = self._path(doc)
        if kind is None:
            return ObjectChange(
                doc["kind"], namespace, meta["name"], "create",
                note=f"{doc['apiVersion']} is served once its CRD is installed",
            ), None
        live = self.live(doc)
        try:
            result = self.apply(doc, dry_run=True)
        except KubeApplyError as err:
            cause = err.__cause__
            if live is None and isinstance(cause, ApiError) and cause.code == 404:
                return ObjectChange(
                    doc["kind"], namespace, meta["name"], "create",
                    note=f"namespace {namespace} is created first",
                ), None
            raise
        if live is None:
            return ObjectChange(doc["kind"], namespace, meta["name"], "create"), None
        fields = tuple(diff(live, result, secret=doc["kind"] == "Secret"))
        action: Action = "update" if fields else "unchanged"
        return ObjectChange(doc["kind"], namespace, meta["name"], action, fields), live

    def apply(self, doc: Doc, *, dry_run: bool = False) -> Doc:
        kind, path = self._path(doc)
        if kind is None:
            raise KubeApplyError(
                f"{doc_ref(doc)}: the cluster does not serve {doc['apiVersion']} "
                "(is its CRD installed?)"
            )
        query: list[tuple[str, str | bool]] = [("fieldManager", FIELD_MANAGER), ("force", True)]
        if dry_run:
            query.append(("dryRun", "All"))
        return self._call("PATCH", path, doc, query=query, body=doc, content_type=APPLY_PATCH)

    def _call(self, method: str, path: str, doc: Doc, **kwargs: Any) -> Doc:
        try:
            return call(self.api, method, path, **kwargs)  # type: ignore[no-any-return]
        except ApiError as err:
            raise KubeApplyError(f"{doc_ref(doc)}: {err.message} (HTTP {err.code})") from err
        except TransportError as err:
            raise KubeApplyError(f"the Kubernetes API is unreachable ({err})") from err

    def list(self, api_version: str, kind_name: str, selector: str) -> list[Doc]:
        kind = self.discovery.kind(api_version, kind_name)
        if kind is None:
            return []
        try:
            listing = call(self.api, "GET", kind.path(), query={"labelSelector": selector})
        except ApiError as err:
            raise KubeApplyError(f"listing {kind.plural}: {err.message}") from err
        except TransportError as err:
            raise KubeApplyError(f"the Kubernetes API is unreachable ({err})") from err
        return list(listing.get("items", []))


# --- the difference between the live object and the dry run ----------------------------------


def diff(live: Doc, result: Doc, *, secret: bool = False) -> Iterator[FieldChange]:
    """Every leaf that differs, with `outside` set where another field manager owns it."""
    before, after = _comparable(live), _comparable(result)
    others = [
        entry.get("fieldsV1") or {}
        for entry in live.get("metadata", {}).get("managedFields") or []
        if entry.get("manager") != FIELD_MANAGER and entry.get("subresource") != "status"
    ]
    for path, old, new in _leaves(before, after, ()):
        shown = (path[0] in _SECRET_FIELDS) if secret and path else False
        yield FieldChange(
            _dotted(path),
            None if old is _MISSING else ("(hidden)" if shown else _short(old)),
            None if new is _MISSING else ("(hidden)" if shown else _short(new)),
            outside=any(_owns(fields, path) for fields in others),
        )


_MISSING = object()


def _comparable(obj: Doc) -> Doc:
    out = {k: v for k, v in obj.items() if k != "status"}
    out["metadata"] = {
        k: v for k, v in (obj.get("metadata") or {}).items() if k not in _SERVER_METADATA
    }
    return out


def _leaves(a: Any, b: Any, path: tuple[str | int, ...]) -> Iterator[tuple[Any, Any, Any]]:
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b), key=str):
            yield from _leaves(a.get(key, _MISSING), b.get(key, _MISSING), (*path, key))
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for index, (x, y) in enumerate(zip(a, b, strict=True)):
            yield from _leaves(x, y, (*path, index))
    elif a != b:
        yield path, a, b


def _owns(fields: dict[str, Any], path: tuple[str | int, ...]) -> bool:
    """Whether FieldsV1 `fields` holds `path`, following map keys (list items are left out:
    owning the list's parent field is enough to count)."""
    node = fields
    for part in path:
        if isinstance(part, int):
            return True
        child = node.get(f"f:{part}")
        if child is None:
            return False
        node = child
    return True


def _dotted(path: tuple[str | int, ...]) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    return text if len(text) <= MAX_VALUE else text[: MAX_VALUE - 1] + "…"


# --- health -----------------------------------------------------------------------------------


def waiting_on(obj: Doc) -> str | None:
    """None when the object is healthy; else what it waits for, in a few words."""
    kind = obj.get("kind")
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    generation = obj.get("metadata", {}).get("generation")
    if generation is not None and status.get("observedGeneration", generation) < generation:
        return "its controller has not seen the change yet"
    if kind == "CustomResourceDefinition":
        return None if _condition(status, "Established") else "not Established yet"
    if kind == "Deployment":
        want = spec.get("replicas", 1)
        ready = status.get("availableReplicas", 0)
        updated = status.get("updatedReplicas", 0)
        if updated < want or ready < want:
            return f"{min(ready, updated)}/{want} replicas updated and available"
        return None
    if kind == "StatefulSet":
        want = spec.get("replicas", 1)
        ready = status.get("readyReplicas", 0)
        return None if ready >= want else f"{ready}/{want} replicas ready"
    if kind == "DaemonSet":
        want = status.get("desiredNumberScheduled")
        ready = status.get("numberAvailable", 0)
        if want is None or ready < want:
            return f"{ready}/{want if want is not None else '?'} pods available"
        return None
    if kind == "Certificate":
        return None if _condition(status, "Ready") else "not Ready (being issued)"
    if kind == "ClusterIssuer":
        return None if _condition(status, "Ready") else "not Ready (ACME account)"
    if kind == "PostgresCluster":
        want = sum(int(i.get("replicas", 1)) for i in spec.get("instances", []))
        ready = sum(int(i.get("readyReplicas", 0)) for i in status.get("instances", []))
        return None if ready >= want else f"{ready}/{want} Postgres instances ready"
    return None


def _condition(status: Doc, name: str) -> bool:
    return any(
        c.get("type") == name and c.get("status") == "True" for c in status.get("conditions", [])
    )

