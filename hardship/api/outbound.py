"""Outbound data for partner agencies: what the data-sharing arrangement gives an agency, per period.

Callers are agencies with an API key carrying `hardship:push` (the agencies that push data). A push
must not be usable as a lookup, so an agency learns only, for the people it reported in its own
ACCEPTED push of exactly that period (a held push answers nothing until city staff release it,
`hardship.ingest.holds`), that the union has them on file for hardship assistance — with its own
source keys, and whether the union gave aid in the period (to avoid double aid) — and no more: no
case state, category, amounts, union, name or ID number. Referrals to the agency are read at
/referrals. The data of a period is available once the monthly cycle has published it.
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


class OutboundPersonSerializer(serializers.Serializer):
    source_keys = serializers.ListField(
        child=serializers.CharField(),
        help_text="Your own source keys of the rows you pushed for the person in this period's accepted push.",
    )
    aid_in_period = serializers.BooleanField(
        help_text="Whether the union gave the person aid in the period (to avoid double aid), without amounts."
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
    serializer_class = OutboundPersonSerializer

    @extend_schema(
        operation_id="hardship_outbound_list",
        tags=TAGS,
        summary="The people you reported this period whom the union assists",
        description=(
            "For the people in **your own accepted push** of exactly this period (not a held, rejected or failed "
            "one, nor another period's), those the union has on file for hardship assistance in the period: your "
            "own source keys for them, and whether the union gave them aid in the period. Nothing else (no case "
            "state, category, amounts or names): a push is not a lookup. Available once the monthly cycle has "
            "published the period (404 `not_published` before) and once you have an accepted push of the period "
            "(404 `no_accepted_push`). Cursor-paginated. Needs the scope `hardship:push`."
        ),
        parameters=[
            OpenApiParameter(
                "period", str, OpenApiParameter.QUERY, required=True, description="A month (2025-03) or a quarter."
            ),
        ],
        responses={200: OutboundPersonSerializer(many=True), **error_responses(400, 401, 403, 404, 429)},
        examples=[
            OpenApiExample(
                "A case",
                response_only=True,
                value={
                    "next": None,
                    "previous": None,
                    "results": [
                        {"source_keys": ["YB-2025-03-000731"], "aid_in_period": True},
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
        if getattr(self, "swagger_fake_view", False):  # the OpenAPI schema's generation
            return selectors.outbound_people(agency=None, period="2025-01").none()
        return selectors.outbound_people(agency=self.request.auth.agency, period=self._period()).only("id")

    def list(self, request, *args, **kwargs):
        period = self._period()
        if not selectors.is_published(period):
            raise ServiceError(
                "not_published", _("The data of this period has not been published yet."), kind=ErrorKind.NOT_FOUND
            )
        if not selectors.accepted_push_exists(agency=request.auth.agency, period=period):
            raise ServiceError(
                "no_accepted_push",
                _("You have no accepted push for this period: the outbound data answers only about accepted pushes."),
                kind=ErrorKind.NOT_FOUND,
            )
        page = self.paginate_queryset(self.get_queryset())
        rows = selectors.outbound_details(agency=request.auth.agency, period=period, people=page)
        return self.get_paginated_response(self.get_serializer(rows, many=True).data)
