"""The Kubernetes objects each component of `platform.yaml` stands for: its release manifests
(verified, from the mirror) with the file's settings laid over them, and the custom resources
the settings describe (ACME issuers, the wildcard certificate, the PostgresCluster).

Every object is labelled with the component and version that put it there, which is how the
Platform pane tells the installed version, and how `down` could tell cpanel's objects apart.
"""

from __future__ import annotations

import base64
import copy
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from cpanel_platform.provision.spec import (
    CertManager,
    CertSync,
    ExternalDns,
    Keel,
    Monitoring,
    PlatformSpec,
    Postgres,
)

Doc = dict[str, Any]
Fetch = Callable[[str, str], list[Doc]]  # (component, version) -> release documents

# Dependency order: the ingress first (certificates and DNS records hang off it), then DNS,
# then certificates (their DNS-01 solver writes records), the database, and the rest.
ORDER = (
    "ingress_nginx", "external_dns", "cert_manager", "postgres", "keel", "monitoring", "cert_sync",
)
COMPONENT_LABEL = "cpanel.dev/component"
VERSION_LABEL = "cpanel.dev/version"
MANAGED_BY = {"app.kubernetes.io/managed-by": "cpanel"}
ISSUERS = {
    "staging": ("letsencrypt-staging", "https://acme-staging-v02.api.letsencrypt.org/directory"),
    "production": ("letsencrypt-prod", "https://acme-v02.api.letsencrypt.org/directory"),
}
DNS01_SECRET = ("cert-manager", "linode-credentials")
FOUNDATIONS = ("Namespace", "CustomResourceDefinition")


@dataclass(frozen=True)
class Component:
    """One component's desired objects, in the phases they are applied and waited on."""

    name: str
    version: str
    foundations: tuple[Doc, ...]  # namespaces and CRDs: applied first, CRDs waited Established
    workloads: tuple[Doc, ...]  # the release's other objects: operators, controllers, services
    resources: tuple[Doc, ...]  # custom resources rendered from the settings

    @property
    def documents(self) -> tuple[Doc, ...]:
        return (*self.foundations, *self.workloads, *self.resources)


def components(spec: PlatformSpec, fetch: Fetch, linode_token: str | None) -> list[Component]:
    """The enabled components in dependency order. `fetch` may raise `ManifestError`."""
    settings = spec.components
    out = []
    made: set[str] = set()  # namespaces an earlier component creates
    for name in ORDER:
        config = getattr(settings, name)
        if not config.enabled:
            continue
        release = [copy.deepcopy(doc) for doc in fetch(name, config.version)]
        if name in _OVERLAYS:  # the others install as published
            _OVERLAYS[name](release, config, spec)
        resources = list(_RESOURCES[name](config, spec, linode_token) if name in _RESOURCES else ())
        # One owner per namespace: a namespace two components share is the first one's, and
        # a custom resource's namespace that no release creates is created with it.
        release = [d for d in release if not (d["kind"] == "Namespace" and _name(d) in made)]
        made |= {_name(d) for d in release if d["kind"] == "Namespace"}
        needed = {d["metadata"].get("namespace") for d in (*release, *resources)} - {None, ""}
        release += [_namespace(ns) for ns in sorted(needed - made)]
        made |= needed
        for doc in (*release, *resources):
            labels = doc.setdefault("metadata", {}).get("labels") or {}
            labels.update({**MANAGED_BY, COMPONENT_LABEL: name, VERSION_LABEL: config.version})
            doc["metadata"]["labels"] = labels
        first = [d for d in release if d["kind"] in FOUNDATIONS]
        rest = [d for d in release if d["kind"] not in FOUNDATIONS]
        out.append(Component(name, config.version, tuple(first), tuple(rest), tuple(resources)))
    return out


def _name(doc: Doc) -> str:
    return str(doc["metadata"]["name"])


def _namespace(name: str) -> Doc:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}


# --- settings laid over the release manifests ---------------------------------------------------


def _containers(docs: list[Doc], kind: str, name: str) -> Iterator[Doc]:
    for doc in docs:
        if doc.get("kind") == kind and doc["metadata"].get("name") == name:
            yield from doc["spec"]["template"]["spec"]["containers"]


def _set_arg(container: Doc, flag: str, value: str) -> None:
    """`--flag=value` in the container's args, in place of the release's own value."""
    args = container.setdefault("args", [])
    for index, arg in enumerate(args):
        if arg.startswith(f"{flag}="):
            args[index] = f"{flag}={value}"
            return
    args.append(f"{flag}={value}")


def _set_env(container: Doc, name: str, value: str) -> None:
    env = container.setdefault("env", [])
    for index, var in enumerate(env):
        if var.get("name") == name:
            env[index] = {"name": name, "value": value}
            return
    env.append({"name": name, "value": value})


def _external_dns(docs: list[Doc], config: ExternalDns, spec: PlatformSpec) -> None:
    for container in _containers(docs, "Deployment", "external-dns"):
        _set_arg(container, "--domain-filter", config.domain or "")
        _set_arg(container, "--txt-owner-id", f"lke-{spec.cluster.label}")


def _keel(docs: list[Doc], config: Keel, spec: PlatformSpec) -> None:
    for container in _containers(docs, "Deployment", "keel"):
        _set_env(container, "POLICY", config.default_policy)
        _set_env(container, "WEBHOOK_ENABLED", str(config.webhook).lower())


def _monitoring(docs: list[Doc], config: Monitoring, spec: PlatformSpec) -> None:
    for container in _containers(docs, "StatefulSet", "prometheus-k8s"):
        _set_arg(container, "--storage.tsdb.retention.time", config.retention)
    for doc in docs:
        if doc.get("kind") == "StatefulSet" and doc["metadata"].get("name") == "prometheus-k8s":
            for claim in doc["spec"].get("volumeClaimTemplates", []):
                claim["spec"]["resources"]["requests"]["storage"] = config.pvc_size


def _cert_sync(docs: list[Doc], config: CertSync, spec: PlatformSpec) -> None:
    wildcard = spec.components.cert_manager.wildcard_certificate
    for doc in docs:
        if doc.get("kind") != "CronJob":
            continue
        doc["spec"]["schedule"] = config.schedule
        if wildcard is not None:
            pod = doc["spec"]["jobTemplate"]["spec"]["template"]["spec"]
            for container in pod["containers"]:
                _set_env(container, "CERT_SECRET", f"{wildcard.name}-tls")


_OVERLAYS: dict[str, Callable[[list[Doc], Any, PlatformSpec], None]] = {
    "external_dns": _external_dns,
    "keel": _keel,
    "monitoring": _monitoring,
    "cert_sync": _cert_sync,
}


# --- custom resources rendered from the settings ----------------------------------------------


def _issuers(config: CertManager, spec: PlatformSpec, token: str | None) -> Iterator[Doc]:
    if config.solver == "dns01":
        namespace, secret = DNS01_SECRET
        # The webhook solver writes the challenge records in Linode Domains with this token.
        yield {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": secret, "namespace": namespace},
            "type": "Opaque",
            "data": {"token": base64.b64encode((token or "").encode()).decode()},
        }
        solver: Doc = {
            "dns01": {
                "webhook": {
                    "groupName": "acme.cluster.local",
                    "solverName": config.provider,
                    "config": {"apiKeySecretRef": {"name": secret, "key": "token"}},
                }
            }
        }
    else:
        solver = {"http01": {"ingress": {"ingressClassName": "nginx"}}}
    for name, server in ISSUERS.values():
        yield {
            "apiVersion": "cert-manager.io/v1",
            "kind": "ClusterIssuer",
            "metadata": {"name": name},
            "spec": {
                "acme": {
                    "server": server,
                    "email": config.acme_email,
                    "privateKeySecretRef": {"name": f"{name}-account-key"},
                    "solvers": [solver],
                }
            },
        }
    wildcard = config.wildcard_certificate
    if wildcard is not None:
        yield {
            "apiVersion": "cert-manager.io/v1",
            "kind": "Certificate",
            "metadata": {"name": wildcard.name, "namespace": wildcard.namespace},
            "spec": {
                "secretName": f"{wildcard.name}-tls",
                "dnsNames": list(wildcard.dns_names),
                "issuerRef": {"name": ISSUERS[config.issuer][0], "kind": "ClusterIssuer"},
            },
        }


def _postgres_cluster(config: Postgres, spec: PlatformSpec, token: str | None) -> Iterator[Doc]:
    db = config.cluster
    yield {
        "apiVersion": "postgres-operator.crunchydata.com/v1beta1",
        "kind": "PostgresCluster",
        "metadata": {"name": db.name, "namespace": db.namespace},
        "spec": {
            "postgresVersion": 16,
            "instances": [
                {
                    "name": "instance1",
                    "replicas": db.instances,
                    "dataVolumeClaimSpec": {
                        "accessModes": ["ReadWriteOnce"],
                        # Retain: deleting the claim by mistake must not delete the data.
                        "storageClassName": "linode-block-storage-retain",
                        "resources": {"requests": {"storage": db.storage}},
                    },
                }
            ],
            "backups": {
                "pgbackrest": {
                    "repos": [
                        {
                            "name": "repo1",
                            "schedules": {"full": db.backup_schedule},
                            "volume": {
                                "volumeClaimSpec": {
                                    "accessModes": ["ReadWriteOnce"],
                                    "resources": {"requests": {"storage": db.storage}},
                                }
                            },
                        }
                    ],
                    "manual": {"repoName": "repo1", "options": ["--type=full"]},
                }
            },
        },
    }


def _probe_targets(config: Monitoring, spec: PlatformSpec, token: str | None) -> Iterator[Doc]:
    yield {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "blackbox-probe-targets", "namespace": "monitoring"},
        "data": {"targets": "\n".join(config.probe_targets)},
    }


_RESOURCES: dict[str, Callable[[Any, PlatformSpec, str | None], Iterator[Doc]]] = {
    "cert_manager": _issuers,
    "postgres": _postgres_cluster,
    "monitoring": _probe_targets,
}
