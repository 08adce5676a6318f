"""The `/` filter, as K9s reads it.

- empty: every row;
- a leading `!` inverts whatever follows (a lone `!` is still every row, while typing);
- `-l <selector>`: a Kubernetes label selector on the row's labels (`a=b`, `a==b`, `a!=b`,
  `a in (x,y)`, `a notin (x)`, `a`, `!a`; commas AND them; an empty selector is every row);
- anything else: a case-insensitive regular expression on the row's text when it compiles,
  else a case-insensitive substring.

Everything is compiled once in parse_filter, so matching a row is one call.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal

Mode = Literal["all", "regex", "substring", "labels"]
Operator = Literal["=", "!=", "in", "notin", "exists", "!"]

_EMPTY: Mapping[str, str] = {}
_NAME = r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?"
_LABEL_KEY = re.compile(
    rf"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?{_NAME}$"
)
_LABEL_VALUE = re.compile(rf"^({_NAME})?$")
# Operators and punctuation, or a run of anything else (a key, a value, in/notin): every
# character but blanks is in some token.
_TOKEN = re.compile(r"\s*(==|!=|=|!|\(|\)|,|[^\s=!(),]+)")


class FilterError(ValueError):
    """The filter text cannot be used; the message is one line for the status bar."""


@dataclass(frozen=True)
class Requirement:
    """One term of a label selector."""

    key: str
    operator: Operator
    values: frozenset[str] = frozenset()

    def matches(self, labels: Mapping[str, str]) -> bool:
        value = labels.get(self.key)
        if self.operator == "exists":
            return value is not None
        if self.operator == "!":
            return value is None
        if self.operator in ("=", "in"):
            return value is not None and value in self.values
        return value is None or value not in self.values  # != and notin


@dataclass(frozen=True)
class Filter:
    text: str  # as typed
    mode: Mode
    inverted: bool = False
    selector: tuple[Requirement, ...] = ()
    _test: Callable[[str, Mapping[str, str]], bool] = field(
        default=lambda text, labels: True, repr=False, compare=False
    )

    @property
    def is_empty(self) -> bool:
        return self.mode == "all"

    def matches(self, text: str, labels: Mapping[str, str] = _EMPTY) -> bool:
        """Whether a row (its searchable text and its labels) passes the filter."""
        return self._test(text, labels) != self.inverted


def parse_filter(text: str) -> Filter:
    """The filter the user typed; FilterError for a label selector that does not parse."""
    body = text.strip()
    inverted = body.startswith("!")
    if inverted:
        body = body[1:].lstrip()
    if not body:
        return Filter(text, "all")
    if body == "-l" or body.startswith(("-l ", "-l\t")):
        selector = parse_selector(body[2:])
        if not selector:
            return Filter(text, "all")
        return Filter(
            text,
            "labels",
            inverted,
            selector,
            lambda _, labels: all(r.matches(labels) for r in selector),
        )
    try:
        pattern = re.compile(body, re.IGNORECASE | re.MULTILINE)
    except re.error:
        needle = body.casefold()
        return Filter(text, "substring", inverted, _test=lambda row, _: needle in row.casefold())
    return Filter(text, "regex", inverted, _test=lambda row, _: pattern.search(row) is not None)


class _Tokens:
    def __init__(self, text: str) -> None:
        self.tokens: list[str] = _TOKEN.findall(text)
        self.index = 0

    def peek(self) -> str | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def take(self) -> str | None:
        token = self.peek()
        self.index += token is not None
        return token


def _word(token: str | None, what: str) -> str:
    if token is None or token in ("==", "!=", "=", "!", "(", ")", ","):
        found = "end of selector" if token is None else repr(token)
        raise FilterError(f"label selector: expected {what}, found {found}")
    return token


def _key(token: str | None) -> str:
    key = _word(token, "a label key")
    if not _LABEL_KEY.match(key) or len(key.rpartition("/")[0]) > 253:
        raise FilterError(f"label selector: invalid label key {key!r}")
    return key


def _value(token: str) -> str:
    if not _LABEL_VALUE.match(token):
        raise FilterError(f"label selector: invalid label value {token!r}")
    return token


def _values(tokens: _Tokens, operator: str) -> frozenset[str]:
    if tokens.take() != "(":
        raise FilterError(f"label selector: expected '(' after {operator!r}")
    values: set[str] = set()
    while True:
        token = tokens.take()
        if token in (",", ")"):
            values.add("")  # an empty item, as in "in (a,)"
        else:
            values.add(_value(_word(token, "a value or ')'")))
            token = tokens.take()
        if token == ")":
            break
        if token != ",":
            raise FilterError(f"label selector: expected ',' or ')' in the {operator} list")
    if values == {""}:
        raise FilterError(f"label selector: the {operator} list cannot be empty")
    return frozenset(values)


def _requirement(tokens: _Tokens) -> Requirement:
    token = tokens.take()
    if token == "!":
        return Requirement(_key(tokens.take()), "!")
    key = _key(token)
    operator = tokens.peek()
    if operator in (None, ","):
        return Requirement(key, "exists")
    tokens.take()
    if operator in ("in", "notin"):
        return Requirement(key, "in" if operator == "in" else "notin", _values(tokens, operator))
    if operator not in ("=", "==", "!="):
        raise FilterError(f"label selector: unexpected {operator!r} after {key!r}")
    value = "" if tokens.peek() in (None, ",") else _value(_word(tokens.take(), "a value"))
    return Requirement(key, "!=" if operator == "!=" else "=", frozenset({value}))


def parse_selector(text: str) -> tuple[Requirement, ...]:
    """A Kubernetes label selector as requirements that must all hold; () for "everything"."""
    tokens = _Tokens(text)
    requirements: list[Requirement] = []
    while tokens.peek() is not None:
        requirements.append(_requirement(tokens))
        separator = tokens.take()
        if separator not in (None, ","):
            raise FilterError(f"label selector: expected ',' before {separator!r}")
        if separator == "," and tokens.peek() is None:
            raise FilterError("label selector: a requirement is missing after ','")
    return tuple(requirements)
