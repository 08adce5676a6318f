"""The `:` command line: aliases, namespaces, quitting, completion and clear errors."""

from __future__ import annotations

import pytest
from cpanel.commands import Command, CommandError, complete, parse
from cpanel.panes.registry import PANES

ALIASES = {a: cls.pane_id for cls in PANES for a in (cls.pane_id, *cls.aliases)}


@pytest.mark.parametrize(
    ("text", "pane"),
    [("pods", "pods"), (":po", "pods"), ("no", "nodes"), ("certs", "certs"),
     ("pg", "postgres"), ("pvc", "volumes"), ("io", "volumes"), ("sli", "sli"),
     ("rollouts", "rollouts"), ("platform", "platform"), ("pf", "platform"),
     ("ns", "namespaces"), ("ctx", "contexts"), ("PODS", "pods")],
)
def test_issue_aliases_open_their_panes(text: str, pane: str) -> None:
    assert parse(text, ALIASES) == Command(pane)


def test_namespace_argument_and_all() -> None:
    assert parse("pods kube-system", ALIASES) == Command("pods", "kube-system")
    assert parse("po -A", ALIASES) == Command("pods", "")


@pytest.mark.parametrize("text", ["q", ":q", "quit", "q!"])
def test_quit(text: str) -> None:
    assert parse(text, ALIASES) == Command(None)


@pytest.mark.parametrize(
    ("text", "message"),
    [("", "type a resource"), ("podz", "unknown resource 'podz'"), ("pods a b", "too many")],
)
def test_errors_are_worded_for_the_user(text: str, message: str) -> None:
    with pytest.raises(CommandError, match=message):
        parse(text, ALIASES)


def test_completion_prefers_the_shortest_longer_alias() -> None:
    assert complete("po", ALIASES) == "pod"
    assert complete("roll", ALIASES) == "rollouts"
    assert complete("ce", ALIASES) == "cert"
    assert complete("zz", ALIASES) is None
    assert complete("pods", ALIASES) is None  # already complete
    assert complete("", ALIASES) is None
