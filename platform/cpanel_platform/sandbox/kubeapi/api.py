"""The API semantics shared by the HTTP layer and the built-in controllers.

Create, update, patch and delete with the real rules: defaulting and validation, optimistic
concurrency, generation, status and scale subresources, finalizers and graceful deletion,
managedFields, dry runs. Authorization happens in the HTTP layer; this layer trusts its caller.
"""

from __future__ import annotations

import copy
import datetime as dt
import random
import uuid
from typing import Any

from ..dotted import get_path
from . import clock, patching
from .defaults import DEFAULTERS, SERVER_STAMPS, ClusterIPs, service
from .errors import (
    PATCH_MEDIA,
    ApiError,
    already_exists,
    bad_request,
    conflict,
    not_found,
    stale,
    unsupported_media_type,
)
from .resources import BUILTIN, ResourceType, from_crd, storage_version
from .selectors import FieldSelector, LabelSelector, selector_to_string
from .store import Store
from .validation import validate

CRD_KEY = ("apiextensions.k8s.io", "customresourcedefinitions")
NS_KEY = ("", "namespaces")
STORAGE_CLASSES = ("storage.k8s.io", "storageclasses")
DEFAULT_CLASS = "storageclass.kubernetes.io/is-default-class"
_NAME_CHARS = "bcdfghjklmnpqrstvwxz2456789"
# Server-owned metadata that a write may not change.
_IMMUTABLE_META = ("uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds")
# Kinds whose create keeps the status the client sent (kubelets register Nodes with status).
_STATUS_ON_CREATE = {
    ("", "nodes"),
    ("", "namespaces"),
    ("", "persistentvolumes"),
    ("", "persistentvolumeclaims"),
}


def _spec_part(obj: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in obj.items() if k not in ("metadata", "status", "apiVersion", "kind")}


def _comparable(obj: dict[str, Any]) -> dict[str, Any]:
    meta = {
        k: v for k, v in obj["metadata"].items() if k not in ("resourceVersion", "managedFields")
    }
    return {**obj, "metadata": meta}


def set_path(obj: dict[str, Any], path: str, value: Any) -> None:
    parts = path.split(".")
    cur = obj
    for part in parts[:-1]:
        cur = cur.setdefault(part, {})
    cur[parts[-1]] = value


class Api:
    def __init__(self, store: Store, seed: int | None = None) -> None:
        """`seed` makes generated names and uids repeatable (a sandbox world's --seed); a
        restored store continues from its resourceVersion, so no uid comes round again."""
        self.store = store
        self._random = random.Random(f"{seed}:{store.rv}" if seed is not None else None)
        self._types: dict[tuple[str, str, str], ResourceType] = {}
        self._preferred: dict[tuple[str, str], ResourceType] = {}
        self._cluster_ips = ClusterIPs()
        for rt in BUILTIN:
            self._register(rt)
        for crd in store.list(CRD_KEY):
            self._serve_crd(crd)
        self._used_ips = {o["spec"].get("clusterIP") for o in store.list(("", "services"))}

    # -- the type registry ---------------------------------------------------------------
    def _register(self, rt: ResourceType) -> None:
        self._types[(rt.group, rt.version, rt.plural)] = rt
        self._preferred.setdefault(rt.key, rt)

    def _serve_crd(self, crd: dict[str, Any]) -> None:
        types = from_crd(crd)
        if not types:
            return
        storage = storage_version(crd)
        for rt in types:
            self._types[(rt.group, rt.version, rt.plural)] = rt
        key = types[0].key
        self._preferred[key] = next((t for t in types if t.version == storage), types[0])

    def _unserve_crd(self, crd: dict[str, Any]) -> None:
        spec = crd.get("spec") or {}
        key = (spec.get("group", ""), (spec.get("names") or {}).get("plural", ""))
        self._preferred.pop(key, None)
        for k in [k for k in self._types if (k[0], k[2]) == key]:
            del self._types[k]

    def types(self) -> list[ResourceType]:
        return list(self._types.values())

    def resolve(self, group: str, version: str, plural: str) -> ResourceType:
        rt = self._types.get((group, version, plural))
        if rt is None:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        return rt

    def preferred(self, group: str, plural: str) -> ResourceType:
        return self._preferred[(group, plural)]

    # -- reads ---------------------------------------------------------------------------
    def get(self, rt: ResourceType, namespace: str, name: str) -> dict[str, Any]:
        obj = self.store.get(rt.key, namespace if rt.namespaced else "", name)
        if obj is None:
            raise not_found(rt.plural, rt.group, name)
        return self.present(rt, obj)

    def find(self, group: str, plural: str, namespace: str, name: str) -> dict[str, Any] | None:
        return self.store.get((group, plural), namespace, name)

    def list(
        self,
        rt: ResourceType,
        namespace: str | None,
        labels: LabelSelector | None = None,
        fields: FieldSelector | None = None,
    ) -> list[dict[str, Any]]:
        if fields and not rt.namespaced:
            namespace = None
        elif fields and namespace is None:
            namespace = fields.exact("metadata.namespace")
        items = self.store.list(rt.key, namespace if rt.namespaced else None)
        if labels and not labels.empty:
            items = [o for o in items if labels.matches(o["metadata"].get("labels"))]
        if fields and fields.terms:
            items = [o for o in items if fields.matches(o)]
        return items

    def present(self, rt: ResourceType, obj: dict[str, Any]) -> dict[str, Any]:
        """The stored object as served at `rt`'s version (custom resources are not converted)."""
        if obj.get("apiVersion") == rt.api_version:
            return obj
        return {**obj, "apiVersion": rt.api_version}

    # -- writes --------------------------------------------------------------------------
    def _check_body(self, rt: ResourceType, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise bad_request("the body of the request must be a JSON or YAML object")
        kind, api_version = body.get("kind"), body.get("apiVersion")
        if kind and kind != rt.kind:
            raise bad_request(
                f"the kind in the data ({kind}) does not match the expected kind ({rt.kind})"
            )
        if (
            api_version
            and api_version not in (rt.api_version,)
            and not (rt.custom and api_version.split("/")[0] == rt.group)
        ):
            raise bad_request(
                f"the API version in the data ({api_version}) does not match the expected "
                f"API version ({rt.api_version})"
            )
        meta = body.get("metadata")
        if meta is not None and not isinstance(meta, dict):
            raise bad_request("metadata must be an object")
        return body

    def _namespace_for(self, rt: ResourceType, namespace: str, meta: dict[str, Any]) -> str:
        if not rt.namespaced:
            meta.pop("namespace", None)
            return ""
        given = meta.get("namespace")
        if given and namespace and given != namespace:
            raise bad_request(
                "the namespace of the provided object does not match the namespace sent on the "
                "request"
            )
        ns = namespace or given or ""
        if not ns:
            raise bad_request("the namespace of the object must be set")
        meta["namespace"] = ns
        return ns

    def _check_namespace_open(self, ns: str) -> None:
        nsobj = self.store.get(NS_KEY, "", ns)
        if nsobj is None:
            raise not_found("namespaces", "", ns)
        if nsobj["metadata"].get("deletionTimestamp"):
            raise ApiError(
                403,
                "Forbidden",
                f"unable to create new content in namespace {ns} because it is being terminated",
            )

    def _default(self, rt: ResourceType, obj: dict[str, Any]) -> None:
        defaulter = DEFAULTERS.get(rt.key)
        if defaulter:
            defaulter(obj)
        if rt.key == ("", "services"):
            service(obj, self._allocate_ip)
        if rt.key == ("", "persistentvolumeclaims") and "storageClassName" not in obj["spec"]:
            # The DefaultStorageClass admission plugin: a claim names the default class.
            default = next(
                (
                    sc["metadata"]["name"]
                    for sc in self.store.list(STORAGE_CLASSES)
                    if (sc["metadata"].get("annotations") or {}).get(DEFAULT_CLASS) == "true"
                ),
                None,
            )
            if default:
                obj["spec"]["storageClassName"] = default

    def _allocate_ip(self) -> str:
        ip = self._cluster_ips.allocate(self._used_ips)
        self._used_ips.add(ip)
        return ip

    def create(
        self,
        rt: ResourceType,
        namespace: str,
        body: Any,
        manager: str = "",
        dry_run: bool = False,
    ) -> dict[str, Any]:
        obj = copy.deepcopy(self._check_body(rt, body))
        obj["apiVersion"], obj["kind"] = rt.api_version, rt.kind
        meta = obj.setdefault("metadata", {})
        ns = self._namespace_for(rt, namespace, meta)
        if rt.namespaced:
            self._check_namespace_open(ns)
        if not meta.get("name") and meta.get("generateName"):
            meta["name"] = meta["generateName"] + "".join(self._random.choices(_NAME_CHARS, k=5))
        if rt.has_status and rt.key not in _STATUS_ON_CREATE:
            obj.pop("status", None)
        for field in (
            "resourceVersion",
            "uid",
            "creationTimestamp",
            "deletionTimestamp",
            "generation",
            "selfLink",
        ):
            meta.pop(field, None)
        self._default(rt, obj)
        validate(rt, obj)
        if self.store.get(rt.key, ns, meta["name"]) is not None:
            raise already_exists(rt.plural, rt.group, meta["name"])
        meta["uid"] = str(uuid.UUID(int=self._random.getrandbits(128), version=4))
        meta["creationTimestamp"] = clock.stamp()
        if "spec" in obj or rt.custom:
            meta["generation"] = 1
        if rt.key in SERVER_STAMPS:
            SERVER_STAMPS[rt.key](obj)
        if rt.key == CRD_KEY:
            self._accept_crd(obj)
        if manager:
            obj = patching.record_update(
                None, obj, manager, "Update", clock.stamp(), rt.group, rt.kind
            )
        if dry_run:
            obj["metadata"]["resourceVersion"] = str(self.store.rv)
            return self.present(rt, obj)
        self._write(rt, obj)
        return self.present(rt, obj)

    def _accept_crd(self, crd: dict[str, Any]) -> None:
        spec = crd["spec"]
        now = clock.stamp()
        crd["status"] = {
            "acceptedNames": spec["names"],
            "storedVersions": [storage_version(crd)],
            "conditions": [
                {"type": t, "status": "True", "reason": r, "message": m, "lastTransitionTime": now}
                for t, r, m in (
                    ("NamesAccepted", "NoConflicts", "no conflicts found"),
                    ("Established", "InitialNamesAccepted", "the initial names have been accepted"),
                )
            ],
        }

    def _write(self, rt: ResourceType, obj: dict[str, Any]) -> None:
        rv = self.store.next_rv()
        obj["metadata"]["resourceVersion"] = str(rv)
        self.store.put(rt.key, obj, rv)
        if rt.key == CRD_KEY:
            self._serve_crd(obj)

    def update(
        self,
        rt: ResourceType,
        namespace: str,
        name: str,
        body: Any,
        subresource: str = "",
        manager: str = "",
        dry_run: bool = False,
        operation: str = "Update",
    ) -> dict[str, Any]:
        body = self._check_body(rt, body)
        ns = namespace if rt.namespaced else ""
        current = self.store.get(rt.key, ns, name)
        if current is None:
            raise not_found(rt.plural, rt.group, name)
        meta = body.get("metadata") or {}
        if meta.get("name") and meta["name"] != name:
            raise bad_request(
                f"the name of the object ({meta['name']}) does not match the name on the URL "
                f"({name})"
            )
        want_rv = meta.get("resourceVersion")
        if want_rv and want_rv != current["metadata"]["resourceVersion"]:
            raise stale(rt.plural, rt.group, name)
        if meta.get("uid") and meta["uid"] != current["metadata"]["uid"]:
            raise conflict(rt.plural, rt.group, name, "Precondition failed: UID in precondition")
        new = self._merge_update(rt, current, copy.deepcopy(body), subresource)
        if manager and operation == "Update":
            new = patching.record_update(
                current, new, manager, "Update", clock.stamp(), rt.group, rt.kind
            )
        return self._commit(rt, current, new, dry_run)

    def _merge_update(
        self, rt: ResourceType, current: dict[str, Any], new: dict[str, Any], subresource: str
    ) -> dict[str, Any]:
        if subresource == "status":
            merged = copy.deepcopy(current)
            merged["status"] = new.get("status", {})
            return merged
        new["apiVersion"], new["kind"] = rt.api_version, rt.kind
        meta = new.setdefault("metadata", {})
        cur_meta = current["metadata"]
        meta["name"] = cur_meta["name"]
        if rt.namespaced:
            meta["namespace"] = cur_meta["namespace"]
        else:
            meta.pop("namespace", None)
        for field in _IMMUTABLE_META:
            if field in cur_meta:
                meta[field] = cur_meta[field]
            else:
                meta.pop(field, None)
        meta.setdefault("managedFields", cur_meta.get("managedFields", []))
        if rt.has_status:
            if "status" in current:
                new["status"] = current["status"]
            else:
                new.pop("status", None)
        self._default(rt, new)
        validate(rt, new)
        generation = cur_meta.get("generation")
        if generation is not None:
            changed = _spec_part(new) != _spec_part(current)
            meta["generation"] = generation + 1 if changed else generation
        if rt.key in SERVER_STAMPS and generation is not None:
            SERVER_STAMPS[rt.key](new)
        if rt.key == CRD_KEY:
            new["status"] = current.get("status", {})
        return new

    def _commit(
        self, rt: ResourceType, current: dict[str, Any], new: dict[str, Any], dry_run: bool
    ) -> dict[str, Any]:
        new["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"]
        if _comparable(new) == _comparable(current):
            return self.present(rt, current)  # a no-op write changes nothing, not even the RV
        if dry_run:
            return self.present(rt, new)
        if (
            new["metadata"].get("deletionTimestamp")
            and not new["metadata"].get("finalizers")
            and (current["metadata"].get("finalizers") or rt.key == NS_KEY)
            and not self._graceful_pending(rt, new)
        ):
            return self._remove(rt, new)
        self._write(rt, new)
        return self.present(rt, new)

    def replace(self, rt: ResourceType, obj: dict[str, Any]) -> dict[str, Any]:
        """A server-internal write of the whole object (as a binding is), with concurrency checks
        but without the client-facing rules that keep spec and status apart."""
        meta = obj["metadata"]
        current = self.store.get(rt.key, meta.get("namespace", ""), meta["name"])
        if current is None:
            raise not_found(rt.plural, rt.group, meta["name"])
        if meta.get("resourceVersion") != current["metadata"]["resourceVersion"]:
            raise stale(rt.plural, rt.group, meta["name"])
        return self._commit(rt, current, copy.deepcopy(obj), False)

    def _graceful_pending(self, rt: ResourceType, obj: dict[str, Any]) -> bool:
        """A terminating pod stays until its kubelet confirms (a delete with grace 0)."""
        return rt.key == ("", "pods") and bool(obj["metadata"].get("deletionGracePeriodSeconds"))

    def patch(
        self,
        rt: ResourceType,
        namespace: str,
        name: str,
        patch_type: str,
        body: Any,
        subresource: str = "",
        manager: str = "",
        force: bool = False,
        dry_run: bool = False,
    ) -> dict[str, Any]:
        ns = namespace if rt.namespaced else ""
        current = self.store.get(rt.key, ns, name)
        if patch_type == "apply":
            return self._apply(rt, ns, name, current, body, subresource, manager, force, dry_run)
        if current is None:
            raise not_found(rt.plural, rt.group, name)
        base = self.present(rt, current)
        if subresource == "scale":
            return self._patch_scale(rt, current, patch_type, body, manager, dry_run)
        patched = self._run_patch(rt, base, patch_type, body)
        if not isinstance(patched.get("metadata"), dict):
            raise bad_request("metadata must be an object")
        new_rv = patched["metadata"].get("resourceVersion")
        if new_rv == current["metadata"]["resourceVersion"]:
            patched["metadata"].pop("resourceVersion")  # only an explicit, different RV conflicts
        return self.update(rt, namespace, name, patched, subresource, manager, dry_run)

    def _run_patch(
        self, rt: ResourceType, base: dict[str, Any], patch_type: str, body: Any
    ) -> dict[str, Any]:
        if patch_type == "json":
            return patching.json_patch(base, body)
        if patch_type == "merge":
            return patching.merge_patch(base, body)
        if patch_type == "strategic":
            if rt.custom:  # custom resources have no patch strategies to merge by
                accepted = tuple(m for m in PATCH_MEDIA if "strategic" not in m)
                raise unsupported_media_type(PATCH_MEDIA[2], accepted)
            return patching.strategic_merge_patch(base, body, rt.group, rt.kind)
        raise unsupported_media_type(patch_type, PATCH_MEDIA)

    def _apply(
        self,
        rt: ResourceType,
        ns: str,
        name: str,
        current: dict[str, Any] | None,
        body: Any,
        subresource: str,
        manager: str,
        force: bool,
        dry_run: bool,
    ) -> dict[str, Any]:
        applied = self._check_body(rt, body)
        if not manager:
            raise bad_request("PATCH requests of type apply must set fieldManager")
        if not applied.get("apiVersion") or not applied.get("kind"):
            raise bad_request("apply patches must set apiVersion and kind")
        meta = applied.get("metadata") or {}
        if meta.get("name") and meta["name"] != name:
            raise bad_request(
                f"the name of the object ({meta['name']}) does not match the name on the URL "
                f"({name})"
            )
        now = clock.stamp()
        if current is None:
            if subresource:
                raise not_found(rt.plural, rt.group, name)
            merged = patching.server_side_apply(
                None, applied, manager, force, rt.group, rt.kind, now
            )
            merged.setdefault("metadata", {})["name"] = name
            return self.create(rt, ns, merged, "", dry_run)
        if subresource == "status":
            # Status has a single writer in practice; apply it as a merge of the status part.
            merged = patching.merge_patch(
                self.present(rt, current), {"status": applied.get("status")}
            )
            return self.update(rt, ns, name, merged, subresource, manager, dry_run)
        merged = patching.server_side_apply(
            self.present(rt, current), applied, manager, force, rt.group, rt.kind, now
        )
        merged["metadata"].pop("resourceVersion", None)
        return self.update(rt, ns, name, merged, subresource, manager, dry_run, operation="Apply")

    # -- scale ---------------------------------------------------------------------------
    def scale(self, rt: ResourceType, obj: dict[str, Any]) -> dict[str, Any]:
        if not rt.scale_paths:
            raise not_found(rt.plural, rt.group, obj["metadata"]["name"])
        spec_path, status_path, selector_path = rt.scale_paths
        meta = obj["metadata"]
        selector = get_path(obj, selector_path) if selector_path else None
        if rt.group == "apps":
            selector = selector_to_string(get_path(obj, "spec.selector"))
        return {
            "kind": "Scale",
            "apiVersion": "autoscaling/v1",
            "metadata": {
                k: meta[k]
                for k in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")
                if k in meta
            },
            "spec": {"replicas": get_path(obj, spec_path) or 0},
            "status": {
                "replicas": get_path(obj, status_path) or 0,
                **({"selector": selector} if selector else {}),
            },
        }

    def update_scale(
        self,
        rt: ResourceType,
        namespace: str,
        name: str,
        body: Any,
        manager: str = "",
        dry_run: bool = False,
    ) -> dict[str, Any]:
        if not isinstance(body, dict) or not isinstance(body.get("spec"), dict):
            raise bad_request("the body of the request must be a Scale object")
        current = self.store.get(rt.key, namespace if rt.namespaced else "", name)
        if current is None:
            raise not_found(rt.plural, rt.group, name)
        want_rv = (body.get("metadata") or {}).get("resourceVersion")
        if want_rv and want_rv != current["metadata"]["resourceVersion"]:
            raise stale(rt.plural, rt.group, name)
        replicas = body["spec"].get("replicas", 0)
        if not isinstance(replicas, int) or replicas < 0:
            raise ApiError(
                422,
                "Invalid",
                f'Scale.autoscaling "{name}" is invalid: spec.replicas: '
                f"Invalid value: {replicas}: must be greater than or equal to 0",
            )
        new = copy.deepcopy(current)
        set_path(new, rt.scale_paths[0], replicas)  # type: ignore[index]
        updated = self.update(rt, namespace, name, new, "", manager, dry_run)
        return self.scale(rt, updated)

    def _patch_scale(
        self,
        rt: ResourceType,
        current: dict[str, Any],
        patch_type: str,
        body: Any,
        manager: str,
        dry_run: bool,
    ) -> dict[str, Any]:
        scale = self.scale(rt, current)
        # Scale has no merge keys, so a strategic patch of it is a merge patch.
        kind = "merge" if patch_type == "strategic" else patch_type
        patched = self._run_patch(rt, scale, kind, body)
        meta = current["metadata"]
        return self.update_scale(
            rt, meta.get("namespace", ""), meta["name"], patched, manager, dry_run
        )

    # -- delete --------------------------------------------------------------------------
    def delete(
        self,
        rt: ResourceType,
        namespace: str,
        name: str,
        options: dict[str, Any] | None = None,
        dry_run: bool = False,
    ) -> dict[str, Any]:
        options = options or {}
        ns = namespace if rt.namespaced else ""
        current = self.store.get(rt.key, ns, name)
        if current is None:
            raise not_found(rt.plural, rt.group, name)
        pre = options.get("preconditions") or {}
        meta = current["metadata"]
        if pre.get("uid") and pre["uid"] != meta["uid"]:
            raise conflict(
                rt.plural,
                rt.group,
                name,
                f"Precondition failed: UID in precondition: {pre['uid']}, UID in object "
                f"meta: {meta['uid']}",
            )
        if pre.get("resourceVersion") and pre["resourceVersion"] != meta["resourceVersion"]:
            raise stale(rt.plural, rt.group, name)
        new = copy.deepcopy(current)
        nmeta = new["metadata"]
        finalizers = list(nmeta.get("finalizers") or [])
        policy = options.get("propagationPolicy")
        if options.get("orphanDependents") is True:
            policy = "Orphan"
        if policy == "Orphan" and "orphan" not in finalizers:
            finalizers.append("orphan")
        elif policy == "Foreground" and "foregroundDeletion" not in finalizers:
            finalizers.append("foregroundDeletion")
        if rt.key == NS_KEY:
            return self._delete_namespace(rt, current, new, dry_run)
        grace = self._grace(rt, current, options)
        if not finalizers and not grace:
            if dry_run:
                return self.present(rt, current)
            return self._remove(rt, new)
        if finalizers:
            nmeta["finalizers"] = finalizers
        when = clock.now() + dt.timedelta(seconds=grace)
        if not nmeta.get("deletionTimestamp") or grace:
            nmeta["deletionTimestamp"] = clock.stamp(when)
        nmeta["deletionGracePeriodSeconds"] = grace
        if dry_run:
            return self.present(rt, new)
        self._write(rt, new)
        return self.present(rt, new)

    def _grace(self, rt: ResourceType, pod: dict[str, Any], options: dict[str, Any]) -> int:
        """Seconds a pod gets to terminate; 0 (immediate) for everything else."""
        if rt.key != ("", "pods"):
            return 0
        grace = options.get("gracePeriodSeconds")
        if grace is None:
            grace = pod["spec"].get("terminationGracePeriodSeconds", 30)
        if not pod["spec"].get("nodeName") or pod["status"].get("phase") in ("Succeeded", "Failed"):
            return 0  # never ran, or already finished: nothing to wait for
        current = pod["metadata"].get("deletionGracePeriodSeconds")
        if current is not None:
            grace = min(grace, current)
        return max(0, int(grace))

    def _delete_namespace(
        self, rt: ResourceType, current: dict[str, Any], new: dict[str, Any], dry_run: bool
    ) -> dict[str, Any]:
        if dry_run or current["metadata"].get("deletionTimestamp"):
            return self.present(rt, current)
        new["metadata"]["deletionTimestamp"] = clock.stamp()
        new["status"] = {"phase": "Terminating"}
        self._write(rt, new)
        return self.present(rt, new)

    def _remove(self, rt: ResourceType, obj: dict[str, Any]) -> dict[str, Any]:
        rv = self.store.next_rv()
        obj = {**obj, "metadata": {**obj["metadata"], "resourceVersion": str(rv)}}
        if rt.key == CRD_KEY:
            self._remove_instances(obj)
        self.store.remove(rt.key, obj, rv)
        if rt.key == ("", "services"):
            self._used_ips.discard(obj["spec"].get("clusterIP"))
        return self.present(rt, obj)

    def _remove_instances(self, crd: dict[str, Any]) -> None:
        """What the CRD cleanup finalizer does: its custom resources go with it."""
        key = (crd["spec"]["group"], crd["spec"]["names"]["plural"])
        if key in self._preferred:
            served = self._preferred[key]
            for item in self.store.list(key):
                self._remove(served, item)
        self._unserve_crd(crd)

    def wipe(self) -> None:
        """Remove every object at once, finalizers and grace periods aside, as when the
        cluster itself is deleted: watchers see each go, and custom kinds go with their CRDs."""
        for key in self.store.kinds():
            for obj in self.store.list(key):
                self._remove(self.preferred(*key), obj)

    def finalize_namespace(self, name: str) -> None:
        ns = self.store.get(NS_KEY, "", name)
        if ns is not None:
            self._remove(self.preferred("", "namespaces"), ns)
