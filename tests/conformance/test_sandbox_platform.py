"""The whole sandbox platform through real clients: Prometheus (directly and through the
Kubernetes service proxy) with prometheus-api-client, DNS with linode-cli, certificates and
Postgres with kubectl, and incidents that show in all of them."""

from __future__ import annotations

import base64
import datetime as dt
import json
import time
from collections.abc import Iterator

import pytest
import yaml
from cpanel_platform.sandbox import runner
from prometheus_api_client import PrometheusConnect

from tests.conformance.test_sandbox_cli import cpanel
from tests.conftest import Sandbox, start_sandbox
from tests.metric_families import FAMILIES
from tests.waiting import wait_for


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:

    state = tmp_path_factory.mktemp("platform")
    box = start_sandbox(state, speed=4, history_days=90)
    yield box
    runner.stop(state)


def _prom(box: Sandbox) -> PrometheusConnect:
    return PrometheusConnect(url=box.env_url("PROMETHEUS_URL"), disable_ssl=True)


def test_every_metric_family_directly_and_through_the_service_proxy(platform: Sandbox) -> None:
    direct = _prom(platform)
    wait_for(lambda: direct.custom_query("ccp_replication_lag_size_bytes"), timeout=60)
    for family in FAMILIES:
        assert direct.custom_query(family), family
    end = time.time()
    history = direct.custom_query_range(
        "probe_success", start_time=_dt(end - 89 * 86400), end_time=_dt(end), step="3600"
    )
    assert history and len(history[0]["values"]) > 89 * 23  # hourly points over 89 days
    outages = direct.custom_query("min_over_time(probe_success[90d])")
    assert float(outages[0]["value"][1]) == 0  # the history holds outages
    cfg = yaml.safe_load(platform.kubeconfig.read_text())
    token = cfg["users"][0]["user"]["token"]
    proxied = PrometheusConnect(
        url=f"{platform.kube_url}/api/v1/namespaces/monitoring/services/prometheus-k8s:web/proxy",
        headers={"Authorization": f"Bearer {token}"},
        disable_ssl=True,
    )
    assert (
        proxied.custom_query("count(node_disk_info)")[0]["value"][1]
        == direct.custom_query("count(node_disk_info)")[0]["value"][1]
    )


def test_dns_certificates_and_postgres(platform: Sandbox) -> None:
    domains = platform.linode_cli("domains", "list")
    (domain,) = [d for d in domains if d["domain"] == "example.com"]
    records = wait_for(
        lambda: [
            r
            for r in platform.linode_cli("domains", "records-list", str(domain["id"]))
            if r["type"] == "A"
        ],
        timeout=60,
    )
    assert {r["name"] for r in records} >= {"", "www", "media"}
    assert all(r["ttl_sec"] == 300 for r in records)
    certs = wait_for(
        lambda: (
            (c := platform.json("get", "certificates", "-A")["items"])
            and all(
                any(
                    x["type"] == "Ready" and x["status"] == "True"
                    for x in i["status"].get("conditions", [])
                )
                for i in c
            )
            and c
        ),
        timeout=60,
    )
    assert {c["metadata"]["name"] for c in certs} >= {"wildcard-example-com"}
    secret = platform.json("get", "secret", "wildcard-example-com-tls", "-n", "app")
    assert secret["type"] == "kubernetes.io/tls" and base64.b64decode(secret["data"]["tls.crt"])
    roles = wait_for(
        lambda: (
            sorted(
                p["metadata"]["labels"].get("postgres-operator.crunchydata.com/role", "")
                for p in platform.json(
                    "get", "pods", "-n", "app", "-l", "postgres-operator.crunchydata.com/instance"
                )["items"]
            )
            == ["master", "replica"]
        ),
        timeout=60,
    )
    assert roles


def test_cdn_off_saturates_the_media_volume_and_bad_rollout_crash_loops(platform: Sandbox) -> None:
    prom = _prom(platform)
    assert cpanel(platform, "incident", "cdn-off").returncode == 0
    query = "max(rate(node_disk_io_time_seconds_total{device!='sda'}[30s]))"
    wait_for(
        lambda: float((prom.custom_query(query) or [{"value": [0, "0"]}])[0]["value"][1]) >= 0.95,
        timeout=60,
        every=2,
    )
    assert cpanel(platform, "incident", "cdn-off", "--stop").returncode == 0

    assert cpanel(platform, "incident", "bad-rollout").returncode == 0
    wait_for(
        lambda: any(
            (p["status"].get("containerStatuses") or [{}])[0]
            .get("state", {})
            .get("waiting", {})
            .get("reason")
            == "CrashLoopBackOff"
            for p in platform.json("get", "pods", "-n", "app", "-l", "app=web")["items"]
        ),
        timeout=60,
    )
    ready = platform.json("get", "deployment", "web", "-n", "app")["status"]["readyReplicas"]
    assert ready == 3  # maxUnavailable 0: the old pods keep serving
    assert cpanel(platform, "incident", "bad-rollout", "--stop").returncode == 0


def _dt(epoch: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(epoch, dt.UTC)


def test_replica_lag_and_prometheus_down(platform: Sandbox) -> None:
    prom = _prom(platform)
    assert cpanel(platform, "incident", "replica-lag").returncode == 0
    lag = "max(ccp_replication_lag_size_bytes)"
    wait_for(
        lambda: (
            float((prom.custom_query(lag) or [{"value": [0, "0"]}])[0]["value"][1]) > 100 * 2**20
        ),
        timeout=60,
        every=2,
    )
    assert cpanel(platform, "incident", "replica-lag", "--stop").returncode == 0

    assert cpanel(platform, "incident", "prometheus-down").returncode == 0
    with pytest.raises(Exception):  # noqa: B017 (connection refused, whatever the client calls it)
        prom.custom_query("up")
    assert "prometheus" in cpanel(platform, "status").stderr
    assert cpanel(platform, "incident", "prometheus-down", "--stop").returncode == 0
    assert wait_for(lambda: prom.custom_query("up"), timeout=30)


def test_certificate_renewal_failure_is_visible_on_the_certificate(platform: Sandbox) -> None:
    assert cpanel(platform, "incident", "cert-renewal-failure").returncode == 0
    cert = platform.json("get", "certificate", "keel-example-com", "-n", "keel")
    conditions = [c for c in cert["status"]["conditions"] if c["type"] != "Issuing"]
    conditions.append(
        {
            "type": "Issuing",
            "status": "True",
            "reason": "ManuallyTriggered",
            "message": "Certificate re-issuance manually triggered",
        }
    )
    platform.kubectl(
        "patch",
        "certificate",
        "keel-example-com",
        "-n",
        "keel",
        "--subresource=status",
        "--type=merge",
        "-p",
        json.dumps({"status": {"conditions": conditions}}),
    )

    def failed() -> dict | None:
        status = platform.json("get", "certificate", "keel-example-com", "-n", "keel")["status"]
        issuing = next((c for c in status["conditions"] if c["type"] == "Issuing"), {})
        return status if issuing.get("reason") == "Failed" else None

    status = wait_for(failed, timeout=60)
    assert status["lastFailureTime"]
    assert status["notAfter"] == cert["status"]["notAfter"]  # the old certificate stays
    assert cpanel(platform, "incident", "cert-renewal-failure", "--stop").returncode == 0


def test_node_loss_is_replaced(platform: Sandbox) -> None:
    before = {n["metadata"]["name"] for n in platform.json("get", "nodes")["items"]}
    assert cpanel(platform, "incident", "node-loss").returncode == 0
    after = wait_for(
        lambda: (
            (
                names := {
                    n["metadata"]["name"]
                    for n in platform.json("get", "nodes")["items"]
                    if any(
                        c["type"] == "Ready" and c["status"] == "True"
                        for c in n["status"]["conditions"]
                    )
                }
            )
            and len(names) == 3
            and names != before
            and names
        ),
        timeout=90,
        every=1,
    )
    assert len(after - before) == 1
    assert cpanel(platform, "incident", "node-loss", "--stop").returncode == 0
