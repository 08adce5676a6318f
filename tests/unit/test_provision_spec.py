"""The platform file: the `cpanel init` template loads as the reference platform, and bad input
is an error that names the file, the line and the field."""

from __future__ import annotations

from pathlib import Path

import pytest
from cpanel.cli import main
from cpanel_platform.provision.spec import (
    KNOWN_COMPONENTS,
    PlatformSpec,
    SpecError,
    load_spec,
    parse_spec,
)
from cpanel_platform.provision.template import TEMPLATE, write_template

MINIMAL = """\
cluster:
  label: prod
  region: us-east
  k8s_version: "1.36"
  pools:
    - type: g6-dedicated-8
      count: 3
"""


def test_init_template_is_the_reference_platform(tmp_path: Path) -> None:
    path = tmp_path / "platform.yaml"
    write_template(path)
    spec = load_spec(path)
    assert (spec.cluster.label, spec.cluster.region, spec.cluster.k8s_version) == (
        "prod", "us-east", "1.36")
    assert [(p.type, p.count) for p in spec.cluster.pools] == [("g6-dedicated-8", 3)]
    parts = spec.components
    assert all(getattr(parts, name).enabled for name in KNOWN_COMPONENTS)
    assert parts.external_dns.ttl == 300 and parts.cert_manager.solver == "dns01"
    assert parts.cert_manager.wildcard_certificate is not None
    assert "*.example.com" in parts.cert_manager.wildcard_certificate.dns_names
    assert parts.postgres.cluster.instances == 2 and parts.postgres.cluster.storage == "50Gi"
    assert (parts.monitoring.retention, parts.monitoring.pvc_size) == ("30d", "10Gi")
    assert parts.cert_sync.schedule == "0 9 * * *"
    assert [(s.target, s.window_days) for s in spec.slos] == [(0.9999, 30)]
    # Round trip: the loaded spec re-validates to itself.
    assert PlatformSpec.model_validate(spec.model_dump()) == spec


def test_init_template_explains_every_section() -> None:
    for section in ("cluster:", "components:", "slos:", *KNOWN_COMPONENTS):
        line = next(i for i, text in enumerate(TEMPLATE.splitlines()) if section in text)
        assert TEMPLATE.splitlines()[line - 1].lstrip().startswith("#"), section


def test_cpanel_init_writes_then_refuses_to_overwrite(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "platform.yaml"
    assert main(["init", "-f", str(path)]) == 0
    assert load_spec(path).cluster.label == "prod"
    path.write_text("edited\n")
    assert main(["init", "--file", str(path)]) == 1
    assert "exists; --force overwrites it" in capsys.readouterr().err
    assert path.read_text() == "edited\n"
    assert main(["init", "-f", str(path), "--force"]) == 0
    assert path.read_text() == TEMPLATE


def test_cpanel_init_into_a_missing_directory_is_an_error(tmp_path: Path) -> None:
    assert main(["init", "-f", str(tmp_path / "nowhere" / "platform.yaml")]) == 1


def test_a_component_left_out_is_not_installed() -> None:
    spec = parse_spec(MINIMAL + "components:\n  keel: {}\n")
    assert spec.components.keel.enabled and spec.components.keel.default_policy == "minor"
    assert not spec.components.postgres.enabled and not spec.components.cert_manager.enabled
    assert spec.slos == [] and not spec.cluster.high_availability


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (MINIMAL + "components:\n  helm: {}\n",
         r"platform.yaml:9: components.helm: unknown component; known: ingress_nginx, "
         r"external_dns, cert_manager, postgres, keel, monitoring, cert_sync"),
        (MINIMAL.replace("count: 3", "count: three"),
         r":7: cluster.pools\[0\].count: Input should be a valid integer"),
        (MINIMAL.replace("count: 3", "count: 0"), r":7: cluster.pools\[0\].count"),
        (MINIMAL.replace('"1.36"', "1.36"), r":4: cluster.k8s_version: Input should be a valid"),
        (MINIMAL.replace("count: 3", "count: 3\n      autoscaler: {min: 4, max: 2}"),
         r":8: cluster.pools\[0\].autoscaler: min \(4\) is greater than max \(2\)"),
        (MINIMAL + "      taints: [{key: a, effect: Sometimes}]\n",
         r":8: cluster.pools\[0\].taints\[0\].effect: Input should be 'NoSchedule'"),
        (MINIMAL + "components:\n  external_dns: {ttl: 60}\n",
         r":9: components.external_dns: domain is required when external_dns is enabled"),
        (MINIMAL + "components:\n  cert_sync: {schedule: daily}\n",
         r":9: components.cert_sync.schedule: not a cron schedule: 'daily'"),
        (MINIMAL + "components:\n  postgres: {cluster: {storage: lots}}\n",
         r":9: components.postgres.cluster.storage: String should match pattern"),
        (MINIMAL + "components:\n  monitoring: {probe_targets: [example.com]}\n",
         r":9: components.monitoring.probe_targets\[0\]: not an http\(s\) URL"),
        (MINIMAL + "components:\n  keel: {default_policy: sometimes}\n",
         r":9: components.keel.default_policy: Input should be 'all'"),
        (MINIMAL + "components:\n  cert_manager:\n    acme_email: a@b.io\n"
         "    wildcard_certificate: {name: w, namespace: app, dns_names: [b.io]}\n",
         r":11: components.cert_manager.wildcard_certificate: dns_names needs at least one"),
        (MINIMAL + "slos:\n  - {name: a, target: 99.99}\n",
         r":9: slos\[0\].target: Input should be less than 1"),
        (MINIMAL + "slos:\n  - {name: a, target: 0.99}\n  - {name: a, target: 0.9}\n",
         r":9: slos: each SLO needs its own name"),
        ("cluster: {label: prod}\n", r":1: cluster.region: Field required"),
        ("components: {}\n", r"platform.yaml:1: cluster: Field required"),
        (MINIMAL + "  region: eu-west\n", r":8: cluster.region: given twice in one mapping"),
        ("cluster: [\n", r"platform.yaml:2: not valid YAML"),
        ("", r"platform.yaml: the file is empty"),
        ("- a\n", r"expected a mapping with cluster, components and slos, not list"),
    ],
)
def test_errors_name_file_line_and_field(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "platform.yaml"
    path.write_text(text)
    with pytest.raises(SpecError, match=message):
        load_spec(path)


def test_every_problem_is_listed_with_its_line() -> None:
    text = MINIMAL.replace("count: 3", "count: 0") + "slos:\n  - {name: a, target: 2}\n"
    with pytest.raises(SpecError) as caught:
        parse_spec(text, "p.yaml")
    assert str(caught.value).splitlines() == [
        "p.yaml:7: cluster.pools[0].count: Input should be greater than or equal to 1",
        "p.yaml:9: slos[0].target: Input should be less than 1",
    ]


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match=r"no such file \(`cpanel init` writes a starting one\)"):
        load_spec(tmp_path / "platform.yaml")
