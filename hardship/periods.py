"""Periods of the hardship app: a month "2025-03" or a quarter "2025-Q1" (a quarter counts as its
last month), and the dates of aid and reviews.

The monthly cycle, screening, the outbound data and the reports read periods through these
helpers; aid is counted in the month of its date (`period_of`), a warmth batch is paid for a
month (`month_parse`), and a yearly review falls a year later (`add_years`).
"""

import datetime as dt
import re

from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import ServiceError

_MONTH_RE = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$", re.ASCII)
_QUARTER_RE = re.compile(r"^(\d{4})-Q([1-4])$", re.ASCII)


def period_month(period: str) -> tuple[int, int]:
    """(year, month) of a period; a quarter counts as its last month. ServiceError if malformed."""
    period = (period or "").strip()
    if m := _MONTH_RE.match(period):
        return int(m[1]), int(m[2])
    if m := _QUARTER_RE.match(period):
        return int(m[1]), int(m[2]) * 3
    raise ServiceError("bad_period", _("A period is a month (2025-03) or a quarter (2025-Q1)."))


def period_check(period: str) -> str:
    """The period, stripped, once it parses (`bad_period` otherwise)."""
    period_month(period)
    return period.strip()


def _month_str(year: int, month: int) -> str:
    return f"{year:04d}-{month:02d}"


def _shift(year: int, month: int, months: int) -> tuple[int, int]:
    n = year * 12 + (month - 1) + months
    return n // 12, n % 12 + 1


def period_aliases(year: int, month: int) -> list[str]:
    """The period strings whose (last) month is this month: the month, and its quarter if it ends it."""
    names = [_month_str(year, month)]
    if month % 3 == 0:
        names.append(f"{year:04d}-Q{month // 3}")
    return names


def period_of_month(period: str) -> list[str]:
    """The period strings counted as `period`'s month (e.g. 2025-03 → 2025-03 and 2025-Q1)."""
    return period_aliases(*period_month(period))


def period_months(period: str) -> list[str]:
    """The months of the period: itself, or the quarter's three."""
    period = period_check(period)
    year, month = period_month(period)
    if _QUARTER_RE.match(period):
        return [_month_str(*_shift(year, month, -back)) for back in (2, 1, 0)]
    return [_month_str(year, month)]


def period_window(period: str, months: int = 12) -> list[str]:
    """The period strings of the `months` months ending at `period` (quarters by their last month)."""
    year, month = period_month(period)
    names: list[str] = []
    for back in range(months):
        names += period_aliases(*_shift(year, month, -back))
    return names


def period_bounds(period: str) -> tuple[dt.datetime, dt.datetime]:
    """[start, end) of the period in local time: a month, or the quarter's three months."""
    period = period_check(period)
    year, month = period_month(period)
    first = _shift(year, month, -2) if _QUARTER_RE.match(period) else (year, month)
    after = _shift(year, month, 1)
    tz = timezone.get_current_timezone()
    return (
        dt.datetime(first[0], first[1], 1, tzinfo=tz),
        dt.datetime(after[0], after[1], 1, tzinfo=tz),
    )


def period_sort_key(period: str) -> tuple[int, int, int]:
    """Months before quarters of the same last month; unparsable periods first."""
    try:
        year, month = period_month(period)
    except ServiceError:
        return (0, 0, 0)
    return (year, month, 1 if "Q" in period else 0)


def previous_month(today: dt.date | None = None) -> str:
    """The month before `today`'s (default: the local date), as "YYYY-MM"."""
    today = today or timezone.localdate()
    return _month_str(*_shift(today.year, today.month, -1))


def add_years(day: dt.date, years: int = 1) -> dt.date:
    """The same day `years` later; 29 February becomes 28 February."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def period_of(day: dt.date) -> str:
    """The month a date falls in: 2025-03-14 → "2025-03"."""
    return f"{day.year:04d}-{day.month:02d}"


def month_parse(period: str) -> dt.date:
    """The first day of a month "2025-03" (a quarter is refused: `bad_period`)."""
    match = re.fullmatch(r"(\d{4})-(0[1-9]|1[0-2])", period or "", re.ASCII)
    if match is None:
        raise ServiceError("bad_period", _("A period is a month such as 2025-03."))
    return dt.date(int(match[1]), int(match[2]), 1)
