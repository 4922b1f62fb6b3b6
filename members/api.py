"""The members API: one view per operation, each with its own input and output serializers.

Two kinds of callers:
- partner agencies, with an API key (`Authorization: Bearer upk_…`) carrying the scope
  `members:verify`: membership and e-card checks;
- union staff signed in to the portal (session): their own union subtree's members and
  applications. API keys are refused there (403 `staff_only`); a member or application outside
  the caller's subtree answers 404, as if it did not exist.

No response carries a whole ID number, and no ID number is logged.
"""

import django_filters
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework import generics
from rest_framework.authentication import SessionAuthentication
from rest_framework.exceptions import NotFound
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api_auth import ApiKeyAuthentication, scope_required
from core.api_errors import error_responses
from core.api_parsers import JSONParser
from core.models import ApiKey
from core.paginator import CursorPagination
from core.throttles import ApiKeyRateThrottle, VerifyRateThrottle
from members import selectors, services
from members.models import EmploymentForm, Member, MembershipApplication
from members.serializers import (
    ApplicationOutputSerializer,
    ApplicationRejectInputSerializer,
    CardVerifyInputSerializer,
    CardVerifyOutputSerializer,
    MemberDetailOutputSerializer,
    MemberListOutputSerializer,
    VerifyInputSerializer,
    VerifyOutputSerializer,
)

VERIFY_SCOPE = "members:verify"
TAGS = ["members"]
STAFF_AUTH = [{"cookieAuth": []}]


def _staff_only_message() -> str:
    return _("This endpoint is for union staff signed in to the portal.")


class IsStaffSession(BasePermission):
    """A staff login with a session; API keys are refused."""

    code = "staff_only"

    def has_permission(self, request, view):
        self.message = _staff_only_message()
        user = request.user
        return not isinstance(request.auth, ApiKey) and bool(
            user and user.is_authenticated and user.is_active and user.is_staff
        )


class CanVerifyCards(BasePermission):
    """An API key with `members:verify`, or a staff login."""

    def has_permission(self, request, view):
        if isinstance(request.auth, ApiKey):
            self.code = "missing_scope"
            self.message = _("This API key lacks the scope %(scope)s.") % {"scope": VERIFY_SCOPE}
            return VERIFY_SCOPE in request.auth.scopes
        self.code = "staff_only"
        self.message = _staff_only_message()
        return IsStaffSession().has_permission(request, view)


class JsonApiView(APIView):
    parser_classes = [JSONParser]


# Staff endpoints: keys are recognised (to be refused with 403 `staff_only`), sessions admitted.
class StaffApiView:
    authentication_classes = [ApiKeyAuthentication, SessionAuthentication]
    permission_classes = [IsStaffSession]
    throttle_classes = [ApiKeyRateThrottle]


class NewestFirstPagination(CursorPagination):
    ordering = "-id"
    page_size_query_param = "page_size"
    max_page_size = 200


# --- Agencies: membership check -----------------------------------------------------------------


class VerifyMemberView(JsonApiView):
    authentication_classes = [ApiKeyAuthentication]
    permission_classes = [scope_required(VERIFY_SCOPE)]
    throttle_classes = [ApiKeyRateThrottle, VerifyRateThrottle]

    @extend_schema(
        operation_id="members_verify",
        tags=TAGS,
        summary="Is this person a current union member?",
        description=(
            "Looks the ID number up (by its keyed blind index; it is neither stored nor logged by this call). "
            "Only an **active** member answers `is_member: true`, with the union and the date joined. "
            "Anyone else — never a member, a member who left, or a suspended member — answers "
            '`{"is_member": false}` and nothing more, so the answer reveals no past membership. '
            "Needs the scope `members:verify`."
        ),
        request=VerifyInputSerializer,
        responses={
            200: VerifyOutputSerializer,
            **error_responses(400, 401, 403, 413, 415, 429),
        },
        examples=[
            OpenApiExample(
                "A member",
                response_only=True,
                value={
                    "is_member": True,
                    "status": "active",
                    "member_no": "HZ0000012345",
                    "union": {"code": "G0042", "name": "湖州丝绸有限公司工会"},
                    "joined_on": "2025-03-01",
                    "masked_name": "周**",
                    "id_masked": "330502********1232",
                },
            ),
            OpenApiExample("Not a member", response_only=True, value={"is_member": False}),
            OpenApiExample("Request", request_only=True, value={"id_number": "330502199003071232"}),
            OpenApiExample(
                "Malformed ID number",
                response_only=True,
                status_codes=["400"],
                value={
                    "error": {
                        "code": "invalid",
                        "message": "Invalid input.",
                        "fields": {
                            "id_number": [{"code": "id_check", "message": "The ID number's check character is wrong."}]
                        },
                    }
                },
            ),
        ],
    )
    def post(self, request):
        data = VerifyInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        member = selectors.member_verify_lookup(id_number=data.validated_data["id_number"])
        if member is None:
            return Response(VerifyOutputSerializer({"is_member": False}).data)
        out = {
            "is_member": True,
            "status": member.status,
            "member_no": member.member_no,
            "union": member.union,
            "joined_on": member.joined_on,
            "masked_name": member.masked_name,
            "id_masked": member.id_masked,
        }
        return Response(VerifyOutputSerializer(out).data)


class VerifyCardView(JsonApiView):
    permission_classes = [CanVerifyCards]
    throttle_classes = [ApiKeyRateThrottle, VerifyRateThrottle]

    @extend_schema(
        operation_id="members_cards_verify",
        tags=TAGS,
        summary="Check an e-membership card's QR code",
        description=(
            "Validates the signed token shown in a member's e-card QR code. A genuine, unexpired token of an "
            "active member answers `valid: true` with the member number, masked name and union; anything else "
            'answers `{"valid": false}`. Needs an API key with `members:verify`, or a staff login.'
        ),
        request=CardVerifyInputSerializer,
        responses={200: CardVerifyOutputSerializer, **error_responses(400, 401, 403, 413, 415, 429)},
    )
    def post(self, request):
        data = CardVerifyInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        member = services.member_card_verify(data.validated_data["token"])
        if member is None:
            return Response(CardVerifyOutputSerializer({"valid": False}).data)
        out = {"valid": True, "member_no": member.member_no, "masked_name": member.masked_name, "union": member.union}
        return Response(CardVerifyOutputSerializer(out).data)


# --- Staff: members ------------------------------------------------------------------------------


class MemberFilter(django_filters.FilterSet):
    union = django_filters.CharFilter(field_name="union__code", help_text="A grassroots union's code.")
    status = django_filters.ChoiceFilter(choices=Member.Status.choices)
    employment_form = django_filters.ChoiceFilter(choices=EmploymentForm.choices)

    class Meta:
        model = Member
        fields = ["union", "status", "employment_form"]


@extend_schema_view(
    get=extend_schema(
        operation_id="members_list",
        tags=TAGS,
        summary="Members of the caller's union subtree",
        description="Newest first, cursor-paginated. Staff login only. ID numbers are masked.",
        auth=STAFF_AUTH,
        responses={200: MemberListOutputSerializer(many=True), **error_responses(400, 401, 403, 429)},
    )
)
class MemberListView(StaffApiView, generics.ListAPIView):
    serializer_class = MemberListOutputSerializer
    filterset_class = MemberFilter
    pagination_class = NewestFirstPagination

    def get_queryset(self):
        return selectors.members_visible_to(self.request.user).select_related("union").defer("id_number")


class MemberDetailView(StaffApiView, APIView):
    @extend_schema(
        operation_id="members_retrieve",
        tags=TAGS,
        summary="One member of the caller's union subtree",
        description="A member outside the caller's subtree answers 404, as one that does not exist.",
        auth=STAFF_AUTH,
        responses={200: MemberDetailOutputSerializer, **error_responses(401, 403, 404, 429)},
    )
    def get(self, request, member_no: str):
        member = (
            selectors.members_visible_to(request.user)
            .select_related("union", "employer", "station")
            .defer("id_number")
            .filter(member_no=member_no)
            .first()
        )
        if member is None:
            raise NotFound(_("No such member."))
        return Response(MemberDetailOutputSerializer(member).data)


# --- Staff: membership applications -----------------------------------------------------------


class ApplicationFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=MembershipApplication.Status.choices)
    union = django_filters.CharFilter(field_name="union__code", help_text="A grassroots union's code.")

    class Meta:
        model = MembershipApplication
        fields = ["status", "union"]


def _applications(user):
    return selectors.applications_visible_to(user).select_related("union", "station", "member").defer("id_number")


def _application_or_404(user, pk: int) -> MembershipApplication:
    app = _applications(user).filter(pk=pk).first()
    if app is None:
        raise NotFound(_("No such application."))
    return app


@extend_schema_view(
    get=extend_schema(
        operation_id="members_applications_list",
        tags=TAGS,
        summary="Membership applications of the caller's union subtree",
        description="Newest first, cursor-paginated; `?status=pending` for those awaiting a decision.",
        auth=STAFF_AUTH,
        responses={200: ApplicationOutputSerializer(many=True), **error_responses(400, 401, 403, 429)},
    )
)
class ApplicationListView(StaffApiView, generics.ListAPIView):
    serializer_class = ApplicationOutputSerializer
    filterset_class = ApplicationFilter
    pagination_class = NewestFirstPagination

    def get_queryset(self):
        return _applications(self.request.user)


class ApplicationApproveView(StaffApiView, JsonApiView):
    @extend_schema(
        operation_id="members_application_approve",
        tags=TAGS,
        summary="Approve a pending application: the applicant becomes a member",
        description="Staff of the application's union or a union above it. No body. Answers the decided application "
        "with its new `member_no`; an application already decided answers 409 `not_pending`.",
        auth=STAFF_AUTH,
        request=None,
        responses={200: ApplicationOutputSerializer, **error_responses(400, 401, 403, 404, 409, 429)},
    )
    def post(self, request, pk: int):
        app = _application_or_404(request.user, pk)
        services.application_approve(application=app, actor=request.user)
        return Response(ApplicationOutputSerializer(_application_or_404(request.user, pk)).data)


class ApplicationRejectView(StaffApiView, JsonApiView):
    @extend_schema(
        operation_id="members_application_reject",
        tags=TAGS,
        summary="Reject a pending application, with a reason for the applicant",
        description="Staff of the application's union or a union above it. Answers the decided application; "
        "one already decided answers 409 `not_pending`.",
        auth=STAFF_AUTH,
        request=ApplicationRejectInputSerializer,
        responses={200: ApplicationOutputSerializer, **error_responses(400, 401, 403, 404, 409, 413, 415, 429)},
    )
    def post(self, request, pk: int):
        data = ApplicationRejectInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        app = _application_or_404(request.user, pk)
        services.application_reject(application=app, actor=request.user, reason=data.validated_data["reason"])
        return Response(ApplicationOutputSerializer(_application_or_404(request.user, pk)).data)
