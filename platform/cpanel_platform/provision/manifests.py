"""Release manifests: fetched from a release mirror, verified against pinned digests, cached.

A release of component C at version V is one multi-document YAML file at

    {mirror}/{C}/{V}/manifests.yaml

with C named as in `platform.yaml` (`ingress_nginx`, `cert_manager`, …). Its sha256 must equal
the digest pinned in `digests.PINNED`. Verified releases are cached at
`$XDG_CACHE_HOME/cpanel/manifests/{C}/{V}/manifests.yaml` and verified again on every read, so a
damaged or tampered cache entry is fetched anew. No Helm binary is involved.

The mirror is `$CPANEL_MIRROR_URL` (default `DEFAULT_MIRROR`); `$CPANEL_MIRROR_CA` names an
extra CA bundle to trust for it (the sandbox's mirror uses a private CA).
"""

from __future__ import annotations

import os
import ssl
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx
import yaml

from . import digests
from .spec import KNOWN_COMPONENTS

DEFAULT_MIRROR = "https://releases.cpanel.dev"
MIRROR_ENV = "CPANEL_MIRROR_URL"
MIRROR_CA_ENV = "CPANEL_MIRROR_CA"
FILE_NAME = "manifests.yaml"
TIMEOUT = 30.0


class ManifestError(Exception):
    """A release manifest that could not be fetched, verified or read, worded for the user."""


def mirror_url(env: Mapping[str, str]) -> str:
    """The release mirror's base URL: `$CPANEL_MIRROR_URL`, else `DEFAULT_MIRROR`."""
    return (env.get(MIRROR_ENV) or DEFAULT_MIRROR).rstrip("/")


def mirror_client(env: Mapping[str, str]) -> httpx.Client:
    """An HTTP client for the mirror, trusting `$CPANEL_MIRROR_CA` when set."""
    ca = env.get(MIRROR_CA_ENV)
    verify: ssl.SSLContext | bool = ssl.create_default_context(cafile=ca) if ca else True
    return httpx.Client(verify=verify, timeout=TIMEOUT, follow_redirects=True)


def default_cache_dir(env: Mapping[str, str]) -> Path:
    base = env.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
    return Path(base) / "cpanel" / "manifests"


def release_url(mirror: str, component: str, version: str) -> str:
    return f"{mirror.rstrip('/')}/{component}/{version}/{FILE_NAME}"


def fetch(
    component: str,
    version: str,
    *,
    mirror: str,
    cache_dir: Path | None = None,
    client: httpx.Client | None = None,
) -> list[dict[str, Any]]:
    """The documents of a component's release, from the cache or else the mirror."""
    expected = _pinned(component, version)
    path = (cache_dir or default_cache_dir(os.environ)) / component / version / FILE_NAME
    cached = _read(path)
    if cached is not None and digests.sha256(cached) == expected:
        return _parse(cached, str(path))
    url = release_url(mirror, component, version)
    data = _download(url, mirror, client)
    got = digests.sha256(data)
    if got != expected:
        raise ManifestError(
            f"{component} {version} from {url} does not match its pinned digest: expected "
            f"sha256 {expected}, got {got}. The mirror serves a different file than the one "
            "pinned in cpanel; nothing was cached or applied."
        )
    documents = _parse(data, url)
    _write_atomic(path, data)
    return documents


def _pinned(component: str, version: str) -> str:
    if component not in KNOWN_COMPONENTS:
        raise ManifestError(
            f"unknown component {component!r}; the components are {', '.join(KNOWN_COMPONENTS)}."
        )
    digest = digests.PINNED.get((component, version))
    if digest is None:
        pinned = sorted(v for c, v in digests.PINNED if c == component)
        raise ManifestError(
            f"{component} {version} has no pinned digest in this cpanel, so it cannot be "
            f"verified; pinned versions: {', '.join(pinned) or 'none'}."
        )
    return digest


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None


def _download(url: str, mirror: str, client: httpx.Client | None) -> bytes:
    http = client or mirror_client(os.environ)
    try:
        response = http.get(url)
    except httpx.HTTPError as exc:
        reason = str(exc) or type(exc).__name__
        raise ManifestError(
            f"the release mirror {mirror} is unreachable ({reason}) while fetching {url}. "
            f"Check the network, or point {MIRROR_ENV} at a reachable mirror."
        ) from exc
    finally:
        if client is None:
            http.close()
    if response.status_code != 200:
        raise ManifestError(
            f"the release mirror answered HTTP {response.status_code} "
            f"{response.reason_phrase} for {url}."
        )
    return response.content


def _parse(data: bytes, source: str) -> list[dict[str, Any]]:
    try:
        documents = [doc for doc in yaml.safe_load_all(data) if doc is not None]
    except yaml.YAMLError as exc:
        raise ManifestError(f"{source} is not valid YAML: {exc}") from exc
    for index, doc in enumerate(documents, 1):
        if not isinstance(doc, dict) or "kind" not in doc:
            raise ManifestError(
                f"{source} is malformed: document {index} is not a Kubernetes object "
                "(a mapping with a kind)."
            )
    return documents


def _write_atomic(path: Path, data: bytes) -> None:
    tmp: Path | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{FILE_NAME}.")
        tmp = Path(name)
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(tmp, path)
    except OSError as exc:
        if tmp:
            tmp.unlink(missing_ok=True)
        raise ManifestError(f"cannot cache the release at {path}: {exc}") from exc
