"""Label and field selectors, parsed and matched as the API server does."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..dotted import get_path
from .errors import ApiError, bad_request

_NAME = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$")
_PREFIX = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_TOKEN = re.compile(r"\s*(!=|==|=|!|\(|\)|,|[^\s!=(),]+)")


def _check_key(key: str) -> None:
    prefix, _, name = key.rpartition("/")
    if not name or len(name) > 63 or not _NAME.match(name):
        raise bad_request(
            f'unable to parse requirement: invalid label key "{key}": name part must '
            "consist of alphanumeric characters, '-', '_' or '.', and must start and "
            "end with an alphanumeric character"
        )
    if prefix and (len(prefix) > 253 or not _PREFIX.match(prefix)):
        raise bad_request(
            f'unable to parse requirement: invalid label key "{key}": prefix part '
            "must be a DNS-1123 subdomain"
        )


def _check_value(value: str) -> None:
    if len(value) > 63 or not _NAME.match(value):
        raise bad_request(
            f'unable to parse requirement: invalid label value: "{value}": must be '
            "63 characters or less and consist of alphanumerics, '-', '_' or '.'"
        )


@dataclass(frozen=True)
class Requirement:
    key: str
    op: str  # "=", "!=", "in", "notin", "exists", "!"
    values: frozenset[str] = frozenset()

    def matches(self, labels: Mapping[str, str]) -> bool:
        present = self.key in labels
        if self.op == "exists":
            return present
        if self.op == "!":
            return not present
        if self.op in ("=", "in"):
            return present and labels[self.key] in self.values
        return not present or labels[self.key] not in self.values  # "!=", "notin"


@dataclass(frozen=True)
class LabelSelector:
    """A conjunction of requirements; empty matches everything, `nothing` matches nothing."""

    requirements: tuple[Requirement, ...] = ()
    nothing: bool = False

    def matches(self, labels: Mapping[str, str] | None) -> bool:
        if self.nothing:
            return False
        labels = labels or {}
        return all(r.matches(labels) for r in self.requirements)

    @property
    def empty(self) -> bool:
        return not self.nothing and not self.requirements


MATCH_NOTHING = LabelSelector(nothing=True)


def parse_label_selector(text: str | None) -> LabelSelector:
    """Parse the `labelSelector` query syntax (equality- and set-based)."""
    if not text or not text.strip():
        return LabelSelector()
    tokens = _TOKEN.findall(text)
    if "".join(tokens) != re.sub(r"\s+", "", text):
        raise bad_request(f"unable to parse requirement: unexpected characters in {text!r}")
    reqs: list[Requirement] = []
    pos = 0

    def take() -> str | None:
        nonlocal pos
        if pos >= len(tokens):
            return None
        pos += 1
        return tokens[pos - 1]

    while pos < len(tokens):
        tok = take()
        if tok == "!":
            key = take() or ""
            _check_key(key)
            reqs.append(Requirement(key, "!"))
        elif tok in (None, ",", "=", "==", "!=", "(", ")"):
            raise bad_request(f"unable to parse requirement: found '{tok}', expected: identifier")
        else:
            key = tok
            _check_key(key)
            op = tokens[pos] if pos < len(tokens) else ","
            if op == ",":
                reqs.append(Requirement(key, "exists"))
            elif op in ("=", "==", "!="):
                pos += 1
                value = tokens[pos] if pos < len(tokens) and tokens[pos] != "," else ""
                if value:
                    pos += 1
                _check_value(value)
                reqs.append(Requirement(key, "!=" if op == "!=" else "=", frozenset([value])))
            elif op in ("in", "notin"):
                pos += 1
                if take() != "(":
                    raise bad_request(f"unable to parse requirement: found '{op}', expected: '('")
                values: set[str] = set()
                while True:
                    v = take()
                    if v == ")":
                        break
                    if v is None:
                        raise bad_request("unable to parse requirement: expected ')'")
                    if v == ",":
                        continue
                    _check_value(v)
                    values.add(v)
                reqs.append(Requirement(key, op, frozenset(values)))
            else:
                raise bad_request(
                    f"unable to parse requirement: found '{op}', expected: "
                    "in, notin, =, ==, !=, gt, lt"
                )
        if pos < len(tokens):
            if tokens[pos] != ",":
                raise bad_request(
                    f"unable to parse requirement: found '{tokens[pos]}', expected: ','"
                )
            pos += 1
    return LabelSelector(tuple(reqs))


def selector_from_dict(sel: Mapping[str, Any] | None) -> LabelSelector:
    """A metav1.LabelSelector object. None matches nothing; {} matches everything."""
    if sel is None:
        return MATCH_NOTHING
    reqs = [
        Requirement(k, "=", frozenset([str(v)])) for k, v in (sel.get("matchLabels") or {}).items()
    ]
    ops = {"In": "in", "NotIn": "notin", "Exists": "exists", "DoesNotExist": "!"}
    for expr in sel.get("matchExpressions") or []:
        op = ops.get(expr.get("operator", ""))
        if op is None:
            raise ApiError(
                422, "Invalid", f"invalid label selector operator {expr.get('operator')!r}"
            )
        reqs.append(Requirement(expr["key"], op, frozenset(expr.get("values") or [])))
    return LabelSelector(tuple(reqs))


def selector_to_string(sel: Mapping[str, Any] | None) -> str:
    """Render a metav1.LabelSelector in query syntax (for status.selector and printing)."""
    if not sel:
        return ""
    parts = [f"{k}={v}" for k, v in sorted((sel.get("matchLabels") or {}).items())]
    for expr in sel.get("matchExpressions") or []:
        op, key, values = expr["operator"], expr["key"], ",".join(sorted(expr.get("values") or []))
        parts.append(
            {
                "In": f"{key} in ({values})",
                "NotIn": f"{key} notin ({values})",
                "Exists": key,
                "DoesNotExist": f"!{key}",
            }[op]
        )
    return ",".join(parts)


def _lookup(obj: Mapping[str, Any], path: str) -> str:
    """A field's value as a field selector compares it: a string, "" when missing."""
    value = get_path(obj, path)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


@dataclass(frozen=True)
class FieldSelector:
    terms: tuple[tuple[str, bool, str], ...] = ()  # (object path, equal?, value)

    def matches(self, obj: Mapping[str, Any]) -> bool:
        return all((_lookup(obj, f) == v) == eq for f, eq, v in self.terms)

    def exact(self, field: str) -> str | None:
        """The value a field must equal, when the selector pins it (for fast paths)."""
        return next((v for f, eq, v in self.terms if f == field and eq), None)


def parse_field_selector(text: str | None, fields: Mapping[str, str]) -> FieldSelector:
    """Parse `fieldSelector`; `fields` maps each supported field label to its object path."""
    if not text or not text.strip():
        return FieldSelector()
    terms = []
    for raw in text.split(","):
        term = raw.strip()
        m = re.match(r"^([^=!]+)(==|=|!=)(.*)$", term)
        if not m:
            raise bad_request(f"invalid selector: '{text}'; can't understand '{term}'")
        field, op, value = m.group(1).strip(), m.group(2), m.group(3).strip()
        if field not in fields:
            raise bad_request(f"field label not supported: {field}")
        terms.append((fields[field], op != "!=", value))
    return FieldSelector(tuple(terms))
