"""The on-call actions that change one object, each the way its own tool does it: renew a
certificate (cmctl renew), switch a Postgres cluster over or back it up (Crunchy PGO v5),
roll a Deployment back (kubectl rollout undo). Failures are one-line KubeActionErrors.

Cordon, uncordon and drain are in `ops.drain`; restart and delete in `kube.actions`.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from cpanel_platform.kube.actions import KubeActionError, call
from cpanel_platform.kube.kinds import CERTIFICATES, DEPLOYMENTS, POSTGRESCLUSTERS, REPLICASETS
from cpanel_platform.views.postgres import GROUP as PGO
from cpanel_platform.views.postgres import TRIGGER_SWITCHOVER
from cpanel_platform.views.rollouts import REVISION

if TYPE_CHECKING:
    from kubernetes.client import ApiClient

BACKUP_ANNOTATION = f"{PGO}/pgbackrest-backup"
POD_TEMPLATE_HASH = "pod-template-hash"
MERGE = "application/merge-patch+json"


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# -- cert-manager ---------------------------------------------------------------------------
def renew_certificate(api: ApiClient, namespace: str, name: str) -> None:
    """As `cmctl renew`: the Issuing condition set True with reason ManuallyTriggered, through
    the status subresource. The resourceVersion makes it a compare-and-swap, so a condition
    cert-manager wrote in between is not overwritten."""
    cert = call(api, "GET", CERTIFICATES.object_path(namespace, name))
    conditions = list((cert.get("status") or {}).get("conditions") or [])
    if any(c.get("type") == "Issuing" and c.get("status") == "True" for c in conditions):
        raise KubeActionError(f"{namespace}/{name} is already being issued")
    issuing = {
        "type": "Issuing",
        "status": "True",
        "reason": "ManuallyTriggered",
        "message": "Certificate re-issuance manually triggered",
        "lastTransitionTime": _now(),
        "observedGeneration": cert["metadata"].get("generation", 1),
    }
    conditions = [c for c in conditions if c.get("type") != "Issuing"] + [issuing]
    patch = {"metadata": {"resourceVersion": cert["metadata"]["resourceVersion"]},
             "status": {"conditions": conditions}}
    call(api, "PATCH", CERTIFICATES.object_path(namespace, name, "status"), body=patch,
         content_type=MERGE)


# -- Crunchy Postgres -----------------------------------------------------------------------
def postgres_switchover(api: ApiClient, namespace: str, cluster: str, target_instance: str) -> None:
    """PGO's switchover: spec.patroni.switchover names the target instance, and a new
    trigger-switchover annotation value asks the operator to carry it out."""
    patch = {
        "metadata": {"annotations": {TRIGGER_SWITCHOVER: _now()}},
        "spec": {"patroni": {"switchover": {"enabled": True, "targetInstance": target_instance}}},
    }
    call(api, "PATCH", POSTGRESCLUSTERS.object_path(namespace, cluster), body=patch,
         content_type=MERGE)


def postgres_backup(api: ApiClient, namespace: str, cluster: str) -> str:
    """PGO's manual backup: a new pgbackrest-backup annotation value. The operator ignores it
    without spec.backups.pgbackrest.manual, so a full backup to the first repo is configured
    when none is. Returns what the backup runs, e.g. "repo1 --type=full"."""
    pg = call(api, "GET", POSTGRESCLUSTERS.object_path(namespace, cluster))
    pgbackrest = ((pg.get("spec") or {}).get("backups") or {}).get("pgbackrest") or {}
    manual = pgbackrest.get("manual")
    patch: dict[str, Any] = {"metadata": {"annotations": {BACKUP_ANNOTATION: _now()}}}
    if not manual:
        repos = pgbackrest.get("repos") or []
        if not repos:
            raise KubeActionError(f"{namespace}/{cluster} has no pgBackRest repo to back up to")
        manual = {"repoName": repos[0]["name"], "options": ["--type=full"]}
        patch["spec"] = {"backups": {"pgbackrest": {"manual": manual}}}
    call(api, "PATCH", POSTGRESCLUSTERS.object_path(namespace, cluster), body=patch,
         content_type=MERGE)
    return " ".join([manual.get("repoName", "?"), *manual.get("options", [])])


# -- Deployments ----------------------------------------------------------------------------
def rollback(api: ApiClient, namespace: str, deployment: str, revision: int) -> None:
    """As `kubectl rollout undo --to-revision`: the pod template of the Deployment's
    ReplicaSet with that revision (without its pod-template-hash label) becomes the
    Deployment's, which rolls out as the newest revision."""
    current = call(api, "GET", DEPLOYMENTS.object_path(namespace, deployment))
    if (current.get("spec") or {}).get("paused"):
        raise KubeActionError(f"{namespace}/{deployment} is paused: resume it first")
    uid = current["metadata"]["uid"]
    owned = call(api, "GET", REPLICASETS.path(namespace))
    chosen = next(
        (rs for rs in owned.get("items") or ()
         if any(r.get("uid") == uid for r in rs["metadata"].get("ownerReferences") or ())
         and (rs["metadata"].get("annotations") or {}).get(REVISION) == str(revision)),
        None,
    )
    if chosen is None:
        raise KubeActionError(f"{namespace}/{deployment} has no revision {revision}")
    template = chosen["spec"]["template"]
    (template.get("metadata") or {}).get("labels", {}).pop(POD_TEMPLATE_HASH, None)
    if template == current["spec"]["template"]:
        raise KubeActionError(f"{namespace}/{deployment} already runs revision {revision}")
    # A JSON patch tested against the resourceVersion: nobody's change in between is undone.
    patch = [
        {"op": "test", "path": "/metadata/resourceVersion",
         "value": current["metadata"]["resourceVersion"]},
        {"op": "replace", "path": "/spec/template", "value": template},
    ]
    call(api, "PATCH", DEPLOYMENTS.object_path(namespace, deployment), body=patch,
         content_type="application/json-patch+json")
