"""Two merchants send the same voucher at the same moment: it is used once (PostgreSQL)."""

import threading
from decimal import Decimal

import pytest
from django.db import connection

from core.errors import ServiceError
from vouchers.models import RedemptionItem, Voucher
from vouchers.services import redemption as rd


@pytest.mark.django_db(transaction=True)
def test_one_voucher_sent_from_two_merchants_at_once_is_used_once(
    uses_postgres, food_merchant, digital_merchant, stack_campaign, member, voucher_factory
):
    stack_campaign.accepted_categories = ["food", "digital"]
    stack_campaign.save()
    voucher = voucher_factory(stack_campaign, member)
    barrier = threading.Barrier(8)
    outcomes = []

    def redeem(i):
        merchant = food_merchant if i % 2 else digital_merchant
        try:
            barrier.wait()
            rd.redemption_create(merchant=merchant, codes=[voucher.code], order_amount="1500", order_ref=f"o{i}")
            outcomes.append("ok")
        except ServiceError as exc:
            outcomes.append(exc.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=redeem, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["ok"] + ["voucher_used"] * 7
    assert RedemptionItem.objects.filter(voucher=voucher).count() == 1
    voucher.refresh_from_db()
    assert voucher.state == Voucher.State.USED


@pytest.mark.django_db(transaction=True)
def test_concurrent_retries_with_one_key_give_one_redemption(
    uses_postgres, food_merchant, stack_campaign, member, voucher_factory
):
    voucher = voucher_factory(stack_campaign, member)
    barrier = threading.Barrier(6)
    ids = []

    def redeem():
        try:
            barrier.wait()
            red = rd.redemption_create(
                merchant=food_merchant, codes=[voucher.code], order_amount=Decimal("1500"), order_ref="same",
                idempotency_key="retry-1",
            )  # fmt: skip
            ids.append(red.pk)
        finally:
            connection.close()

    threads = [threading.Thread(target=redeem) for _i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(ids) == 6 and len(set(ids)) == 1


def _run_together(*funcs):
    barrier = threading.Barrier(len(funcs))

    def run(func):
        try:
            barrier.wait()
            func()
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(f,)) for f in funcs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


@pytest.mark.django_db(transaction=True)
def test_concurrent_refund_retries_with_one_key_give_one_refund(
    uses_postgres, food_merchant, stack_campaign, member, voucher_factory
):
    voucher = voucher_factory(stack_campaign, member)
    red = rd.redemption_create(merchant=food_merchant, codes=[voucher.code], order_amount="1000", order_ref="o")
    ids = []

    def refund():
        ids.append(
            rd.redemption_refund(merchant=red.merchant, redemption_id=red.pk, amount="500", idempotency_key="r-1").pk
        )

    _run_together(*[refund] * 6)
    assert len(ids) == 6 and len(set(ids)) == 1
    assert red.refunds.count() == 1
    voucher.refresh_from_db()
    assert voucher.state == Voucher.State.USED


@pytest.mark.django_db(transaction=True)
def test_a_refund_racing_the_payment_never_lets_a_paid_voucher_back(
    uses_postgres, food_merchant, stack_campaign, member, voucher_factory
):
    import datetime as dt

    from django.utils import timezone

    from vouchers.models import Redemption, Settlement, VoucherSettings
    from vouchers.services.settlement import settlement_build, settlement_mark_paid

    VoucherSettings.objects.filter(pk=VoucherSettings.get().pk).update(refund_window_hours=24 * 365)
    voucher = voucher_factory(stack_campaign, member)
    red = rd.redemption_create(merchant=food_merchant, codes=[voucher.code], order_amount="1000", order_ref="o")
    last_month = timezone.localdate().replace(day=1) - dt.timedelta(days=1)
    noon = timezone.make_aware(dt.datetime.combine(last_month, dt.time(12, 0)))
    Redemption.objects.filter(pk=red.pk).update(created_at=noon)  # last month, within the (one-year) window
    settlement_build(month=last_month.strftime("%Y-%m"))
    settlement = Settlement.objects.get()
    outcomes = {}

    def pay():
        try:
            settlement_mark_paid(settlement=settlement, actor=None)
            outcomes["paid"] = "ok"
        except ServiceError as exc:
            outcomes["paid"] = exc.code

    def refund():
        outcomes["refund"] = rd.redemption_refund(merchant=red.merchant, redemption_id=red.pk, amount="1000").vouchers

    _run_together(pay, refund)
    voucher.refresh_from_db()
    assert outcomes in (
        {"paid": "ok", "refund": "kept_used"},
        {"paid": "settlement_outdated", "refund": "restored"},
    ), outcomes
    if outcomes["paid"] == "ok":
        assert voucher.state == Voucher.State.USED
    else:
        assert voucher.state == Voucher.State.CLAIMED and Settlement.objects.get().paid_at is None
