"""Blocking Kubernetes actions for the UI's worker threads: access checks, delete, rollout
restart, YAML, events and logs. Every failure is a KubeActionError with a one-line message."""

from __future__ import annotations

import codecs
import datetime as dt
import threading
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

import urllib3
import yaml

from . import rest
from .kinds import DAEMONSETS, DEPLOYMENTS, EVENTS, PODS, STATEFULSETS, Kind
from .rest import ApiError, TransportError

if TYPE_CHECKING:  # the kubernetes client is heavy to import; only its type is used
    from kubernetes.client import ApiClient

RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"
_ROLLOUT_KINDS = (DEPLOYMENTS, STATEFULSETS, DAEMONSETS)
_OWNER_KINDS = {("apps", k.kind): k for k in _ROLLOUT_KINDS}


class KubeActionError(Exception):
    """An action failed; the message (the API's Status message) is one line."""


def call(api: ApiClient, method: str, path: str, **kwargs: Any) -> Any:
    """rest.call with every failure as a one-line KubeActionError."""
    try:
        return rest.call(api, method, path, **kwargs)
    except (ApiError, TransportError) as err:
        raise _action_error(err) from None


def _action_error(err: ApiError | TransportError) -> KubeActionError:
    if isinstance(err, ApiError):
        return KubeActionError(err.message or f"HTTP {err.code}")
    return KubeActionError(f"cannot reach the API server: {err}")


# -- access --------------------------------------------------------------------------------
def can_i(
    api: ApiClient,
    verb: str,
    resource: str,
    *,
    group: str = "",
    namespace: str | None = None,
    subresource: str = "",
    name: str = "",
) -> bool:
    """Whether the kubeconfig's user may do `verb` on `resource` (SelfSubjectAccessReview)."""
    attrs = {"verb": verb, "resource": resource, "group": group}
    for key, value in (("namespace", namespace), ("subresource", subresource), ("name", name)):
        if value:
            attrs[key] = value
    review = {
        "apiVersion": "authorization.k8s.io/v1",
        "kind": "SelfSubjectAccessReview",
        "spec": {"resourceAttributes": attrs},
    }
    answer = call(
        api, "POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", body=review
    )
    return bool((answer or {}).get("status", {}).get("allowed"))


class AccessCache:
    """can_i answers remembered per question: RBAC rarely changes during a session, and the UI
    asks the same few questions to decide which actions to offer."""

    def __init__(self, api: ApiClient) -> None:
        self.api = api
        self._lock = threading.Lock()
        self._answers: dict[tuple[str, str, str, str | None, str, str], bool] = {}

    def can_i(
        self,
        verb: str,
        resource: str,
        *,
        group: str = "",
        namespace: str | None = None,
        subresource: str = "",
        name: str = "",
    ) -> bool:
        key = (verb, resource, group, namespace, subresource, name)
        with self._lock:
            if key in self._answers:
                return self._answers[key]
        allowed = can_i(
            self.api,
            verb,
            resource,
            group=group,
            namespace=namespace,
            subresource=subresource,
            name=name,
        )
        with self._lock:
            self._answers[key] = allowed
        return allowed


# -- changes -------------------------------------------------------------------------------
def delete(api: ApiClient, kind: Kind, namespace: str | None, name: str) -> None:
    call(api, "DELETE", kind.object_path(namespace, name))


def restart_rollout(api: ApiClient, kind: Kind, namespace: str, name: str) -> None:
    """As `kubectl rollout restart`: stamp the pod template, which starts a new rollout."""
    if kind not in _ROLLOUT_KINDS:
        raise KubeActionError(f"{kind.plural} cannot be restarted; only {_rollout_names()}")
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    patch = {"spec": {"template": {"metadata": {"annotations": {RESTARTED_AT: now}}}}}
    call(
        api,
        "PATCH",
        kind.object_path(namespace, name),
        body=patch,
        content_type="application/strategic-merge-patch+json",
    )


def _rollout_names() -> str:
    return ", ".join(k.plural for k in _ROLLOUT_KINDS)


def owner_workload(
    pod: dict[str, Any], replicasets: Iterable[dict[str, Any]]
) -> tuple[Kind, str, str] | None:
    """The Deployment (through its ReplicaSet), StatefulSet or DaemonSet that controls a pod,
    as (kind, namespace, name); None for a bare pod, a Job's, or an unknown ReplicaSet's."""
    namespace = pod.get("metadata", {}).get("namespace", "")
    owner = _controller(pod)
    if owner is None:
        return None
    if owner.get("kind") == "ReplicaSet":
        rs = next(
            (
                r
                for r in replicasets
                if r.get("metadata", {}).get("name") == owner.get("name")
                and r.get("metadata", {}).get("namespace", "") == namespace
            ),
            None,
        )
        owner = _controller(rs) if rs else None
        if owner is None or owner.get("kind") != "Deployment":
            return None
    group = owner.get("apiVersion", "").partition("/")[0]
    kind = _OWNER_KINDS.get((group, owner.get("kind", "")))
    return (kind, namespace, owner["name"]) if kind else None


def _controller(obj: dict[str, Any]) -> dict[str, Any] | None:
    refs = obj.get("metadata", {}).get("ownerReferences") or []
    return next((r for r in refs if r.get("controller")), None)


# -- reading -------------------------------------------------------------------------------
def get_yaml(api: ApiClient, kind: Kind, namespace: str | None, name: str) -> str:
    """The object as `kubectl get -o yaml` shows it: fresh, without managedFields."""
    obj = call(api, "GET", kind.object_path(namespace, name))
    obj.get("metadata", {}).pop("managedFields", None)
    # The header fields first, as kubectl prints them; the rest in the server's order.
    head = {k: obj.pop(k) for k in ("apiVersion", "kind", "metadata") if k in obj}
    return yaml.dump(
        {**head, **obj},
        Dumper=_BlockDumper,
        sort_keys=False,
        default_flow_style=False,
        allow_unicode=True,
        width=1_000_000,  # long values stay on one line, as kubectl shows them
    )


class _BlockDumper(yaml.SafeDumper):
    """Multi-line strings (scripts, certificates, config files) as literal blocks."""


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_BlockDumper.add_representer(str, _represent_str)


def related_events(api: ApiClient, obj: dict[str, Any]) -> list[dict[str, Any]]:
    """Core v1 events about `obj`, oldest first (as `kubectl describe` lists them)."""
    meta = obj.get("metadata", {})
    namespace = meta.get("namespace") or None
    selector = [f"involvedObject.name={meta.get('name', '')}"]
    if namespace:
        selector.append(f"involvedObject.namespace={namespace}")
        if meta.get("uid"):
            selector.append(f"involvedObject.uid={meta['uid']}")
    elif obj.get("kind"):
        # Not the uid: kubelets report a Node's events under the node's name as its uid.
        selector.append(f"involvedObject.kind={obj['kind']}")
    doc = call(api, "GET", EVENTS.path(namespace), query={"fieldSelector": ",".join(selector)})
    return sorted(doc.get("items") or [], key=_event_time)


def _event_time(event: dict[str, Any]) -> str:
    return (
        event.get("lastTimestamp")
        or event.get("eventTime")
        or event.get("firstTimestamp")
        or event.get("metadata", {}).get("creationTimestamp")
        or ""
    )


# -- logs ----------------------------------------------------------------------------------
class LogStream:
    """A pod's log as decoded lines, as they arrive. `close()` from another thread ends the
    iteration promptly; a broken connection ends it with KubeActionError."""

    def __init__(self, response: urllib3.BaseHTTPResponse) -> None:
        self._response = response
        self._closed = threading.Event()
        self._reading = False

    def __iter__(self) -> Iterator[str]:
        for lines in self.batches():
            yield from lines

    def batches(self) -> Iterator[list[str]]:
        """The complete lines of each chunk as it arrives, so a reader can hand a burst on
        in one go."""
        self._reading = True
        decoder = codecs.getincrementaldecoder("utf-8")("replace")
        pending = ""
        finished = False
        try:
            for chunk in self._response.stream(None):
                lines = (pending + decoder.decode(chunk)).split("\n")
                pending = lines.pop()
                if lines:
                    yield lines
            finished = True
        except rest.NETWORK_ERRORS as err:
            if not self._closed.is_set():
                raise KubeActionError(f"log stream lost: {rest.describe(err)}") from None
        finally:
            rest.done(self._response, finished)
        pending += decoder.decode(b"", final=True)
        if pending and not self._closed.is_set():
            yield [pending]

    def close(self) -> None:
        self._closed.set()
        rest.cut(self._response)
        if not self._reading:  # nobody reads it, so nobody else will release it
            self._response.close()

    def __enter__(self) -> LogStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def stream_logs(
    api: ApiClient,
    namespace: str,
    pod: str,
    *,
    container: str | None = None,
    follow: bool = True,
    timestamps: bool = False,
    previous: bool = False,
    tail_lines: int | None = 200,
) -> LogStream:
    """Open a pod's log; errors (no such container, no previous instance…) raise here."""
    query: list[tuple[str, str | int | bool]] = [
        ("follow", follow),
        ("timestamps", timestamps),
        ("previous", previous),
    ]
    if container:
        query.append(("container", container))
    if tail_lines is not None:
        query.append(("tailLines", tail_lines))
    path = PODS.object_path(namespace, pod, "log")
    try:
        resp = rest.request(
            api,
            "GET",
            path,
            query=query,
            accept="text/plain, */*",
            read_timeout=None if follow else rest.READ_TIMEOUT,  # a followed log may idle
        )
    except (ApiError, TransportError) as err:
        raise _action_error(err) from None
    return LogStream(resp)
