"""The four PATCH flavours of kube-apiserver, and the managedFields bookkeeping behind them.

JSON patch (RFC 6902) and JSON merge patch (RFC 7386) need no schema. Strategic merge patch and
server-side apply must know which lists merge item by item, and by what key: that is the table
under "Schema", transcribed from the k8s.io/api struct tags (patchMergeKey and patchStrategy for
strategic merge; listType and listMapKey for apply). A list it does not name is atomic.

Ownership follows structured-merge-diff: each manager owns a set of field paths, kept in
metadata.managedFields in the FieldsV1 encoding: `f:<name>` a field, `k:<json>` a keyed list
item, `v:<json>` a set item, and `.` marking a path owned itself as well as through children.
"""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import jsonpatch

from .errors import ApiError, bad_request

Names = tuple[str, ...]
"""Field names from the object's root with list items elided: the key of the list tables."""
Path = tuple[str, ...]
"""A field path as FieldsV1 elements, e.g. ("f:spec", 'k:{"name":"web"}', "f:image")."""


# -- Schema -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ListSpec:
    """How a list merges. `patch_key` is its strategic-merge patchMergeKey; `apply_keys` its
    server-side-apply listMapKeys, which for some lists add `protocol` or a second field."""

    patch_key: str | None = None
    apply_keys: tuple[str, ...] = ()
    is_set: bool = False


def _keyed(*keys: str) -> ListSpec:
    return ListSpec(keys[0], keys)


_SET = ListSpec(is_set=True)

# Lists absent from these tables (tolerations, envFrom, command, args, readinessGates, taints,
# rules, subjects, ...) have no patch strategy: a patch or an apply replaces them whole.
_CONTAINER_LISTS: dict[Names, ListSpec] = {
    (): _keyed("name"),
    ("env",): _keyed("name"),
    ("ports",): _keyed("containerPort", "protocol"),
    ("volumeMounts",): _keyed("mountPath"),
    ("volumeDevices",): _keyed("devicePath"),
    ("resources", "claims"): ListSpec(apply_keys=("name",)),  # listType=map, no patch strategy
}
_POD_SPEC_LISTS: dict[Names, ListSpec] = {
    ("volumes",): _keyed("name"),
    ("imagePullSecrets",): _keyed("name"),
    ("hostAliases",): _keyed("ip"),
    ("topologySpreadConstraints",): _keyed("topologyKey", "whenUnsatisfiable"),
    ("resourceClaims",): _keyed("name"),
    ("schedulingGates",): _keyed("name"),
    **{
        (containers, *sub): spec
        for containers in ("containers", "initContainers", "ephemeralContainers")
        for sub, spec in _CONTAINER_LISTS.items()
    },
}
_TEMPLATE_SPEC: Names = ("spec", "template", "spec")
_POD_SPEC_AT: dict[tuple[str, str], Names] = {
    ("", "Pod"): ("spec",),
    ("", "PodTemplate"): ("template", "spec"),
    ("", "ReplicationController"): _TEMPLATE_SPEC,
    ("apps", "Deployment"): _TEMPLATE_SPEC,
    ("apps", "ReplicaSet"): _TEMPLATE_SPEC,
    ("apps", "StatefulSet"): _TEMPLATE_SPEC,
    ("apps", "DaemonSet"): _TEMPLATE_SPEC,
    ("batch", "Job"): _TEMPLATE_SPEC,
    ("batch", "CronJob"): ("spec", "jobTemplate", *_TEMPLATE_SPEC),
}
_KIND_LISTS: dict[tuple[str, str], dict[Names, ListSpec]] = {
    ("", "Service"): {("spec", "ports"): _keyed("port", "protocol")},
    ("", "Node"): {("spec", "podCIDRs"): _SET, ("status", "addresses"): _keyed("type")},
    ("", "ServiceAccount"): {("secrets",): _keyed("name")},
}
# ObjectMeta wherever it appears (pod templates too), custom resources included.
_META_LISTS: dict[Names, ListSpec] = {
    ("metadata", "ownerReferences"): _keyed("uid"),
    ("metadata", "finalizers"): _SET,
}
# Key fields with a schema default: an item that omits one is still identified by it.
_KEY_DEFAULTS = {"protocol": "TCP"}

# Kinds compiled into the server: the only ones strategic merge patch works on.
_BUILTIN_KINDS: dict[str, frozenset[str]] = {
    group: frozenset(kinds.split())
    for group, kinds in {
        "": "Binding ComponentStatus ConfigMap Endpoints Event LimitRange Namespace Node "
        "PersistentVolume PersistentVolumeClaim Pod PodTemplate ReplicationController "
        "ResourceQuota Secret Service ServiceAccount",
        "admissionregistration.k8s.io": "MutatingWebhookConfiguration "
        "ValidatingWebhookConfiguration ValidatingAdmissionPolicy ValidatingAdmissionPolicyBinding",
        "apiextensions.k8s.io": "CustomResourceDefinition",
        "apiregistration.k8s.io": "APIService",
        "apps": "ControllerRevision DaemonSet Deployment ReplicaSet StatefulSet",
        "autoscaling": "HorizontalPodAutoscaler",
        "batch": "CronJob Job",
        "certificates.k8s.io": "CertificateSigningRequest",
        "coordination.k8s.io": "Lease",
        "discovery.k8s.io": "EndpointSlice",
        "events.k8s.io": "Event",
        "flowcontrol.apiserver.k8s.io": "FlowSchema PriorityLevelConfiguration",
        "networking.k8s.io": "Ingress IngressClass NetworkPolicy",
        "node.k8s.io": "RuntimeClass",
        "policy": "PodDisruptionBudget",
        "rbac.authorization.k8s.io": "ClusterRole ClusterRoleBinding Role RoleBinding",
        "scheduling.k8s.io": "PriorityClass",
        "storage.k8s.io": "CSIDriver CSINode CSIStorageCapacity StorageClass VolumeAttachment",
    }.items()
}


@functools.cache
def _builtin_lists(group: str, kind: str) -> dict[Names, ListSpec]:
    lists = {("status", "conditions"): _keyed("type")}
    pod_spec = _POD_SPEC_AT.get((group, kind))
    if pod_spec:
        lists.update({(*pod_spec, *sub): spec for sub, spec in _POD_SPEC_LISTS.items()})
    lists.update(_KIND_LISTS.get((group, kind), {}))
    return lists


class _Schema:
    """The merge-relevant shape of one kind: which of its lists are keyed or sets."""

    def __init__(self, group: str, kind: str) -> None:
        self.builtin = kind in _BUILTIN_KINDS.get(group, frozenset())
        self._lists = _builtin_lists(group, kind) if self.builtin else {}

    def spec(self, names: Names) -> ListSpec | None:
        """How the list at `names` merges under apply; None if it is atomic."""
        return _META_LISTS.get(names[-2:]) or self._lists.get(names)

    def patch_spec(self, names: Names) -> ListSpec | None:
        """How the list at `names` merges under strategic merge; None if a patch replaces it."""
        spec = self.spec(names)
        return spec if spec and (spec.patch_key or spec.is_set) else None

    def element(self, spec: ListSpec, item: Any) -> str:
        """The FieldsV1 path element that names a list item."""
        if spec.is_set or not isinstance(item, dict):
            return "v:" + _canonical(item)
        key = {
            k: item[k] if k in item else _KEY_DEFAULTS[k]
            for k in spec.apply_keys
            if k in item or k in _KEY_DEFAULTS
        }
        return "k:" + _canonical(key)

    def granular(self, value: Any, names: Names) -> bool:
        """Whether ownership of `value` is per part (maps, keyed and set lists) or whole."""
        return isinstance(value, dict) or (isinstance(value, list) and self.spec(names) is not None)

    def children(self, value: Any, path: Path, names: Names) -> Iterator[tuple[Path, Names, Any]]:
        """The separately owned parts of a value: map fields, and items of keyed or set lists."""
        if isinstance(value, dict):
            for key, child in value.items():
                yield (*path, f"f:{key}"), (*names, key), child
        elif isinstance(value, list) and (spec := self.spec(names)):
            for item in value:
                yield (*path, self.element(spec, item)), names, item


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _go_type(value: Any) -> str:
    """A JSON value's type as Go's encoding/json names it in unmarshal errors."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    return {dict: "object", list: "array", str: "string"}.get(type(value), "value")


# -- JSON patch and merge patch ---------------------------------------------------------------


def json_patch(obj: dict[str, Any], patch: Any) -> dict[str, Any]:
    """RFC 6902. A body that is not a list of objects is a 400; an operation that fails (a test
    that does not hold, a missing path, an unknown op) is the 422 kube answers with."""
    if patch is None:  # JSON null decodes to an empty patch
        return copy.deepcopy(obj)
    if not isinstance(patch, list):
        raise bad_request(
            f"json: cannot unmarshal {_go_type(patch)} into Go value of type jsonpatch.Patch"
        )
    for op in patch:
        if not isinstance(op, dict):
            raise bad_request(
                f"json: cannot unmarshal {_go_type(op)} into Go value of type jsonpatch.Operation"
            )
    rejected = ApiError(
        422, "Invalid", "the server rejected our request due to an error in our request"
    )
    try:
        result = jsonpatch.apply_patch(obj, patch)
    except (
        jsonpatch.JsonPatchException,
        jsonpatch.JsonPointerException,
        TypeError,
        KeyError,
        IndexError,
        ValueError,
    ) as err:
        raise rejected from err
    if not isinstance(result, dict):
        raise rejected
    return result


def merge_patch(obj: dict[str, Any], patch: Any) -> dict[str, Any]:
    """RFC 7386: maps merge, null removes, anything else (lists included) replaces."""
    if not isinstance(patch, dict):
        raise bad_request("Invalid JSON Patch")
    return _merge_json(copy.deepcopy(obj), patch)


def _merge_json(target: Any, patch: Any) -> Any:
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    if not isinstance(target, dict):
        target = {}
    for key, value in patch.items():
        if value is None:
            target.pop(key, None)
        else:
            target[key] = _merge_json(target.get(key), value)
    return target


# -- Strategic merge patch --------------------------------------------------------------------

_PATCH = "$patch"
_RETAIN_KEYS = "$retainKeys"
_SET_ORDER = "$setElementOrder/"
_DELETE_FROM = "$deleteFromPrimitiveList/"
_DROPPED = object()
_NOT_SMP = (
    "the body of the request was in an unknown format - accepted media types include: "
    "application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml"
)


def strategic_merge_patch(obj: dict[str, Any], patch: Any, group: str, kind: str) -> dict[str, Any]:
    """k8s.io/apimachinery strategicpatch semantics. Only compiled-in kinds have the struct tags
    it needs, so for custom resources the server refuses the media type (415)."""
    schema = _Schema(group, kind)
    if not schema.builtin:
        raise ApiError(415, "UnsupportedMediaType", _NOT_SMP)
    if patch is None:
        return copy.deepcopy(obj)
    if not isinstance(patch, dict):
        raise bad_request(
            f"json: cannot unmarshal {_go_type(patch)} into Go value of type "
            "map[string]interface {}"
        )
    return _StrategicMerge(schema).merge_map(copy.deepcopy(obj), copy.deepcopy(patch), ())


class _StrategicMerge:
    """Merges a patch into an original; both are private copies, mutated freely."""

    def __init__(self, schema: _Schema) -> None:
        self.schema = schema

    def merge_map(self, original: dict[str, Any], patch: dict[str, Any], names: Names) -> Any:
        if _PATCH in patch:
            return _map_directive(patch)
        _retain_keys(original, patch)
        orders = {k[len(_SET_ORDER) :]: v for k, v in patch.items() if k.startswith(_SET_ORDER)}
        for key, value in patch.items():
            if key.startswith(_DELETE_FROM):
                _delete_from(original, key[len(_DELETE_FROM) :], value)
            elif not key.startswith("$"):  # the other directives are consumed above
                self._merge_field(original, key, value, names, orders.get(key))
        for key in orders.keys() - patch.keys():  # an order alone still reorders the list
            if isinstance(original.get(key), list):
                original[key] = self.merge_list(original[key], [], (*names, key), orders[key])
        return original

    def _merge_field(
        self, original: dict[str, Any], key: str, value: Any, names: Names, order: Any
    ) -> None:
        current, child = original.get(key), (*names, key)
        if value is None:
            original.pop(key, None)
        elif isinstance(value, dict) and isinstance(current, dict):
            original[key] = self.merge_map(current, value, child)
        elif isinstance(value, list) and isinstance(current, list):
            original[key] = self.merge_list(current, value, child, order)
        elif (fresh := _clean(value)) is _DROPPED:
            original.pop(key, None)
        else:
            original[key] = fresh

    def merge_list(
        self, original: list[Any], patch: list[Any], names: Names, order: Any = None
    ) -> list[Any]:
        spec = self.schema.patch_spec(names)
        if spec is None:
            return _clean(patch)
        if order is not None and not isinstance(order, list):
            raise bad_request("invalid patch format of setElementOrder list")
        if spec.patch_key is None:  # a set of scalars, such as finalizers
            merged: list[Any] = []
            for value in original + patch:
                if value not in merged:
                    merged.append(value)
            return _ordered(merged, patch if order is None else order, original, None)
        merged, items = self._merge_keyed(original, patch, spec.patch_key, names)
        return _ordered(merged, items if order is None else order, original, spec.patch_key)

    def _merge_keyed(
        self, original: list[Any], patch: list[Any], key: str, names: Names
    ) -> tuple[list[Any], list[Any]]:
        """Carries out the patch's `$patch` items, then merges every other item into the original
        item with the same key, or appends it. Returns the list and the plain patch items."""
        items: list[dict[str, Any]] = []
        replace_all = False
        for item in patch:
            if not isinstance(item, dict):
                raise bad_request(f"list items must be maps, not {_canonical(item)}")
            directive = item.get(_PATCH)
            if _PATCH not in item:
                items.append(item)
            elif directive == "delete":
                doomed = _merge_key(item, key)
                original = [o for o in original if _identity(o, key) != doomed]
            elif directive == "replace":
                replace_all = True
            elif directive == "merge":
                raise bad_request("merging lists cannot yet be specified in the patch")
            else:
                raise bad_request(f"unknown patch type: {directive} in map: {_canonical(item)}")
        if replace_all:
            return [_clean(item) for item in items], items
        merged = list(original)
        for item in items:
            at = _index([_identity(m, key) for m in merged], _merge_key(item, key))
            if at < 0:
                merged.append(_clean(item))
            else:
                merged[at] = self.merge_map(merged[at], item, names)
        return merged, items


def _map_directive(patch: dict[str, Any]) -> Any:
    directive = patch[_PATCH]
    if directive == "replace":
        return _clean({k: v for k, v in patch.items() if k != _PATCH})
    if directive == "delete":
        return {}
    raise bad_request(f"unknown patch type: {directive} in map: {_canonical(patch)}")


def _retain_keys(original: dict[str, Any], patch: dict[str, Any]) -> None:
    """`$retainKeys`: the map keeps only the listed keys. kubectl sends it for one-of structs
    (a volume's source, a deployment's strategy) so that switching variant drops the old one."""
    if _RETAIN_KEYS not in patch:
        return
    keep = patch[_RETAIN_KEYS]
    if not isinstance(keep, list) or any(
        v is not None and not k.startswith("$") and k not in keep for k, v in patch.items()
    ):
        raise bad_request("invalid patch format of retainKeys")
    for key in [k for k in original if k not in keep]:
        del original[key]


def _delete_from(original: dict[str, Any], name: str, values: Any) -> None:
    """`$deleteFromPrimitiveList/<name>`: drop these values from a list of scalars."""
    if not isinstance(values, list):
        raise bad_request("invalid patch format of primitive list")
    if isinstance(original.get(name), list):
        original[name] = [v for v in original[name] if v not in values]


def _merge_key(item: dict[str, Any], key: str) -> Any:
    if key not in item:
        raise bad_request(f"map: {_canonical(item)} does not contain declared merge key: {key}")
    return item[key]


def _identity(item: Any, key: str | None) -> Any:
    if key is None:
        return item
    return item.get(key) if isinstance(item, dict) else None


def _index(values: list[Any], value: Any) -> int:
    return values.index(value) if value in values else -1


def _ordered(
    merged: list[Any], order: list[Any], original: list[Any], key: str | None
) -> list[Any]:
    """Items the patch names (or its `$setElementOrder` lists) take that order; the rest stay
    where they were relative to them in the original list."""
    wanted = [_identity(item, key) for item in order]
    before = [_identity(item, key) for item in original]
    named = sorted(
        (m for m in merged if _identity(m, key) in wanted),
        key=lambda m: wanted.index(_identity(m, key)),
    )
    others = [m for m in merged if _identity(m, key) not in wanted]
    out: list[Any] = []
    while named and others:
        was_other = _index(before, _identity(others[0], key))
        was_named = _index(before, _identity(named[0], key))
        earlier = 0 <= was_other < was_named
        out.append(others.pop(0) if earlier else named.pop(0))
    return out + named + others


def _clean(value: Any) -> Any:
    """A patch value for a field the original lacks, taken as it is less its nulls and
    directives. A map holding `$patch` is dropped whole, as apimachinery does."""
    if isinstance(value, dict):
        if _PATCH in value:
            return _DROPPED
        kept = {k: _clean(v) for k, v in value.items() if v is not None and not k.startswith("$")}
        return {k: v for k, v in kept.items() if v is not _DROPPED}
    if isinstance(value, list):
        return [v for v in map(_clean, value) if v is not _DROPPED]
    return value


# -- Field sets -------------------------------------------------------------------------------

# Metadata the server sets. Like status (which the main resource ignores), no manager owns it.
_SERVER_META = (
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "selfLink",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
)
_UNTRACKED: tuple[Path, ...] = (
    ("f:apiVersion",),
    ("f:kind",),
    ("f:status",),
    *(
        ("f:metadata", f"f:{name}")
        for name in ("name", "namespace", "managedFields", *_SERVER_META)
    ),
)
# Structs every object has: kube never records them as owned in their own right.
_STRUCTS: frozenset[Path] = frozenset({("f:metadata",), ("f:spec",)})


def _tracked(paths: Iterable[Path]) -> frozenset[Path]:
    return frozenset(
        p for p in paths if p not in _STRUCTS and not any(p[: len(u)] == u for u in _UNTRACKED)
    )


def _owned(schema: _Schema, value: Any, path: Path = (), names: Names = ()) -> set[Path]:
    """The paths an applied configuration sets: its leaves, and every list item it names.
    Also rejects a keyed list whose items lack a key or repeat one."""
    spec = schema.spec(names) if isinstance(value, list) else None
    paths: set[Path] = set()
    for i, (cpath, cnames, child) in enumerate(schema.children(value, path, names)):
        if spec and spec.apply_keys:
            _check_item(spec, child, cpath, paths, f"{_render(path)}: element {i}")
        nested = bool(child) and schema.granular(child, cnames)
        if not nested or not cpath[-1].startswith("f:"):
            paths.add(cpath)
        if nested:
            paths |= _owned(schema, child, cpath, cnames)
    return paths


def _check_item(spec: ListSpec, item: Any, path: Path, seen: set[Path], where: str) -> None:
    fields = item if isinstance(item, dict) else {}
    missing = [k for k in spec.apply_keys if k not in fields and k not in _KEY_DEFAULTS]
    if missing:
        raise bad_request(
            f"{where}: associative list with keys has an element that omits key field "
            f'"{missing[0]}" (and doesn\'t have default value)'
        )
    if path in seen:
        raise bad_request(f"{where}: duplicate entries for key {_render(path[-1:])}")


def _subtree(schema: _Schema, value: Any, path: Path, names: Names) -> set[Path]:
    """`path` and every path beneath it."""
    paths = {path}
    for cpath, cnames, child in schema.children(value, path, names):
        paths |= _subtree(schema, child, cpath, cnames)
    return paths


@dataclass
class _Changes:
    """What turned `old` into `new`. Added and removed hold whole subtrees (maps and list items
    as well as leaves); modified holds the leaves whose value changed."""

    added: set[Path] = field(default_factory=set)
    modified: set[Path] = field(default_factory=set)
    removed: set[Path] = field(default_factory=set)

    @property
    def written(self) -> frozenset[Path]:
        return _tracked(self.added | self.modified)

    @property
    def gone(self) -> frozenset[Path]:
        return _tracked(self.removed)


def _compare(schema: _Schema, old: Any, new: Any) -> _Changes:
    changes = _Changes()
    _compare_into(schema, old, new, (), (), changes)
    return changes


def _compare_into(
    schema: _Schema, old: Any, new: Any, path: Path, names: Names, changes: _Changes
) -> None:
    if type(old) is not type(new) or not schema.granular(new, names):
        if old != new:
            changes.modified.add(path)
        return
    before = {cpath: (cnames, child) for cpath, cnames, child in schema.children(old, path, names)}
    for cpath, cnames, child in schema.children(new, path, names):
        if cpath in before:
            _compare_into(schema, before.pop(cpath)[1], child, cpath, cnames, changes)
        else:
            changes.added |= _subtree(schema, child, cpath, cnames)
    for cpath, (cnames, child) in before.items():
        changes.removed |= _subtree(schema, child, cpath, cnames)


def _merge_applied(schema: _Schema, live: Any, config: Any, names: Names) -> Any:
    """The configuration laid over the live object: it wins on every field it sets, while maps
    and keyed or set lists merge. A null it sets clears the field."""
    if isinstance(live, dict) and isinstance(config, dict):
        merged = dict(live)
        for key, value in config.items():
            if value is None:
                merged.pop(key, None)
            elif key in live:
                merged[key] = _merge_applied(schema, live[key], value, (*names, key))
            else:
                merged[key] = value
        return merged
    spec = schema.spec(names)
    if spec and isinstance(live, list) and isinstance(config, list):
        return _merge_items(schema, live, config, spec, names)
    return config


def _merge_items(
    schema: _Schema, live: list[Any], config: list[Any], spec: ListSpec, names: Names
) -> list[Any]:
    """Items follow the configuration's order; live-only items keep their place before the
    next item the two share."""
    live_ids = [schema.element(spec, item) for item in live]
    config_ids = [schema.element(spec, item) for item in config]
    shared = set(live_ids) & set(config_ids)
    merged: list[Any] = []
    done = 0
    for cid, item in zip(config_ids, config, strict=True):
        if cid not in shared:
            merged.append(item)
            continue
        at = live_ids.index(cid)
        merged += [live[j] for j in range(done, at) if live_ids[j] not in shared]
        done = max(done, at + 1)
        merged.append(_merge_applied(schema, live[at], item, names))
    return merged + [live[j] for j in range(done, len(live)) if live_ids[j] not in shared]


def _without(schema: _Schema, value: Any, doomed: frozenset[Path]) -> Any:
    """`value` less the doomed paths. Maps and lists that empties go too: in a typed object
    they decode to nothing."""
    within = {p[:i] for p in doomed for i in range(1, len(p))}

    def prune(node: Any, path: Path, names: Names) -> Any:
        if not schema.granular(node, names):
            return node
        kept: list[tuple[str, Any]] = []
        for cpath, cnames, child in schema.children(node, path, names):
            if cpath in doomed:
                continue
            if cpath in within:
                child = prune(child, cpath, cnames)
                if isinstance(child, dict | list) and not child:
                    continue
            kept.append((cpath[-1], child))
        if isinstance(node, dict):
            return {element[2:]: child for element, child in kept}
        return [child for _, child in kept]

    return prune(value, (), ())


# -- FieldsV1 and managedFields ---------------------------------------------------------------


def _element_order(element: str) -> tuple[int, str]:
    return "fkvi".find(element[0]), element[2:]


def _encode_fields(paths: frozenset[Path]) -> dict[str, Any]:
    tree: dict[str, Any] = {}
    for path in paths:
        node = tree
        for element in path:
            node = node.setdefault(element, {})

    def render(node: dict[str, Any], prefix: Path) -> dict[str, Any]:
        out: dict[str, Any] = {".": {}} if node and prefix in paths else {}
        for element in sorted(node, key=_element_order):
            out[element] = render(node[element], (*prefix, element))
        return out

    return render(tree, ())


def _decode_fields(tree: Any, prefix: Path = ()) -> set[Path]:
    paths: set[Path] = set()
    for element, sub in tree.items() if isinstance(tree, dict) else ():
        if element == ".":
            paths.add(prefix)
        elif isinstance(sub, dict) and sub:
            paths |= _decode_fields(sub, (*prefix, element))
        else:
            paths.add((*prefix, element))
    return paths - {()}


def _render(path: Path) -> str:
    """A path as kube prints it: .spec.template.spec.containers[name="web"].image"""
    parts = []
    for element in path:
        kind, body = element[:2], element[2:]
        if kind == "f:":
            parts.append("." + body)
        elif kind == "k:" and isinstance(key := _loads(body), dict):
            parts.append(
                "[" + ",".join(f"{k}={_canonical(v)}" for k, v in sorted(key.items())) + "]"
            )
        elif kind == "v:":
            parts.append(f"[={body}]")
        else:
            parts.append(f"[{body}]")
    return "".join(parts)


def _loads(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


@dataclass(frozen=True)
class _Manager:
    """One managedFields entry."""

    manager: str
    operation: str
    api_version: str
    fields: frozenset[Path]
    time: str | None = None
    subresource: str = ""

    @property
    def key(self) -> tuple[str, str, str, str]:
        # An applier is one manager whatever version it applies at; an updater one per version.
        version = "" if self.operation == "Apply" else self.api_version
        return self.manager, self.operation, version, self.subresource

    def describe(self) -> str:
        text = json.dumps(self.manager)
        if self.subresource:
            text += f" with subresource {json.dumps(self.subresource)}"
        if self.operation == "Update":
            text += f" using {self.api_version}"
        return text

    def entry(self) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "manager": self.manager,
            "operation": self.operation,
            "apiVersion": self.api_version,
        }
        if self.time is not None:
            entry["time"] = self.time
        entry |= {"fieldsType": "FieldsV1", "fieldsV1": _encode_fields(self.fields)}
        if self.subresource:
            entry["subresource"] = self.subresource
        return entry

    def order(self) -> tuple[str, ...]:
        """kube's order for managedFields: appliers first, then oldest first."""
        return self.operation, self.time or "", self.manager, self.api_version, self.subresource


def _read_managers(obj: dict[str, Any] | None) -> dict[tuple[str, ...], _Manager]:
    entries = ((obj or {}).get("metadata") or {}).get("managedFields")
    managers: dict[tuple[str, ...], _Manager] = {}
    for entry in entries if isinstance(entries, list) else ():
        if isinstance(entry, dict):
            manager = _Manager(
                str(entry.get("manager", "")),
                str(entry.get("operation", "")),
                str(entry.get("apiVersion", "")),
                frozenset(_decode_fields(entry.get("fieldsV1"))),
                entry.get("time"),
                str(entry.get("subresource", "")),
            )
            managers[manager.key] = manager
    return managers


def _with_managers(obj: dict[str, Any], managers: Iterable[_Manager]) -> dict[str, Any]:
    entries = [m.entry() for m in sorted((m for m in managers if m.fields), key=_Manager.order)]
    meta = {k: v for k, v in (obj.get("metadata") or {}).items() if k != "managedFields"}
    if entries:
        meta["managedFields"] = entries
    return {**obj, "metadata": meta}


def _content(obj: dict[str, Any]) -> dict[str, Any]:
    """A deep copy of `obj` less its managedFields, which are bookkeeping, not content."""
    meta = {k: v for k, v in (obj.get("metadata") or {}).items() if k != "managedFields"}
    return copy.deepcopy({**obj, "metadata": meta})


def _disown(
    managers: dict[tuple[str, ...], _Manager], paths: frozenset[Path]
) -> dict[tuple[str, ...], _Manager]:
    return {k: replace(m, fields=m.fields - paths) for k, m in managers.items()}


# -- Server-side apply and update tracking ----------------------------------------------------


def server_side_apply(
    live: dict[str, Any] | None,
    applied: dict[str, Any],
    manager: str,
    force: bool,
    group: str,
    kind: str,
    now: str,
) -> dict[str, Any]:
    """Merges an apply configuration into the live object (None: creates it) as `manager`.

    Fields the manager applied last time but leaves out now are removed unless another manager
    owns them. Changing a field another manager owns is a 409 unless `force`, which takes the
    field over. Applying what is already there returns the live object unchanged."""
    _check_applied(applied)
    schema = _Schema(group, kind)
    config = _apply_config(applied)
    base = _content(live) if live is not None else {}
    managers = _read_managers(live)
    me = _Manager(manager, "Apply", applied["apiVersion"], _tracked(_owned(schema, config)), now)
    previous = managers.pop(me.key, None)
    merged = _merge_applied(schema, base, config, ())
    if previous:
        others = frozenset().union(*(m.fields for m in managers.values()))
        merged = _without(schema, merged, previous.fields - me.fields - others)
    changes = _compare(schema, base, merged)
    conflicts = {k: m.fields & changes.written for k, m in managers.items()}
    conflicts = {k: paths for k, paths in conflicts.items() if paths}
    if conflicts and not force:
        raise _conflict_error(managers, conflicts)
    if (
        live is not None
        and merged == base
        and previous
        and (previous.api_version, previous.fields) == (me.api_version, me.fields)
    ):
        return copy.deepcopy(live)
    managers = _disown(managers, changes.written | changes.gone)
    managers[me.key] = me
    return _with_managers(merged, managers.values())


def record_update(
    old: dict[str, Any] | None,
    new: dict[str, Any],
    manager: str,
    operation: str,
    now: str,
    group: str,
    kind: str,
) -> dict[str, Any]:
    """`new` with managedFields crediting `manager` with the fields a create, update or patch
    set or changed; other managers lose those fields, and everyone loses removed ones."""
    schema = _Schema(group, kind)
    # Managed fields the client sent win (that is how they are reset); otherwise the stored ones.
    managers = _read_managers(new) or _read_managers(old)
    after = _content(new)
    changes = _compare(schema, _content(old) if old is not None else {}, after)
    managers = _disown(managers, changes.written | changes.gone)
    if changes.written:
        me = _Manager(manager, operation, str(new.get("apiVersion", "")), changes.written, now)
        if mine := managers.get(me.key):
            me = replace(me, fields=me.fields | mine.fields)
        managers[me.key] = me
    return _with_managers(after, managers.values())


def _check_applied(applied: Any) -> None:
    if not isinstance(applied, dict):
        raise bad_request(f"json: cannot unmarshal {_go_type(applied)} into an object")
    if not applied.get("apiVersion") or not applied.get("kind"):
        raise bad_request("apply patches must set apiVersion and kind")
    meta = applied.get("metadata", {})
    if not isinstance(meta, dict):
        raise bad_request("metadata must be an object")
    if meta.get("managedFields") is not None:
        raise bad_request("metadata.managedFields must be nil")


def _apply_config(applied: dict[str, Any]) -> dict[str, Any]:
    """What of an apply configuration reaches the object: neither status (the main resource
    ignores it) nor the metadata the server sets."""
    config = copy.deepcopy({k: v for k, v in applied.items() if k != "status"})
    meta = config.setdefault("metadata", {})
    for name in _SERVER_META:
        meta.pop(name, None)
    return config


def _conflict_error(
    managers: dict[tuple[str, ...], _Manager], conflicts: dict[tuple[str, ...], frozenset[Path]]
) -> ApiError:
    """kube's 409: one cause per field, and a message grouping the fields by manager."""
    found = {
        managers[key].describe(): sorted(paths, key=lambda p: [_element_order(e) for e in p])
        for key, paths in sorted(conflicts.items())
    }
    causes = [
        {"reason": "FieldManagerConflict", "message": f"conflict with {who}", "field": _render(p)}
        for who, paths in found.items()
        for p in paths
    ]
    if len(causes) == 1:
        return ApiError(
            409,
            "Conflict",
            f"Apply failed with 1 conflict: {causes[0]['message']}: {causes[0]['field']}",
            {"causes": causes},
        )
    lines = [
        line
        for who, paths in found.items()
        for line in (f"conflicts with {who}:", *(f"- {_render(p)}" for p in paths))
    ]
    message = f"Apply failed with {len(causes)} conflicts: " + "\n".join(lines)
    return ApiError(409, "Conflict", message, {"causes": causes})
