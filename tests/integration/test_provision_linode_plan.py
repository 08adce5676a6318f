"""The Linode side of the plan against the sandbox's Linode API (and an emulator of its own for
the rate limit): the cluster as it is, the catalogue, and each way reading it can fail."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from cpanel_platform.provision.linode_plan import (
    ActualAutoscaler,
    PlanError,
    plan_linode,
    read_actual,
)
from cpanel_platform.provision.spec import parse_spec
from cpanel_platform.provision.template import TEMPLATE
from cpanel_platform.sandbox.linodeapi import LinodeServer, LinodeState, ManualClock
from cpanel_platform.sandbox.linodeapi.ratelimit import RateLimiter

from tests.conformance.test_linode_clients import running
from tests.conftest import Sandbox


def test_reads_the_sandbox_cluster_and_catalogue(sandbox: Sandbox) -> None:
    actual = read_actual(sandbox.env["LINODE_TOKEN"], sandbox.env["LINODE_API_URL"], "prod")
    cluster = actual.cluster
    assert cluster is not None
    assert (cluster.label, cluster.region, cluster.k8s_version) == ("prod", "us-east", "1.36")
    assert cluster.high_availability and cluster.status == "ready"
    [pool] = cluster.pools
    assert (pool.type, pool.count) == ("g6-dedicated-8", 3)
    assert pool.autoscaler == ActualAutoscaler(False, 3, 3)
    assert (pool.labels, pool.taints) == ((), ())
    assert sorted(actual.offered_versions) == ["1.35", "1.36", "1.37"]  # newest first
    assert "us-east" in actual.regions and "g6-dedicated-8" in actual.node_types

    assert read_actual(
        sandbox.env["LINODE_TOKEN"], sandbox.env["LINODE_API_URL"], "staging"
    ).cluster is None


def test_the_reference_template_matches_the_sandbox_cluster(sandbox: Sandbox) -> None:
    # The template declares the sandbox's prod as it is: us-east, Kubernetes 1.36, an HA
    # control plane, 3 × g6-dedicated-8 without autoscaler, labels or taints.
    spec = parse_spec(TEMPLATE)
    actual = read_actual(sandbox.env["LINODE_TOKEN"], sandbox.env["LINODE_API_URL"], "prod")
    assert plan_linode(spec, actual) == ([], [])


def test_a_missing_token_makes_no_request() -> None:
    with pytest.raises(PlanError, match="no Linode token"):
        read_actual(None, "http://127.0.0.1:1/v4", "prod")


def test_a_rejected_token_names_401(sandbox: Sandbox) -> None:
    with pytest.raises(PlanError, match=r"rejected the token \(HTTP 401\)"):
        read_actual("not-the-token", sandbox.env["LINODE_API_URL"], "prod")


def test_an_unreachable_api_names_the_url() -> None:
    with pytest.raises(PlanError) as caught:
        read_actual("t0k", "http://127.0.0.1:1/v4", "prod")
    message = str(caught.value)
    assert "cannot reach the Linode API at http://127.0.0.1:1/v4" in message
    assert "refused" in message


@pytest.fixture
def limited() -> Iterator[str]:
    server = LinodeServer(LinodeState(clock=ManualClock(), seed=3), {"t0k": "sandbox"})
    server.limiter = RateLimiter(0)  # every request is 429, Retry-After: 60
    with running(server) as url:
        yield f"{url}/v4"


def test_rate_limited_says_to_retry_without_waiting(limited: str) -> None:
    started = time.monotonic()
    with pytest.raises(PlanError, match=r"HTTP 429\).*run the plan again"):
        read_actual("t0k", limited, "prod")
    assert time.monotonic() - started < 2  # linode-api4 would sleep out the Retry-After
