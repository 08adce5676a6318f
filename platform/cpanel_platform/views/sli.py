"""The availability SLI and its error budget: figures per window, multi-window burn rates (the
SRE workbook's alerting pairs), the daily SLI and the worst hours of the week.

Budgets are in "bad minutes": an error ratio over a window, times the window's length. For a
request SLI that is the downtime the bad requests amount to.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from ..prom.results import Results
from .common import Severity, answered, finite, instant, ranged

Alert = Literal["page", "ticket"]

_MINUTE, _HOUR, _DAY = 60, 3600, 86400
_BURN_WINDOWS = {
    "5m": 5 * _MINUTE, "30m": 30 * _MINUTE, "1h": _HOUR, "2h": 2 * _HOUR, "6h": 6 * _HOUR,
    "1d": _DAY, "3d": 3 * _DAY,
}
# (long window, short window, burn-rate threshold, alert) from the SRE workbook, most urgent first.
_PAIRS: tuple[tuple[str, str, float, Alert], ...] = (
    ("1h", "5m", 14.4, "page"),
    ("6h", "30m", 6.0, "page"),
    ("1d", "2h", 3.0, "ticket"),
    ("3d", "6h", 1.0, "ticket"),
)
_WORST_HOURS = 5
_WORST_SPAN = 7 * _DAY


@dataclass(frozen=True)
class WindowFigure:
    """The SLI over one window. `downtime_minutes` = error ratio * window length;
    `budget_minutes` = (1 - target) * window length."""

    window: str  # "1h", "1d", "30d", "ytd"
    seconds: float
    error_ratio: float | None
    availability: float | None  # None: no answer, or no traffic (0/0)
    downtime_minutes: float | None
    budget_minutes: float


@dataclass(frozen=True)
class BurnPair:
    """One multi-window alert: it fires when both windows burn faster than `threshold`."""

    long: str
    short: str
    threshold: float
    alert: Alert
    long_rate: float | None
    short_rate: float | None
    alerting: bool


@dataclass(frozen=True)
class BurnRate:
    """How fast one window burns the budget (1.0 spends it exactly over the SLO window)."""

    window: str
    error_ratio: float | None
    rate: float | None
    thresholds: tuple[float, ...]  # of the pairs the window is in: 6h → (6.0, 1.0)
    alerting: Alert | None  # the most urgent firing pair the window is in


@dataclass(frozen=True)
class SliReport:
    target: float
    window_days: int
    windows: tuple[WindowFigure, ...]
    budget_total_minutes: float
    budget_left_minutes: float | None
    budget_left_ratio: float | None  # negative once the budget is overspent
    burn_rates: tuple[BurnRate, ...]
    burn_pairs: tuple[BurnPair, ...]
    daily: tuple[tuple[float, float | None], ...]  # (day start, availability), oldest first
    worst: tuple[tuple[float, float, float], ...]  # (hour start, end, availability), worst first
    metrics: bool
    severity: Severity

    def window(self, name: str) -> WindowFigure | None:
        return next((w for w in self.windows if w.window == name), None)


def year_start(now: float) -> float:
    """1 January, 00:00 UTC, of the year `now` falls in."""
    return datetime(datetime.fromtimestamp(now, UTC).year, 1, 1, tzinfo=UTC).timestamp()


def _ratio(value: float | None) -> float | None:
    """An error ratio clamped to 0..1 (rates' extrapolation can stray); None for 0/0."""
    value = finite(value)
    return None if value is None else min(1.0, max(0.0, value))


def _error_ratio(results: Results | None, window: str) -> float | None:
    """The error ratio over `window` (a catalogue name's suffix); None when unanswered,
    without series (no traffic ever), or 0/0 (none in the window)."""
    samples = instant(results, f"error_ratio_{window}")
    return _ratio(samples[0].value) if samples else None


def _burn_rate(ratio: float | None, target: float) -> float | None:
    return None if ratio is None else ratio / (1.0 - target)


def _budget_minutes(target: float, seconds: float) -> float:
    return (1.0 - target) * seconds / _MINUTE


def sli_report(results: Results | None, target: float, window_days: int, now: float) -> SliReport:
    """The SLI pane's report as of `now`, for an SLO of `target` over `window_days` days."""
    lengths = {"1h": _HOUR, "1d": _DAY, "30d": 30 * _DAY, "ytd": max(60.0, now - year_start(now))}
    windows = tuple(_figure(results, name, seconds, target) for name, seconds in lengths.items())

    # The catalogue asks for 30 days; another SLO window uses its own query when there is one,
    # else the 30-day ratio stands in for it.
    budget_window = f"{window_days}d"
    if not answered(results, f"error_ratio_{budget_window}"):
        budget_window = "30d"
    total = _budget_minutes(target, window_days * _DAY)
    ratio = _error_ratio(results, budget_window)
    left = None if ratio is None else total - ratio * window_days * _DAY / _MINUTE
    left_ratio = None if left is None else left / total

    ratios = {w: _error_ratio(results, w) for w in _BURN_WINDOWS}
    rates = {w: _burn_rate(r, target) for w, r in ratios.items()}
    pairs = tuple(
        BurnPair(
            long, short, threshold, alert, rates[long], rates[short],
            _over(rates[long], threshold) and _over(rates[short], threshold),
        )
        for long, short, threshold, alert in _PAIRS
    )
    burn_rates = tuple(
        BurnRate(
            window,
            ratios[window],
            rates[window],
            tuple(p.threshold for p in pairs if window in (p.long, p.short)),
            next((p.alert for p in pairs if p.alerting and window in (p.long, p.short)), None),
        )
        for window in _BURN_WINDOWS
    )
    metrics = answered(results, f"error_ratio_{budget_window}")
    return SliReport(
        target=target,
        window_days=window_days,
        windows=windows,
        budget_total_minutes=total,
        budget_left_minutes=left,
        budget_left_ratio=left_ratio,
        burn_rates=burn_rates,
        burn_pairs=pairs,
        daily=_daily(results),
        worst=_worst_hours(results, now),
        metrics=metrics,
        severity=_severity(metrics, left_ratio, pairs),
    )


def _figure(results: Results | None, window: str, seconds: float, target: float) -> WindowFigure:
    ratio = _error_ratio(results, window)
    return WindowFigure(
        window,
        seconds,
        ratio,
        None if ratio is None else 1.0 - ratio,
        None if ratio is None else ratio * seconds / _MINUTE,
        _budget_minutes(target, seconds),
    )


def _over(rate: float | None, threshold: float) -> bool:
    return rate is not None and rate > threshold


def _points(results: Results | None, name: str) -> tuple[tuple[float, float | None], ...]:
    """(time, error ratio) of the first series of a range query; None for 0/0 points."""
    series = ranged(results, name)
    return tuple((t, _ratio(v)) for t, v in series[0].points) if series else ()


def _daily(results: Results | None) -> tuple[tuple[float, float | None], ...]:
    # A point at t is the ratio over the day that ends at t.
    return tuple(
        (t - _DAY, None if ratio is None else 1.0 - ratio)
        for t, ratio in _points(results, "error_ratio_daily")
    )


def _worst_hours(results: Results | None, now: float) -> tuple[tuple[float, float, float], ...]:
    hours = [
        (t - _HOUR, t, 1.0 - ratio)
        for t, ratio in _points(results, "error_ratio_hourly")
        if ratio is not None and ratio > 0 and t > now - _WORST_SPAN
    ]
    hours.sort(key=lambda hour: (hour[2], hour[0]))
    return tuple(hours[:_WORST_HOURS])


def _severity(
    metrics: bool, left_ratio: float | None, pairs: tuple[BurnPair, ...]
) -> Severity:
    if not metrics:
        return Severity.NONE
    severity = Severity.OK
    if left_ratio is not None and left_ratio < 0:
        severity = Severity.ERROR
    elif left_ratio is not None and left_ratio < 0.25:
        severity = Severity.WARN
    for pair in pairs:
        if pair.alerting:
            severity = max(severity, Severity.ERROR if pair.alert == "page" else Severity.WARN)
    return severity
