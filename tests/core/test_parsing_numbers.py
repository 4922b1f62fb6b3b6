"""The whole-number and day parsers of core.parsing: ASCII and fullwidth digits only. ``str.isdigit``
and ``\\d`` also take "²", "①" and "٣"; int() then fails on the first two (a 500 at the door) and
reads the third as 3. Here all three are refused with a stable code."""

import datetime as dt

import pytest

from core.errors import ServiceError
from core.parsing import date_parse, int_parse

HOSTILE_DIGITS = ["²", "①", "٣", "٣٤", "1²", "Ⅻ", "⁶"]


def refused(func, *args, **kwargs) -> ServiceError:
    with pytest.raises(ServiceError) as caught:
        func(*args, **kwargs)
    return caught.value


@pytest.mark.parametrize("text, number", [("12", 12), ("１２", 12), (" 7 ", 7), ("0", 0), ("007", 7), (5, 5)])
def test_int_parse_reads_ascii_and_fullwidth_digits(text, number):
    assert int_parse(text) == number


@pytest.mark.parametrize("text", [*HOSTILE_DIGITS, "", "  ", "-1", "+1", "1.0", "1e3", "1 2", "abc", None, True, 1.0])
def test_int_parse_refuses_anything_but_digits(text):
    error = refused(int_parse, text)
    assert (error.code, error.message) == ("bad_number", "请输入整数。")


def test_int_parse_refuses_more_digits_than_a_key_holds_without_failing_on_them():
    assert int_parse("0" * 30 + "9" * 18) == 10**18 - 1
    assert refused(int_parse, "1" + "0" * 18).code == "bad_number"
    assert refused(int_parse, "9" * 5000).code == "bad_number"  # int() alone: a ValueError past 4,300 digits


def test_int_parse_keeps_to_its_bounds_and_names_them():
    assert int_parse("2000", minimum=2000, maximum=2026) == 2000
    assert refused(int_parse, "1999", minimum=2000, maximum=2026).message == "请输入 2000 到 2026 之间的整数。"
    assert refused(int_parse, "0", minimum=1).message == "请输入不小于 1 的整数。"
    assert refused(int_parse, "11", maximum=10).message == "请输入不大于 10 的整数。"
    assert refused(int_parse, "²", label="等级").message == "等级：请输入整数。"


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
