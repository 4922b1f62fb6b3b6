"""The whole-number and day parsers of core.parsing: ASCII and fullwidth digits only. ``str.isdigit``
and ``\\d`` also take "²", "①" and "٣"; int() then fails on the first two (a 500 at the door) and
reads the third as 3. Here all three are refused with a stable code."""

import datetime as dt

import pytest

from core.errors import ServiceError
from core.parsing import date_parse


def refused(func, *args, **kwargs) -> ServiceError:
    with pytest.raises(ServiceError) as caught:
        func(*args, **kwargs)
    return caught.value


@pytest.mark.parametrize(
    "text",
    [
        "2024-03-01",
        "2024/3/1",
        "2024.3.1",
        "2024年3月1日",
        "2024 年 3 月 1 日",
        "20240301",
        "２０２４-０３-０１",
        " 2024-3-1 ",
    ],
)
def test_date_parse_reads_the_forms_people_type(text):
    assert date_parse(text) == dt.date(2024, 3, 1)


def test_date_parse_takes_a_date_or_a_datetimes_day():
    assert date_parse(dt.date(2024, 3, 1)) == dt.date(2024, 3, 1)
    assert date_parse(dt.datetime(2024, 3, 1, 8, 30, tzinfo=dt.UTC)) == dt.date(2024, 3, 1)


@pytest.mark.parametrize(
    "text",
    ["٢٠٢٤-03-01", "2024-0٣-01", "2024-03-①", "2024-03-0²", "2024-02-30", "2024-13-01", "2024-3", "240301", "", None],
)
def test_date_parse_refuses_other_digits_and_days_that_do_not_exist(text):
    error = refused(date_parse, text)
    assert (error.code, error.message) == ("bad_date", "请按 2024-03-01 的格式填写日期。")
