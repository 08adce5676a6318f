"""The HTTP layer: Kubernetes REST and watch routes over the shared `Api` semantics.

Routing is thin: a path is parsed into (group, version, namespace, plural, name, subresource),
authorised, and handed to `Api`. Content negotiation covers JSON, YAML bodies, the four patch
types, server-side Tables and aggregated discovery.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import yaml
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

from ..requestlog import RequestLog
from . import clock, discovery, openapi, protobuf, tables
from .api import Api
from .auth import User, allowed, review, rules
from .errors import (
    BODY_MEDIA,
    PATCH_MEDIA,
    ApiError,
    bad_request,
    forbidden,
    gone,
    method_not_allowed,
    not_found,
    too_large,
    unauthorized,
    unsupported_media_type,
)
from .eviction import evict
from .logs import LogBook
from .proxy import ServiceProxy, service_name
from .resources import ResourceType
from .selectors import parse_field_selector, parse_label_selector
from .store import Event, Subscription

MAX_BODY = 3 * 1024 * 1024
_PATCH_TYPES = dict(zip(PATCH_MEDIA, ("json", "merge", "strategic", "apply"), strict=True))
_VERBS = {"GET": "get", "POST": "create", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}


def version_info(git_version: str) -> dict[str, str]:
    """What /version answers for a cluster running `git_version` (e.g. "v1.36.2")."""
    major, minor = git_version.lstrip("v").split(".")[:2]
    return {
        "major": major,
        "minor": minor,
        "gitVersion": f"{git_version}+lke",
        "gitCommit": "sandbox",
        "gitTreeState": "clean",
        "buildDate": "2026-09-01T00:00:00Z",
        "goVersion": "go1.25.1",
        "compiler": "gc",
        "platform": "linux/amd64",
    }


@dataclass(frozen=True)
class Target:
    rt: ResourceType
    namespace: str  # "" for cluster-scoped or all namespaces
    name: str
    subresource: str


def _json(body: Any, status: int = 200, media: str = "application/json") -> Response:
    return Response(json.dumps(body, separators=(",", ":")), status, media_type=media)


def _error(err: ApiError) -> Response:
    return _json(err.status(), err.code)


class KubeServer:
    """The ASGI app (`app`, which logs every request in `requests`). `tokens` maps bearer
    tokens to users; `git_version` says which Kubernetes runs, asked at every /version (the
    sandbox's cluster may be upgraded, or replaced by one of another version)."""

    def __init__(
        self,
        api: Api,
        tokens: dict[str, User],
        logs: LogBook,
        git_version: Callable[[], str],
        bookmark_interval: float = 30.0,
    ) -> None:
        self.git_version = git_version
        self.api = api
        self.tokens = tokens
        self.logs = logs
        self.bookmark_interval = bookmark_interval
        self._watches: set[Subscription] = set()
        self.unavailable = False
        self.proxy = ServiceProxy()
        self.requests = RequestLog(
            Starlette(
                routes=[
                    Route(
                        "/{path:path}",
                        self.handle,
                        methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
                    )
                ]
            ),
            dry_run=True,
        )
        self.app = self.requests

    # -- entry ---------------------------------------------------------------------------
    async def handle(self, request: Request) -> Response:
        path = request.url.path.rstrip("/")
        if self.unavailable:  # an outage the sandbox is staging (apiserver-flap)
            return _error(
                ApiError(
                    503,
                    "ServiceUnavailable",
                    "the server is currently unable to handle the request",
                )
            )
        if path in ("/healthz", "/readyz", "/livez"):
            return PlainTextResponse("ok")
        try:
            user = self._authenticate(request)
            request.state.user = user.name
            return await self._route(request, path, user)
        except ApiError as err:
            return _error(err)

    def _authenticate(self, request: Request) -> User:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        user = self.tokens.get(token.strip()) if scheme.lower() == "bearer" else None
        if user is None:
            raise unauthorized()
        return user

    async def _route(self, request: Request, path: str, user: User) -> Response:
        parts = [p for p in path.split("/") if p]
        accept = request.headers.get("accept", "")
        if parts == ["version"]:
            return _json(version_info(self.git_version()))
        if parts[:2] == ["openapi", "v3"]:
            return self._openapi("/".join(parts[2:]))
        if parts and parts[0] in ("openapi", "swagger.json"):
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        if parts == ["api"]:
            if "apidiscovery.k8s.io" in accept:
                return self._aggregated(legacy=True)
            return _json(discovery.api_versions())
        if parts == ["apis"]:
            if "apidiscovery.k8s.io" in accept:
                return self._aggregated(legacy=False)
            return _json(discovery.api_group_list(self.api.types(), self._preferred()))
        if parts[:2] == ["api", "v1"]:
            return await self._resource(request, "", "v1", parts[2:], user)
        if parts[:1] == ["apis"] and len(parts) == 2:
            doc = discovery.api_group(
                self.api.types(), parts[1], self._preferred().get(parts[1], "")
            )
            if doc is None:
                raise ApiError(404, "NotFound", "the server could not find the requested resource")
            return _json(doc)
        if parts[:1] == ["apis"] and len(parts) >= 3:
            return await self._resource(request, parts[1], parts[2], parts[3:], user)
        raise ApiError(404, "NotFound", "the server could not find the requested resource")

    def _openapi(self, gv_path: str) -> Response:
        types = self.api.types()
        if not gv_path:
            return _json(openapi.root_doc(types))
        doc = openapi.group_version_doc(types, gv_path)
        if not doc["paths"]:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        return _json(doc)

    def _preferred(self) -> dict[str, str]:
        prefs: dict[str, str] = {}
        for rt in self.api.types():
            prefs.setdefault(rt.group, self.api.preferred(rt.group, rt.plural).version)
        return prefs

    def _aggregated(self, legacy: bool) -> Response:
        doc = discovery.aggregated(self.api.types(), self._preferred(), legacy)
        return _json(doc, media=discovery.AGGREGATED_TYPE)

    # -- resources -----------------------------------------------------------------------
    def _target(self, group: str, version: str, parts: list[str]) -> Target:
        namespace = ""
        if len(parts) >= 3 and parts[0] == "namespaces" and parts[2] not in ("status", "finalize"):
            namespace, parts = parts[1], parts[2:]
        if not parts or len(parts) > 3:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        rt = self.api.resolve(group, version, parts[0])
        name = parts[1] if len(parts) > 1 else ""
        sub = parts[2] if len(parts) > 2 else ""
        if sub and sub not in rt.subresources:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        if namespace and not rt.namespaced:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        return Target(rt, namespace, name, sub)

    async def _resource(
        self, request: Request, group: str, version: str, parts: list[str], user: User
    ) -> Response:
        if not parts:
            doc = discovery.resource_list(self.api.types(), group, version)
            if doc is None:
                raise ApiError(404, "NotFound", "the server could not find the requested resource")
            return _json(doc)
        if (
            group == ""
            and len(parts) >= 5
            and parts[0] == "namespaces"
            and parts[2:5:2] == ["services", "proxy"]
        ):
            return await self._proxy(request, parts[1], parts[3], "/".join(parts[5:]), user)
        t = self._target(group, version, parts)
        q = request.query_params
        verb = _VERBS[request.method]
        if request.method == "GET" and not t.name:
            verb = "watch" if q.get("watch") in ("true", "1") else "list"
        if request.method == "DELETE" and not t.name:
            verb = "deletecollection"
        if verb not in t.rt.verbs and not t.subresource:
            raise method_not_allowed()
        if not allowed(user, verb, t.rt.group, t.rt.plural, t.subresource):
            raise forbidden(user.name, verb, t.rt.plural, t.rt.group, t.namespace, t.name)
        dry_run = q.get("dryRun") == "All"
        manager = q.get("fieldManager", "")
        if len(manager) > 128:
            raise bad_request("fieldManager: Too long: may not be more than 128 bytes")
        if verb != "patch" or _PATCH_TYPES.get(self._media(request)) != "apply":
            # Like the real server: an unnamed writer is known by its User-Agent's product.
            manager = manager or request.headers.get("user-agent", "").split("/")[0][:128]
        if verb == "list":
            return self._list(request, t)
        if verb == "watch":
            return self._watch(request, t)
        if verb == "get":
            return await self._get(request, t)
        if verb == "deletecollection":
            return await self._delete_collection(request, t, dry_run)
        if verb == "delete":
            options = await self._body(request, optional=True) or {}
            for key in ("gracePeriodSeconds", "propagationPolicy"):
                if key in q:
                    options[key] = int(q[key]) if key == "gracePeriodSeconds" else q[key]
            return _json(
                self.api.delete(
                    t.rt, t.namespace, t.name, options, dry_run or options.get("dryRun") == ["All"]
                )
            )
        patch_type = _PATCH_TYPES.get(self._media(request), "")
        if verb == "patch" and not patch_type:
            raise unsupported_media_type(self._media(request), PATCH_MEDIA)
        body = await self._body(request)
        if verb == "create":
            return await self._create(request, t, body, user, manager, dry_run)
        if verb == "update":
            if t.subresource == "scale":
                return _json(
                    self.api.update_scale(t.rt, t.namespace, t.name, body, manager, dry_run)
                )
            return _json(
                self.api.update(t.rt, t.namespace, t.name, body, t.subresource, manager, dry_run)
            )
        force = q.get("force") in ("true", "1")
        if force and patch_type != "apply":
            raise bad_request("force is not allowed for non-apply patch requests")
        return _json(
            self.api.patch(
                t.rt, t.namespace, t.name, patch_type, body, t.subresource, manager, force, dry_run
            )
        )

    @staticmethod
    def _media(request: Request) -> str:
        return request.headers.get("content-type", "").split(";")[0].strip().lower()

    async def _body(self, request: Request, optional: bool = False) -> Any:
        raw = await request.body()
        if len(raw) > MAX_BODY:
            raise too_large()
        if not raw.strip():
            if optional:
                return None
            raise bad_request("the body of the request was empty")
        media = self._media(request)
        try:
            if media == BODY_MEDIA[2]:
                return protobuf.decode(raw)
            if media in ("application/yaml", "application/apply-patch+yaml"):
                return yaml.safe_load(raw)
            if media in ("application/json", "") or media in _PATCH_TYPES:
                return json.loads(raw)
        except (ValueError, yaml.YAMLError) as exc:
            raise bad_request(
                f"the body of the request could not be decoded: {_first_line(exc)}"
            ) from None
        raise unsupported_media_type(media, BODY_MEDIA)

    async def _get(self, request: Request, t: Target) -> Response:
        if not t.name:
            raise method_not_allowed()
        if t.subresource == "log":
            return await self._log(request, t)
        obj = self.api.get(t.rt, t.namespace, t.name)
        if t.subresource == "scale":
            return _json(self.api.scale(t.rt, obj))
        if _wants_table(request):
            return _json(self._table(request, t.rt, [obj]))
        return _json(obj)

    async def _create(
        self, request: Request, t: Target, body: Any, user: User, manager: str, dry_run: bool
    ) -> Response:
        rt = t.rt
        if (rt.group, rt.plural) == ("authorization.k8s.io", "selfsubjectaccessreviews"):
            spec = (body or {}).get("spec") or {}
            return _json({**body, "status": review(user, spec)}, 201)
        if (rt.group, rt.plural) == ("authorization.k8s.io", "selfsubjectrulesreviews"):
            return _json({**body, "status": rules(user, self.api.types())}, 201)
        if t.subresource == "eviction":
            return _json(evict(self.api, t.namespace, t.name, body, dry_run), 201)
        if t.subresource == "binding":
            return _json(self._bind(t, body), 201)
        if t.name and not t.subresource:
            raise method_not_allowed()
        created = self.api.create(rt, t.namespace, body, manager, dry_run)
        return _json(created, 201)

    def _bind(self, t: Target, body: Any) -> dict[str, Any]:
        target = (body or {}).get("target") or {}
        node = target.get("name")
        if not node:
            raise ApiError(422, "Invalid", "Binding target name is required")
        pod = self.api.get(t.rt, t.namespace, t.name)
        if pod["spec"].get("nodeName"):
            raise ApiError(
                409,
                "Conflict",
                f'pod {t.name} is already assigned to node "{pod["spec"]["nodeName"]}"',
            )
        from .scheduling import bind  # the one place that knows how a bind changes a pod

        bind(self.api, pod, node)
        return {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Success",
            "code": 201,
        }

    async def _delete_collection(self, request: Request, t: Target, dry_run: bool) -> Response:
        q = request.query_params
        labels = parse_label_selector(q.get("labelSelector"))
        fields = parse_field_selector(q.get("fieldSelector"), t.rt.field_paths)
        options = await self._body(request, optional=True) or {}
        items = self.api.list(t.rt, t.namespace or None, labels, fields)
        deleted = []
        for obj in items:
            meta = obj["metadata"]
            try:
                deleted.append(
                    self.api.delete(t.rt, meta.get("namespace", ""), meta["name"], options, dry_run)
                )
            except ApiError as err:
                if err.code != 404:
                    raise
        return _json(self._list_doc(t.rt, deleted, str(self.api.store.rv)))

    async def _proxy(
        self, request: Request, namespace: str, segment: str, path: str, user: User
    ) -> Response:
        verb = _VERBS[request.method]
        if not allowed(user, verb, "", "services", "proxy"):
            name = service_name(segment)
            raise forbidden(user.name, verb, "services/proxy", "", namespace, name)
        if self.api.find("", "services", namespace, service_name(segment)) is None:
            raise not_found("services", "", service_name(segment))
        # Keep the trailing slash the client asked for: UIs such as Prometheus redirect on it.
        if request.url.path.endswith("/") and path:
            path += "/"
        return await self.proxy.forward(request, namespace, segment, path)

    # -- lists, tables, watches ----------------------------------------------------------
    def _selected(self, request: Request, t: Target) -> list[dict[str, Any]]:
        q = request.query_params
        labels = parse_label_selector(q.get("labelSelector"))
        fields = parse_field_selector(q.get("fieldSelector"), t.rt.field_paths)
        return self.api.list(t.rt, t.namespace or None, labels, fields)

    def _list(self, request: Request, t: Target) -> Response:
        q = request.query_params
        items = self._selected(request, t)
        rv = str(self.api.store.rv)
        cont = ""
        limit = _int(q.get("limit"), "limit")
        if q.get("continue"):
            start, rv = _decode_continue(q["continue"], self.api.store.oldest_rv)
            items = [o for o in items if _sort_key(o) > start]
        remaining = 0
        if limit and len(items) > limit:
            remaining = len(items) - limit
            items = items[:limit]
            cont = _encode_continue(_sort_key(items[-1]), rv)
        items = [self.api.present(t.rt, o) for o in items]
        if _wants_table(request):
            doc = self._table(request, t.rt, items)
        else:
            doc = self._list_doc(t.rt, items, rv)
        doc["metadata"]["resourceVersion"] = rv
        if cont:
            doc["metadata"]["continue"] = cont
            doc["metadata"]["remainingItemCount"] = remaining
        return _json(doc)

    def _list_doc(self, rt: ResourceType, items: list[dict[str, Any]], rv: str) -> dict[str, Any]:
        return {
            "kind": f"{rt.kind}List",
            "apiVersion": rt.api_version,
            "metadata": {"resourceVersion": rv},
            "items": items,
        }

    def _table(
        self,
        request: Request,
        rt: ResourceType,
        items: list[dict[str, Any]],
        with_columns: bool = True,
    ) -> dict[str, Any]:
        include = request.query_params.get("includeObject", "Metadata")
        return tables.table(
            rt.group,
            rt.plural,
            items,
            clock.now(),
            list(rt.printer_columns) or None,
            include,
            with_columns,
        )

    def _watch(self, request: Request, t: Target) -> Response:
        q = request.query_params
        labels = parse_label_selector(q.get("labelSelector"))
        fields = parse_field_selector(q.get("fieldSelector"), t.rt.field_paths)
        timeout = _int(q.get("timeoutSeconds"), "timeoutSeconds") or 1800
        bookmarks = q.get("allowWatchBookmarks") in ("true", "1")
        initial = q.get("sendInitialEvents") in ("true", "1")
        rv_text = q.get("resourceVersion", "")
        as_table = _wants_table(request)
        rt = t.rt
        store = self.api.store

        def visible(obj: dict[str, Any]) -> bool:
            meta = obj["metadata"]
            if t.namespace and meta.get("namespace") != t.namespace:
                return False
            return labels.matches(meta.get("labels")) and fields.matches(obj)

        first = [True]

        def encode(kind: str, obj: dict[str, Any]) -> bytes:
            if as_table and kind not in ("BOOKMARK", "ERROR"):
                obj = self._table(request, rt, [obj], with_columns=first[0])
                first[0] = False
            else:
                obj = self.api.present(rt, obj) if kind != "ERROR" else obj
            return json.dumps({"type": kind, "object": obj}, separators=(",", ":")).encode() + b"\n"

        def translate(ev: Event) -> tuple[str, dict[str, Any]] | None:
            now_in = visible(ev.obj)
            was_in = ev.old is not None and visible(ev.old)
            if ev.type == "MODIFIED" and now_in != was_in:
                return ("ADDED", ev.obj) if now_in else ("DELETED", ev.obj)
            return (ev.type, ev.obj) if now_in else None

        # Subscribe and collect the backlog with no await in between, so nothing slips through.
        sub = store.subscribe(frozenset([rt.key]))
        self._watches.add(sub)
        if initial or rv_text in ("", "0"):
            backlog = [("ADDED", o) for o in self._selected(request, t)]
        else:
            since = _int(rv_text, "resourceVersion") or 0
            events = store.events_since(rt.key, since)
            if events is None:
                self._end_watch(sub)
                expired = gone(f"too old resource version: {since} ({store.oldest_rv})")
                return StreamingResponse(
                    _once({"type": "ERROR", "object": expired.status()}),
                    media_type="application/json",
                )
            backlog = [out for ev in events if (out := translate(ev))]

        def bookmark(annotations: dict[str, str] | None = None) -> bytes:
            meta: dict[str, Any] = {"resourceVersion": str(store.rv)}
            if annotations:
                meta["annotations"] = annotations
            return encode(
                "BOOKMARK", {"kind": rt.kind, "apiVersion": rt.api_version, "metadata": meta}
            )

        async def stream() -> AsyncIterator[bytes]:
            loop = asyncio.get_running_loop()
            deadline = loop.time() + timeout
            try:
                for kind, obj in backlog:
                    yield encode(kind, obj)
                if initial and bookmarks:
                    yield bookmark({"k8s.io/initial-events-end": "true"})
                while True:
                    left = deadline - loop.time()
                    if left <= 0:
                        return
                    wait = min(left, self.bookmark_interval) if bookmarks else left
                    try:
                        ev = await asyncio.wait_for(sub.queue.get(), wait)
                    except TimeoutError:
                        if bookmarks and loop.time() < deadline:
                            yield bookmark()
                        continue
                    if ev is None:
                        return  # the server is shutting down
                    out = translate(ev)
                    if out:
                        yield encode(*out)
            finally:
                self._end_watch(sub)

        return StreamingResponse(stream(), media_type="application/json")

    def _end_watch(self, sub: Subscription) -> None:
        self._watches.discard(sub)
        self.api.store.unsubscribe(sub)

    def close_streams(self) -> None:
        """End every watch and log follow cleanly, so shutdown need not cut them off."""
        for sub in self._watches:
            sub.queue.put_nowait(None)
        self.logs.close_all()

    # -- logs ----------------------------------------------------------------------------
    async def _log(self, request: Request, t: Target) -> Response:
        q = request.query_params
        pod = self.api.get(t.rt, t.namespace, t.name)
        containers = [c["name"] for c in pod["spec"].get("containers") or []]
        inits = [c["name"] for c in pod["spec"].get("initContainers") or []]
        container = q.get("container") or ""
        if not container:
            if len(containers) != 1:
                raise bad_request(
                    f"a container name must be specified for pod {t.name}, choose one of: "
                    f"[{' '.join(containers)}]"
                    + (f" or one of the init containers: [{' '.join(inits)}]" if inits else "")
                )
            container = containers[0]
        elif container not in containers + inits:
            raise bad_request(f"container {container} is not valid for pod {t.name}")
        uid = pod["metadata"]["uid"]
        previous = q.get("previous") in ("true", "1")
        if previous and not self.logs.has_previous(uid, container):
            raise bad_request(
                f'previous terminated container "{container}" in pod "{t.name}" not found'
            )
        if not previous and pod["status"].get("phase") == "Pending":
            raise bad_request(
                f'container "{container}" in pod "{t.name}" is waiting to start: ContainerCreating'
            )
        lines = self.logs.lines(uid, container, previous)
        since = _int(q.get("sinceSeconds"), "sinceSeconds")
        if since:
            cutoff = clock.now() - dt.timedelta(seconds=since)
            lines = [line for line in lines if line[0] >= cutoff]
        tail = _int(q.get("tailLines"), "tailLines")
        total = len(self.logs.lines(uid, container, previous))
        if tail is not None:
            lines = lines[-tail:] if tail else []
        stamps = q.get("timestamps") in ("true", "1")
        limit = _int(q.get("limitBytes"), "limitBytes")

        def fmt(item: tuple[dt.datetime, str]) -> bytes:
            when, text = item
            prefix = (
                when.strftime("%Y-%m-%dT%H:%M:%S.%fZ").replace("Z", "000Z") + " " if stamps else ""
            )
            return f"{prefix}{text}\n".encode()

        body = b"".join(fmt(x) for x in lines)
        if limit:
            body = body[:limit]
        if q.get("follow") not in ("true", "1") or previous:
            return Response(body, media_type="text/plain")

        async def follow() -> AsyncIterator[bytes]:
            yield body
            async for item in self.logs.follow(uid, container, total):
                yield fmt(item)

        return StreamingResponse(follow(), media_type="text/plain")


def _first_line(exc: Exception) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def _wants_table(request: Request) -> bool:
    return "as=Table" in request.headers.get("accept", "")


def _int(text: str | None, name: str) -> int | None:
    if text is None or text == "":
        return None
    try:
        value = int(text)
    except ValueError:
        raise bad_request(f"invalid value for {name}: {text!r}") from None
    if value < 0:
        raise bad_request(f"invalid value for {name}: must be non-negative")
    return value


def _sort_key(obj: dict[str, Any]) -> tuple[str, str]:
    meta = obj["metadata"]
    return (meta.get("namespace", ""), meta["name"])


def _encode_continue(start: tuple[str, str], rv: str) -> str:
    raw = json.dumps({"v": "meta.k8s.io/v1", "rv": int(rv), "start": list(start)})
    return base64.urlsafe_b64encode(raw.encode()).decode()


def _decode_continue(token: str, oldest: int) -> tuple[tuple[str, str], str]:
    try:
        data = json.loads(base64.urlsafe_b64decode(token.encode()))
        start = (str(data["start"][0]), str(data["start"][1]))
        rv = int(data["rv"])
    except (ValueError, KeyError, IndexError, TypeError):
        raise bad_request(
            "continue key is not valid: incorrect encoded start resourceVersion"
        ) from None
    if rv < oldest:
        raise gone(
            "The provided continue parameter is too old to display a consistent list "
            "result. You can start a new list without the continue parameter."
        )
    return start, str(rv)


async def _once(item: dict[str, Any]) -> AsyncIterator[bytes]:
    yield json.dumps(item).encode() + b"\n"
