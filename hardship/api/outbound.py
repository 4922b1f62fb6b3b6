"""Outbound data for partner agencies: the filed hardship cases each agency may see, per period.

Callers are agencies with an API key carrying `hardship:push` (the agencies that push data). An
agency sees only cases whose head appears in its OWN current pushed rows, and cases referred to
it; never another agency's rows or keys, never a whole ID number or a whole name. The data of a
period is available once the monthly cycle has published it.
"""

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import generics, serializers
from rest_framework.permissions import BasePermission

from core.api_auth import ApiKeyAuthentication, scope_required
from core.api_errors import error_responses
from core.errors import ErrorKind, ServiceError
from core.models import ApiKey
from core.paginator import CursorPagination
from core.parsing import period_parse
from core.throttles import ApiKeyRateThrottle
from hardship import selectors
from hardship.models import Case, FundLine, Referral

PUSH_SCOPE = "hardship:push"
TAGS = ["hardship"]


# --- Serializers -----------------------------------------------------------------------------------


class OutboundQuerySerializer(serializers.Serializer):
    period = serializers.CharField(help_text="A month (2025-03) or a quarter (2025-Q1).")

    def validate_period(self, value):
        try:
            return str(period_parse(value))
        except ServiceError as exc:
            raise serializers.ValidationError(exc.message, code=exc.code) from None


class OutboundHeadSerializer(serializers.Serializer):
    masked_name = serializers.CharField(help_text="The head of household's name, all but the first character masked.")
    id_masked = serializers.CharField(help_text="The ID number with its birth date masked; never the whole number.")


class OutboundUnionSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


class OutboundReferralSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    benefit = serializers.ChoiceField(choices=Referral.Benefit.choices)
    state = serializers.ChoiceField(choices=Referral.State.choices)
    sent_at = serializers.DateTimeField()
    amount = serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True)


class OutboundCaseSerializer(serializers.Serializer):
    case_no = serializers.CharField()
    state = serializers.ChoiceField(choices=Case.State.choices)
    category = serializers.ChoiceField(choices=Case.Category.choices, allow_blank=True)
    filed_on = serializers.DateField()
    closed_on = serializers.DateField(allow_null=True)
    head = OutboundHeadSerializer()
    union = OutboundUnionSerializer()
    source_keys = serializers.ListField(
        child=serializers.CharField(),
        help_text="Your own source keys of the current rows you pushed for the head (empty for a referral only).",
    )
    referrals = OutboundReferralSerializer(many=True, help_text="The case's referrals to you.")
    aid = serializers.DictField(
        child=serializers.DecimalField(max_digits=12, decimal_places=2),
        help_text=f"Aid approved or paid in the period, CNY by fund line ({', '.join(FundLine.values)}).",
    )


# --- The view --------------------------------------------------------------------------------------


class IsAgencyKey(BasePermission):
    code = "forbidden"

    def has_permission(self, request, view):
        self.message = _("This API key does not belong to a partner agency.")
        return isinstance(request.auth, ApiKey) and request.auth.agency_id is not None


class OutboundPagination(CursorPagination):
    ordering = "id"
    page_size_query_param = "page_size"
    max_page_size = 200


class OutboundListView(generics.ListAPIView):
    authentication_classes = [ApiKeyAuthentication]
    permission_classes = [scope_required(PUSH_SCOPE), IsAgencyKey]
    throttle_classes = [ApiKeyRateThrottle]
    filter_backends = []
    pagination_class = OutboundPagination
    serializer_class = OutboundCaseSerializer

    @extend_schema(
        operation_id="hardship_outbound_list",
        tags=TAGS,
        summary="The filed hardship cases you may see for a period, for your own cross-checks",
        description=(
            "Cases on file in the period (filed or receiving aid, or closed during or after it) whose head of "
            "household appears in **your own** current pushed rows — with your source keys for those rows — or "
            "that were referred to you. Names and ID numbers are masked. `aid` sums the union's aid of the "
            "period by fund line. Available once the monthly cycle has published the period (404 "
            "`not_published` before). Oldest case first, cursor-paginated. Needs the scope `hardship:push`."
        ),
        parameters=[
            OpenApiParameter(
                "period", str, OpenApiParameter.QUERY, required=True, description="A month (2025-03) or a quarter."
            ),
        ],
        responses={200: OutboundCaseSerializer(many=True), **error_responses(400, 401, 403, 404, 429)},
        examples=[
            OpenApiExample(
                "A case",
                response_only=True,
                value={
                    "next": None,
                    "previous": None,
                    "results": [
                        {
                            "case_no": "KN2025-000012",
                            "state": "receiving_aid",
                            "category": "accident",
                            "filed_on": "2025-02-14",
                            "closed_on": None,
                            "head": {"masked_name": "周**", "id_masked": "330502********1232"},
                            "union": {"code": "G0042", "name": "湖州丝绸有限公司工会"},
                            "source_keys": ["YB-2025-03-000731"],
                            "referrals": [],
                            "aid": {"illness": "27000.00"},
                        }
                    ],
                },
            )
        ],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def _period(self) -> str:
        if not hasattr(self, "_checked_period"):
            query = OutboundQuerySerializer(data=self.request.query_params)
            query.is_valid(raise_exception=True)
            self._checked_period = query.validated_data["period"]
        return self._checked_period

    def get_queryset(self):
        return (
            selectors.outbound_cases(agency=self.request.auth.agency, period=self._period())
            .select_related("head", "union")
            .only(
                "id", "case_no", "state", "category", "filed_at", "closed_at", "head_id", "union_id",
                "head__name", "head__id_masked", "union__code", "union__name",
            )
        )  # fmt: skip

    def list(self, request, *args, **kwargs):
        period = self._period()
        if not selectors.is_published(period):
            raise ServiceError(
                "not_published", _("The data of this period has not been published yet."), kind=ErrorKind.NOT_FOUND
            )
        page = self.paginate_queryset(self.get_queryset())
        rows = selectors.outbound_details(agency=request.auth.agency, period=period, cases=page)
        return self.get_paginated_response(self.get_serializer(rows, many=True).data)
