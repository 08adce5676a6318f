"""The audit journal: one JSON line per action in $XDG_STATE_HOME/cpanel/journal.jsonl, kept
private, and a journal that cannot be written is reported, never raised."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from cpanel_platform.ops import journal


def test_record_appends_one_json_line_per_action(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    assert journal.record("drain", "Node/n1", "ok", who="admin (me)", detail="3 evicted") is None
    assert journal.record("renew", "Certificate/app/c", "failed", who="admin (me)") is None

    path = tmp_path / "state" / "cpanel" / "journal.jsonl"
    assert journal.journal_path() == path
    first, second = (json.loads(line) for line in path.read_text().splitlines())
    assert set(first) == {"when", "who", "action", "target", "outcome", "detail"}
    assert (first["action"], first["target"], first["outcome"], first["detail"]) == (
        "drain", "Node/n1", "ok", "3 evicted")
    assert first["who"] == "admin (me)"
    assert first["when"].endswith("Z") and first["when"][10] == "T"
    assert (second["outcome"], second["detail"]) == ("failed", "")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_the_default_is_under_the_home_state_folder(monkeypatch: pytest.MonkeyPatch,
                                                   tmp_path: Path) -> None:
    monkeypatch.delenv("XDG_STATE_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert journal.journal_path() == tmp_path / ".local" / "state" / "cpanel" / "journal.jsonl"


def test_an_unwritable_journal_is_reported_not_raised(tmp_path: Path) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("")  # a file where the folder should be
    problem = journal.record("cordon", "Node/n1", "ok", who="x (y)",
                             path=blocked / "cpanel" / "journal.jsonl")
    assert problem is not None and problem.startswith(f"journal {blocked}") and "\n" not in problem


def test_who_is_the_kube_user_and_the_local_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(journal.getpass, "getuser", lambda: "alice")
    assert journal.who("sandbox-admin") == "sandbox-admin (alice)"
