"""Identifiers: monotonic integers per kind, and the random parts of names and addresses,
all drawn from one seeded generator so that a seed gives the same world every time."""

from __future__ import annotations

import random
from collections.abc import Mapping

# Where each kind of id starts: plausible magnitudes for a real account.
STARTS = {
    "cluster": 118_447,
    "pool": 412,
    "linode": 61_204_880,
    "volume": 4_310_200,
    "domain": 2_911_400,
    "record": 33_702_100,
    "event": 1_052_330_000,
}


class IdAllocator:
    def __init__(self, seed: int = 0, starts: Mapping[str, int] | None = None) -> None:
        self._next = {**STARTS, **(starts or {})}
        self.rng = random.Random(seed)
        self._suffixes: set[str] = set()

    def next(self, kind: str) -> int:
        value = self._next[kind]
        self._next[kind] = value + 1
        return value

    def hex(self, digits: int) -> str:
        return f"{self.rng.getrandbits(4 * digits):0{digits}x}"

    def node_suffix(self, now: float) -> str:
        """The hex that names a node and its Linode: like LKE's, the creation time in hex
        followed by four random digits, never the same twice (a pool may grow by dozens of
        nodes in one second)."""
        while True:
            suffix = f"{int(now):08x}{self.hex(4)}"
            if suffix not in self._suffixes:
                self._suffixes.add(suffix)
                return suffix

    def public_ipv4(self) -> str:
        return f"172.234.{self.rng.randrange(1, 255)}.{self.rng.randrange(1, 255)}"

    def private_ipv4(self) -> str:
        # Linode's private addresses live in 192.168.128.0/17.
        return f"192.168.{self.rng.randrange(128, 256)}.{self.rng.randrange(1, 255)}"

    def ipv6(self) -> str:
        return f"2600:3c03::f03c:95ff:fe{self.hex(2)}:{self.hex(4)}/128"
