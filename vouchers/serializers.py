"""Input and output serializers of the vouchers API, one pair per operation (see vouchers/api.py).

Nothing here carries anything about a member beyond the masked name.
"""

from rest_framework import serializers

from core.api_fields import MoneyField
from vouchers.models import Redemption, Refund, Voucher

MONEY = {"max_digits": 12, "decimal_places": 2}
AMOUNT_CODES = (
    "At most two decimals, more than zero; refused with 400 `invalid` and the field code `bad_amount` "
    "(not an amount, zero, an exponent, more than two decimals) or `negative_amount`."
)


# --- GET /api/v1/vouchers/{code} -------------------------------------------------------------------


class VoucherCheckOutputSerializer(serializers.Serializer):
    code = serializers.CharField()
    state = serializers.ChoiceField(choices=Voucher.State.choices)
    face_value = serializers.DecimalField(**MONEY)
    threshold = serializers.DecimalField(**MONEY, help_text="The order must reach this amount (per voucher).")
    stackable = serializers.BooleanField()
    max_per_order = serializers.IntegerField()
    expires_at = serializers.DateTimeField()
    campaign = serializers.CharField(help_text="The campaign's name.")
    masked_name = serializers.CharField(help_text="The holder's name, masked (e.g. 周**).")
    usable_here = serializers.BooleanField(help_text="Whether the calling merchant can use it now.")
    reason = serializers.CharField(
        allow_blank=True,
        help_text="Why not, when `usable_here` is false: `voucher_used`, `voucher_expired`, `voucher_void`, "
        "`voucher_not_yet_valid`, `member_inactive`, `not_accepted_here`, `merchant_suspended`.",
    )
    message = serializers.CharField(allow_blank=True)


# --- POST /api/v1/vouchers/redemptions -----------------------------------------------------------------


class RedemptionInputSerializer(serializers.Serializer):
    codes = serializers.ListField(
        child=serializers.CharField(max_length=2000),
        min_length=1,
        max_length=20,
        help_text="Voucher codes (or scanned QR tokens) of one member and one campaign.",
    )
    order_amount = MoneyField(allow_zero=False, help_text=f"CNY, before discount. {AMOUNT_CODES}")
    order_ref = serializers.CharField(
        max_length=64, help_text="The merchant's own order reference, unique per merchant."
    )


class RedemptionOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    order_ref = serializers.CharField()
    order_amount = serializers.DecimalField(**MONEY)
    discount = serializers.DecimalField(**MONEY)
    payable = serializers.DecimalField(**MONEY, help_text="What the customer pays: order amount minus discount.")
    used_codes = serializers.ListField(
        child=serializers.CharField(), help_text="The vouchers used; surplus ones in the request stay unused."
    )
    state = serializers.ChoiceField(choices=Redemption.State.choices)
    created_at = serializers.DateTimeField()


# --- POST /api/v1/vouchers/redemptions/{id}/refund ------------------------------------------------------


class RefundInputSerializer(serializers.Serializer):
    amount = MoneyField(allow_zero=False, help_text=f"CNY refunded to the customer. {AMOUNT_CODES}")


class RefundOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    redemption = serializers.IntegerField(source="redemption_id")
    amount = serializers.DecimalField(**MONEY)
    full = serializers.BooleanField(help_text="The refunds of the order now add up to its whole amount.")
    vouchers_restored = serializers.BooleanField(
        help_text="A full refund within the refund window gives the vouchers back, with their original expiry."
    )
    vouchers = serializers.ChoiceField(
        choices=Refund.Vouchers.choices,
        help_text="What the refund did to the order's vouchers: `unchanged` (partial refund), `restored`, `voided` "
        "(full refund after the refund window) or `kept_used` (full refund after the union paid the merchant for "
        "the month: the vouchers stay used and are not paid for again).",
    )
    notice = serializers.CharField(allow_blank=True, help_text="A message to show when the vouchers were not restored.")
    redemption_state = serializers.ChoiceField(choices=Redemption.State.choices)
    created_at = serializers.DateTimeField()
