"""The push API for partner agencies: send monthly data, read the answers to your own pushes.

Callers are agencies with an API key carrying `hardship:push`; the agency of a push is always the
key's, never the body's. Another agency's push answers 404, as one that does not exist.
Views are doors: they parse, call one service of `hardship.ingest`, and render its answer.
"""

import django_filters
from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import generics, serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api_auth import ApiKeyAuthentication, scope_required
from core.api_errors import ErrorSerializer, error_responses
from core.api_parsers import JSONParser
from core.errors import ServiceError
from core.models import ApiKey
from core.paginator import CursorPagination
from core.throttles import ApiKeyRateThrottle
from hardship import ingest, pushformats
from hardship.models import DataPush, PushKind

PUSH_SCOPE = "hardship:push"
TAGS = ["hardship"]

PUSH_DESCRIPTION = f"""
Send one batch of your monthly data (数据推送). The agency is the API key's; needs the scope `hardship:push`.

**Manifest.** `kind` ({", ".join(f"`{k}`" for k in PushKind.values)}), `period` (a month `2025-03` or a
quarter `2025-Q1`), `batch_id` (yours, unique per agency: 1–64 letters, digits and `._:-`), `row_count`
(data rows, not counting a header or blank lines) and `sha256` (lowercase hex):

- of a **file**: the SHA-256 of the file's bytes, exactly as sent;
- of **JSON**: the SHA-256 of the UTF-8 bytes of every row of the push (all pages, in order), each
  serialised as canonical JSON — keys sorted, no whitespace, non-ASCII characters as they are, i.e. Python's
  `json.dumps(row, sort_keys=True, ensure_ascii=False, separators=(",", ":"))` — joined by `"\\n"` (no newline
  at the end). Send amounts as strings (`"439305.46"`) so that every language writes them alike.

A push whose row count or SHA-256 differs from its manifest is refused whole (400 `row_count_mismatch` or
`sha256_mismatch`, with `declared` and `received`), and nothing of it is kept.

**Three ways to send.**

1. JSON, one request: `{{"manifest": {{…}}, "rows": [{{…}}, …]}}`, at most {ingest.PAGE_MAX_ROWS:,} rows.
2. JSON in pages: `{{"manifest": {{…}}, "page": 1, "pages": 40, "rows": […]}}` — the same manifest (for the
   whole push) on every page; pages may come in any order and a page may be sent again. Each page but the
   last answers 202 with state `receiving` and `pages_received`; the last one answers like a one-request push.
3. A file: `multipart/form-data` with `file` (CSV in UTF-8, UTF-8 with BOM, GBK or GB18030, or XLSX: the
   first sheet) and the manifest's fields `kind`, `period`, `batch_id`, `row_count`, `sha256`. The first row
   names the columns, in Chinese or English (below); other columns are ignored. Lines count from 1, the
   header's.

**The answer.** 201 with `accepted`, `rejected`, `replaced` and, for each rejected row (the first 1,000; any
more are counted in `errors_omitted`), its `line` (JSON: the row's position in the push, from 1), `reason`, `field`, `message` (and `detail`, the ID validator's code, for
`bad_id_number`). Good rows are kept. Reasons: {", ".join(f"`{r}`" for r in pushformats.REASONS)}.
A push of more than {ingest.sync_max_rows():,} rows, **every XLSX file** and a CSV file over
{ingest.sync_max_bytes() // (1024 * 1024)} MB answer 202 with state `pending`: follow it with
`GET /api/v1/hardship/pushes/{{id}}` until it is `ingested` (or `failed`). An XLSX file is checked in the
request only for its size, SHA-256 and shape (a workbook's parts, their sizes and compression; 400
`unreadable_file` otherwise); the worker then counts its rows against the manifest and reads them: a
workbook it cannot read (broken XML, a bad shared string, a non-numeric number…) fails the push with
`error.code` `unreadable_file`, a different row count with `row_count_mismatch`, more than
{ingest.max_rows():,} rows with `too_many_rows`, a missing column with `missing_columns` — nothing of it is kept.

**Held.** A push that does not look like your monthly data — a handful of rows, far fewer than your usual
pushes of its kind, a period closed more than two months ago or not yet begun, or many pushes of one kind
and period — answers 202 with state `held`: it is stored but not ingested, and the outbound data tells
nothing about it, until the union's city staff release it (it becomes `pending`, then `ingested`) or
reject it (`rejected`).

**Idempotent.** The same `batch_id` sent again changes nothing and answers 200 with the first answer. A row
with the same kind, period and `source_key` as a row you sent before in another batch replaces it
(counted in `replaced`): send corrections that way, in a new batch.

**Columns** (JSON rows use the English names):
{pushformats.columns_markdown()}
"""


# --- Serializers ------------------------------------------------------------------------------


class ManifestSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=PushKind.choices)
    period = serializers.CharField(max_length=7, help_text="A month (2025-03) or a quarter (2025-Q1).")
    batch_id = serializers.CharField(max_length=64, help_text="Your id of the batch, unique for your agency.")
    row_count = serializers.IntegerField(min_value=0, help_text="Data rows of the whole push.")
    sha256 = serializers.CharField(min_length=64, max_length=64, help_text="See the description.")

    def validate(self, attrs):
        try:
            return {**attrs, **pushformats.manifest_clean(attrs)}
        except ServiceError as exc:
            raise serializers.ValidationError(exc.message, code=exc.code) from None


class PushJsonInputSerializer(serializers.Serializer):
    manifest = ManifestSerializer()
    page = serializers.IntegerField(min_value=1, default=1)
    pages = serializers.IntegerField(min_value=1, max_value=ingest.MAX_PAGES, default=1)
    rows = serializers.ListField(
        child=serializers.DictField(), max_length=ingest.PAGE_MAX_ROWS, allow_empty=True, help_text="The rows."
    )

    def validate(self, attrs):
        if attrs["page"] > attrs["pages"]:
            raise serializers.ValidationError({"page": [_("The page must be between 1 and the number of pages.")]})
        return attrs


class PushFileInputSerializer(ManifestSerializer):
    file = serializers.FileField(help_text="CSV (UTF-8, UTF-8 with BOM, GBK, GB18030) or XLSX.")


class PushRowErrorSerializer(serializers.Serializer):
    line = serializers.IntegerField()
    reason = serializers.ChoiceField(choices=pushformats.REASONS)
    field = serializers.CharField(help_text="The column, by its English name.")
    message = serializers.CharField()
    detail = serializers.CharField(required=False, help_text="For `bad_id_number`: id_format, id_region, …")


class PushAnswerSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    agency = serializers.CharField()
    kind = serializers.ChoiceField(choices=PushKind.choices)
    period = serializers.CharField()
    batch_id = serializers.CharField()
    row_count = serializers.IntegerField()
    state = serializers.ChoiceField(choices=DataPush.State.choices)
    accepted = serializers.IntegerField()
    rejected = serializers.IntegerField()
    replaced = serializers.IntegerField(help_text="Accepted rows that replaced a row of an earlier batch.")
    errors = PushRowErrorSerializer(many=True, help_text="The first 1,000 rejected rows, by line.")
    errors_omitted = serializers.IntegerField(
        required=False, help_text="Rejected rows beyond those listed (all are counted in `rejected`)."
    )
    received_at = serializers.DateTimeField()
    ingested_at = serializers.DateTimeField(allow_null=True)
    pages = serializers.IntegerField(required=False)
    pages_received = serializers.ListField(child=serializers.IntegerField(), required=False)
    error = serializers.DictField(
        child=serializers.CharField(),
        required=False,
        help_text="For a `failed` push: why (`code`: `unreadable_file`, `row_count_mismatch`, `too_many_rows`, "
        "`missing_columns`, `stored_file_missing`, …; `message`).",
    )


class PushSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = DataPush
        fields = [
            "id", "kind", "period", "batch_id", "row_count", "source", "state", "accepted", "rejected",
            "replaced", "received_at", "ingested_at",
        ]  # fmt: skip


# --- Views ------------------------------------------------------------------------------------


class IsAgencyKey(BasePermission):
    code = "forbidden"

    def has_permission(self, request, view):
        self.message = _("This API key does not belong to a partner agency.")
        return isinstance(request.auth, ApiKey) and request.auth.agency_id is not None


class AgencyApiView:
    authentication_classes = [ApiKeyAuthentication]
    permission_classes = [scope_required(PUSH_SCOPE), IsAgencyKey]
    throttle_classes = [ApiKeyRateThrottle]


class NewestFirstPagination(CursorPagination):
    ordering = "-id"
    page_size_query_param = "page_size"
    max_page_size = 200


class PushFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=PushKind.choices)
    period = django_filters.CharFilter()
    state = django_filters.ChoiceFilter(choices=DataPush.State.choices)

    class Meta:
        model = DataPush
        fields = ["kind", "period", "state"]


def _answer(push: DataPush) -> Response:
    if push.state in (DataPush.State.RECEIVING, DataPush.State.HELD):
        code = status.HTTP_202_ACCEPTED
    elif not push.created_now:
        code = status.HTTP_200_OK
    elif push.state == DataPush.State.PENDING:
        code = status.HTTP_202_ACCEPTED
    else:
        code = status.HTTP_201_CREATED
    headers = {"Location": reverse("api-hardship-push", args=[push.pk])}
    return Response(ingest.push_answer(push), status=code, headers=headers)


ANSWER_EXAMPLE = {
    "id": 12,
    "agency": "nhsa",
    "kind": "medical",
    "period": "2025-03",
    "batch_id": "YB-2025-03-01",
    "row_count": 3,
    "state": "ingested",
    "accepted": 2,
    "rejected": 1,
    "replaced": 0,
    "errors": [
        {
            "line": 3,
            "reason": "bad_id_number",
            "field": "id_number",
            "detail": "id_check",
            "message": "The ID number's check character is wrong.",
        }
    ],
    "received_at": "2025-04-02T09:00:00+08:00",
    "ingested_at": "2025-04-02T09:00:01+08:00",
}


@extend_schema_view(
    get=extend_schema(
        operation_id="hardship_pushes_list",
        tags=TAGS,
        summary="Your pushes, newest first",
        description="Your own pushes only, cursor-paginated, without their rejected rows (read one push for "
        "those). Needs the scope `hardship:push`.",
        responses={200: PushSummarySerializer(many=True), **error_responses(400, 401, 403, 429)},
    ),
    post=extend_schema(
        operation_id="hardship_pushes_create",
        tags=TAGS,
        summary="Push a batch of data: JSON (in pages if large) or a CSV/XLSX file",
        description=PUSH_DESCRIPTION,
        request={"application/json": PushJsonInputSerializer, "multipart/form-data": PushFileInputSerializer},
        responses={
            201: OpenApiResponse(PushAnswerSerializer, description="Ingested: the answer."),
            200: OpenApiResponse(PushAnswerSerializer, description="This batch was sent before: the first answer."),
            202: OpenApiResponse(
                PushAnswerSerializer,
                description="A page of a push in pages (`receiving`), a large push or a workbook (`pending`), "
                "or an unusual push held for the union's review (`held`).",
            ),
            400: OpenApiResponse(
                ErrorSerializer,
                description="The content differs from the manifest (`row_count_mismatch`, `sha256_mismatch`, with "
                "`declared` and `received`: nothing was kept), invalid input (`invalid`), more rows than a push "
                "may hold (`too_many_rows`), or a file that cannot be used (`unreadable_file`, `empty_file`, "
                "`missing_columns`, `page_too_large`).",
            ),
            **error_responses(401, 403, 409, 415, 429),
            413: OpenApiResponse(
                ErrorSerializer,
                description="The file is too large (`file_too_large`), or a JSON body over the size limit "
                "(`body_too_large`): send pages.",
            ),
        },
        examples=[
            OpenApiExample(
                "JSON push",
                request_only=True,
                media_type="application/json",
                value={
                    "manifest": {
                        "kind": "medical",
                        "period": "2025-03",
                        "batch_id": "YB-2025-03-01",
                        "row_count": 1,
                        "sha256": "…",
                    },
                    "rows": [
                        {
                            "source_key": "YB-2025-03-000731",
                            "id_number": "330502199003071232",
                            "name": "周建新",
                            "total_cost": "439305.46",
                            "reimbursed": "285120.79",
                            "out_of_pocket": "154184.67",
                            "illness_category": "肝衰竭",
                        }
                    ],
                },
            ),
            OpenApiExample("The answer", response_only=True, status_codes=["201", "200"], value=ANSWER_EXAMPLE),
            OpenApiExample(
                "Row count differs",
                response_only=True,
                status_codes=["400"],
                value={
                    "error": {
                        "code": "row_count_mismatch",
                        "message": "The manifest declares 3 rows but the content has 2. Nothing was kept.",
                        "declared": 3,
                        "received": 2,
                    }
                },
            ),
        ],
    ),
)
class PushListCreateView(AgencyApiView, generics.ListAPIView):
    parser_classes = [JSONParser, MultiPartParser]
    serializer_class = PushSummarySerializer
    filterset_class = PushFilter
    pagination_class = NewestFirstPagination

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the OpenAPI schema's generation
            return DataPush.objects.none()
        return ingest.pushes_of_agency(self.request.auth.agency)

    def post(self, request):
        agency = request.auth.agency
        if (request.content_type or "").startswith("multipart/"):
            data = PushFileInputSerializer(data=request.data)
            data.is_valid(raise_exception=True)
            manifest = {k: v for k, v in data.validated_data.items() if k != "file"}
            upload = data.validated_data["file"]
            push = ingest.push_receive_file(agency=agency, manifest=manifest, content=upload, filename=upload.name)
        else:
            data = PushJsonInputSerializer(data=request.data)
            data.is_valid(raise_exception=True)
            v = data.validated_data
            push = ingest.push_receive_json(
                agency=agency, manifest=v["manifest"], rows=v["rows"], page=v["page"], pages=v["pages"]
            )
        return _answer(push)


class PushDetailView(AgencyApiView, APIView):
    @extend_schema(
        operation_id="hardship_pushes_retrieve",
        tags=TAGS,
        summary="One of your pushes: its state and, once ingested, the full answer",
        description="States: `receiving` (pages still missing), `pending` (waiting for ingestion), `ingested`, "
        "`failed` (with `error`: `code` and `message`), `held` (stored, waiting for the union's review), "
        "`rejected` (by the union's staff; nothing kept). Another agency's push answers 404. Needs the scope "
        "`hardship:push`.",
        responses={200: PushAnswerSerializer, **error_responses(401, 403, 404, 429)},
        examples=[OpenApiExample("Ingested", response_only=True, value=ANSWER_EXAMPLE)],
    )
    def get(self, request, pk: int):
        push = ingest.push_of_agency(request.auth.agency, pk)
        if push is None:
            raise NotFound(_("No such push."))
        return Response(ingest.push_answer(push))
