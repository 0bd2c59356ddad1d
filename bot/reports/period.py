"""The one parser of report periods: `2026-Q4`, `2026-H1`, `2026`, `2026-03-01..2026-05-31`.

Periods are Vietnam local dates; queries get a half-open UTC range [start, end)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")
FORMS = "2026-Q4, 2026-H1, 2026 or 2026-03-01..2026-05-31"


class PeriodError(ValueError):
    """A period that does not parse; its message is one line for the operator."""


@dataclass(frozen=True, slots=True)
class Period:
    label: str
    first: date  # the first local day, inclusive
    last: date  # the last local day, inclusive
    start: datetime  # UTC, inclusive
    end: datetime  # UTC, exclusive
    tz: ZoneInfo = VIETNAM  # whose days these are

    def elapsed(self, now: datetime) -> float:
        """How much of the period has passed at `now`, from 0 to 1."""
        whole = (self.end - self.start).total_seconds()
        return min(1.0, max(0.0, (now - self.start).total_seconds() / whole))


def parse_period(text: str, tz: ZoneInfo = VIETNAM) -> Period:
    label = text.strip()
    first, last = _days(label)
    if last < first:
        raise PeriodError(f"period {label!r} ends before it starts")

    def utc(day: date) -> datetime:
        return datetime.combine(day, time(), tz).astimezone(UTC)

    return Period(label, first, last, utc(first), utc(last + timedelta(days=1)), tz)


def quarter_of(day: date, tz: ZoneInfo = VIETNAM) -> Period:
    return parse_period(f"{day.year}-Q{(day.month - 1) // 3 + 1}", tz)


def _days(label: str) -> tuple[date, date]:
    if m := re.fullmatch(r"(\d{4})-Q([1-4])", label):
        year, q = int(m[1]), int(m[2])
        return date(year, 3 * q - 2, 1), _month_end(year, 3 * q)
    if m := re.fullmatch(r"(\d{4})-H([12])", label):
        year, h = int(m[1]), int(m[2])
        return date(year, 6 * h - 5, 1), _month_end(year, 6 * h)
    if re.fullmatch(r"\d{4}", label):
        return date(int(label), 1, 1), date(int(label), 12, 31)
    if m := re.fullmatch(r"(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})", label):
        try:
            return date.fromisoformat(m[1]), date.fromisoformat(m[2])
        except ValueError as e:
            raise PeriodError(f"period {label!r}: {e}") from None
    raise PeriodError(f"period {label!r} is not one of {FORMS}")


def _month_end(year: int, month: int) -> date:
    following = date(year + month // 12, month % 12 + 1, 1)
    return following - timedelta(days=1)
