"""The sha256 digest of every release manifest cpanel installs, pinned in the project.

A release is `manifests.yaml` at `<component>/<version>/` on the release mirror, with the
component named as in `platform.yaml` (`ingress_nginx`, `cert_manager`, …). After changing a
release file, print the entries to paste here with

    python -m cpanel_platform.provision.digests platform/cpanel_platform/sandbox/mirror
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

PINNED: dict[tuple[str, str], str] = {
    ("cert_manager", "1.16.3"): "0c454231529b8d8a7576e25ecd46b83c86cf5d47dd1ff5fb38196b72ca6ca7b9",
    ("cert_sync", "1.3.0"): "789f929a92d9924b7c4da8db3d668ca496fdc3ff262f11de39874626fc031553",
    ("external_dns", "0.15.1"): "9d0d8f48e2433b3092f6a8ff21f40e1a381cca94a126156faa5845b684b18400",
    ("ingress_nginx", "1.12.1"): "f9d1e7b9361c1d195b637988b4e4fa88e7655e6cc70b1ad29f61e1d00a05447b",
    ("keel", "0.19.1"): "d90d3ae799871c869dc5a3038e5be075bbdd7f8abd612c08880cab15f4a4a663",
    ("monitoring", "0.14.0"): "d891c56664e063b4332e9b96502c49ab7fc121a474746cfc42d834da5718de77",
    ("postgres", "5.7.4"): "775f2ac9ea92513bdf92821545bd09bf26196cada147b829068d2f8499a87ae1",
}

# The Kubernetes minors each release declares it supports (first, last), for `cpanel upgrade`.
SUPPORTS: dict[tuple[str, str], tuple[str, str]] = {
    ("cert_manager", "1.16.3"): ("1.29", "1.37"),
    ("cert_sync", "1.3.0"): ("1.25", "1.38"),
    ("external_dns", "0.15.1"): ("1.28", "1.37"),
    ("ingress_nginx", "1.12.1"): ("1.30", "1.37"),
    ("keel", "0.19.1"): ("1.25", "1.38"),
    ("monitoring", "0.14.0"): ("1.31", "1.37"),
    ("postgres", "5.7.4"): ("1.28", "1.37"),
}


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def releases(root: Path) -> dict[tuple[str, str], str]:
    """The digest of every `<component>/<version>/manifests.yaml` under `root`."""
    return {
        (path.parent.parent.name, path.parent.name): sha256(path.read_bytes())
        for path in sorted(root.glob("*/*/manifests.yaml"))
    }


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m cpanel_platform.provision.digests MIRROR_DIR", file=sys.stderr)
        return 2
    for (component, version), digest in releases(Path(argv[0])).items():
        print(f'    ("{component}", "{version}"): "{digest}",')
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
