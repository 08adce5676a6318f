"""Keel's update policies, semantic version precedence, image references and poll schedules."""

from __future__ import annotations

import datetime as dt

import pytest
from cpanel_platform.sandbox.simulator.keel_policy import (
    Version,
    glob_match,
    go_duration,
    parse_image,
    policy_for,
    seconds_to_next_poll,
)


def _policy(name: str, **settings: str):
    return policy_for({}, {"keel.sh/policy": name, **settings})


@pytest.mark.parametrize(
    ("policy", "current", "new", "expected"),
    [
        ("minor", "1.2.0", "1.3.0", True),
        ("minor", "1.2.0", "2.0.0", False),
        ("minor", "1.2.0", "1.2.0", False),
        ("minor", "1.3.0", "1.2.9", False),
        ("patch", "1.2.0", "1.2.5", True),
        ("patch", "1.2.0", "1.3.0", False),
        ("major", "1.2.0", "2.0.0", True),
        ("all", "1.2.0", "2.0.0", True),
        ("minor", "v1.2.0", "v1.10.0", True),  # numeric, not lexical: 10 > 2
        ("minor", "1.2", "1.3", True),  # missing patch reads as .0
        ("minor", "1.2.0", "1", False),  # Keel wants at least Major.Minor
        ("minor", "1.2.0", "not-a-version", False),
        ("minor", "latest", "9.0.0", True),  # a workload on latest takes anything
        ("minor", "1.2.0-rc.1", "1.2.0", False),  # a release leaves the rc line
        ("all", "1.2.0-rc.1", "1.2.0", True),  # ...which only "all" ignores
        ("minor", "1.2.0-alpine", "1.3.0-alpine", True),  # the same suffix: a channel
        ("minor", "1.2.0-rc.1", "1.2.0-rc.2", False),  # ...compared as a whole
        ("minor", "1.2.0+build.1", "1.2.0+build.2", False),  # metadata has no precedence
        ("force", "1.2.0", "0.1.0", True),
        ("glob:release-*", "release-1", "release-2", True),
        ("glob:release-*", "release-1", "hotfix-2", False),
        ("regexp:^v\\d+$", "v1", "v2", True),
        ("regexp:^v\\d+$", "v1", "v2-beta", False),
        ("never", "1.0.0", "2.0.0", False),
        ("bogus", "1.0.0", "2.0.0", False),
    ],
)
def test_should_update(policy: str, current: str, new: str, expected: bool) -> None:
    assert _policy(policy).should_update(current, new) is expected


def test_prerelease_matching_can_be_turned_off() -> None:
    relaxed = _policy("minor", **{"keel.sh/matchPreRelease": "false"})
    assert relaxed.should_update("1.2.0-rc.1", "1.2.0")


def test_force_with_match_tag_only_takes_the_same_tag() -> None:
    force = _policy("force", **{"keel.sh/matchTag": "true"})
    assert force.should_update("latest", "latest")
    assert not force.should_update("latest", "1.0.0")


def test_annotations_win_over_labels() -> None:
    policy = policy_for({"keel.sh/policy": "major"}, {"keel.sh/policy": "patch"})
    assert policy.name == "patch"
    assert policy_for({}, {}).name == "nil policy"
    assert policy_for({"keel.sh/policy": "glob:1.*"}, {}).name == "glob:1.*"


def test_semver_precedence_follows_the_spec() -> None:
    ordered = [
        "1.0.0-alpha",
        "1.0.0-alpha.1",
        "1.0.0-alpha.beta",
        "1.0.0-beta",
        "1.0.0-beta.2",
        "1.0.0-beta.11",
        "1.0.0-rc.1",
        "1.0.0",
        "2.0.0",
    ]
    keys = [Version.parse(v).precedence() for v in ordered]
    assert keys == sorted(keys)
    assert Version.parse("1.2.3.4") is None


def test_a_poll_picks_the_highest_allowed_version_or_the_newest_push() -> None:
    tags = ["1.2.0", "1.4.0", "2.0.0", "1.3.0"]
    assert _policy("minor").pick("1.2.0", tags) == "1.4.0"
    assert _policy("patch").pick("1.2.0", tags) is None
    assert _policy("glob:1.*").pick("1.2.0", tags) == "1.3.0"


@pytest.mark.parametrize(
    ("pattern", "subject", "expected"),
    [
        ("*", "anything", True),
        ("1.*", "1.2.3", True),
        ("*-rc*", "1.0-rc1", True),
        ("a*b*c", "abc", True),
        ("a*a", "a", False),
        ("exact", "exact", True),
        ("exact", "exactly", False),
        ("1.?", "1.2", False),  # only * is special
    ],
)
def test_glob(pattern: str, subject: str, expected: bool) -> None:
    assert glob_match(pattern, subject) is expected


def test_image_references_compare_normalised() -> None:
    assert parse_image("nginx").repository == parse_image("docker.io/library/nginx:1").repository
    ref = parse_image("localhost:5000/team/app:1.2.3")
    assert (ref.repository, ref.tag) == ("localhost:5000/team/app", "1.2.3")
    assert ref.with_tag("1.3.0") == "localhost:5000/team/app:1.3.0"
    assert parse_image("example/app").tag == "latest"
    assert parse_image("example/app:1.0@sha256:abc").tag == "sha256:abc"


def test_poll_schedules() -> None:
    now = dt.datetime(2025, 1, 1, 0, 0, 30, tzinfo=dt.UTC)
    assert seconds_to_next_poll("@every 1m", now) == 60
    assert seconds_to_next_poll("@every 1h30m", now) == 5400
    assert seconds_to_next_poll("@hourly", now) == 3570
    assert seconds_to_next_poll("*/10 * * * * *", now) == 10  # seconds first
    assert seconds_to_next_poll("no schedule", now) == 60  # Keel's default
    assert go_duration("500ms") == 0.5
    assert go_duration("5 minutes") is None
