"""The Crunchy Postgres Operator (PGO) v5 as the sandbox runs it, for
postgresclusters.postgres-operator.crunchydata.com/v1beta1.

Per instance set, one StatefulSet of one pod per instance, `<cluster>-<set>-<xxxx>`, with its
data claim `<instance>-pgdata`; the `<cluster>-primary`, `<cluster>-replicas` and
`<cluster>-pods` Services; and with a volume repository, the pgBackRest repo host
`<cluster>-repo-host` and its claim `<cluster>-<repo>`. The built-in StatefulSet controller and
the kubelets run the pods. This actor plays Patroni as well: it labels the healthy leader
`role=master` and the other healthy pods `role=replica`, and fails over when the leader stops
being ready. Switchovers, the replica-create backup, manual backups (the pgbackrest-backup
annotation) and scheduled ones (CronJobs) follow PGO's rules; the built-in Job controller and the
kubelets run the backup Jobs.

What a metrics exporter needs is plain state here: `clusters` (each instance's role, the
timeline, the last full backup) and the `lag_bytes` knob, replication lag per instance name.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import logging
import random
import re
import zlib
from dataclasses import dataclass, field
from typing import Any

from .kube import PODS, PVCS, Kind, Kube
from .reconciler import (
    Clock,
    ControllerPod,
    Key,
    Obj,
    Reconciler,
    Watch,
    conditions_of,
    controller_ref,
    is_true,
    parse_time,
    remove_condition,
    running_and_ready,
    set_condition,
    utcnow,
    where,
)

log = logging.getLogger(__name__)

GROUP = "postgres-operator.crunchydata.com"
CLUSTERS = Kind(GROUP, "v1beta1", "postgresclusters")
STATEFULSETS = Kind("apps", "v1", "statefulsets")
SERVICES = Kind("", "v1", "services")
JOBS = Kind("batch", "v1", "jobs")
CRONJOBS = Kind("batch", "v1", "cronjobs")

CLUSTER_LABEL = f"{GROUP}/cluster"
INSTANCE_SET_LABEL = f"{GROUP}/instance-set"
INSTANCE_LABEL = f"{GROUP}/instance"
ROLE_LABEL = f"{GROUP}/role"
DATA_LABEL = f"{GROUP}/data"
PATRONI_LABEL = f"{GROUP}/patroni"
PGBACKREST_LABEL = f"{GROUP}/pgbackrest"
DEDICATED_LABEL = f"{GROUP}/pgbackrest-dedicated"
REPO_LABEL = f"{GROUP}/pgbackrest-repo"
REPO_VOLUME_LABEL = f"{GROUP}/pgbackrest-volume"
BACKUP_LABEL = f"{GROUP}/pgbackrest-backup"
CRONJOB_LABEL = f"{GROUP}/pgbackrest-cronjob"
TRIGGER_SWITCHOVER = f"{GROUP}/trigger-switchover"
BACKUP_ANNOTATION = f"{GROUP}/pgbackrest-backup"

MASTER, REPLICA = "master", "replica"  # the role labels Patroni sets
COMPONENT = "postgrescluster-controller"
# The operator Deployment's pods, in the release manifests and the sandbox's baseline.
CONTROLLER_POD = ControllerPod("postgres-operator", {f"{GROUP}/control-plane": "postgres-operator"})
REGISTRY = "registry.developers.crunchydata.com/crunchydata"
POSTGRES_IMAGES = {  # PGO 5.7's RELATED_IMAGE_POSTGRES_<n> defaults
    15: f"{REGISTRY}/crunchy-postgres:ubi8-15.10-0",
    16: f"{REGISTRY}/crunchy-postgres:ubi8-16.6-0",
    17: f"{REGISTRY}/crunchy-postgres:ubi8-17.2-0",
}
PGBACKREST_IMAGE = f"{REGISTRY}/crunchy-pgbackrest:ubi8-2.53.1-0"
SCHEDULE_TYPES = {"full": "full", "differential": "diff", "incremental": "incr"}
# PGO's pgBackRest conditions: type -> (reason, message) when True, and when False.
_CONDITIONS = {
    "PGBackRestRepoHostReady": (
        ("RepoHostReady", "pgBackRest dedicated repository host is ready"),
        ("RepoHostNotReady", "pgBackRest dedicated repository host is not ready"),
    ),
    "PGBackRestReplicaRepoReady": (
        ("StanzaCreated", "pgBackRest replica create repo is ready for backups"),
        ("StanzaNotCreated", "pgBackRest replica create repo is not ready for backups"),
    ),
    "PGBackRestReplicaCreate": (
        ("RepoBackupComplete", "pgBackRest replica creation is now possible"),
        ("RepoBackupNotComplete", "pgBackRest replica creation is not currently possible"),
    ),
    "PGBackRestManualBackupSuccessful": (
        ("ManualBackupComplete", "Manual backup completed successfully"),
        ("ManualBackupFailed", "Manual backup did not complete successfully"),
    ),
}
_RANDOM_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"  # Kubernetes' rand.String, which PGO uses
_BACKUP_TYPE = re.compile(r"--type=(\w+)")


@dataclass
class Instance:
    name: str  # its StatefulSet, e.g. "db-instance1-x7kq"; its one pod is "<name>-0"
    instance_set: str
    role: str = ""  # MASTER, REPLICA, or "" while its pod is not ready

    @property
    def pod(self) -> str:
        return f"{self.name}-0"


@dataclass
class Cluster:
    namespace: str
    name: str
    instances: dict[str, Instance] = field(default_factory=dict)
    timeline: int = 1  # Patroni's: one more at every change of leader
    last_full_backup: dt.datetime | None = None  # completion of the newest full backup

    @property
    def leader(self) -> Instance | None:
        return next((i for i in self.instances.values() if i.role == MASTER), None)


def _labels(obj: Obj) -> dict[str, str]:
    return obj["metadata"].get("labels") or {}


def _of_cluster(obj: Obj) -> list[Key]:
    name = _labels(obj).get(CLUSTER_LABEL)
    return [(obj["metadata"]["namespace"], name)] if name else []


def _healthy(pod: Obj) -> bool:
    """Serving, as Patroni sees a member: running, ready, and not on its way out."""
    return running_and_ready(pod) and not pod["metadata"].get("deletionTimestamp")


def _job_outcome(job: Obj) -> str:
    """How the Job ended, "Complete" or "Failed"; "" while it runs."""
    return next((t for t in ("Complete", "Failed") if is_true(conditions_of(job), t)), "")


def _job_progress(job: Obj) -> dict[str, Any]:
    """The Job's progress as PGO copies it into its backup statuses (zeros left out)."""
    status = job.get("status") or {}
    fields = ("startTime", "completionTime", "active", "succeeded", "failed")
    return {f: status[f] for f in fields if status.get(f)}


def _backup_type(job: Obj) -> str:
    """full, diff or incr. The replica-create backup is the first, hence full; a manual one
    is pgBackRest's default, incr, unless its options say otherwise."""
    kind = _labels(job).get(BACKUP_LABEL)
    if kind == "replica-create":
        return "full"
    if kind == "scheduled":
        return _labels(job).get(CRONJOB_LABEL, "")
    env = job["spec"]["template"]["spec"]["containers"][0].get("env") or []
    options = next((e["value"] for e in env if e["name"] == "COMMAND_OPTS"), "")
    found = _BACKUP_TYPE.search(options)
    return found.group(1) if found else "incr"


def _scheduled_status(job: Obj) -> Obj:
    """An entry of status.pgbackrest.scheduledBackups, for a Job a backup CronJob made."""
    owner = next((r["name"] for r in job["metadata"].get("ownerReferences") or []), "")
    labels = _labels(job)
    return {
        "cronJobName": owner,
        "repo": labels.get(REPO_LABEL, ""),
        "type": labels[CRONJOB_LABEL],
        **_job_progress(job),
    }


def _last_full_backup(jobs: list[Obj], known: dt.datetime | None) -> dt.datetime | None:
    """The latest completion among full backups, these Jobs and what was known before (the
    Jobs of old backups are deleted in time)."""
    finished = [
        parse_time(job["status"]["completionTime"])
        for job in jobs
        if _job_outcome(job) == "Complete" and _backup_type(job) == "full"
    ]
    return max((t for t in [*finished, known] if t), default=None)


def _instance_sets(pg: Obj) -> list[tuple[str, Obj]]:
    """(name, spec) per instance set; PGO names an unnamed set by its index, "00", "01"…"""
    return [
        (spec.get("name") or f"{index:02d}", spec)
        for index, spec in enumerate(pg["spec"].get("instances") or [])
    ]


def _pgbackrest(pg: Obj) -> Obj | None:
    return ((pg["spec"].get("backups") or {}).get("pgbackrest")) or None


def _options_hash(repo: Obj) -> str:
    """Stands in for PGO's hash of a cloud repository's options."""
    options = {k: v for k, v in repo.items() if k not in ("name", "schedules")}
    number = str(zlib.crc32(json.dumps(options, sort_keys=True).encode()))
    return "".join(_RANDOM_ALPHABET[int(d) % len(_RANDOM_ALPHABET)] for d in number)


class PostgresOperator(Reconciler):
    """`lag_bytes` maps an instance name to the replication lag its replica reports (0 when
    absent); failover and switchover candidates are the healthy replicas with the least lag.
    With `controller` (CONTROLLER_POD), the operator's work (Services, instances, switchovers,
    backups, status) waits for its pod; Patroni, which runs in the Postgres pods, keeps
    electing and labelling the leader regardless."""

    def __init__(
        self,
        kube: Kube,
        clock: Clock = utcnow,
        seed: int | None = None,
        poll: float = 0.2,
        controller: ControllerPod | None = None,
    ) -> None:
        super().__init__(kube, clock, poll, controller)
        self.clusters: dict[tuple[str, str], Cluster] = {}
        self.lag_bytes: dict[str, float] = {}
        self._random = random.Random(seed)

    def watches(self) -> list[Watch]:
        owned = {"labelSelector": CLUSTER_LABEL}
        return [
            Watch(CLUSTERS, lambda pg: [where(pg)]),
            *(Watch(kind, _of_cluster, owned) for kind in (STATEFULSETS, PODS, JOBS, PVCS)),
        ]

    def _suffix(self) -> str:
        return "".join(self._random.choices(_RANDOM_ALPHABET, k=4))

    async def reconcile(self, key: Key) -> dt.datetime | None:
        namespace, name = key
        pg = await self.kube.get(CLUSTERS, namespace, name)
        if pg is None or pg["metadata"].get("deletionTimestamp"):
            self.clusters.pop((namespace, name), None)  # the garbage collector does the rest
            return None
        cluster = self.clusters.setdefault((namespace, name), Cluster(namespace, name))
        status = copy.deepcopy(pg.get("status") or {})
        operating = self.controller_running
        if operating:
            await self._services(pg)
        runners = await self._instances(pg, cluster, operating)
        pods = (
            await self.kube.list(
                PODS, namespace, labelSelector=f"{CLUSTER_LABEL}={name},{DATA_LABEL}=postgres"
            )
        )["items"]
        self._elect(cluster, pods, status)
        if operating:
            self._switchover(pg, cluster, status)
        await self._label_roles(cluster, pods)
        if not operating:
            return None
        status["instances"] = self._instance_status(pg, runners)
        if _pgbackrest(pg):
            await self._backups(pg, cluster, status)
        status["observedGeneration"] = pg["metadata"].get("generation")
        if status != pg.get("status"):
            await self.kube.replace_status(CLUSTERS, {**pg, "status": status})
        return None

    async def _ensure(self, kind: Kind, namespace: str, body: Obj) -> Obj:
        """The object by body's name, created from body when missing."""
        current = await self.kube.get(kind, namespace, body["metadata"]["name"])
        return current if current is not None else await self.kube.create(kind, namespace, body)

    # -- services ------------------------------------------------------------------------------
    async def _services(self, pg: Obj) -> None:
        namespace, name = where(pg)
        ports = [
            {
                "name": "postgres",
                "port": pg["spec"].get("port", 5432),
                "protocol": "TCP",
                "targetPort": "postgres",
            }
        ]
        services = [
            # No selector: PGO points the primary's endpoints at the Patroni leader.
            (f"{name}-primary", "primary", {"clusterIP": "None", "ports": ports}),
            (
                f"{name}-replicas",
                REPLICA,
                {"ports": ports, "selector": {CLUSTER_LABEL: name, ROLE_LABEL: REPLICA}},
            ),
            (
                f"{name}-pods",
                "",
                {
                    "clusterIP": "None",
                    "publishNotReadyAddresses": True,
                    "selector": {CLUSTER_LABEL: name},
                },
            ),
        ]
        for service, role, spec in services:
            labels = {CLUSTER_LABEL: name, **({ROLE_LABEL: role} if role else {})}
            body = {
                "metadata": {
                    "name": service,
                    "labels": labels,
                    "ownerReferences": [controller_ref(pg)],
                },
                "spec": {"type": "ClusterIP", **spec},
            }
            await self._ensure(SERVICES, namespace, body)

    # -- instances -----------------------------------------------------------------------------
    async def _instances(self, pg: Obj, cluster: Cluster, operating: bool) -> list[Obj]:
        """The instance StatefulSets, which `cluster` learns. `operating`, they are first made
        to match the spec: one per instance, as many per set as its replicas; surplus
        instances go, replicas before the leader."""
        namespace, name = where(pg)
        listed = await self.kube.list(
            STATEFULSETS, namespace, labelSelector=f"{CLUSTER_LABEL}={name},{INSTANCE_SET_LABEL}"
        )
        kept = await self._scale(pg, cluster, listed["items"]) if operating else listed["items"]
        known = cluster.instances
        cluster.instances = {
            r["metadata"]["name"]: known.get(r["metadata"]["name"])
            or Instance(r["metadata"]["name"], _labels(r)[INSTANCE_SET_LABEL])
            for r in kept
        }
        return kept

    async def _scale(self, pg: Obj, cluster: Cluster, existing: list[Obj]) -> list[Obj]:
        """Create and delete instance StatefulSets to match the spec; returns those kept."""
        by_set: dict[str, list[Obj]] = {}
        for runner in existing:
            by_set.setdefault(_labels(runner)[INSTANCE_SET_LABEL], []).append(runner)
        kept: list[Obj] = []
        for set_name, spec in _instance_sets(pg):
            runners = by_set.pop(set_name, [])
            while len(runners) < spec.get("replicas", 1):
                runners.append(await self._create_instance(pg, set_name, spec))
            runners.sort(key=lambda r: (self._is_leader(cluster, r), r["metadata"]["name"]))
            surplus = len(runners) - spec.get("replicas", 1)
            for runner in runners[:surplus]:
                await self._delete_instance(runner)
            kept += runners[surplus:]
        for runner in (r for gone in by_set.values() for r in gone):  # sets no longer in spec
            await self._delete_instance(runner)
        return kept

    @staticmethod
    def _is_leader(cluster: Cluster, runner: Obj) -> bool:
        leader = cluster.leader
        return leader is not None and leader.name == runner["metadata"]["name"]

    async def _create_instance(self, pg: Obj, set_name: str, spec: Obj) -> Obj:
        namespace, cluster = where(pg)
        name = f"{cluster}-{set_name}-{self._suffix()}"
        labels = {CLUSTER_LABEL: cluster, INSTANCE_SET_LABEL: set_name, INSTANCE_LABEL: name}
        owner = [controller_ref(pg)]
        volumes = []
        if spec.get("dataVolumeClaimSpec"):
            claim = {
                "metadata": {
                    "name": f"{name}-pgdata",
                    "labels": {**labels, DATA_LABEL: "postgres", ROLE_LABEL: "pgdata"},
                    "ownerReferences": owner,
                },
                "spec": copy.deepcopy(spec["dataVolumeClaimSpec"]),
            }
            await self._ensure(PVCS, namespace, claim)
            volumes.append(
                {"name": "postgres-data", "persistentVolumeClaim": {"claimName": f"{name}-pgdata"}}
            )
        version = pg["spec"].get("postgresVersion", 16)
        image = pg["spec"].get("image") or POSTGRES_IMAGES.get(
            version, f"{REGISTRY}/crunchy-postgres:ubi8-{version}"
        )
        port = pg["spec"].get("port", 5432)
        containers = [
            {
                "name": "database",
                "image": image,
                "ports": [{"name": "postgres", "containerPort": port, "protocol": "TCP"}],
            },
            {"name": "replication-cert-copy", "image": image},
        ]
        if _pgbackrest(pg):
            backrest = self._pgbackrest_image(pg)
            containers += [
                {"name": "pgbackrest", "image": backrest},
                {"name": "pgbackrest-config", "image": backrest},
            ]
        runner = {
            "metadata": {"name": name, "labels": labels, "ownerReferences": owner},
            "spec": {
                "replicas": 1,
                "serviceName": f"{cluster}-pods",
                "podManagementPolicy": "Parallel",
                "selector": {"matchLabels": labels},
                "template": {
                    "metadata": {
                        "labels": {
                            **labels,
                            DATA_LABEL: "postgres",
                            PATRONI_LABEL: f"{cluster}-ha",
                        }
                    },
                    "spec": {
                        "containers": containers,
                        "volumes": volumes,
                        "serviceAccountName": f"{cluster}-instance",
                        "enableServiceLinks": False,
                    },
                },
            },
        }
        return await self.kube.create(STATEFULSETS, namespace, runner)

    async def _delete_instance(self, runner: Obj) -> None:
        namespace, name = where(runner)
        await self.kube.delete(STATEFULSETS, namespace, name)
        await self.kube.delete(PVCS, namespace, f"{name}-pgdata")

    @staticmethod
    def _instance_status(pg: Obj, runners: list[Obj]) -> list[Obj]:
        """status.instances: per set, its StatefulSets' pod counts (zeros left out)."""
        result = []
        for set_name, _ in sorted(_instance_sets(pg), key=lambda named: named[0]):
            mine = [r for r in runners if _labels(r)[INSTANCE_SET_LABEL] == set_name]
            entry: Obj = {"name": set_name}
            for counter in ("replicas", "readyReplicas", "updatedReplicas"):
                total = sum((r.get("status") or {}).get(counter, 0) for r in mine)
                if total:
                    entry[counter] = total
            result.append(entry)
        return result

    # -- Patroni -------------------------------------------------------------------------------
    def _candidate(self, cluster: Cluster, names: set[str]) -> Instance | None:
        """The member Patroni promotes: the one with the least replication lag."""
        return min(
            (cluster.instances[n] for n in names),
            key=lambda i: (self.lag_bytes.get(i.name, 0.0), i.name),
            default=None,
        )

    def _elect(self, cluster: Cluster, pods: list[Obj], status: Obj) -> None:
        """Keep a healthy leader, or promote the best healthy member (a failover moves the
        timeline on); label the other healthy members replicas."""
        healthy = {
            _labels(p).get(INSTANCE_LABEL)
            for p in pods
            if _healthy(p) and _labels(p).get(INSTANCE_LABEL) in cluster.instances
        }
        leader = cluster.leader or next(  # after a restart, the pod labels tell the leader
            (
                cluster.instances[_labels(p)[INSTANCE_LABEL]]
                for p in pods
                if _labels(p).get(ROLE_LABEL) == MASTER
                and _labels(p).get(INSTANCE_LABEL) in healthy
            ),
            None,
        )
        if leader is None or leader.name not in healthy:
            promoted = self._candidate(cluster, healthy)
            if leader is not None and promoted is not None:
                cluster.timeline += 1
            leader = promoted
        for instance in cluster.instances.values():
            instance.role = (
                MASTER if instance is leader else REPLICA if instance.name in healthy else ""
            )
        patroni = status.setdefault("patroni", {})
        if leader is not None and not patroni.get("systemIdentifier"):
            # The cluster has just been bootstrapped on this instance.
            patroni["systemIdentifier"] = str(self._random.randrange(7 * 10**18, 74 * 10**17))
            status["startupInstance"] = leader.name
            status["startupInstanceSet"] = leader.instance_set

    def _switchover(self, pg: Obj, cluster: Cluster, status: Obj) -> None:
        """PGO's switchover: with spec.patroni.switchover.enabled, a trigger-switchover
        annotation differing from status.patroni.switchover asks for one. The first pass
        notes the timeline, the next moves the leader (to targetInstance, or the best
        replica) and records the annotation as done."""
        patroni = status.setdefault("patroni", {})
        spec = (pg["spec"].get("patroni") or {}).get("switchover") or {}
        if not spec.get("enabled"):
            patroni.pop("switchover", None)
            patroni.pop("switchoverTimeline", None)
            return
        trigger = (pg["metadata"].get("annotations") or {}).get(TRIGGER_SWITCHOVER, "")
        if not trigger or patroni.get("switchover") == trigger:
            patroni.pop("switchoverTimeline", None)
            return
        problem = self._switchover_problem(cluster, spec)
        if problem:
            log.warning("postgrescluster %s/%s: %s", cluster.namespace, cluster.name, problem)
            return
        if "switchoverTimeline" not in patroni:
            patroni["switchoverTimeline"] = cluster.timeline
            return
        if patroni["switchoverTimeline"] == cluster.timeline:
            leader = cluster.leader
            replicas = {i.name for i in cluster.instances.values() if i.role == REPLICA}
            wanted = spec.get("targetInstance")
            target = self._candidate(cluster, replicas & {wanted} if wanted else replicas)
            if leader is None or target is None:
                log.warning(
                    "postgrescluster %s/%s: unable to switchover", cluster.namespace, cluster.name
                )
                return
            leader.role, target.role = REPLICA, MASTER
            cluster.timeline += 1
        # The timeline moved on: the switchover happened.
        patroni["switchover"] = trigger
        patroni.pop("switchoverTimeline", None)

    @staticmethod
    def _switchover_problem(cluster: Cluster, spec: Obj) -> str:
        target = spec.get("targetInstance") or ""
        if len(cluster.instances) <= 1:
            return "Need more than one instance to switchover"
        if spec.get("type") == "Failover" and not target:
            return "TargetInstance required when running failover"
        if target and target not in cluster.instances:
            return "TargetInstance was specified but not found in the cluster"
        if cluster.leader is None:
            return "Could not find a running pod when attempting switchover."
        return ""

    async def _label_roles(self, cluster: Cluster, pods: list[Obj]) -> None:
        """Patroni's role label on each healthy member whose label is out of date."""
        for pod in pods:
            instance = cluster.instances.get(_labels(pod).get(INSTANCE_LABEL, ""))
            if instance and instance.role and _labels(pod).get(ROLE_LABEL) != instance.role:
                await self.kube.patch(
                    PODS, *where(pod), {"metadata": {"labels": {ROLE_LABEL: instance.role}}}
                )

    # -- pgBackRest ----------------------------------------------------------------------------
    @staticmethod
    def _pgbackrest_image(pg: Obj) -> str:
        return (_pgbackrest(pg) or {}).get("image") or PGBACKREST_IMAGE

    async def _backups(self, pg: Obj, cluster: Cluster, status: Obj) -> None:
        """The repo host and repositories, then the backups in PGO's order: the
        replica-create one first, then manual and scheduled ones."""
        namespace, name = where(pg)
        repos = (_pgbackrest(pg) or {}).get("repos") or []
        pgbackrest = status.setdefault("pgbackrest", {})
        conditions = status.setdefault("conditions", [])
        host_ready = True
        if any("volume" in repo for repo in repos):
            host_ready = await self._repo_host(pg, repos)
            repo_host = {"apiVersion": "apps/v1", "kind": "StatefulSet", "ready": host_ready}
            pgbackrest["repoHost"] = repo_host
            self._condition(pg, conditions, "PGBackRestRepoHostReady", host_ready)
        pgbackrest["repos"] = await self._repo_statuses(pg, cluster, repos, pgbackrest, host_ready)
        stanza = bool(pgbackrest["repos"]) and pgbackrest["repos"][0]["stanzaCreated"]
        self._condition(pg, conditions, "PGBackRestReplicaRepoReady", stanza)
        selector = f"{CLUSTER_LABEL}={name},{BACKUP_LABEL}"
        jobs = (await self.kube.list(JOBS, namespace, labelSelector=selector))["items"]
        await self._replica_create_backup(pg, cluster, jobs, status)
        await self._manual_backup(pg, cluster, jobs, status)
        await self._schedules(pg, repos)
        scheduled = [_scheduled_status(job) for job in jobs if CRONJOB_LABEL in _labels(job)]
        if scheduled:
            pgbackrest["scheduledBackups"] = scheduled
        cluster.last_full_backup = _last_full_backup(jobs, cluster.last_full_backup)

    def _condition(self, pg: Obj, conditions: list[Obj], ctype: str, value: bool) -> None:
        reason, message = _CONDITIONS[ctype][0 if value else 1]
        status = "True" if value else "False"
        generation = pg["metadata"].get("generation")
        set_condition(conditions, ctype, status, reason, message, self.clock(), generation)

    async def _repo_host(self, pg: Obj, repos: list[Obj]) -> bool:
        """The dedicated repository host and the claims of the volume repositories; whether
        the host is ready."""
        namespace, cluster = where(pg)
        owner = [controller_ref(pg)]
        volumes = []
        for repo in (r for r in repos if "volume" in r):
            claim = f"{cluster}-{repo['name']}"
            labels = {
                CLUSTER_LABEL: cluster,
                PGBACKREST_LABEL: "",
                REPO_LABEL: repo["name"],
                REPO_VOLUME_LABEL: "",
                DATA_LABEL: "pgbackrest",
            }
            body = {
                "metadata": {"name": claim, "labels": labels, "ownerReferences": owner},
                "spec": copy.deepcopy(repo["volume"].get("volumeClaimSpec") or {}),
            }
            await self._ensure(PVCS, namespace, body)
            volumes.append({"name": repo["name"], "persistentVolumeClaim": {"claimName": claim}})
        labels = {CLUSTER_LABEL: cluster, PGBACKREST_LABEL: "", DEDICATED_LABEL: ""}
        image = self._pgbackrest_image(pg)
        body = {
            "metadata": {
                "name": f"{cluster}-repo-host",
                "labels": labels,
                "ownerReferences": owner,
            },
            "spec": {
                "replicas": 1,
                "serviceName": f"{cluster}-pods",
                "podManagementPolicy": "Parallel",
                "selector": {"matchLabels": labels},
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {
                        "containers": [
                            {"name": "pgbackrest", "image": image},
                            {"name": "pgbackrest-config", "image": image},
                        ],
                        "volumes": volumes,
                        "serviceAccountName": f"{cluster}-pgbackrest",
                        "enableServiceLinks": False,
                    },
                },
            },
        }
        host = await self._ensure(STATEFULSETS, namespace, body)
        return (host.get("status") or {}).get("readyReplicas", 0) >= 1

    async def _repo_statuses(
        self, pg: Obj, cluster: Cluster, repos: list[Obj], pgbackrest: Obj, host_ready: bool
    ) -> list[Obj]:
        """status.pgbackrest.repos. PGO creates the stanzas once the leader is up and the
        repo host is ready, and says so in an Event."""
        namespace, name = where(pg)
        previous = {r["name"]: r for r in pgbackrest.get("repos") or []}
        stanza_now = cluster.leader is not None and host_ready
        result, created = [], False
        for repo in repos:
            before = previous.get(repo["name"], {})
            entry: Obj = {"name": repo["name"]}
            if "volume" in repo:
                claim = await self.kube.get(PVCS, namespace, f"{name}-{repo['name']}") or {}
                if (claim.get("status") or {}).get("phase") == "Bound":
                    entry["bound"] = True
                if (claim.get("spec") or {}).get("volumeName"):
                    entry["volume"] = claim["spec"]["volumeName"]
            else:
                entry["repoOptionsHash"] = _options_hash(repo)
            entry["stanzaCreated"] = bool(before.get("stanzaCreated")) or stanza_now
            created |= entry["stanzaCreated"] and not before.get("stanzaCreated")
            if before.get("replicaCreateBackupComplete"):
                entry["replicaCreateBackupComplete"] = True
            result.append(entry)
        if created:
            await self.events.record(
                COMPONENT,
                pg,
                "Normal",
                "StanzasCreated",
                "pgBackRest stanza creation completed successfully",
            )
        return result

    async def _replica_create_backup(
        self, pg: Obj, cluster: Cluster, jobs: list[Obj], status: Obj
    ) -> None:
        """The full backup of the first repository that new replicas are made from."""
        repos = status["pgbackrest"]["repos"]
        repo = repos[0] if repos else None
        job = next((j for j in jobs if _labels(j).get(BACKUP_LABEL) == "replica-create"), None)
        conditions = status["conditions"]
        if repo is not None and cluster.leader and not repo.get("replicaCreateBackupComplete"):
            if job is not None and _job_outcome(job) == "Failed":
                await self.kube.delete(JOBS, *where(job))  # and try again
            elif job is not None and _job_outcome(job) == "Complete":
                repo["replicaCreateBackupComplete"] = True
            elif (
                job is None
                and is_true(conditions, "PGBackRestReplicaRepoReady")
                and (status["pgbackrest"].get("repoHost", {}).get("ready", True))
            ):
                await self._backup_job(pg, repo["name"], "replica-create", [])
        complete = bool(repo and repo.get("replicaCreateBackupComplete"))
        self._condition(pg, conditions, "PGBackRestReplicaCreate", complete)

    async def _manual_backup(self, pg: Obj, cluster: Cluster, jobs: list[Obj], status: Obj) -> None:
        """PGO's manual backup: a new pgbackrest-backup annotation value (with
        spec.backups.pgbackrest.manual set) runs one backup Job, tracked in
        status.pgbackrest.manualBackup."""
        wanted = (pg["metadata"].get("annotations") or {}).get(BACKUP_ANNOTATION, "")
        manual = (_pgbackrest(pg) or {}).get("manual")
        pgbackrest, conditions = status["pgbackrest"], status["conditions"]
        progress = pgbackrest.get("manualBackup")
        job = next((j for j in jobs if _labels(j).get(BACKUP_LABEL) == "manual"), None)
        if job is not None:
            backup_id = (job["metadata"].get("annotations") or {}).get(BACKUP_ANNOTATION)
            outcome = _job_outcome(job)
            if progress is not None and progress["id"] == backup_id:
                if outcome:
                    succeeded = outcome == "Complete"
                    self._condition(pg, conditions, "PGBackRestManualBackupSuccessful", succeeded)
                progress.update({"id": backup_id, "finished": bool(outcome), **_job_progress(job)})
            if outcome and wanted and backup_id != wanted:
                await self.kube.delete(JOBS, *where(job))  # the next reconcile starts the new one
                return
        if cluster.leader is None or not wanted or manual is None:
            return
        if progress is None or progress["id"] != wanted:
            progress = pgbackrest["manualBackup"] = {"id": wanted, "finished": False}
            remove_condition(conditions, "PGBackRestManualBackupSuccessful")
        if progress["finished"] or job is not None:
            return
        if not (
            pgbackrest.get("repoHost", {}).get("ready", True)
            and is_true(conditions, "PGBackRestReplicaCreate")
        ):
            return  # one backup at a time: the replica-create one comes first
        repo = next((r for r in pgbackrest["repos"] if r["name"] == manual.get("repoName")), None)
        options = manual.get("options") or []
        if repo is None:
            message = (
                f'Unable to find status for "{manual.get("repoName")}" as configured for a '
                "manual backup.  Please ensure this repo is defined in the spec."
            )
            await self.events.record(COMPONENT, pg, "Warning", "InvalidBackupRepo", message)
        elif not repo["stanzaCreated"]:
            message = f'Stanza not created for "{repo["name"]}" as specified for a manual backup'
            await self.events.record(COMPONENT, pg, "Warning", "StanzaNotCreated", message)
        elif any("--repo" in option for option in options):
            message = "Option '--repo' is not allowed: please use the 'repoName' field instead."
            await self.events.record(COMPONENT, pg, "Warning", "InvalidManualBackup", message)
        else:
            await self._backup_job(pg, repo["name"], "manual", options, {BACKUP_ANNOTATION: wanted})

    def _job_spec(self, pg: Obj, repo: str, labels: dict[str, str], options: list[str]) -> Obj:
        """The pgBackRest backup Job, which runs `pgbackrest backup` in the repo host."""
        namespace, cluster = where(pg)
        command = " ".join(["--stanza=db", f"--repo={repo.removeprefix('repo')}", *options])
        env = {
            "COMMAND": "backup",
            "COMMAND_OPTS": command,
            "COMPARE_HASH": "true",
            "CONTAINER": "pgbackrest",
            "NAMESPACE": namespace,
            "SELECTOR": f"{CLUSTER_LABEL}={cluster},{PGBACKREST_LABEL}=,{DEDICATED_LABEL}=",
        }
        container = {
            "name": "pgbackrest",
            "image": self._pgbackrest_image(pg),
            "command": ["/opt/crunchy/bin/pgbackrest"],
            "env": [{"name": k, "value": v} for k, v in env.items()],
        }
        return {
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "containers": [container],
                    "restartPolicy": "Never",
                    "serviceAccountName": f"{cluster}-pgbackrest",
                    "enableServiceLinks": False,
                },
            }
        }

    async def _backup_job(
        self,
        pg: Obj,
        repo: str,
        kind: str,
        options: list[str],
        annotations: dict[str, str] | None = None,
    ) -> None:
        namespace, cluster = where(pg)
        labels = {
            CLUSTER_LABEL: cluster,
            PGBACKREST_LABEL: "",
            REPO_LABEL: repo,
            BACKUP_LABEL: kind,
        }
        body = {
            "metadata": {
                "name": f"{cluster}-backup-{self._suffix()}",
                "labels": labels,
                "annotations": annotations or {},
                "ownerReferences": [controller_ref(pg)],
            },
            "spec": self._job_spec(pg, repo, labels, options),
        }
        await self.kube.create(JOBS, namespace, body)

    async def _schedules(self, pg: Obj, repos: list[Obj]) -> None:
        """A CronJob `<cluster>-<repo>-<full|diff|incr>` per schedule in the repositories."""
        namespace, cluster = where(pg)
        wanted: dict[str, Obj] = {}
        for repo in repos:
            for field_name, kind in SCHEDULE_TYPES.items():
                schedule = (repo.get("schedules") or {}).get(field_name)
                if schedule:
                    name = f"{cluster}-{repo['name']}-{kind}"
                    wanted[name] = self._cronjob(pg, name, repo["name"], kind, schedule)
        listed = await self.kube.list(
            CRONJOBS, namespace, labelSelector=f"{CLUSTER_LABEL}={cluster},{CRONJOB_LABEL}"
        )
        for cronjob in listed["items"]:
            name = cronjob["metadata"]["name"]
            body = wanted.pop(name, None)
            if body is None:
                await self.kube.delete(CRONJOBS, namespace, name)
            elif cronjob["spec"]["schedule"] != body["spec"]["schedule"]:
                patch = {"spec": {"schedule": body["spec"]["schedule"]}}
                await self.kube.patch(CRONJOBS, namespace, name, patch)
        for body in wanted.values():
            await self.kube.create(CRONJOBS, namespace, body)

    def _cronjob(self, pg: Obj, name: str, repo: str, kind: str, schedule: str) -> Obj:
        cluster = pg["metadata"]["name"]
        labels = {
            CLUSTER_LABEL: cluster,
            PGBACKREST_LABEL: "",
            REPO_LABEL: repo,
            CRONJOB_LABEL: kind,
            BACKUP_LABEL: "scheduled",
        }
        return {
            "metadata": {"name": name, "labels": labels, "ownerReferences": [controller_ref(pg)]},
            "spec": {
                "schedule": schedule,
                "concurrencyPolicy": "Forbid",
                "jobTemplate": {
                    "metadata": {"labels": labels},
                    "spec": self._job_spec(pg, repo, labels, [f"--type={kind}"]),
                },
            },
        }
