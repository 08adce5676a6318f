"""Adding an LKE cluster's kubeconfig to the user's, and taking it out again."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
import yaml
from cpanel_platform.kube.client import KubeConfigError
from cpanel_platform.provision.kubeconfig import merge, remove, user_kubeconfig_path


def _lke(cluster_id: int, server: str = "https://lke.example:443") -> dict:
    name = f"lke{cluster_id}"
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": name, "cluster": {"server": server}}],
        "users": [{"name": f"{name}-admin", "user": {"token": "secret"}}],
        "contexts": [{"name": f"{name}-ctx",
                      "context": {"cluster": name, "user": f"{name}-admin"}}],
        "current-context": f"{name}-ctx",
    }


MINE = {
    "apiVersion": "v1",
    "kind": "Config",
    "clusters": [{"name": "home", "cluster": {"server": "https://home:6443"}}],
    "users": [{"name": "me", "user": {"token": "mine"}}],
    "contexts": [{"name": "home", "context": {"cluster": "home", "user": "me"}}],
    "current-context": "home",
}


def _names(config: dict, section: str) -> list[str]:
    return [entry["name"] for entry in config[section]]


def test_merging_keeps_other_contexts_and_switches_to_the_new_one(tmp_path: Path) -> None:
    path = tmp_path / "config"
    path.write_text(yaml.safe_dump(MINE))
    assert merge(path, _lke(7)) == "lke7-ctx"
    merged = yaml.safe_load(path.read_text())
    assert _names(merged, "contexts") == ["home", "lke7-ctx"]
    assert _names(merged, "users") == ["me", "lke7-admin"]
    assert merged["current-context"] == "lke7-ctx"
    assert merged["users"][0]["user"] == {"token": "mine"}
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_merging_again_replaces_the_cluster_entries_not_duplicates(tmp_path: Path) -> None:
    path = tmp_path / "config"
    merge(path, _lke(7, "https://old:443"))
    merge(path, _lke(7, "https://new:443"))
    merged = yaml.safe_load(path.read_text())
    assert _names(merged, "clusters") == ["lke7"]
    assert merged["clusters"][0]["cluster"]["server"] == "https://new:443"


def test_a_missing_file_and_its_folder_are_created(tmp_path: Path) -> None:
    path = tmp_path / ".kube" / "config"
    merge(path, _lke(9))
    assert yaml.safe_load(path.read_text())["current-context"] == "lke9-ctx"


def test_a_malformed_kubeconfig_is_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "config"
    path.write_text("clusters: [unclosed\n")
    with pytest.raises(KubeConfigError, match="not valid YAML"):
        merge(path, _lke(7))
    assert path.read_text() == "clusters: [unclosed\n"


def test_removing_takes_out_only_the_clusters_entries(tmp_path: Path) -> None:
    path = tmp_path / "config"
    path.write_text(yaml.safe_dump(MINE))
    merge(path, _lke(7))
    assert remove(path, _lke(7))
    left = yaml.safe_load(path.read_text())
    assert _names(left, "contexts") == ["home"]
    assert left["current-context"] == ""
    assert not remove(path, _lke(7))


def test_the_user_kubeconfig_is_the_first_listed_in_kubeconfig(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    env = {"KUBECONFIG": f"{first}:{second}"}
    assert user_kubeconfig_path(env) == first
    assert user_kubeconfig_path({}) == Path("~/.kube/config").expanduser()
