"""A Kubernetes upgrade: one minor at a time, checked first, then the control plane through
the Linode API and a rolling recycle of every pool so the nodes come back on the new version.
It is done when every node reports it."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from cpanel_platform.kube.rest import ApiError, TransportError, call
from cpanel_platform.ops.linode_ops import LinodeOps, OpsError
from cpanel_platform.ops.recycle import NODES, Recycler
from cpanel_platform.provision.digests import SUPPORTS
from cpanel_platform.provision.spec import SpecError, load_spec

if TYPE_CHECKING:
    from kubernetes.client import ApiClient

# API group versions Kubernetes removed, by the minor that removed them (the kinds that
# workloads used most); an object still stored at one of them breaks on the upgrade.
REMOVED: dict[str, tuple[tuple[str, str], ...]] = {
    "1.25": (("batch/v1beta1", "cronjobs"), ("policy/v1beta1", "poddisruptionbudgets")),
    "1.26": (("autoscaling/v2beta2", "horizontalpodautoscalers"),),
    "1.29": (("flowcontrol.apiserver.k8s.io/v1beta2", "flowschemas"),),
    "1.32": (("flowcontrol.apiserver.k8s.io/v1beta3", "flowschemas"),),
}


LINGER = 300.0  # seconds replaced Node objects may take to go


class UpgradeError(OpsError):
    """The upgrade cannot start or go on; the message says why."""


def _minor(version: str) -> tuple[int, int]:
    major, minor = version.split(".")[:2]
    return int(major), int(minor)


@dataclass(frozen=True)
class Preflight:
    current: str
    target: str
    problems: tuple[str, ...]
    checked: tuple[str, ...]  # what passed, to show

    @property
    def ok(self) -> bool:
        return not self.problems

    def lines(self) -> list[str]:
        head = f"[bold]Upgrade Kubernetes {self.current} → {self.target}[/]"
        return [head, *(f"  [green]ok[/] {c}" for c in self.checked),
                *(f"  [red]refused[/] {p}" for p in self.problems)]


class Upgrader:
    def __init__(
        self, api: ApiClient, linode: LinodeOps, recycler: Recycler, cluster_id: int
    ) -> None:
        self.api = api
        self.linode = linode
        self.recycler = recycler
        self.cluster_id = cluster_id

    def preflight(self, to: str | None, platform_file: Path) -> Preflight:
        current = str(self.linode.cluster(self.cluster_id)["k8s_version"])
        major, minor = _minor(current)
        following = f"{major}.{minor + 1}"
        target = to or following
        problems, checked = [], []
        if self._behind(current):  # an interrupted upgrade: the nodes still have to follow
            return Preflight(current, current, (), ("the control plane runs it; nodes follow",))
        if target != following:
            problems.append(f"LKE upgrades one minor at a time: from {current} only to "
                            f"{following}")
        offered = self.linode.versions()
        if target in offered:
            checked.append(f"the Linode API offers {target}")
        else:
            problems.append(f"the Linode API does not offer {target} (offered: "
                            f"{', '.join(sorted(offered, key=_minor))})")
        problems += self._components(target, platform_file, checked)
        problems += self._removed_apis(target, checked)
        return Preflight(current, target, tuple(problems), tuple(checked))

    def _components(self, target: str, platform_file: Path, checked: list[str]) -> list[str]:
        try:
            spec = load_spec(platform_file)
        except SpecError as err:
            return [f"the components cannot be checked: {err}"]
        problems = []
        for name in type(spec.components).model_fields:
            component = getattr(spec.components, name)
            if not component.enabled:
                continue
            first, last = SUPPORTS.get((name, component.version), (None, None))
            if first is None or last is None:
                problems.append(f"{name} {component.version} declares no supported versions")
            elif not _minor(first) <= _minor(target) <= _minor(last):
                problems.append(f"{name} {component.version} supports Kubernetes {first}–{last}, "
                                f"not {target}: upgrade it in {platform_file} first")
        if not problems:
            checked.append(f"every component in {platform_file} supports {target}")
        return problems

    def _removed_apis(self, target: str, checked: list[str]) -> list[str]:
        problems = []
        for removed_in, apis in REMOVED.items():
            if _minor(removed_in) > _minor(target):
                continue
            for group_version, plural in apis:
                try:
                    items = call(self.api, "GET", f"/apis/{group_version}/{plural}")["items"]
                except ApiError:
                    continue  # not served: nothing can be stored there
                except TransportError as err:
                    raise UpgradeError(f"the Kubernetes API is unreachable ({err})") from err
                if items:
                    problems.append(f"{len(items)} {plural} still use {group_version}, "
                                    f"removed in Kubernetes {removed_in}")
        if not problems:
            checked.append(f"no workload uses an API version removed by {target}")
        return problems

    def _behind(self, control_plane: str) -> bool:
        return bool(self._nodes_behind(control_plane))

    def _nodes_behind(self, version: str) -> dict[str, str]:
        """Node name -> kubelet version, for the nodes not on `version` (a minor)."""
        try:
            nodes = call(self.api, "GET", NODES.path())["items"]
        except (ApiError, TransportError) as err:
            raise UpgradeError(f"cannot list the nodes: {err}") from err
        versions = {n["metadata"]["name"]: n["status"]["nodeInfo"]["kubeletVersion"]
                    for n in nodes}
        return {name: v for name, v in versions.items() if not v.startswith(f"v{version}.")}

    def run(self, check: Preflight) -> None:
        if not check.ok:
            raise UpgradeError("; ".join(check.problems))
        if check.current != check.target:
            self.linode.upgrade(self.cluster_id, check.target)
            deadline = time.monotonic() + 600
            while str(self.linode.cluster(self.cluster_id)["k8s_version"]) != check.target:
                if time.monotonic() > deadline:
                    raise UpgradeError(f"the control plane did not reach {check.target}")
                time.sleep(2.0)
        if self.recycler.pending() is not None:
            self.recycler.resume()
        else:
            behind = set(self._nodes_behind(check.target))
            self.recycler.start(self.recycler.plan(self.cluster_id, only=behind))
        # The replaced nodes' objects linger NotReady until the cloud controller manager sees
        # their Linodes gone; done is when every node reports the new version.
        deadline = time.monotonic() + LINGER
        while left := self._nodes_behind(check.target):
            if time.monotonic() > deadline:
                raise UpgradeError(f"{len(left)} node(s) still run an older version: "
                                   f"{sorted(left.values())}")
            time.sleep(2.0)
