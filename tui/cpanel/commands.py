"""The `:` command line: resource aliases as K9s has them, plus cpanel's own panes."""

from __future__ import annotations

from dataclasses import dataclass

QUIT = frozenset({"q", "q!", "quit", "exit"})


@dataclass(frozen=True)
class Command:
    pane: str | None  # the pane to open, None for quit
    namespace: str | None = None  # `:pods app` opens pods in namespace app; "-A"/"all" → ""


class CommandError(Exception):
    pass


def parse(text: str, aliases: dict[str, str]) -> Command:
    """`aliases` maps every alias to its pane id."""
    words = text.strip().lstrip(":").split()
    if not words:
        raise CommandError("type a resource, e.g. :pods (tab completes, ? lists keys)")
    word, *rest = words
    word = word.lower()
    if word in QUIT:
        return Command(None)
    pane = aliases.get(word)
    if pane is None:
        raise CommandError(f"unknown resource {word!r} — try one of: "
                           + ", ".join(sorted(set(aliases))))
    if len(rest) > 1:
        raise CommandError(f"too many words: {text.strip()!r} (:<resource> [namespace])")
    namespace = None
    if rest:
        namespace = "" if rest[0] in ("-A", "all", "*") else rest[0]
    return Command(pane, namespace)


def complete(prefix: str, aliases: dict[str, str]) -> str | None:
    """The shortest alias (then alphabetical) that starts with `prefix` and is longer."""
    prefix = prefix.strip().lstrip(":").lower()
    if not prefix or " " in prefix:
        return None
    matches = sorted((a for a in set(aliases) | QUIT if a.startswith(prefix) and a != prefix),
                     key=lambda a: (len(a), a))
    return matches[0] if matches else None
