"""One long operation per cluster: a coordination.k8s.io Lease in kube-system, held by the
cpanel that runs it and renewed while it does, so a second cpanel (another terminal, another
laptop) is refused rather than recycling the same nodes at the same time.

A holder that died without letting go is waited out (`DURATION`), except one on this very
machine whose process is gone: that is this user's own interrupted run, taken over at once.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import socket
import threading
from typing import TYPE_CHECKING, Any

from cpanel_platform.kube.kinds import Kind
from cpanel_platform.kube.rest import ApiError, TransportError, call
from cpanel_platform.ops.linode_ops import OpsError
from cpanel_platform.timestamps import parse_time

if TYPE_CHECKING:
    from kubernetes.client import ApiClient

LEASES = Kind("coordination.k8s.io", "v1", "leases", "Lease", True)
NAMESPACE = "kube-system"
NAME = "cpanel-operation"
DURATION = 30  # seconds a silent holder keeps the lease
RENEW_EVERY = 10.0
WHAT = "cpanel.dev/what"


def identity() -> str:
    return f"{socket.gethostname()}/{os.getpid()}"


class Lease:
    """Held from `acquire` to `release`, renewed by a daemon thread in between."""

    def __init__(self, api: ApiClient, what: str) -> None:
        self.api = api
        self.what = what  # shown to whoever is refused, e.g. "recycle of pool 412"
        self.holder = identity()
        self._done = threading.Event()
        self._thread: threading.Thread | None = None

    def acquire(self) -> None:
        path = LEASES.object_path(NAMESPACE, NAME)
        try:
            current = call(self.api, "GET", path)
        except ApiError as err:
            if err.code != 404:
                raise OpsError(f"cannot read the operation lease: {err.message}") from err
            current = None
        except TransportError as err:
            raise OpsError(f"the Kubernetes API is unreachable ({err})") from err
        if current is not None and not self._free(current):
            holder = current.get("spec", {}).get("holderIdentity")
            what = (current["metadata"].get("annotations") or {}).get(WHAT, "an operation")
            raise OpsError(
                f"another cpanel ({holder}) is running the {what} on this cluster; its lease "
                f"lapses {DURATION} s after it stops renewing it"
            )
        body = self._body(current)
        try:
            if current is None:
                call(self.api, "POST", LEASES.path(NAMESPACE), body=body)
            else:  # the resourceVersion makes two takers race safely: one gets a 409
                call(self.api, "PUT", path, body=body)
        except ApiError as err:
            raise OpsError(f"could not take the operation lease: {err.message}") from err
        self._thread = threading.Thread(target=self._renew, name="lease", daemon=True)
        self._thread.start()

    def release(self) -> None:
        self._done.set()
        with contextlib.suppress(ApiError, TransportError):
            current = call(self.api, "GET", LEASES.object_path(NAMESPACE, NAME))
            if current.get("spec", {}).get("holderIdentity") == self.holder:
                call(self.api, "DELETE", LEASES.object_path(NAMESPACE, NAME))

    def _free(self, lease: dict[str, Any]) -> bool:
        spec = lease.get("spec") or {}
        holder = spec.get("holderIdentity") or ""
        if holder == self.holder or not holder:
            return True
        host, _, pid = holder.partition("/")
        if host == socket.gethostname() and pid.isdigit() and not _alive(int(pid)):
            return True
        renewed = parse_time(spec.get("renewTime") or "")
        duration = int(spec.get("leaseDurationSeconds") or DURATION)
        return renewed is None or _now().timestamp() > renewed + duration

    def _body(self, current: dict[str, Any] | None) -> dict[str, Any]:
        now = _now().strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        meta: dict[str, Any] = {
            "name": NAME, "namespace": NAMESPACE, "annotations": {WHAT: self.what},
        }
        if current is not None:
            meta["resourceVersion"] = current["metadata"]["resourceVersion"]
        return {
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "metadata": meta,
            "spec": {
                "holderIdentity": self.holder,
                "leaseDurationSeconds": DURATION,
                "acquireTime": now,
                "renewTime": now,
            },
        }

    def _renew(self) -> None:
        path = LEASES.object_path(NAMESPACE, NAME)
        while not self._done.wait(RENEW_EVERY):
            now = _now().strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            # A missed renewal is retried next round; the lease outlives two of them.
            with contextlib.suppress(ApiError, TransportError):
                call(self.api, "PATCH", path, body={"spec": {"renewTime": now}},
                     content_type="application/merge-patch+json")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
