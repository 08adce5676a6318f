"""DNS Manager: domains and their records, written over HTTP (external-dns does that)."""

from __future__ import annotations

import bisect
import ipaddress
import re
from collections.abc import Mapping
from typing import Any

from .bodies import REQUIRED, take, take_count, take_strings
from .clock import stamp
from .errors import bad_field, not_found
from .ids import IdAllocator
from .scheduler import Scheduler

RECORD_TYPES = ("A", "AAAA", "NS", "MX", "CNAME", "TXT", "SRV", "PTR", "CAA")
# Other TTLs are rounded up to the next of these; 0 means the domain's default.
_TTLS = (0, 30, 120, 300, 3600, 7200, 14400, 28800, 57600, 86400, 172800, 345600, 604800,
         1209600, 2419200)  # fmt: skip
_HOSTNAME = re.compile(r"(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}", re.I)
_ADDRESS_TYPES = {"A": ipaddress.IPv4Address, "AAAA": ipaddress.IPv6Address}


def round_ttl(seconds: int) -> int:
    return _TTLS[min(bisect.bisect_left(_TTLS, seconds), len(_TTLS) - 1)]


class Dns:
    def __init__(self, ids: IdAllocator, scheduler: Scheduler) -> None:
        self._ids = ids
        self._scheduler = scheduler
        self._domains: dict[int, dict[str, Any]] = {}
        self._records: dict[int, dict[int, dict[str, Any]]] = {}  # by domain id, record id

    # -- domains -------------------------------------------------------------------------
    def create_domain(self, body: Mapping[str, Any]) -> dict[str, Any]:
        name = take(body, "domain", str).lower()
        if not _HOSTNAME.fullmatch(name):
            raise bad_field("domain", "Domain is not valid")
        if any(d["domain"] == name for d in self._domains.values()):
            raise bad_field("domain", "Domain already exists")
        kind = take(body, "type", str)
        if kind not in ("master", "slave"):
            raise bad_field("type", "Must be one of master, slave")
        soa_email = take(body, "soa_email", str, "" if kind == "slave" else REQUIRED)
        domain = {
            "id": self._ids.next("domain"),
            "domain": name,
            "type": kind,
            "status": "active",
            "soa_email": soa_email,
            "description": take(body, "description", str, ""),
            "group": take(body, "group", str, ""),
            "tags": take_strings(body, "tags"),
            "master_ips": take_strings(body, "master_ips"),
            "axfr_ips": take_strings(body, "axfr_ips"),
            **{
                field: round_ttl(take(body, field, int, 0))
                for field in ("ttl_sec", "refresh_sec", "retry_sec", "expire_sec")
            },
        }
        self._domains[domain["id"]] = domain
        self._records[domain["id"]] = {}
        return dict(domain)

    def domain(self, domain_id: int) -> dict[str, Any]:
        domain = self._domains.get(domain_id)
        if domain is None:
            raise not_found()
        return dict(domain)

    def list_domains(self) -> list[dict[str, Any]]:
        return [dict(self._domains[i]) for i in sorted(self._domains)]

    # -- records -------------------------------------------------------------------------
    def create_record(self, domain_id: int, body: Mapping[str, Any]) -> dict[str, Any]:
        records = self._records_of(domain_id)
        kind = take(body, "type", str)
        if kind not in RECORD_TYPES:
            raise bad_field("type", f"Must be one of {', '.join(RECORD_TYPES)}")
        now = stamp(self._scheduler.now)
        record = {"id": self._ids.next("record"), "type": kind, "created": now}
        record.update(_record_fields(kind, body, _blank_record()), updated=now)
        records[record["id"]] = record
        return dict(record)

    def update_record(
        self, domain_id: int, record_id: int, body: Mapping[str, Any]
    ) -> dict[str, Any]:
        record = self._record(domain_id, record_id)
        record.update(_record_fields(record["type"], body, record))
        record["updated"] = stamp(self._scheduler.now)
        return dict(record)

    def delete_record(self, domain_id: int, record_id: int) -> None:
        self._record(domain_id, record_id)
        del self._records[domain_id][record_id]

    def record(self, domain_id: int, record_id: int) -> dict[str, Any]:
        return dict(self._record(domain_id, record_id))

    def list_records(self, domain_id: int) -> list[dict[str, Any]]:
        records = self._records_of(domain_id)
        return [dict(records[i]) for i in sorted(records)]

    def _records_of(self, domain_id: int) -> dict[int, dict[str, Any]]:
        records = self._records.get(domain_id)
        if records is None:
            raise not_found()
        return records

    def _record(self, domain_id: int, record_id: int) -> dict[str, Any]:
        record = self._records_of(domain_id).get(record_id)
        if record is None:
            raise not_found()
        return record


def _blank_record() -> dict[str, Any]:
    return {
        "name": "",
        "target": REQUIRED,
        "ttl_sec": 0,
        "priority": 0,
        "weight": 0,
        "port": 0,
        "service": None,
        "protocol": None,
        "tag": None,
    }


def _record_fields(
    kind: str, body: Mapping[str, Any], current: Mapping[str, Any]
) -> dict[str, Any]:
    """The record's fields after applying `body` over `current`, checked for its type."""
    target = take(body, "target", str, current["target"])
    address = _ADDRESS_TYPES.get(kind)
    if address is not None:
        try:
            target = str(address(target))
        except ValueError:
            raise bad_field(
                "target", f"Must be a valid IPv{4 if kind == 'A' else 6} address"
            ) from None
    fields = {
        "name": take(body, "name", str, current["name"]),
        "target": target,
        "ttl_sec": round_ttl(take(body, "ttl_sec", int, current["ttl_sec"])),
        **{
            n: take_count(body, n, 0, 65535, default=current[n])
            for n in ("priority", "weight", "port")
        },
    }
    fields.update({n: take(body, n, str, current[n]) for n in ("service", "protocol", "tag")})
    return fields
