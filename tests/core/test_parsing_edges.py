"""The shared parsers at their edges: a Period that cannot exist, what a year or a quarter cannot
do, amounts too large for the portal or for a Decimal, NaN and infinity; a notification for a
recipient who is gone."""

from decimal import Decimal

import pytest

from core.errors import ServiceError
from core.models import Notification
from core.parsing import Period, money_parse, money_text
from core.services import notification_deliver


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        ({"year": 0, "month": 1}, "not a period"),
        ({"year": 2025, "month": 3, "quarter": 1}, "not a period"),
        ({"year": 2025, "month": 13}, "not a month"),
        ({"year": 2025, "quarter": 5}, "not a quarter"),
    ],
)
def test_a_period_that_cannot_exist_cannot_be_made(kwargs, reason):
    with pytest.raises(ValueError, match=reason):
        Period(**kwargs)


def test_a_year_is_in_no_quarter_and_only_a_month_shifts():
    with pytest.raises(ValueError, match="no quarter"):
        Period(2025).quarter_of()
    with pytest.raises(ValueError, match="only a month"):
        Period(2025, quarter=1).shift(1)
    assert Period(2025, quarter=2).quarter_of() == Period(2025, quarter=2)


def test_a_period_does_not_compare_with_its_text():
    with pytest.raises(TypeError):
        Period(2025, month=3) < "2025-04"  # noqa: B015
    assert Period(2025, month=3) != "2025-03"


@pytest.mark.parametrize(
    "value",
    [
        "10000000000",  # over 9,999,999,999 CNY
        "10,000,000,000.00",
        Decimal("NaN"),
        Decimal("Infinity"),
        Decimal("1E+40"),  # more digits than a Decimal holds at two decimals
        1e30,  # a float too large to be an amount of cents
        float("nan"),
        float("-inf"),
    ],
)
def test_it_refuses_amounts_no_one_could_pay(value):
    with pytest.raises(ServiceError) as caught:
        money_text(value)
    assert caught.value.code == "bad_amount"
    with pytest.raises(ServiceError):
        money_parse(value)


def test_the_largest_amount_is_accepted():
    assert money_text("9,999,999,999.99") == "9999999999.99"


def test_a_notification_for_a_recipient_who_is_gone_is_dropped(db):
    assert notification_deliver(recipient_id=987654, payload={"kind": "x", "title": "t"}, dedupe_key="k") is None
    assert not Notification.objects.exists()
