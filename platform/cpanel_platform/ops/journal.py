"""The audit journal of on-call actions: one JSON object per line in
$XDG_STATE_HOME/cpanel/journal.jsonl (~/.local/state by default), readable by its owner only.

Each line says who did what to which object, when, and how it went:
{"when": "2026-11-26T10:31:37Z", "who": "sandbox-admin (root)", "action": "drain",
 "target": "Node/lke118447-412-6b080a7c0a5d", "outcome": "ok", "detail": "6 pod(s) evicted"}

Writing it never raises into the UI: a journal that cannot be written makes `record` return
the reason, which the caller shows next to the action's own outcome. Callers keep secrets out
of `detail` (the API's one-line messages are fine; tokens and keys never reach them).
"""

from __future__ import annotations

import datetime as dt
import getpass
import json
import os
import threading
from pathlib import Path

_lock = threading.Lock()  # one line at a time from the UI's worker threads


def journal_path() -> Path:
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "cpanel" / "journal.jsonl"


def who(kube_user: str) -> str:
    """The kube user of the context and the OS user, e.g. "sandbox-admin (root)"."""
    try:
        local = getpass.getuser()
    except (OSError, KeyError):  # no login name and no passwd entry (some containers)
        local = str(os.getuid())
    return f"{kube_user or '?'} ({local})"


def record(
    action: str,
    target: str,
    outcome: str,
    *,
    who: str,
    detail: str = "",
    path: Path | None = None,
) -> str | None:
    """Append one entry; None when written, else why it could not be (one line)."""
    path = path or journal_path()
    entry = {
        "when": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "who": who,
        "action": action,
        "target": target,
        "outcome": outcome,
        "detail": detail,
    }
    line = (json.dumps(entry, ensure_ascii=False) + "\n").encode()
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        with _lock:
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, line)  # one write: lines of concurrent cpanels never interleave
            finally:
                os.close(fd)
    except OSError as err:
        return f"journal {path}: {err.strerror or err}"
    return None
