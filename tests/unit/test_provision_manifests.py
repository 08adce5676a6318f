"""Release manifests: pinned digests, verification, caching and the errors a user sees."""

from __future__ import annotations

from pathlib import Path

import cpanel_platform
import httpx
import pytest
import yaml
from cpanel_platform.provision import digests, manifests
from cpanel_platform.provision.manifests import ManifestError, fetch
from cpanel_platform.provision.spec import Components

MIRROR_DIR = Path(cpanel_platform.__file__).parent / "sandbox" / "mirror"
MIRROR = "https://mirror.test"


def serve(files: dict[str, bytes], calls: list[str]) -> httpx.Client:
    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        data = files.get(request.url.path)
        return httpx.Response(200, content=data) if data is not None else httpx.Response(404)

    return httpx.Client(transport=httpx.MockTransport(handler))


def stand_in(component: str, version: str) -> bytes:
    return (MIRROR_DIR / component / version / "manifests.yaml").read_bytes()


def test_pinned_digests_equal_the_stand_in_releases() -> None:
    assert digests.releases(MIRROR_DIR) == digests.PINNED


def test_every_default_component_version_is_pinned() -> None:
    defaults = Components()
    for name in Components.model_fields:
        assert (name, getattr(defaults, name).version) in digests.PINNED


def test_fetch_verifies_caches_and_reads_the_cache(tmp_path: Path) -> None:
    calls: list[str] = []
    client = serve({"/keel/0.19.1/manifests.yaml": stand_in("keel", "0.19.1")}, calls)
    docs = fetch("keel", "0.19.1", mirror=MIRROR, cache_dir=tmp_path, client=client)
    assert {d["kind"] for d in docs} == {"Namespace", "Deployment", "Service"}
    cached = tmp_path / "keel" / "0.19.1" / "manifests.yaml"
    assert cached.read_bytes() == stand_in("keel", "0.19.1")
    assert fetch("keel", "0.19.1", mirror=MIRROR, cache_dir=tmp_path, client=client) == docs
    assert calls == ["/keel/0.19.1/manifests.yaml"]


def test_a_tampered_cache_entry_is_fetched_again(tmp_path: Path) -> None:
    cached = tmp_path / "keel" / "0.19.1" / "manifests.yaml"
    cached.parent.mkdir(parents=True)
    cached.write_text("apiVersion: v1\nkind: Namespace\nmetadata: {name: evil}\n")
    calls: list[str] = []
    client = serve({"/keel/0.19.1/manifests.yaml": stand_in("keel", "0.19.1")}, calls)
    docs = fetch("keel", "0.19.1", mirror=MIRROR, cache_dir=tmp_path, client=client)
    assert calls and "evil" not in str(docs)
    assert cached.read_bytes() == stand_in("keel", "0.19.1")


def test_a_digest_mismatch_is_refused_and_not_cached(tmp_path: Path) -> None:
    client = serve({"/keel/0.19.1/manifests.yaml": b"kind: Namespace\n"}, [])
    with pytest.raises(ManifestError) as err:
        fetch("keel", "0.19.1", mirror=MIRROR, cache_dir=tmp_path, client=client)
    message = str(err.value)
    assert digests.PINNED["keel", "0.19.1"] in message
    assert digests.sha256(b"kind: Namespace\n") in message
    assert "nothing was cached" in message
    assert not list(tmp_path.rglob("*.yaml"))


def test_an_unknown_version_names_the_pinned_ones(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match=r"keel 9\.9\.9 .*pinned versions: 0\.19\.1"):
        fetch("keel", "9.9.9", mirror=MIRROR, cache_dir=tmp_path, client=serve({}, []))


def test_an_unknown_component_names_the_known_ones(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match=r"unknown component 'helm'.*ingress_nginx"):
        fetch("helm", "1.0", mirror=MIRROR, cache_dir=tmp_path, client=serve({}, []))


def test_an_http_error_names_the_status_and_url(tmp_path: Path) -> None:
    with pytest.raises(ManifestError) as err:
        fetch("keel", "0.19.1", mirror=MIRROR, cache_dir=tmp_path, client=serve({}, []))
    assert "HTTP 404" in str(err.value)
    assert f"{MIRROR}/keel/0.19.1/manifests.yaml" in str(err.value)


@pytest.mark.parametrize("body", [b"kind: [unclosed\n", b"- just\n- a list\n"])
def test_malformed_yaml_is_reported_and_not_cached(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, body: bytes
) -> None:
    monkeypatch.setitem(digests.PINNED, ("keel", "0.19.1"), digests.sha256(body))
    client = serve({"/keel/0.19.1/manifests.yaml": body}, [])
    with pytest.raises(ManifestError, match=r"not valid YAML|malformed"):
        fetch("keel", "0.19.1", mirror=MIRROR, cache_dir=tmp_path, client=client)
    assert not list(tmp_path.rglob("*.yaml"))


def test_an_unreachable_mirror_names_the_reason(tmp_path: Path) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    client = httpx.Client(transport=httpx.MockTransport(refuse))
    with pytest.raises(ManifestError, match=r"unreachable \(connection refused\).*CPANEL_MIRROR"):
        fetch("keel", "0.19.1", mirror=MIRROR, cache_dir=tmp_path, client=client)


def test_mirror_url_and_cache_location() -> None:
    assert manifests.mirror_url({}) == manifests.DEFAULT_MIRROR
    assert manifests.DEFAULT_MIRROR.startswith("https://")
    assert manifests.mirror_url({"CPANEL_MIRROR_URL": "https://m.test/r/"}) == "https://m.test/r"
    assert manifests.default_cache_dir({"XDG_CACHE_HOME": "/c"}) == Path("/c/cpanel/manifests")


def test_stand_ins_hold_no_app_custom_resources() -> None:
    kinds = {
        doc["kind"]
        for path in MIRROR_DIR.glob("*/*/manifests.yaml")
        for doc in yaml.safe_load_all(path.read_text())
        if doc
    }
    assert not kinds & {"Certificate", "PostgresCluster", "ClusterIssuer"}
    assert "CustomResourceDefinition" in kinds
