"""What the account can choose from: regions, Linode plans, LKE control-plane types and
Kubernetes versions. Plans and prices follow Linode's public price list."""

from __future__ import annotations

from typing import Any

from .errors import not_found

# (id, label, country)
_REGIONS = (
    ("us-east", "Newark, NJ", "us"),
    ("us-central", "Dallas, TX", "us"),
    ("us-west", "Fremont, CA", "us"),
    ("us-southeast", "Atlanta, GA", "us"),
    ("us-ord", "Chicago, IL", "us"),
    ("ca-central", "Toronto, CA", "ca"),
    ("eu-west", "London, UK", "gb"),
    ("eu-central", "Frankfurt, DE", "de"),
    ("ap-south", "Singapore, SG", "sg"),
    ("ap-northeast", "Tokyo, JP", "jp"),
    ("ap-west", "Mumbai, IN", "in"),
    ("ap-southeast", "Sydney, AU", "au"),
)
_CAPABILITIES = (
    "Linodes",
    "Block Storage",
    "Kubernetes",
    "NodeBalancers",
    "Cloud Firewall",
    "Vlans",
    "LA Disk Encryption",
)

# (id, label, class, vcpus, memory MB, disk MB, transfer GB, network out Mbps,
#  monthly price, monthly backups price)
_PLANS = (
    ("g6-nanode-1", "Nanode 1GB", "nanode", 1, 1024, 25600, 1000, 1000, 5.0, 2.0),
    ("g6-standard-1", "Linode 2GB", "standard", 1, 2048, 51200, 2000, 2000, 12.0, 2.5),
    ("g6-standard-2", "Linode 4GB", "standard", 2, 4096, 81920, 4000, 4000, 24.0, 5.0),
    ("g6-standard-4", "Linode 8GB", "standard", 4, 8192, 163840, 5000, 5000, 48.0, 10.0),
    ("g6-standard-6", "Linode 16GB", "standard", 6, 16384, 327680, 8000, 6000, 96.0, 20.0),
    ("g6-standard-8", "Linode 32GB", "standard", 8, 32768, 655360, 16000, 7000, 192.0, 40.0),
    ("g6-dedicated-2", "Dedicated 4GB", "dedicated", 2, 4096, 81920, 4000, 4000, 36.0, 5.0),
    ("g6-dedicated-4", "Dedicated 8GB", "dedicated", 4, 8192, 163840, 5000, 5000, 72.0, 10.0),
    ("g6-dedicated-8", "Dedicated 16GB", "dedicated", 8, 16384, 327680, 6000, 6000, 144.0, 20.0),
    ("g6-dedicated-16", "Dedicated 32GB", "dedicated", 16, 32768, 655360, 7000, 7000, 288.0, 40.0),
)
# Linode bills by the hour up to a monthly cap; the hourly rate is 0.15% of the monthly one.
_HOURLY = 0.0015

DEFAULT_K8S_VERSIONS = ("1.34", "1.35", "1.36")


def _price(monthly: float) -> dict[str, float]:
    return {"hourly": round(monthly * _HOURLY, 4), "monthly": monthly}


def _region(index: int, region_id: str, label: str, country: str) -> dict[str, Any]:
    # Resolver addresses come from documentation ranges: plausible, and routable nowhere.
    return {
        "id": region_id,
        "label": label,
        "country": country,
        "capabilities": list(_CAPABILITIES),
        "status": "ok",
        "resolvers": {
            "ipv4": f"198.51.100.{index * 2 + 1},198.51.100.{index * 2 + 2}",
            "ipv6": f"2001:db8:{index:x}::1,2001:db8:{index:x}::2",
        },
        "site_type": "core",
    }


def _plan(plan: tuple[Any, ...]) -> dict[str, Any]:
    plan_id, label, klass, vcpus, memory, disk, transfer, network_out, monthly, backups = plan
    return {
        "id": plan_id,
        "label": label,
        "class": klass,
        "vcpus": vcpus,
        "memory": memory,
        "disk": disk,
        "transfer": transfer,
        "network_out": network_out,
        "gpus": 0,
        "accelerated_devices": 0,
        "price": _price(monthly),
        "region_prices": [],
        "addons": {"backups": {"price": _price(backups), "region_prices": []}},
        "successor": None,
    }


REGIONS = {r[0]: _region(i, *r) for i, r in enumerate(_REGIONS)}
LINODE_TYPES = {p[0]: _plan(p) for p in _PLANS}
LKE_TYPES = {
    "lke-sa": {
        "id": "lke-sa",
        "label": "LKE Standard Availability",
        "price": _price(0.0),
        "region_prices": [],
        "transfer": 0,
    },
    "lke-ha": {
        "id": "lke-ha",
        "label": "LKE High Availability",
        "price": _price(60.0),
        "region_prices": [],
        "transfer": 0,
    },
}


def lookup(table: dict[str, dict[str, Any]], key: str) -> dict[str, Any]:
    try:
        return table[key]
    except KeyError:
        raise not_found() from None


def minor(version: str) -> tuple[int, int]:
    major, _, rest = version.partition(".")
    return int(major), int(rest.split(".")[0])
