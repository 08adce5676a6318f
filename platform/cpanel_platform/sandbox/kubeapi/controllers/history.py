"""ControllerRevisions: the pod-template history StatefulSets and DaemonSets keep.

Each revision stores a strategic merge patch that puts its template back, which is what
`kubectl rollout undo` applies, and is named `<owner>-<hash>` as the real controllers name it.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from ..api import Api
from .base import controller_ref, owner_of

REVISION_KEY = ("apps", "controllerrevisions")
_SAFE = "bcdfghjklmnpqrstvwxz2456789"  # the alphabet of the real hashes' digits


def safe_hash(data: Any, collisions: int = 0) -> str:
    """FNV-1a (32 bit) of `data`, its decimal digits spelled as the real controllers spell them."""
    value = 0x811C9DC5
    raw = json.dumps(data, sort_keys=True, separators=(",", ":")).encode()
    if collisions:
        raw += collisions.to_bytes(4, "little")
    for byte in raw:
        value = ((value ^ byte) * 0x01000193) & 0xFFFFFFFF
    return "".join(_SAFE[ord(digit) % len(_SAFE)] for digit in str(value))


def revision_data(template: dict[str, Any]) -> dict[str, Any]:
    return {"spec": {"template": {**copy.deepcopy(template), "$patch": "replace"}}}


def template_of(revision: dict[str, Any]) -> dict[str, Any]:
    template = copy.deepcopy(revision["data"]["spec"]["template"])
    template.pop("$patch", None)
    return template


def owned_revisions(api: Api, owner: dict[str, Any]) -> list[dict[str, Any]]:
    """The owner's revisions, oldest first."""
    meta = owner["metadata"]
    revisions = [
        r
        for r in api.store.list(REVISION_KEY, meta["namespace"])
        if owner_of(r, owner["kind"]) == meta["uid"]
    ]
    return sorted(revisions, key=lambda r: r.get("revision", 0))


def current_revision(
    api: Api, owner: dict[str, Any], revisions: list[dict[str, Any]], hash_label: str
) -> tuple[dict[str, Any], int]:
    """The revision of the owner's template, made the newest (created if missing), and the
    collision count it took to name it."""
    data = revision_data(owner["spec"]["template"])
    newest = max((r.get("revision", 0) for r in revisions), default=0)
    collisions = (owner.get("status") or {}).get("collisionCount") or 0
    equal = [r for r in revisions if r.get("data") == data]
    if equal:
        found = equal[-1]
        if found is revisions[-1]:
            return found, collisions
        # A rollback: the old revision becomes the newest again.
        bumped = {**copy.deepcopy(found), "revision": newest + 1}
        return api.update(
            api.preferred(*REVISION_KEY),
            found["metadata"]["namespace"],
            found["metadata"]["name"],
            bumped,
        ), collisions
    return _create(api, owner, data, newest + 1, hash_label, collisions)


def _create(
    api: Api,
    owner: dict[str, Any],
    data: dict[str, Any],
    number: int,
    hash_label: str,
    collisions: int,
) -> tuple[dict[str, Any], int]:
    meta = owner["metadata"]
    while True:
        digest = safe_hash(data, collisions)
        name = f"{meta['name'][:223]}-{digest}"
        existing = api.find(*REVISION_KEY, meta["namespace"], name)
        if existing is not None and existing.get("data") == data:
            return existing, collisions
        if existing is None:
            break
        collisions += 1  # another template already holds this name
    labels = dict((owner["spec"]["template"].get("metadata") or {}).get("labels") or {})
    labels[hash_label] = digest
    body = {
        "metadata": {
            "name": name,
            "namespace": meta["namespace"],
            "labels": labels,
            "ownerReferences": [controller_ref(owner)],
        },
        "data": data,
        "revision": number,
    }
    if meta.get("annotations"):
        body["metadata"]["annotations"] = dict(meta["annotations"])
    return api.create(api.preferred(*REVISION_KEY), meta["namespace"], body), collisions


def truncate_history(
    api: Api, revisions: list[dict[str, Any]], live: set[str], limit: int | None
) -> None:
    """Delete the oldest revisions no pod uses until at most `limit` such remain."""
    history = [r for r in revisions if r["metadata"]["name"] not in live]
    if limit is None or limit < 0 or len(history) <= limit:
        return
    rt = api.preferred(*REVISION_KEY)
    for revision in history[: len(history) - limit]:
        api.delete(rt, revision["metadata"]["namespace"], revision["metadata"]["name"])
