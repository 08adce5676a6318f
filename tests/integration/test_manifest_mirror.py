"""The sandbox's release mirror, fetched over HTTPS as `cpanel up` fetches a real one."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from cpanel_platform.provision import digests, manifests
from cpanel_platform.provision.manifests import ManifestError, fetch

from tests.conftest import Sandbox


def test_every_pinned_release_is_served_verified_and_cached(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    mirror = manifests.mirror_url(sandbox.env)
    assert mirror.startswith("https://127.0.0.1:")
    with manifests.mirror_client(sandbox.env) as client:
        for component, version in digests.PINNED:
            docs = fetch(component, version, mirror=mirror, cache_dir=tmp_path, client=client)
            assert docs and all("kind" in doc for doc in docs)
            cached = tmp_path / component / version / "manifests.yaml"
            assert digests.sha256(cached.read_bytes()) == digests.PINNED[component, version]
        answer = client.get(f"{mirror}/keel/0.0.0/manifests.yaml")
    assert answer.status_code == 404


def test_an_unreachable_mirror_is_a_clear_error(tmp_path: Path) -> None:
    with socket.socket() as sock:  # a port nobody listens on once closed
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(ManifestError, match=r"unreachable \(.+\)"):
        fetch("keel", "0.19.1", mirror=f"https://127.0.0.1:{port}", cache_dir=tmp_path)
