"""`cpanel plan` and `cpanel up` given bad input: each mistake is one paragraph naming the cause,
exit code 1, no traceback, and nothing applied. Run as a user runs them: the `cpanel` command,
pointed at the sandbox's APIs by the environment `cpanel sandbox env` prints."""

from __future__ import annotations

import http.server
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from cpanel_platform.provision.template import TEMPLATE

from tests.conftest import Sandbox

CPANEL = str(Path(sys.executable).parent / "cpanel")


def _run(
    sandbox: Sandbox, tmp: Path, text: str, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    spec = tmp / "platform.yaml"
    spec.write_text(text)
    environment = {
        **os.environ, **sandbox.env, "HOME": str(tmp), "XDG_CACHE_HOME": str(tmp / "cache"),
        "XDG_CONFIG_HOME": str(tmp / "config"), "KUBECONFIG": str(tmp / "kubeconfig"),
        **(env or {}),
    }
    environment = {k: v for k, v in environment.items() if v is not None}
    return subprocess.run(
        [CPANEL, *args, "-f", str(spec)], capture_output=True, text=True, timeout=60,
        env=environment, stdin=subprocess.DEVNULL,
    )


def _one_clear_error(proc: subprocess.CompletedProcess[str], *expected: str) -> str:
    assert proc.returncode == 1, (proc.returncode, proc.stdout, proc.stderr)
    output = proc.stdout + proc.stderr
    assert "Traceback" not in output
    for text in expected:
        assert text in output, output
    return output


# A cluster label the sandbox has no cluster for: nothing exists, everything would be created.
NEW = TEMPLATE.replace("label: prod", "label: staging")


def test_a_malformed_file_names_the_line(sandbox: Sandbox, tmp_path: Path) -> None:
    proc = _run(sandbox, tmp_path, "cluster:\n  label: [prod\n", "plan")
    _one_clear_error(proc, "platform.yaml:3: not valid YAML")


def test_an_unknown_component_lists_the_known_ones(sandbox: Sandbox, tmp_path: Path) -> None:
    text = NEW.replace("  keel:\n", "  keal:\n")
    proc = _run(sandbox, tmp_path, text, "plan")
    _one_clear_error(proc, "components.keal: unknown component; known: ingress_nginx")


def test_a_wrong_type_names_the_field_and_line(sandbox: Sandbox, tmp_path: Path) -> None:
    text = NEW.replace("count: 3", "count: three")
    proc = _run(sandbox, tmp_path, text, "up", "--yes")
    _one_clear_error(proc, "cluster.pools[0].count", "platform.yaml:")


def test_an_unknown_region_and_version_are_refused(sandbox: Sandbox, tmp_path: Path) -> None:
    text = NEW.replace("region: us-east", "region: mars-1").replace('"1.36"', '"1.29"')
    proc = _run(sandbox, tmp_path, text, "up", "--yes")
    output = _one_clear_error(proc, "region mars-1 is not a Linode region",
                              "Kubernetes 1.29 is not offered by the Linode API")
    assert "Done" not in output
    assert sandbox.linode_cli("lke", "clusters-list") is not None
    assert "staging" not in [c["label"] for c in sandbox.linode_cli("lke", "clusters-list")]


@pytest.fixture
def tampered_mirror(tmp_path: Path) -> Iterator[str]:
    """A plain-HTTP mirror serving a keel release that differs from the pinned one."""
    root = tmp_path / "mirror"
    (root / "keel" / "0.19.1").mkdir(parents=True)
    (root / "keel" / "0.19.1" / "manifests.yaml").write_text("kind: Namespace\n")
    handler = lambda *a: http.server.SimpleHTTPRequestHandler(*a, directory=str(root))  # noqa: E731
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_a_digest_mismatch_applies_nothing(
    sandbox: Sandbox, tmp_path: Path, tampered_mirror: str
) -> None:
    only_keel = (
        "cluster:\n  label: prod\n  region: us-east\n  k8s_version: \"1.36\"\n"
        "  high_availability: true\n  pools: [{type: g6-dedicated-8, count: 3}]\n"
        "components:\n  keel: {version: \"0.19.1\", default_policy: patch}\n"
    )
    before = sandbox.json("get", "deployment", "-n", "keel", "keel")
    proc = _run(sandbox, tmp_path, only_keel, "up", "--yes",
                env={"CPANEL_MIRROR_URL": tampered_mirror})
    _one_clear_error(proc, "keel 0.19.1", "does not match its pinned digest", "nothing was")
    after = sandbox.json("get", "deployment", "-n", "keel", "keel")
    assert after["metadata"]["resourceVersion"] == before["metadata"]["resourceVersion"]
    assert not (tmp_path / "cache" / "cpanel" / "manifests" / "keel").exists()


def test_a_missing_token_says_how_to_give_one(sandbox: Sandbox, tmp_path: Path) -> None:
    proc = _run(sandbox, tmp_path, NEW, "plan",
                env={"LINODE_TOKEN": None, "LINODE_CLI_TOKEN": None})  # type: ignore[dict-item]
    _one_clear_error(proc, "no Linode token", "LINODE_TOKEN")


def test_an_unreachable_api_names_the_address(sandbox: Sandbox, tmp_path: Path) -> None:
    proc = _run(sandbox, tmp_path, NEW, "up", "--yes",
                env={"LINODE_API_URL": "http://127.0.0.1:9/v4"})
    _one_clear_error(proc, "cannot reach the Linode API at http://127.0.0.1:9/v4",
                     "connection refused")


def test_up_without_a_terminal_needs_yes(sandbox: Sandbox, tmp_path: Path) -> None:
    proc = _run(sandbox, tmp_path, NEW, "up")
    _one_clear_error(proc, "pass --yes")
    assert "staging" not in [c["label"] for c in sandbox.linode_cli("lke", "clusters-list")]


def test_down_needs_the_label_typed(sandbox: Sandbox, tmp_path: Path) -> None:
    proc = _run(sandbox, tmp_path, TEMPLATE, "down", "--confirm", "prdo")
    _one_clear_error(proc, "'prdo' is not the cluster's label 'prod'")
    proc = _run(sandbox, tmp_path, TEMPLATE, "down")
    _one_clear_error(proc, "pass --confirm prod")
    assert "prod" in [c["label"] for c in sandbox.linode_cli("lke", "clusters-list")]
