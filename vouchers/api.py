"""The vouchers API for merchants (核销): check a voucher, redeem vouchers against an order, refund.

Callers are merchants with an API key carrying the scope `vouchers:redeem` (issued with
`manage.py create_merchant_api_key CREDIT_CODE` or the merchant admin's action). A suspended
merchant's key is refused (401 `revoked_key`, vouchers' key check); an agency's key is refused (403 `merchant_only`).
A redemption of another merchant answers 404, as one that does not exist.
"""

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import status
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from core import idempotency
from core.api_auth import ApiKeyAuthentication, scope_required
from core.api_errors import error_responses
from core.api_parsers import JSONParser
from core.models import ApiKey
from core.throttles import ApiKeyRateThrottle
from vouchers.selectors import merchant_of_key
from vouchers.serializers import (
    RedemptionInputSerializer,
    RedemptionOutputSerializer,
    RefundInputSerializer,
    RefundOutputSerializer,
    VoucherCheckOutputSerializer,
)
from vouchers.services import REDEEM_SCOPE, redemption

TAGS = ["vouchers"]


REDEEM_ERRORS = (
    "Refusals, each with a stable `code`: 400 `invalid`, `voucher_not_found`, `not_accepted_here`, `below_threshold`, "
    "`mixed_campaigns` (one campaign per order), `mixed_members` (one member per order), `idempotency_key_required`; "
    "403 `merchant_suspended`; 409 `voucher_used`, `voucher_expired`, `voucher_void`, `voucher_not_yet_valid`, "
    "`member_inactive`, `idempotency_conflict` (the key was used with a different body), `duplicate_order` "
    "(this `order_ref` was already redeemed)."
)


class IsMerchantKey(BasePermission):
    code = "merchant_only"

    def has_permission(self, request, view):
        self.message = _("This endpoint is for merchants' API keys.")
        return isinstance(request.auth, ApiKey) and merchant_of_key(request.auth) is not None


class MerchantApiView(APIView):
    authentication_classes = [ApiKeyAuthentication]
    permission_classes = [scope_required(REDEEM_SCOPE), IsMerchantKey]
    throttle_classes = [ApiKeyRateThrottle]
    parser_classes = [JSONParser]

    def merchant(self):
        return merchant_of_key(self.request.auth)


class VoucherCheckView(MerchantApiView):
    @extend_schema(
        operation_id="vouchers_check",
        tags=TAGS,
        summary="Check a voucher before the sale",
        description=(
            "The voucher's rules, expiry and state, and whether the calling merchant can use it now "
            "(`usable_here`, with a `reason` code if not). `code` may also be the token scanned from the "
            "member's QR code. Nothing about the holder is returned beyond the masked name. "
            "Needs a merchant's key with `vouchers:redeem`."
        ),
        responses={200: VoucherCheckOutputSerializer, **error_responses(401, 403, 404, 429)},
    )
    def get(self, request, code: str):
        result = redemption.voucher_check(merchant=self.merchant(), code=code)
        return Response(VoucherCheckOutputSerializer(result).data)


class RedemptionCreateView(MerchantApiView):
    @extend_schema(
        operation_id="vouchers_redemptions_create",
        tags=TAGS,
        summary="Redeem vouchers against an order (核销)",
        description=(
            "Uses the member's vouchers against one order and answers the discount and the amount to pay. "
            "Stackable campaigns (e.g. 满1000减100): one voucher per full threshold, up to the campaign's "
            "per-order maximum; surplus vouchers in the request stay unused and `used_codes` says which were "
            "used. A voucher is used once, even when sent by two merchants at the same moment. "
            "The `Idempotency-Key` header is required: repeating a request with the same key answers the "
            "first result again (without using anything twice); the same key with a different body answers "
            "409 `idempotency_conflict`. " + REDEEM_ERRORS
        ),
        parameters=[idempotency.header_parameter("order attempt")],
        request=RedemptionInputSerializer,
        responses={201: RedemptionOutputSerializer, **error_responses(400, 401, 403, 409, 413, 415, 429)},
        examples=[
            OpenApiExample(
                "Three 满1000减100 vouchers on 2,350 CNY",
                request_only=True,
                value={
                    "codes": ["ACDEFGHJKM", "NPQRTUVWXY", "3467934679"],
                    "order_amount": "2350.00",
                    "order_ref": "POS-20261120-0042",
                },
            ),  # fmt: skip
            OpenApiExample(
                "Two used, 200 off",
                response_only=True,
                status_codes=["201"],
                value={
                    "id": 7,
                    "order_ref": "POS-20261120-0042",
                    "order_amount": "2350.00",
                    "discount": "200.00",
                    "payable": "2150.00",
                    "used_codes": ["ACDEFGHJKM", "NPQRTUVWXY"],
                    "state": "completed",
                    "created_at": "2026-11-20T14:03:11+08:00",
                },
            ),  # fmt: skip
        ],
    )
    def post(self, request):
        key = idempotency.key_from_request(request)
        data = RedemptionInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        result = redemption.redemption_create(
            merchant=self.merchant(),
            codes=data.validated_data["codes"],
            order_amount=data.validated_data["order_amount"],
            order_ref=data.validated_data["order_ref"],
            idempotency_key=key,
            actor=request.user,
        )
        return Response(
            RedemptionOutputSerializer(redemption.redemption_answer(result)).data, status=status.HTTP_201_CREATED
        )


class RedemptionRefundView(MerchantApiView):
    @extend_schema(
        operation_id="vouchers_redemptions_refund",
        tags=TAGS,
        summary="Record a refund of a redeemed order",
        description=(
            "A full refund (the refunds of the order add up to its whole amount) within the refund window set by "
            "the union gives the vouchers back to the member with their original expiry; a partial refund does "
            "not. Once the union has paid the merchant for the order's month, a full refund is recorded but the "
            "vouchers stay used (`vouchers`: `kept_used`, with a `notice`). Refunds cannot exceed the order amount "
            "(409 `refund_too_large`). Another merchant's redemption answers 404. "
            "The `Idempotency-Key` header is required (400 `idempotency_key_required`), per redemption: repeating "
            "a refund with the same key answers the first refund again (it is recorded once); the same key with a "
            "different amount answers 409 `idempotency_conflict`."
        ),
        parameters=[idempotency.header_parameter("refund attempt")],
        request=RefundInputSerializer,
        responses={201: RefundOutputSerializer, **error_responses(400, 401, 403, 404, 409, 413, 415, 429)},
    )
    def post(self, request, pk: int):
        key = idempotency.key_from_request(request)
        data = RefundInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        refund = redemption.redemption_refund(
            merchant=self.merchant(),
            redemption_id=pk,
            amount=data.validated_data["amount"],
            idempotency_key=key,
            actor=request.user,
        )
        return Response(RefundOutputSerializer(redemption.refund_answer(refund)).data, status=status.HTTP_201_CREATED)
