"""The K9s-style `/` filter: regex, substring, inversion and label selectors."""

from __future__ import annotations

import pytest
from cpanel_platform.views.filtering import FilterError, parse_filter, parse_selector

WEB = {"app": "web", "tier": "frontend", "app.kubernetes.io/name": "shop"}
DB = {"app": "db", "tier": "backend", "canary": "true"}
BARE: dict[str, str] = {}


@pytest.mark.parametrize("text", ["", "   ", "!", " ! ", "-l", "-l   ", "!-l "])
def test_empty_filters_match_everything(text: str) -> None:
    f = parse_filter(text)
    assert f.is_empty
    assert f.matches("anything", BARE) and f.matches("", DB)


def test_regex_is_case_insensitive() -> None:
    f = parse_filter(r"^web-\d+")
    assert f.mode == "regex"
    assert f.matches("WEB-12  Running", BARE)
    assert not f.matches("xweb-1", BARE)
    assert not f.matches("web-abc", BARE)


def test_an_invalid_regex_is_a_substring() -> None:
    f = parse_filter("web(")
    assert f.mode == "substring"
    assert f.matches("app/WEB(1)", BARE)
    assert not f.matches("app/web-1", BARE)


def test_bang_inverts() -> None:
    running = parse_filter("!running")
    assert running.inverted and running.mode == "regex"
    assert not running.matches("web-1 Running", BARE)
    assert running.matches("web-1 CrashLoopBackOff", BARE)
    substring = parse_filter("!web(")
    assert not substring.matches("web(1)", BARE) and substring.matches("db", BARE)
    labels = parse_filter("! -l app=web")
    assert not labels.matches("", WEB) and labels.matches("", DB)


def test_label_selector_ignores_the_row_text() -> None:
    f = parse_filter("-l app=web")
    assert f.mode == "labels"
    assert f.matches("nothing about it", WEB)
    assert not f.matches("app=web", DB)


@pytest.mark.parametrize(
    ("selector", "web", "db", "bare"),
    [
        ("app=web", True, False, False),
        ("app==web", True, False, False),
        ("app!=web", False, True, True),  # a missing label is "not web"
        ("app in (web, db)", True, True, False),
        ("app in (web)", True, False, False),
        ("app notin (web)", False, True, True),
        ("canary", False, True, False),
        ("!canary", True, False, True),
        ("app=db,canary=true", False, True, False),
        ("tier in (frontend,backend), !canary", True, False, False),
        ("app.kubernetes.io/name=shop", True, False, False),
        ("app=", False, False, False),
        ("  app  =  web  ", True, False, False),
    ],
)
def test_label_selectors(selector: str, web: bool, db: bool, bare: bool) -> None:
    f = parse_filter(f"-l {selector}")
    assert (f.matches("", WEB), f.matches("", DB), f.matches("", BARE)) == (web, db, bare)


@pytest.mark.parametrize(
    ("selector", "message"),
    [
        ("=web", "expected a label key"),
        ("app=web=x", "expected ','"),
        ("app web", "unexpected 'web'"),
        ("app in web", "expected '('"),
        ("app in (web", "expected ',' or ')'"),
        ("app in ()", "cannot be empty"),
        ("app=web,", "missing after ','"),
        ("Bad_Prefix/app=web", "invalid label key"),
        ("app=-web", "invalid label value"),
        ("app=" + "x" * 64, "invalid label value"),
        ("!", "expected a label key, found end of selector"),
        ("app>3", "invalid label key"),
    ],
)
def test_invalid_label_selectors(selector: str, message: str) -> None:
    with pytest.raises(FilterError, match=message.replace("(", r"\(").replace(")", r"\)")) as err:
        parse_filter(f"-l {selector}")
    assert "\n" not in str(err.value)


def test_parse_selector_requirements() -> None:
    (env, canary) = parse_selector("env notin (dev,test),!canary")
    assert (env.key, env.operator, env.values) == ("env", "notin", frozenset({"dev", "test"}))
    assert (canary.key, canary.operator) == ("canary", "!")
    assert parse_selector("") == ()


def test_filtering_a_large_table() -> None:
    rows = [
        (f"app/web-{i} Running lke1-{i % 3}", {"app": "web" if i % 2 else "db"})
        for i in range(5000)
    ]
    regex = parse_filter("lke1-0")
    labels = parse_filter("-l app=web")
    assert sum(regex.matches(text, labels_) for text, labels_ in rows) == 1667
    assert sum(labels.matches(text, labels_) for text, labels_ in rows) == 2500
