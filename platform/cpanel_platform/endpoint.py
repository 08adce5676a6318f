"""An HTTP endpoint and how to reach it: a plain URL, or a Kubernetes service proxy that
needs the kubeconfig's credentials and CA."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class HttpEndpoint:
    url: str  # base URL without a trailing slash
    # e.g. Authorization: Bearer …; kept out of repr so a logged endpoint shows no token
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)
    verify: bool | str = True  # CA bundle path, or False
    cert: tuple[str, str] | None = None  # client certificate and key files
    via: str = "url"  # "url" or "service proxy" — for messages

    def describe(self) -> str:
        """Where it is, fit for a message (no credentials)."""
        return f"{self.url} ({self.via})" if self.via != "url" else self.url
