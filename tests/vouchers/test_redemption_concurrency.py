"""Two merchants send the same voucher at the same moment: it is used once (PostgreSQL)."""

import threading
from decimal import Decimal

import pytest
from django.db import connection

from members.services import ServiceError
from vouchers import redemption as rd
from vouchers.models import RedemptionItem, Voucher


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
