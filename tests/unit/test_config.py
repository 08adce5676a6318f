"""Settings: defaults without a file, errors that name the file, line and field, and the
Linode token found where linode-cli keeps it."""

from __future__ import annotations

from pathlib import Path

import pytest
from cpanel_platform import config


def test_no_file_means_defaults(tmp_path: Path) -> None:
    settings = config.load(tmp_path / "missing.yaml")
    assert settings.slo.target == 0.9999 and settings.prometheus.service == "prometheus-k8s"


def test_platform_file_defaults_to_the_current_directory(tmp_path: Path) -> None:
    assert config.Settings().platform_file == "platform.yaml"
    path = tmp_path / "config.yaml"
    path.write_text("platform_file: ~/infra/platform.yaml\n")
    assert config.load(path).platform_file == "~/infra/platform.yaml"


def test_xdg_path(tmp_path: Path) -> None:
    assert config.config_path({"XDG_CONFIG_HOME": str(tmp_path)}) == (
        tmp_path / "cpanel" / "config.yaml")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("slo:\n  target: 2\n", r"config.yaml:2: slo.target: Input should be less than 1"),
        ("prometheus:\n  url: x\n  refresh_seconds: -1\n", r":3: prometheus.refresh_seconds"),
        ("slo:\n  sli: bogus\n", r":2: slo.sli: Input should be 'requests' or 'probe'"),
        ("nonsense: 1\n", r":1: nonsense: Extra inputs are not permitted"),
        ("slo: [\n", r"config.yaml:2: not valid YAML"),
        ("- a\n- b\n", r"expected a mapping of settings, not list"),
    ],
)
def test_errors_name_file_line_and_field(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(text)
    with pytest.raises(config.ConfigError, match=message):
        config.load(path)


def test_linode_token_from_env_then_linode_cli_config(tmp_path: Path) -> None:
    assert config.linode_token({"LINODE_TOKEN": "a", "LINODE_CLI_TOKEN": "b"}) == "a"
    assert config.linode_token({"LINODE_CLI_TOKEN": "b", "XDG_CONFIG_HOME": str(tmp_path)}) == "b"
    (tmp_path / "linode-cli").write_text(
        "[DEFAULT]\ndefault-user = ops\n\n[ops]\ntoken = from-cli\nregion = us-east\n")
    assert config.linode_token({"XDG_CONFIG_HOME": str(tmp_path)}) == "from-cli"
    (tmp_path / "linode-cli").write_text("not an ini [file")
    assert config.linode_token({"XDG_CONFIG_HOME": str(tmp_path)}) is None


def test_linode_url_precedence() -> None:
    settings = config.Settings()
    assert config.linode_url(settings, {}) == config.DEFAULT_LINODE_URL
    assert config.linode_url(settings, {"LINODE_API_URL": "http://x/v4"}) == "http://x/v4"
    pinned = config.Settings(linode={"url": "http://y/v4"})
    assert config.linode_url(pinned, {"LINODE_API_URL": "http://x/v4"}) == "http://y/v4"
