"""Periods of the hardship app, read with `core.parsing`'s one period parser: a month "2025-03" or
a quarter "2025-Q1", and the dates of aid and reviews.

Hardship's own rule is that a quarter's rows count in its last month, the month whose cycle
screens and publishes them (`period_of_month`, `period_window`). The monthly cycle, screening, the
outbound data and the reports read periods through these helpers; aid is counted in the month of
its date (`period_of`), and a yearly review falls a year later (`add_years`).
"""

import datetime as dt
from functools import lru_cache

from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import ServiceError
from core.parsing import Period, period_parse


def period_check(period: str) -> str:
    """The period in its canonical form once it parses (ServiceError `bad_period` otherwise)."""
    return str(period_parse(period))


def period_not_future(period: str, today: dt.date | None = None) -> str:
    """The period in its canonical form, refused (`period_in_future`) when its (last) month has not
    begun: the cycle screens and publishes data agencies have pushed, so a typed 2031-06 can build
    no roster and publish no outbound data for a year that has not come."""
    parsed = period_parse(period)
    this_month = Period.of(today or timezone.localdate())
    if parsed.last_month > this_month:
        raise ServiceError(
            "period_in_future",
            _("%(period)s has not begun: choose %(month)s or an earlier period.")
            % {"period": str(parsed), "month": str(this_month)},
        )
    return str(parsed)


def period_aliases(month: Period) -> list[str]:
    """The period strings whose (last) month is `month`: the month, and its quarter if it ends it."""
    quarter = month.quarter_of()
    return [str(month), str(quarter)] if quarter.last_month == month else [str(month)]


def period_of_month(period: str) -> list[str]:
    """The period strings counted as `period`'s (last) month (e.g. 2025-03 → 2025-03 and 2025-Q1)."""
    return period_aliases(period_parse(period).last_month)


def period_months(period: str) -> list[str]:
    """The months of the period: itself, or the quarter's three."""
    return [str(month) for month in period_parse(period).months()]


def period_window(period: str, months: int = 12) -> list[str]:
    """The period strings of the `months` months ending at `period` (quarters by their last month)."""
    last = period_parse(period).last_month
    return [name for back in range(months) for name in period_aliases(last.shift(-back))]


@lru_cache(maxsize=1024)  # screening sorts every pushed row of a window by its (few) periods
def period_sort_key(period: str) -> tuple[bool, Period | None]:
    """Periods in `core.parsing.Period`'s order (a month before the quarter it ends); unparsable
    periods first."""
    try:
        return (True, period_parse(period))
    except ServiceError:
        return (False, None)


def previous_month(today: dt.date | None = None) -> str:
    """The month before `today`'s (default: the local date), as "YYYY-MM"."""
    return str(Period.of(today or timezone.localdate()).shift(-1))


def period_of(day: dt.date) -> str:
    """The month a date falls in: 2025-03-14 → "2025-03"."""
    return str(Period.of(day))


def add_years(day: dt.date, years: int = 1) -> dt.date:
    """The same day `years` later; 29 February becomes 28 February."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)
