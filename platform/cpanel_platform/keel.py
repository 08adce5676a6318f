"""Keel's HTTP API: pending approvals and the audit log."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Approval:
    id: str
    identifier: str  # "deployment/app/web:2.15.0"-style, as Keel names it
    provider: str  # kubernetes
    current_version: str
    new_version: str
    votes_required: int
    votes_received: int
    voters: tuple[str, ...]
    rejected: bool
    archived: bool
    deadline: float  # epoch seconds
    created: float
    message: str = ""


@dataclass(frozen=True)
class AuditEntry:
    id: str
    created: float
    action: str  # e.g. deployment update, approved, rejected
    resource_kind: str
    identifier: str
    username: str
    message: str = ""


@dataclass(frozen=True)
class KeelSnapshot:
    approvals: tuple[Approval, ...]
    audit: tuple[AuditEntry, ...]
