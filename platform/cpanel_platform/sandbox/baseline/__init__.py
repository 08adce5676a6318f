"""The workloads of the reference platform as a fresh `cpanel up` would leave them: one YAML
file per component, applied in file-name order when a sandbox's world starts."""

from __future__ import annotations

from importlib import resources
from typing import Any

import yaml


def documents() -> list[dict[str, Any]]:
    """Every object of every component, in apply order."""
    files = sorted(
        (f for f in resources.files(__name__).iterdir() if f.name.endswith(".yaml")),
        key=lambda f: f.name,
    )
    return [doc for f in files for doc in yaml.safe_load_all(f.read_text()) if doc]
