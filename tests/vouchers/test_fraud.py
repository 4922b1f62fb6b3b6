import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from vouchers.models import Redemption, RedemptionItem
from vouchers.selectors.fraud import fraud_signals

TZ = timezone.get_current_timezone()
NOW = dt.datetime(2026, 11, 20, 15, 0, tzinfo=TZ)


@pytest.fixture
def book(stack_campaign, voucher_factory):
    """book(merchant, member, when, n=1, amount=None): a redemption written directly, with n live uses."""
    counter = iter(range(1, 100000))
    seqs = iter(range(1, 30000))

    def make(merchant, member, when, n=1, amount=None):
        i = next(counter)
        amount = Decimal(amount) if amount is not None else Decimal("3000")
        red = Redemption.objects.create(
            merchant=merchant, member=member, order_ref=f"r{i}", order_amount=amount,
            discount=Decimal("100") * n, payable=amount - Decimal("100") * n, created_at=when,
        )  # fmt: skip
        for _j in range(n):
            voucher = voucher_factory(stack_campaign, member, state="used", seq=next(seqs))
            RedemptionItem.objects.create(redemption=red, voucher=voucher, discount=Decimal("100"))
        return red

    return make


def _kinds(signals):
    return sorted((s["kind"], s["merchant"].name, s["member"], s["count"]) for s in signals)


def test_nothing_fires_on_normal_data(book, food_merchant, digital_merchant, member, other_member):
    week = NOW - dt.timedelta(days=7)
    # A member using vouchers at one merchant now and then.
    for hours in (1, 3, 30):
        book(food_merchant, member, NOW - dt.timedelta(hours=hours), n=2)
    # A busy merchant at its usual pace: 10 a day for 30 days, 25 today (< 3x).
    for day in range(1, 31):
        for i in range(10):
            book(digital_merchant, other_member, NOW - dt.timedelta(days=day, hours=2 * i))
    for i in range(25):
        book(digital_merchant, other_member, NOW - dt.timedelta(minutes=1 + 35 * i))
    # Orders near the threshold, but only four; and well above it.
    for i in range(4):
        book(food_merchant, other_member, NOW - dt.timedelta(days=i), amount="1020")
    book(food_merchant, other_member, NOW - dt.timedelta(days=1), amount="1060")
    assert fraud_signals(since=week, now=NOW) == []


def test_a_member_redeeming_many_at_one_merchant_within_an_hour(book, food_merchant, digital_merchant, member):
    for minutes in (50, 40, 20):
        book(food_merchant, member, NOW - dt.timedelta(minutes=minutes), n=2)
    # The same member elsewhere and more than an hour earlier does not add up.
    book(digital_merchant, member, NOW - dt.timedelta(minutes=30), n=3)
    book(food_merchant, member, NOW - dt.timedelta(hours=3), n=3)
    signals = fraud_signals(since=NOW - dt.timedelta(days=1), now=NOW)
    assert _kinds(signals) == [("member_burst", "老沈家面馆", "周**", 6)]


def test_a_merchant_far_above_its_usual_rate(book, food_merchant, member):
    for day in (2, 9, 16):
        book(food_merchant, member, NOW - dt.timedelta(days=day), n=2)
    for hour in range(1, 12):
        book(food_merchant, member, NOW - dt.timedelta(hours=hour, minutes=5), n=2)
    signals = [s for s in fraud_signals(since=NOW, now=NOW) if s["kind"] == "merchant_rate"]
    assert _kinds(signals) == [("merchant_rate", "老沈家面馆", "", 22)]
    assert "0.2" in signals[0]["detail"]


def test_orders_just_over_the_threshold_again_and_again(book, food_merchant, member, other_member):
    for i, amount in enumerate(["1000", "1010", "1049.99", "1050", "1001"]):
        book(food_merchant, other_member if i % 2 else member, NOW - dt.timedelta(days=i, hours=1), amount=amount)
    book(food_merchant, member, NOW - dt.timedelta(days=2), n=2, amount="2080")
    signals = fraud_signals(since=NOW - dt.timedelta(days=7), now=NOW)
    assert _kinds(signals) == [("threshold_hugging", "老沈家面馆", "", 6)]
