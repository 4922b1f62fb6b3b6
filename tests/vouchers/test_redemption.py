import datetime as dt
import re
from decimal import Decimal

import pytest
from django.utils import timezone

from core.errors import ServiceError
from core.models import AuditEntry
from vouchers.models import Redemption, RedemptionItem, Voucher, VoucherSettings
from vouchers.services import redemption as rd


def _codes(vouchers):
    return [v.code for v in vouchers]


def _error(func, **kwargs) -> str:
    with pytest.raises(ServiceError) as exc:
        func(**kwargs)
    return exc.value.code


def test_new_codes_avoid_look_alike_characters():
    codes = {rd.new_voucher_code() for _i in range(200)}
    assert len(codes) == 200
    for code in codes:
        assert len(code) == 10
        assert not set(code) & set("0O1IL2Z5S8B")


def test_token_carries_code_and_masked_name_only(stack_campaign, member, voucher_factory):
    voucher = voucher_factory(stack_campaign, member)
    token = rd.voucher_token(voucher)
    assert rd.voucher_from_token(token) == voucher
    from django.core import signing

    assert signing.loads(token, salt=rd.QR_SALT) == {"c": voucher.code, "n": "周**"}
    assert rd.voucher_from_token(token[:-2] + "xx") is None
    assert rd.code_from_input(token) == voucher.code
    assert rd.code_from_input(" " + voucher.code.lower() + " ") == voucher.code


def test_it_uses_one_voucher_per_full_threshold(food_merchant, stack_campaign, member, voucher_factory):
    vouchers = [voucher_factory(stack_campaign, member) for _i in range(3)]
    red = rd.redemption_create(
        merchant=food_merchant, codes=_codes(vouchers), order_amount=Decimal("2350"), order_ref="A1"
    )
    assert red.discount == Decimal("200.00")
    assert red.payable == Decimal("2150.00")
    used = set(red.items.values_list("voucher__code", flat=True))
    assert used == {vouchers[0].code, vouchers[1].code}
    vouchers[2].refresh_from_db()
    assert vouchers[2].state == Voucher.State.CLAIMED
    assert Voucher.objects.filter(state=Voucher.State.USED).count() == 2
    assert AuditEntry.objects.filter(action="vouchers.redemption.created", object_id=str(red.pk)).exists()


def test_quote_changes_nothing(food_merchant, stack_campaign, member, voucher_factory):
    vouchers = [voucher_factory(stack_campaign, member) for _i in range(3)]
    quote = rd.redemption_quote(merchant=food_merchant, codes=_codes(vouchers), order_amount="2350")
    assert quote["discount"] == Decimal("200") and quote["payable"] == Decimal("2150")
    assert quote["unused_codes"] == [vouchers[2].code]
    assert not Voucher.objects.exclude(state=Voucher.State.CLAIMED).exists()


def test_it_caps_stacking_at_max_per_order(food_merchant, stack_campaign, member, voucher_factory):
    stack_campaign.max_per_order = 2
    stack_campaign.save()
    vouchers = [voucher_factory(stack_campaign, member) for _i in range(3)]
    quote = rd.redemption_quote(merchant=food_merchant, codes=_codes(vouchers), order_amount="5000")
    assert quote["discount"] == Decimal("200") and len(quote["used_codes"]) == 2


def test_it_refuses_an_order_below_the_threshold(food_merchant, stack_campaign, member, voucher_factory):
    voucher = voucher_factory(stack_campaign, member)
    code = _error(rd.redemption_create, merchant=food_merchant, codes=[voucher.code], order_amount="999", order_ref="B")
    assert code == "below_threshold"
    voucher.refresh_from_db()
    assert voucher.state == Voucher.State.CLAIMED


def test_a_non_stackable_campaign_uses_one_voucher(food_merchant, stack_campaign, member, voucher_factory):
    stack_campaign.stackable = False
    stack_campaign.save()
    vouchers = [voucher_factory(stack_campaign, member) for _i in range(2)]
    red = rd.redemption_create(merchant=food_merchant, codes=_codes(vouchers), order_amount="3000", order_ref="C")
    assert red.discount == Decimal("100") and red.items.count() == 1


def test_discount_never_exceeds_the_order(food_merchant, stack_campaign, member, voucher_factory):
    stack_campaign.threshold = Decimal("0")
    stack_campaign.save()
    voucher = voucher_factory(stack_campaign, member)
    quote = rd.redemption_quote(merchant=food_merchant, codes=[voucher.code], order_amount="60")
    assert quote["discount"] == Decimal("60") and quote["payable"] == Decimal("0")


def test_it_refuses_another_categorys_merchant(digital_merchant, stack_campaign, member, voucher_factory):
    voucher = voucher_factory(stack_campaign, member)
    assert (
        _error(
            rd.redemption_create, merchant=digital_merchant, codes=[voucher.code], order_amount="1000", order_ref="D"
        )
        == "not_accepted_here"
    )
    check = rd.voucher_check(merchant=digital_merchant, code=voucher.code)
    assert check["usable_here"] is False and check["reason"] == "not_accepted_here"
    stack_campaign.accepted_merchants.add(digital_merchant)
    assert rd.voucher_check(merchant=digital_merchant, code=voucher.code)["usable_here"] is True


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"state": "used"}, "voucher_used"),
        ({"state": "void"}, "voucher_void"),
        ({"state": "expired"}, "voucher_expired"),
        ({"expires_at": timezone.now() - dt.timedelta(minutes=1)}, "voucher_expired"),
    ],
)
def test_it_refuses_unusable_vouchers(food_merchant, stack_campaign, member, voucher_factory, fields, code):
    voucher = voucher_factory(stack_campaign, member, **fields)
    assert (
        _error(rd.redemption_create, merchant=food_merchant, codes=[voucher.code], order_amount="1000", order_ref="E")
        == code
    )
    assert rd.voucher_check(merchant=food_merchant, code=voucher.code)["reason"] == code
    assert not Redemption.objects.exists()


def test_it_refuses_unknown_codes_and_inactive_members(food_merchant, stack_campaign, member, voucher_factory):
    assert (
        _error(rd.redemption_create, merchant=food_merchant, codes=["ACDEFGHJKM"], order_amount="1000", order_ref="F")
        == "voucher_not_found"
    )
    voucher = voucher_factory(stack_campaign, member)
    member.status = "suspended"
    member.save()
    assert (
        _error(rd.redemption_create, merchant=food_merchant, codes=[voucher.code], order_amount="1000", order_ref="F")
        == "member_inactive"
    )


def test_it_refuses_mixed_campaigns(food_merchant, stack_campaign, member, voucher_factory):
    other = type(stack_campaign).objects.get(pk=stack_campaign.pk)
    other.pk = None
    other.name = "另一个"
    other.save()
    a = voucher_factory(stack_campaign, member)
    b = voucher_factory(other, member)
    assert (
        _error(rd.redemption_create, merchant=food_merchant, codes=[a.code, b.code], order_amount="3000", order_ref="G")
        == "mixed_campaigns"
    )


def test_a_suspended_merchant_cannot_redeem(food_merchant, stack_campaign, member, voucher_factory):
    food_merchant.state = "suspended"
    food_merchant.save()
    voucher = voucher_factory(stack_campaign, member)
    assert (
        _error(rd.redemption_create, merchant=food_merchant, codes=[voucher.code], order_amount="1000", order_ref="H")
        == "merchant_suspended"
    )
    voucher.refresh_from_db()
    assert voucher.state == "claimed" and not Redemption.objects.exists()


def test_a_voucher_is_used_once(food_merchant, stack_campaign, member, voucher_factory):
    voucher = voucher_factory(stack_campaign, member)
    rd.redemption_create(merchant=food_merchant, codes=[voucher.code], order_amount="1000", order_ref="I1")
    assert (
        _error(rd.redemption_create, merchant=food_merchant, codes=[voucher.code], order_amount="1000", order_ref="I2")
        == "voucher_used"
    )
    assert RedemptionItem.objects.count() == 1


def test_the_same_idempotency_key_answers_the_first_redemption(food_merchant, stack_campaign, member, voucher_factory):
    voucher = voucher_factory(stack_campaign, member)
    args = {"merchant": food_merchant, "codes": [voucher.code], "order_amount": "1200", "order_ref": "J"}
    first = rd.redemption_create(**args, idempotency_key="k-1")
    again = rd.redemption_create(**args, idempotency_key="k-1")
    assert again.pk == first.pk
    assert Redemption.objects.count() == 1 and RedemptionItem.objects.count() == 1
    changed = {**args, "order_amount": "1300"}
    assert _error(rd.redemption_create, **changed, idempotency_key="k-1") == "idempotency_conflict"


def test_an_order_without_a_reference_is_numbered(food_merchant, stack_campaign, member, voucher_factory):
    voucher = voucher_factory(stack_campaign, member)
    args = {"merchant": food_merchant, "codes": [voucher.code], "order_amount": "1200", "order_ref": "  "}
    first = rd.redemption_create(**args, idempotency_key="k-1")
    assert re.fullmatch(r"M\d{14}-[0-9a-f]{6}", first.order_ref)
    assert rd.redemption_create(**args, idempotency_key="k-1") == first  # repeated, answered once
    assert _error(rd.redemption_create, **{**args, "order_ref": "x" * 65}) == "invalid_order_ref"


def test_the_same_order_twice_is_refused(food_merchant, stack_campaign, member, voucher_factory):
    a, b = voucher_factory(stack_campaign, member), voucher_factory(stack_campaign, member)
    rd.redemption_create(merchant=food_merchant, codes=[a.code], order_amount="1000", order_ref="K")
    assert (
        _error(rd.redemption_create, merchant=food_merchant, codes=[b.code], order_amount="1000", order_ref="K")
        == "duplicate_order"
    )


# --- Refunds -----------------------------------------------------------------------------------------


def _redeem(merchant, campaign, member, voucher_factory, n=2, amount="2350", **voucher_fields):
    vouchers = [voucher_factory(campaign, member, **voucher_fields) for _i in range(n)]
    red = rd.redemption_create(merchant=merchant, codes=_codes(vouchers), order_amount=amount, order_ref="R")
    return red, vouchers


def test_a_full_refund_in_the_window_restores_with_original_expiry(
    food_merchant, stack_campaign, member, voucher_factory
):
    red, vouchers = _redeem(food_merchant, stack_campaign, member, voucher_factory)
    expiry = vouchers[0].expires_at
    refund = rd.redemption_refund(merchant=red.merchant, redemption_id=red.pk, amount=Decimal("2350"))
    assert refund.full and refund.vouchers_restored
    for v in vouchers:
        v.refresh_from_db()
        assert v.state == Voucher.State.CLAIMED and v.used_at is None
    assert vouchers[0].expires_at == expiry
    assert not RedemptionItem.objects.filter(reversed_at__isnull=True).exists()
    red.refresh_from_db()
    assert red.state == Redemption.State.REFUNDED
    # Restored vouchers can be used again.
    again = rd.redemption_create(merchant=food_merchant, codes=_codes(vouchers), order_amount="2000", order_ref="R2")
    assert again.discount == Decimal("200")


def test_a_restored_voucher_past_its_expiry_becomes_expired(food_merchant, stack_campaign, member, voucher_factory):
    red, vouchers = _redeem(food_merchant, stack_campaign, member, voucher_factory, n=1, amount="1000")
    Voucher.objects.filter(pk=vouchers[0].pk).update(expires_at=timezone.now() - dt.timedelta(minutes=1))
    assert rd.redemption_refund(merchant=red.merchant, redemption_id=red.pk, amount="1000").vouchers_restored
    vouchers[0].refresh_from_db()
    assert vouchers[0].state == Voucher.State.EXPIRED


def test_a_full_refund_after_the_window_voids_the_vouchers_and_owes_the_merchant_nothing(
    food_merchant, stack_campaign, member, voucher_factory
):
    red, vouchers = _redeem(food_merchant, stack_campaign, member, voucher_factory)
    hours = VoucherSettings.get().refund_window_hours
    Redemption.objects.filter(pk=red.pk).update(created_at=timezone.now() - dt.timedelta(hours=hours, minutes=1))
    refund = rd.redemption_refund(merchant=red.merchant, redemption_id=red.pk, amount="2350")
    assert refund.full and not refund.vouchers_restored
    assert Voucher.objects.filter(state=Voucher.State.VOID).count() == 2
    assert not Voucher.objects.filter(state__in=[Voucher.State.USED, Voucher.State.CLAIMED]).exists()
    assert not red.items.filter(reversed_at__isnull=True).exists()  # nothing left to settle


def test_a_partial_refund_restores_nothing(food_merchant, stack_campaign, member, voucher_factory):
    red, _vouchers = _redeem(food_merchant, stack_campaign, member, voucher_factory)
    refund = rd.redemption_refund(merchant=red.merchant, redemption_id=red.pk, amount="350")
    assert not refund.full and not refund.vouchers_restored
    assert Voucher.objects.filter(state=Voucher.State.USED).count() == 2
    red.refresh_from_db()
    assert red.state == Redemption.State.PARTIALLY_REFUNDED


def test_a_refund_cannot_exceed_the_order(food_merchant, stack_campaign, member, voucher_factory):
    red, _vouchers = _redeem(food_merchant, stack_campaign, member, voucher_factory)
    rd.redemption_refund(merchant=red.merchant, redemption_id=red.pk, amount="2000")
    assert _error(rd.redemption_refund, merchant=red.merchant, redemption_id=red.pk, amount="351") == "refund_too_large"
    assert AuditEntry.objects.filter(action="vouchers.redemption.refunded").count() == 1


def test_it_refuses_to_refund_another_merchants_redemption(
    food_merchant, digital_merchant, stack_campaign, member, voucher_factory
):
    red, vouchers = _redeem(food_merchant, stack_campaign, member, voucher_factory)
    with pytest.raises(ServiceError) as exc:
        rd.redemption_refund(merchant=digital_merchant, redemption_id=red.pk, amount="2350", idempotency_key="k")
    assert (exc.value.code, exc.value.http_status) == ("not_found", 404)
    assert not red.refunds.exists()
    assert Redemption.objects.get(pk=red.pk).state == Redemption.State.COMPLETED
    assert Voucher.objects.filter(pk__in=[v.pk for v in vouchers], state=Voucher.State.USED).count() == 2
    assert not AuditEntry.objects.filter(action="vouchers.redemption.refunded").exists()


def test_a_refund_with_the_same_idempotency_key_is_recorded_once(
    food_merchant, stack_campaign, member, voucher_factory
):
    red = rd.redemption_create(
        merchant=food_merchant, codes=[voucher_factory(stack_campaign, member).code], order_amount="1000", order_ref="A"
    )
    first = rd.redemption_refund(merchant=red.merchant, redemption_id=red.pk, amount="500", idempotency_key="k")
    assert (
        rd.redemption_refund(merchant=red.merchant, redemption_id=red.pk, amount="500.00", idempotency_key=" k ")
        == first
    )
    assert (
        _error(rd.redemption_refund, merchant=red.merchant, redemption_id=red.pk, amount="400", idempotency_key="k")
        == "idempotency_conflict"
    )
    assert red.refunds.count() == 1
    assert Redemption.objects.get(pk=red.pk).state == Redemption.State.PARTIALLY_REFUNDED
    assert AuditEntry.objects.filter(action="vouchers.redemption.refunded").count() == 1


def test_a_voucher_that_would_take_nothing_off_stays_unused(food_merchant, campaign_factory, member, voucher_factory):
    """No threshold, stackable 30-yuan vouchers (e.g. ride-hailing), order 50: 30 + 20 off; the third stays unused."""
    campaign = campaign_factory(
        face_value=Decimal("30"), threshold=Decimal("0"), stackable=True, max_per_order=3, limit_per_member=3
    )
    vouchers = [voucher_factory(campaign, member) for _i in range(3)]
    quote = rd.redemption_quote(merchant=food_merchant, codes=_codes(vouchers), order_amount="50")
    assert quote["used_codes"] == _codes(vouchers[:2]) and quote["unused_codes"] == [vouchers[2].code]
    red = rd.redemption_create(merchant=food_merchant, codes=_codes(vouchers), order_amount="50", order_ref="R1")
    assert list(red.items.order_by("pk").values_list("discount", flat=True)) == [Decimal("30.00"), Decimal("20.00")]
    assert (red.discount, red.payable) == (Decimal("50.00"), Decimal("0.00"))
    assert rd.redemption_answer(red)["used_codes"] == _codes(vouchers[:2])
    vouchers[2].refresh_from_db()
    assert vouchers[2].state == Voucher.State.CLAIMED
    assert Voucher.objects.filter(state=Voucher.State.USED).count() == 2


def test_a_huge_refund_window_stored_before_the_cap_does_not_break_refunds(
    food_merchant, stack_campaign, member, voucher_factory
):
    VoucherSettings.objects.filter(pk=VoucherSettings.get().pk).update(refund_window_hours=99_999_999)
    voucher = voucher_factory(stack_campaign, member)
    red = rd.redemption_create(merchant=food_merchant, codes=[voucher.code], order_amount="1000", order_ref="A")
    assert rd.redemption_refund(merchant=red.merchant, redemption_id=red.pk, amount="1000").vouchers_restored
    voucher.refresh_from_db()
    assert voucher.state == Voucher.State.CLAIMED


def test_a_full_refund_after_the_campaign_was_settled_voids_the_vouchers(
    food_merchant, stack_campaign, member, voucher_factory
):
    from vouchers.models import Campaign

    voucher = voucher_factory(stack_campaign, member)
    red = rd.redemption_create(merchant=food_merchant, codes=[voucher.code], order_amount="1000", order_ref="A")
    Campaign.objects.filter(pk=stack_campaign.pk).update(state=Campaign.State.SETTLED)
    refund = rd.redemption_refund(
        merchant=red.merchant, redemption_id=red.pk, amount="1000"
    )  # within the refund window
    assert refund.full and not refund.vouchers_restored and refund.vouchers == "voided"
    voucher.refresh_from_db()
    assert voucher.state == Voucher.State.VOID
    assert red.items.get().reversed_at is not None
