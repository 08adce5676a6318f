"""The starting `platform.yaml` that `cpanel init` writes: the reference platform."""

from __future__ import annotations

from pathlib import Path

TEMPLATE = """\
# platform.yaml: one LKE cluster and its baseline components, declared.
# `cpanel plan` shows what would change; `cpanel up` makes it so, and can be run again.

# The LKE cluster. Regions, node types and versions are the Linode API's names.
cluster:
  label: prod
  region: us-east
  k8s_version: "1.36"         # quoted, or YAML reads 1.30 as the number 1.3
  high_availability: true     # a replicated control plane; once on, it cannot be turned off
  pools:
    - type: g6-dedicated-8
      count: 3
      # autoscaler: {enabled: true, min: 3, max: 6}
      labels: {}
      taints: []              # e.g. {key: dedicated, value: db, effect: NoSchedule}

# Each component is installed at the pinned version; `enabled: false` leaves it out.
components:
  # Web traffic into the cluster: one controller replica per node.
  ingress_nginx:
    version: "1.12.1"
    replicas_per_node: 1

  # DNS records for ingresses, in Linode Domains. Keep the TTL low (300 s or less):
  # a 3600 s TTL during a cut-over once meant 30 minutes of partial downtime.
  external_dns:
    version: "0.15.1"
    domain: example.com
    ttl: 300

  # Let's Encrypt certificates. Wildcards need the DNS-01 solver; issue from staging first,
  # then switch `issuer` to production (its rate limits are strict).
  cert_manager:
    version: "1.16.3"
    acme_email: ops@example.com
    solver: dns01             # dns01 | http01
    provider: linode          # the DNS-01 webhook's DNS provider
    issuer: staging           # staging | production
    wildcard_certificate:
      name: wildcard-example-com
      namespace: app
      dns_names: [example.com, "*.example.com"]

  # The Crunchy Postgres Operator and the production database: a primary and a replica.
  postgres:
    version: "5.7.4"
    cluster:
      name: db
      namespace: app
      instances: 2
      storage: 50Gi
      backup_schedule: "0 1 * * 0"   # weekly full pgBackRest backup (cron)

  # Keel: rolls the app out when a new image is pushed (registry webhook).
  keel:
    version: "0.19.1"
    default_policy: minor     # all | major | minor | patch | force
    webhook: true

  # kube-prometheus: Prometheus, Grafana, node-exporter, and blackbox probes for the SLI.
  monitoring:
    version: "0.14.0"
    retention: 30d
    pvc_size: 10Gi
    probe_targets:
      - https://example.com/health

  # A CronJob that copies the wildcard certificate into the CDN every morning.
  cert_sync:
    version: "1.3.0"
    schedule: "0 9 * * *"

# Service level objectives: 99.99% is about 4.3 minutes of downtime per 30 days.
slos:
  - name: availability
    target: 0.9999
    window_days: 30
    sli: probe                # probe (blackbox) | requests (ingress)
"""


def write_template(path: Path, *, force: bool = False) -> None:
    """Write the starting file; `FileExistsError` if `path` exists and not `force`."""
    with path.open("w" if force else "x") as out:
        out.write(TEMPLATE)
