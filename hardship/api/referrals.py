"""Referrals (转介) for partner agencies: list their own, answer each once.

Callers are agencies with an API key carrying the scope `hardship:referrals`. An agency sees only
the referrals sent to it; another agency's referral answers 404, as one that does not exist.
A referral shows what the agency needs to act on it: the member's name and mobile (to contact
them), the masked ID number — never the whole one — and the agency's own source keys for that
member from the rows it pushed.
"""

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api_auth import ApiKeyAuthentication, scope_required
from core.api_errors import error_responses
from core.api_fields import MoneyField
from core.api_parsers import JSONParser
from core.errors import ServiceError
from core.paginator import CursorPagination
from core.throttles import ApiKeyRateThrottle
from hardship import selectors, services
from hardship.models import Referral

REFERRALS_SCOPE = "hardship:referrals"
TAGS = ["hardship"]

# --- Serializers -----------------------------------------------------------------------------------


class ReferralPersonSerializer(serializers.Serializer):
    name = serializers.CharField(help_text="The real name, so that the agency can contact the person.")
    mobile = serializers.CharField()
    id_masked = serializers.CharField(help_text="The ID number with its birth date masked; never the whole number.")
    member_no = serializers.CharField()
    source_keys = serializers.ListField(
        child=serializers.CharField(), help_text="The agency's own source keys of rows it pushed for this person."
    )


class ReferralOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    benefit = serializers.ChoiceField(choices=Referral.Benefit.choices)
    note = serializers.CharField(help_text="The union's note to the agency.")
    case_no = serializers.CharField(source="case.case_no")
    person = ReferralPersonSerializer()
    state = serializers.ChoiceField(choices=Referral.State.choices)
    sent_at = serializers.DateTimeField()
    amount = serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True)
    outcome_note = serializers.CharField()
    answered_at = serializers.DateTimeField(allow_null=True)


class ReferralOutcomeInputSerializer(serializers.Serializer):
    granted = serializers.BooleanField()
    amount = MoneyField(
        required=False,
        allow_null=True,
        help_text="CNY. Needed when granted (0 for a status without cash, e.g. 低保); none when refused.",
    )
    note = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


def _person(referral: Referral, source_keys: dict[int, list[str]]) -> dict:
    head = referral.case.head
    return {
        "name": head.name,
        "mobile": head.mobile,
        "id_masked": head.id_masked,
        "member_no": head.member_no,
        "source_keys": source_keys.get(head.pk, []),
    }


def _output(referrals: list[Referral], agency) -> list[dict]:
    keys = selectors.agency_source_keys(agency, {r.case.head_id for r in referrals})
    rows = []
    for ref in referrals:
        ref.person = _person(ref, keys)
        rows.append(ReferralOutputSerializer(ref).data)
    return rows


class OldestFirstPagination(CursorPagination):
    ordering = "id"
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


class ReferralApiView(APIView):
    authentication_classes = [ApiKeyAuthentication]
    permission_classes = [scope_required(REFERRALS_SCOPE)]
    throttle_classes = [ApiKeyRateThrottle]
    parser_classes = [JSONParser]

    def referrals(self):
        agency = self.request.auth.agency
        if agency is None:
            return Referral.objects.none()
        return selectors.referrals_for_agency(agency).defer("case__head__id_number")


EXAMPLE = {
    "id": 12,
    "benefit": "disability_insurance",
    "note": "肢体四级残疾，肝衰竭，请协助办理残疾人意外险理赔",
    "case_no": "KN2025-000123",
    "person": {
        "name": "周建新",
        "mobile": "13900000001",
        "id_masked": "330502********1232",
        "member_no": "HZ0000012345",
        "source_keys": ["CDPF-2025-000871"],
    },
    "state": "sent",
    "sent_at": "2025-02-10T09:30:00+08:00",
    "amount": None,
    "outcome_note": "",
    "answered_at": None,
}


class ReferralListView(ReferralApiView):
    pagination_class = OldestFirstPagination

    @extend_schema(
        operation_id="hardship_referrals_list",
        tags=TAGS,
        summary="The referrals sent to the calling agency",
        description=(
            "Oldest first, cursor-paginated; `?state=sent` for those waiting for an answer. Each shows the benefit, "
            "the union's note, the case number and the person: name and mobile (to contact them), the masked ID "
            "number and the agency's own source keys from its pushed rows. Needs the scope `hardship:referrals`."
        ),
        parameters=[
            OpenApiParameter("state", str, enum=Referral.State.values, description="Only referrals in this state."),
            OpenApiParameter("cursor", str, description="The cursor of the next or previous page."),
            OpenApiParameter("page_size", int, description="At most 200."),
        ],
        responses={200: ReferralOutputSerializer(many=True), **error_responses(400, 401, 403, 429)},
        examples=[OpenApiExample("A referral", response_only=True, value=EXAMPLE)],
    )
    def get(self, request):
        qs = self.referrals()
        state = request.query_params.get("state")
        if state:
            if state not in Referral.State.values:
                raise ServiceError("invalid", _("Unknown state."))
            qs = qs.filter(state=state)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(qs, request, view=self)
        return paginator.get_paginated_response(_output(page, request.auth.agency))


class ReferralOutcomeView(ReferralApiView):
    @extend_schema(
        operation_id="hardship_referral_outcome",
        tags=TAGS,
        summary="Answer a referral: granted (with an amount) or refused",
        description=(
            "Once per referral: a second answer is 409 `already_answered`. Granted needs an `amount` "
            "(`amount_required`; 0 for a status without cash, such as 低保); refused takes none "
            "(`amount_not_allowed`). The answer appears on the case's timeline and goes to the union's staff. "
            "Another agency's referral answers 404. Needs the scope `hardship:referrals`."
        ),
        request=ReferralOutcomeInputSerializer,
        responses={200: ReferralOutputSerializer, **error_responses(400, 401, 403, 404, 409, 413, 415, 429)},
        examples=[
            OpenApiExample(
                "Granted",
                request_only=True,
                value={"granted": True, "amount": "15000.00", "note": "残疾人意外险理赔已到账"},
            ),
            OpenApiExample("Refused", request_only=True, value={"granted": False, "note": "不符合条件"}),
        ],
    )
    def post(self, request, pk: int):
        data = ReferralOutcomeInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        referral = self.referrals().filter(pk=pk).first()
        if referral is None:
            raise NotFound(_("No such referral."))
        services.referral_answer(
            referral=referral,
            agency=request.auth.agency,
            granted=data.validated_data["granted"],
            amount=data.validated_data.get("amount"),
            note=data.validated_data.get("note", ""),
        )
        referral = self.referrals().get(pk=pk)
        return Response(_output([referral], request.auth.agency)[0])
