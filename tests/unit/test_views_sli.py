"""The SLI report: budgets in bad minutes, burn-rate pairs, daily SLI and the worst hours."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pytest
from cpanel_platform.prom.results import Sample, Series
from cpanel_platform.views.common import Severity
from cpanel_platform.views.sli import sli_report, year_start

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC).timestamp()
HOUR, DAY = 3600, 86400
TARGET = 0.9999


def ratios(**by_window: float) -> dict[str, tuple[Sample, ...]]:
    """Instant answers for error_ratio_<window>; every other window answered 0."""
    windows = ("5m", "30m", "1h", "2h", "6h", "1d", "3d", "30d", "ytd")
    return {
        f"error_ratio_{w}": (Sample({}, by_window.get(w, 0.0)),) for w in windows
    }


def test_budget_of_four_nines_over_30_days_is_4_32_minutes() -> None:
    report = sli_report(ratios(**{"30d": 0.00005}), TARGET, 30, NOW)

    assert report.metrics
    assert report.budget_total_minutes == pytest.approx(4.32)
    thirty = report.window("30d")
    assert thirty is not None
    assert thirty.budget_minutes == pytest.approx(4.32)
    assert thirty.downtime_minutes == pytest.approx(2.16)
    assert thirty.availability == pytest.approx(0.99995)
    assert report.budget_left_minutes == pytest.approx(2.16)
    assert report.budget_left_ratio == pytest.approx(0.5)
    assert report.severity is Severity.OK


def test_windows_figures_and_year_to_date_length() -> None:
    report = sli_report(ratios(**{"1h": 0.01, "1d": 0.001, "ytd": 0.0001}), TARGET, 30, NOW)

    assert [w.window for w in report.windows] == ["1h", "1d", "30d", "ytd"]
    hour = report.window("1h")
    assert hour is not None
    assert hour.downtime_minutes == pytest.approx(0.6)  # 1% of 60 minutes
    assert hour.budget_minutes == pytest.approx(0.006)
    day = report.window("1d")
    assert day is not None and day.downtime_minutes == pytest.approx(1.44)
    ytd = report.window("ytd")
    assert ytd is not None
    # 1 January to 1 March 12:00 in 2026: 59.5 days.
    assert ytd.seconds == pytest.approx(59.5 * DAY)
    assert ytd.downtime_minutes == pytest.approx(0.0001 * 59.5 * 1440)
    assert year_start(NOW) == datetime(2026, 1, 1, tzinfo=UTC).timestamp()


def test_budget_exhausted_goes_negative_and_is_an_error() -> None:
    report = sli_report(ratios(**{"30d": 0.0002}), TARGET, 30, NOW)

    assert report.budget_left_minutes == pytest.approx(-4.32)
    assert report.budget_left_ratio == pytest.approx(-1.0)
    assert report.severity is Severity.ERROR


def test_budget_nearly_spent_warns() -> None:
    report = sli_report(ratios(**{"30d": 0.00008}), TARGET, 30, NOW)

    assert report.budget_left_ratio == pytest.approx(0.2)
    assert report.severity is Severity.WARN


def test_other_slo_window_scales_the_budget_with_the_30_day_ratio() -> None:
    report = sli_report(ratios(**{"30d": 0.00005}), TARGET, 7, NOW)

    assert report.budget_total_minutes == pytest.approx(1.008)
    assert report.budget_left_minutes == pytest.approx(0.504)


def test_no_traffic_nan_ratio_is_unknown_not_a_crash() -> None:
    results = ratios(**{"1h": math.nan, "5m": math.nan})
    report = sli_report(results, TARGET, 30, NOW)

    hour = report.window("1h")
    assert hour is not None
    assert hour.availability is None and hour.downtime_minutes is None
    five = next(b for b in report.burn_rates if b.window == "5m")
    assert five.rate is None
    assert not report.burn_pairs[0].alerting
    assert report.budget_left_ratio == pytest.approx(1.0)


def test_answered_without_series_means_no_figure() -> None:
    results = {**ratios(), "error_ratio_30d": ()}
    report = sli_report(results, TARGET, 30, NOW)

    assert report.metrics  # Prometheus answered, there is simply no traffic series
    assert report.budget_left_minutes is None
    assert report.budget_total_minutes == pytest.approx(4.32)


@pytest.mark.parametrize("results", [None, {}])
def test_no_prometheus(results: dict | None) -> None:
    report = sli_report(results, TARGET, 30, NOW)

    assert not report.metrics
    assert report.severity is Severity.NONE
    assert all(w.availability is None for w in report.windows)
    assert all(b.rate is None for b in report.burn_rates)
    assert not any(p.alerting for p in report.burn_pairs)
    assert report.daily == () and report.worst == ()
    assert report.budget_total_minutes == pytest.approx(4.32)


def test_page_pair_alerts_when_both_windows_burn_over_14_4() -> None:
    # 1h burns 20x and 5m 30x the budget rate: both over 14.4.
    report = sli_report(ratios(**{"1h": 0.002, "5m": 0.003}), TARGET, 30, NOW)

    page = report.burn_pairs[0]
    assert (page.long, page.short, page.threshold, page.alert) == ("1h", "5m", 14.4, "page")
    assert page.long_rate == pytest.approx(20.0)
    assert page.short_rate == pytest.approx(30.0)
    assert page.alerting
    hour = next(b for b in report.burn_rates if b.window == "1h")
    assert hour.alerting == "page"
    assert report.severity is Severity.ERROR


def test_one_window_over_is_not_an_alert() -> None:
    # The 1h window still burns 20x but the last 5 minutes have recovered (1x).
    report = sli_report(ratios(**{"1h": 0.002, "5m": 0.0001}), TARGET, 30, NOW)

    assert not any(p.alerting for p in report.burn_pairs)
    assert all(b.alerting is None for b in report.burn_rates)
    assert report.severity is Severity.OK


def test_ticket_pair_warns() -> None:
    report = sli_report(ratios(**{"1d": 0.0004, "2h": 0.0005}), TARGET, 30, NOW)

    ticket = next(p for p in report.burn_pairs if p.long == "1d")
    assert ticket.alerting and ticket.alert == "ticket" and ticket.threshold == 3.0
    assert report.severity is Severity.WARN


def test_windows_belong_to_their_pairs() -> None:
    report = sli_report(ratios(), TARGET, 30, NOW)

    thresholds = {b.window: b.thresholds for b in report.burn_rates}
    assert thresholds == {
        "5m": (14.4,), "30m": (6.0,), "1h": (14.4,), "2h": (3.0,), "6h": (6.0, 1.0),
        "1d": (3.0,), "3d": (1.0,),
    }


def test_daily_availability_by_day_start() -> None:
    end = NOW - NOW % DAY
    points = ((end - DAY, 0.0), (end, 0.001), (end + DAY, math.nan))
    results = {**ratios(), "error_ratio_daily": (Series({}, points),)}

    daily = sli_report(results, TARGET, 30, NOW).daily
    assert daily == (
        (end - 2 * DAY, 1.0),
        (end - DAY, pytest.approx(0.999)),
        (end, None),
    )


def test_worst_five_hours_of_the_week() -> None:
    base = NOW - NOW % HOUR
    points = (
        (base - 8 * DAY, 0.5),  # older than a week: left out
        (base - 10 * HOUR, 0.0),  # a perfect hour: left out
        (base - 9 * HOUR, 0.02),
        (base - 8 * HOUR, math.nan),  # no traffic: left out
        (base - 7 * HOUR, 0.001),
        (base - 6 * HOUR, 0.3),
        (base - 5 * HOUR, 0.0005),
        (base - 4 * HOUR, 0.004),
        (base - 3 * HOUR, 0.0001),
    )
    results = {**ratios(), "error_ratio_hourly": (Series({}, points),)}

    worst = sli_report(results, TARGET, 30, NOW).worst
    assert [(start, end) for start, end, _ in worst] == [
        (base - 7 * HOUR, base - 6 * HOUR),
        (base - 10 * HOUR, base - 9 * HOUR),
        (base - 5 * HOUR, base - 4 * HOUR),
        (base - 8 * HOUR, base - 7 * HOUR),
        (base - 6 * HOUR, base - 5 * HOUR),
    ]
    assert [a for _, _, a in worst] == pytest.approx([0.7, 0.98, 0.996, 0.999, 0.9995])
