"""The sandbox's release mirror: stand-in release manifests for every component version the
platform template pins, served as `/<component>/<version>/manifests.yaml`.

The stand-ins are the sandbox's baseline workloads (images its simulated kubelets bring to
life) plus the real CustomResourceDefinitions of the kinds cpanel reads. Their digests are
pinned in `cpanel_platform.provision.digests`; after editing one, print the new entries with
`python -m cpanel_platform.provision.digests platform/cpanel_platform/sandbox/mirror`.
"""

from __future__ import annotations

import re
from importlib import resources

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from ..serving import AppServer

FILE_NAME = "manifests.yaml"
_PART = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")  # no separators, no "..", no hidden files


def release(component: str, version: str) -> bytes | None:
    """The stand-in release file, or None when the mirror has no such release."""
    if not (_PART.match(component) and _PART.match(version)):
        return None
    file = resources.files(__name__).joinpath(component, version, FILE_NAME)
    return file.read_bytes() if file.is_file() else None


async def _release(request: Request) -> Response:
    data = release(request.path_params["component"], request.path_params["version"])
    if data is None:
        return PlainTextResponse("no such release\n", status_code=404)
    return Response(data, media_type="application/yaml")


async def _healthz(_: Request) -> Response:
    return PlainTextResponse("ok\n")


class MirrorServer(AppServer):
    def __init__(self) -> None:
        super().__init__(
            Starlette(
                routes=[
                    Route("/healthz", _healthz),
                    Route("/{component}/{version}/" + FILE_NAME, _release),
                ]
            )
        )
