"""Manifests the sandbox installs as a platform's installers would, by path under this
package without ".yaml": `load("crds/cert-manager")` is cert-manager's CustomResourceDefinitions,
`load("crds/postgres-operator")` the Crunchy Postgres Operator's."""

from __future__ import annotations

from importlib import resources
from typing import Any

import yaml


def load(name: str) -> list[dict[str, Any]]:
    """The documents of `<name>.yaml`, in file order."""
    text = resources.files(__name__).joinpath(f"{name}.yaml").read_text()
    return [doc for doc in yaml.safe_load_all(text) if doc]
