"""What Keel reads from a workload: its update policy (semver, force, glob, regexp), the image
references it compares, and its poll schedule.

The semantics follow Keel's own: a semver policy only ever moves forward, `minor` keeps the
major version, `patch` keeps major and minor, a tag only moves to tags with the very same
pre-release suffix (1.2.0-alpine to 1.3.0-alpine) unless `keel.sh/matchPreRelease` is "false"
or the policy is `all`, and a workload on `latest` takes any tag.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from croniter import croniter

log = logging.getLogger(__name__)

POLICY = "keel.sh/policy"
_LEGACY_POLICY = "keel.observer/policy"
MATCH_TAG = "keel.sh/matchTag"
_LEGACY_MATCH_TAG = "keel.sh/match-tag"
MATCH_PRE_RELEASE = "keel.sh/matchPreRelease"
DEFAULT_POLL_SCHEDULE = "@every 1m"
_DEFAULT_POLL_SECONDS = 60.0

# Lenient like the Masterminds/semver parser Keel uses: "v" prefix, missing minor or patch.
_SEMVER = re.compile(
    r"v?(\d+)(?:\.(\d+))?(?:\.(\d+))?"
    r"(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?"
    r"(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?"
)


# -- semantic versions ---------------------------------------------------------------------
@dataclass(frozen=True)
class Version:
    major: int
    minor: int
    patch: int
    prerelease: str

    @classmethod
    def parse(cls, text: str) -> Version | None:
        m = _SEMVER.fullmatch(text)
        if m is None:
            return None
        major, minor, patch, pre = m.groups()
        return cls(int(major), int(minor or 0), int(patch or 0), pre or "")

    def precedence(self) -> tuple[object, ...]:
        """A sort key in SemVer 2.0 precedence order (build metadata never counts)."""
        if not self.prerelease:  # a release outranks its own pre-releases
            return (self.major, self.minor, self.patch, (1,))
        # Numeric identifiers compare as numbers and rank below alphanumeric ones; a longer
        # list of otherwise equal identifiers ranks higher: tuple comparison does both.
        ids = tuple(
            (0, int(part), "") if part.isdigit() else (1, 0, part)
            for part in self.prerelease.split(".")
        )
        return (self.major, self.minor, self.patch, (0, ids))


# -- policies ------------------------------------------------------------------------------
class Policy:
    """No policy: never update. Subclasses answer whether `new` may replace `current`."""

    name = "nil policy"

    def should_update(self, current: str, new: str) -> bool:
        return False

    def pick(self, current: str, tags: Sequence[str]) -> str | None:
        """The tag a poll moves to from `tags` (oldest push first): the newest allowed one."""
        allowed = [t for t in tags if t != current and self.should_update(current, t)]
        return allowed[-1] if allowed else None


class SemverPolicy(Policy):
    def __init__(self, level: str, match_prerelease: bool) -> None:
        self.name = level  # all | major | minor | patch
        self.match_prerelease = match_prerelease

    def should_update(self, current: str, new: str) -> bool:
        if current == "latest":
            return True
        if len(new.split(".", 2)) < 2:  # Keel wants at least Major.Minor in the new tag
            return False
        old, candidate = Version.parse(current), Version.parse(new)
        if old is None or candidate is None:
            return False
        if self.match_prerelease and self.name != "all" and old.prerelease != candidate.prerelease:
            return False
        if old.precedence() >= candidate.precedence():
            return False
        if self.name == "minor":
            return candidate.major == old.major
        if self.name == "patch":
            return (candidate.major, candidate.minor) == (old.major, old.minor)
        return True

    def pick(self, current: str, tags: Sequence[str]) -> str | None:
        """A poll moves straight to the highest allowed version, whatever the push order."""
        allowed = [
            (v.precedence(), t)
            for t in tags
            if self.should_update(current, t) and (v := Version.parse(t))
        ]
        return max(allowed)[1] if allowed else None


class ForcePolicy(Policy):
    name = "force"

    def __init__(self, match_tag: bool) -> None:
        self.match_tag = match_tag

    def should_update(self, current: str, new: str) -> bool:
        return not self.match_tag or current == new


class GlobPolicy(Policy):
    def __init__(self, name: str, pattern: str) -> None:
        self.name = name
        self.pattern = pattern

    def should_update(self, current: str, new: str) -> bool:
        return glob_match(self.pattern, new)


class RegexpPolicy(Policy):
    def __init__(self, name: str, pattern: re.Pattern[str]) -> None:
        self.name = name
        self.pattern = pattern

    def should_update(self, current: str, new: str) -> bool:
        return self.pattern.search(new) is not None  # Go's MatchString is unanchored


def glob_match(pattern: str, subject: str) -> bool:
    """Keel's glob (ryanuber/go-glob): `*` matches any run of characters, nothing else is
    special."""
    parts = pattern.split("*")
    if len(parts) == 1:
        return subject == pattern
    head, tail = parts[0], parts[-1]
    if len(head) + len(tail) > len(subject):
        return False
    if not subject.startswith(head) or not subject.endswith(tail):
        return False
    rest = subject[len(head) : len(subject) - len(tail)]
    for middle in parts[1:-1]:  # each in order, after the previous one
        found = rest.find(middle)
        if found < 0:
            return False
        rest = rest[found + len(middle) :]
    return True


def policy_for(labels: Mapping[str, str], annotations: Mapping[str, str]) -> Policy:
    """The workload's policy: annotations win over labels, as in Keel."""
    for settings in (annotations, labels):
        name = settings.get(POLICY, settings.get(_LEGACY_POLICY))
        if name is not None:
            return _parse_policy(name, settings)
    return Policy()


def _parse_policy(name: str, settings: Mapping[str, str]) -> Policy:
    kind, _, pattern = name.partition(":")
    if kind == "glob" and pattern:
        return GlobPolicy(name, pattern)
    if kind == "regexp" and pattern:
        try:
            return RegexpPolicy(name, re.compile(pattern))
        except re.error as err:
            log.warning("keel: bad regexp policy %r: %s", name, err)
            return Policy()
    if name in ("all", "major", "minor", "patch"):
        return SemverPolicy(name, settings.get(MATCH_PRE_RELEASE, "true") == "true")
    if name == "force":
        match_tag = settings.get(MATCH_TAG, settings.get(_LEGACY_MATCH_TAG)) == "true"
        return ForcePolicy(match_tag)
    if name not in ("", "never"):
        log.info("keel: unknown policy %r", name)
    return Policy()


# -- image references ----------------------------------------------------------------------
DOCKER_HUB = "index.docker.io"
_HUB_ALIASES = {"docker.io", "index.docker.io", "registry-1.docker.io"}


@dataclass(frozen=True)
class ImageRef:
    written: str  # the repository as the workload spells it, e.g. "example/app"
    repository: str  # normalised, e.g. "index.docker.io/example/app"
    tag: str

    def with_tag(self, tag: str) -> str:
        return f"{self.written}:{tag}"


def parse_image(image: str) -> ImageRef:
    """Split "registry/path:tag" (or "@digest"); Docker Hub names gain their implicit host and
    "library/" prefix so that "nginx" and "docker.io/library/nginx" compare equal."""
    name, at, digest = image.partition("@")
    tag = "latest"
    colon = name.rfind(":")
    if colon > name.rfind("/"):  # a colon before the last slash is a registry port
        name, tag = name[:colon], name[colon + 1 :]
    if at:
        tag = digest  # Keel compares a pinned image by its digest
    first, _, rest = name.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        host, path = first, rest
    else:
        host, path = DOCKER_HUB, name
    if host in _HUB_ALIASES:
        host = DOCKER_HUB
        path = path if "/" in path else f"library/{path}"
    return ImageRef(name, f"{host}/{path.lower()}", tag)


# -- poll schedules ------------------------------------------------------------------------
_DURATION = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")
_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def go_duration(text: str) -> float | None:
    """Seconds in a Go duration ("1m", "1h30m", "500ms"); None if it is not one."""
    if not text or _DURATION.sub("", text):
        return None
    return sum(float(n) * _UNITS[unit] for n, unit in _DURATION.findall(text))


def seconds_to_next_poll(schedule: str, now: dt.datetime) -> float:
    """Seconds from `now` to the schedule's next run: "@every <duration>", a cron descriptor
    such as "@hourly", or a cron line (six fields: seconds first, as Keel's cron library reads
    it). A schedule Keel cannot parse falls back to the default "@every 1m", as Keel does."""
    if schedule.startswith("@every "):
        every = go_duration(schedule.removeprefix("@every ").strip())
        if every:
            return every
    else:
        with contextlib.suppress(ValueError):  # croniter's parse errors are ValueErrors
            cron = croniter(schedule, now, second_at_beginning=len(schedule.split()) == 6)
            return float(cron.get_next(float)) - now.timestamp()
    log.warning("keel: bad poll schedule %r; using %s", schedule, DEFAULT_POLL_SCHEDULE)
    return _DEFAULT_POLL_SECONDS
