"""Typed, immutable snapshots that panes render, built by pure functions from cache objects
(Kubernetes JSON as dicts), PromQL results and the Linode/Keel snapshots."""
