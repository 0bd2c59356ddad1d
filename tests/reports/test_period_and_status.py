"""Report periods in Vietnam dates as UTC ranges, and how a KPI's status is judged."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from bot.reports.period import PeriodError, parse_period
from bot.services.kpis import Status, judge
from content.plans import Target


@pytest.mark.parametrize(
    ("text", "first", "last"),
    [
        ("2026-Q4", date(2026, 10, 1), date(2026, 12, 31)),
        ("2026-Q1", date(2026, 1, 1), date(2026, 3, 31)),
        ("2026-H1", date(2026, 1, 1), date(2026, 6, 30)),
        ("2026-H2", date(2026, 7, 1), date(2026, 12, 31)),
        ("2026", date(2026, 1, 1), date(2026, 12, 31)),
        ("2026-03-01..2026-05-31", date(2026, 3, 1), date(2026, 5, 31)),
        ("2028-02-01..2028-02-29", date(2028, 2, 1), date(2028, 2, 29)),
    ],
)
def test_periods_are_vietnam_days(text: str, first: date, last: date) -> None:
    period = parse_period(text)
    assert (period.first, period.last) == (first, last)


def test_a_quarter_is_a_half_open_utc_range_from_vietnam_midnight() -> None:
    q4 = parse_period("2026-Q4")
    assert q4.start == datetime(2026, 9, 30, 17, tzinfo=UTC)
    assert q4.end == datetime(2026, 12, 31, 17, tzinfo=UTC)
    assert q4.elapsed(datetime(2026, 11, 15, 17, tzinfo=UTC)) == pytest.approx(0.5, abs=0.01)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("2026-Q5", "is not one of 2026-Q4, 2026-H1, 2026 or 2026-03-01..2026-05-31"),
        ("Q4", "is not one of"),
        ("2026-02-30..2026-03-01", "day is out of range"),
        ("2026-05-31..2026-03-01", "ends before it starts"),
    ],
)
def test_a_bad_period_is_one_english_line(text: str, says: str) -> None:
    with pytest.raises(PeriodError) as e:
        parse_period(text)
    assert says in str(e.value) and "\n" not in str(e.value)


def _target(comparator: str, value: float) -> Target:
    return Target.model_validate(
        {"metric": "briefed", "description": "x", "comparator": comparator, "value": value,
         "unit": "percent"}
    )  # fmt: skip


@pytest.mark.parametrize(
    ("comparator", "value", "achieved", "elapsed", "cumulative", "status"),
    [
        ("=", 100, 100, 0.5, True, Status.MET),
        (">=", 90, 92.5, 1.0, False, Status.MET),
        ("=", 100, 60, 0.5, True, Status.ON_TRACK),  # ahead of the time elapsed
        ("=", 100, 40, 0.5, True, Status.BEHIND),
        ("=", 100, 99, 1.0, True, Status.BEHIND),  # the period is over
        (">=", 90, 80, 0.1, False, Status.BEHIND),  # a rate does not catch up with time
        ("<=", 5, 4, 0.5, False, Status.MET),
        ("<=", 5, 6, 0.5, True, Status.BEHIND),
    ],
)
def test_status(
    comparator: str, value: float, achieved: float, elapsed: float, cumulative: bool, status: Status
) -> None:
    assert judge(_target(comparator, value), achieved, elapsed, cumulative) == status
