"""What a PromQL query returns, as plain immutable values the views read."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Sample:
    """One series of an instant vector: its labels and its value at the query time."""

    labels: Mapping[str, str]
    value: float


@dataclass(frozen=True)
class Series:
    """One series of a range query: (epoch seconds, value) points in time order."""

    labels: Mapping[str, str]
    points: tuple[tuple[float, float], ...]


# Query name → its answer. A name that is absent means "no answer" (Prometheus unreachable
# or the query failed); an empty tuple means Prometheus answered with no series.
Results = Mapping[str, tuple[Sample, ...] | tuple[Series, ...]]
