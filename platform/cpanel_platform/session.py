"""One connection to a platform: the kube context and every source the panes read.

The UI owns one Session per context; switching context (`:ctx`) closes it and opens another.
Constructing a Session does no network I/O, so the first frame never waits on a server.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import replace

from kubernetes.client import VersionApi

from cpanel_platform import config, keel_source
from cpanel_platform.freshness import Freshness, State
from cpanel_platform.keel_source import KeelSource
from cpanel_platform.kube.actions import AccessCache
from cpanel_platform.kube.client import KubeTarget, connect
from cpanel_platform.kube.watchcache import Caches
from cpanel_platform.linode_source import LinodeSource
from cpanel_platform.prom import client as prom

_RANK = {State.LIVE: 0, State.CONNECTING: 1, State.RECONNECTING: 2, State.STALE: 3}


class Session:
    def __init__(
        self,
        settings: config.Settings,
        *,
        kubeconfig: str | None = None,
        context: str | None = None,
        env: Mapping[str, str] | None = None,
    ) -> None:
        env = os.environ if env is None else env
        self.settings = settings
        self.target: KubeTarget = connect(kubeconfig or settings.kubeconfig,
                                          context or settings.context)
        self.caches = Caches(self.target.api)
        self.access = AccessCache(self.target.api)
        self.prom = prom.PromSource(prom.resolve(settings, env, self.target), settings.slo.sli)
        self.linode = LinodeSource(
            config.linode_token(env),
            config.linode_url(settings, env),
            cluster_id=settings.linode.cluster_id,
            api_server=self.target.server,
        )
        self.keel = KeelSource(
            keel_source.resolve(settings, env, self.target),
            settings.keel.username or env.get("KEEL_USERNAME"),
            env.get("KEEL_PASSWORD"),
        )

    def freshness(self) -> list[Freshness]:
        """Every source's state: Kubernetes (worst of the open watches), Prometheus,
        Linode, Keel."""
        kube = self.caches.freshness()
        worst = max(kube, key=lambda f: _RANK[f.state], default=None)
        sources = []
        if worst is not None:  # one badge for Kubernetes; the reason names the kind
            reason = f"{worst.source}: {worst.reason}" if worst.reason else ""
            sources.append(replace(worst, source="kubernetes", reason=reason))
        return [*sources, self.prom.freshness, self.linode.freshness, self.keel.freshness]

    def server_version(self) -> str | None:
        """The API server's gitVersion (blocking: call from a worker), None if it fails —
        the watch caches report the outage."""
        try:
            return VersionApi(self.target.api).get_code().git_version
        except Exception:  # any failure here only leaves a "-" in the header
            return None

    def close(self) -> None:
        self.caches.stop_all()
