"""Agencies' data pushes in the admin: the list of pushes with their answers, and the upload of a
file on an agency's behalf (city-level staff only)."""

import hashlib
import io

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core.admin_kit import LargeTableMixin, ReasonActionsMixin
from core.errors import ServiceError
from core.models import Agency
from core.parsing import period_parse
from hardship.admin.base import AdminPage
from hardship.ingest.answers import push_answer
from hardship.ingest.holds import REASONS as HOLD_REASONS
from hardship.ingest.holds import push_reject, push_release
from hardship.ingest.limits import max_rows
from hardship.ingest.reading import count_rows, detect_format
from hardship.ingest.receive import push_upload as push_upload_service
from hardship.models import DataPush, PushKind
from hardship.selectors.access import agencies_uploadable_by, can_review_held_pushes, can_upload_agency_data

# --- The pushes -----------------------------------------------------------------------------


@admin.register(DataPush)
class DataPushAdmin(ReasonActionsMixin, LargeTableMixin, admin.ModelAdmin):
    """Agencies' pushes: their manifest, state and answer. Rows are never added or changed by hand.
    A held push (hardship.ingest.holds) is released or rejected here, by city-level staff with
    `hardship.review_held_push`."""

    actions = ["release_held", "reject_held"]
    reason_template = "admin/hardship/datapush/reject_form.html"

    list_display = (
        "agency",
        "kind",
        "period",
        "batch_id",
        "state",
        "accepted",
        "rejected",
        "replaced",
        "source",
        "received_at",
    )
    list_filter = ("agency", "kind", "state", "source", "period")
    list_select_related = ("agency",)
    search_fields = ("=batch_id", "=period")
    search_help_text = _("A batch id or a period (2025-03).")
    ordering = ("-received_at",)
    list_per_page = 50
    fields = (
        "agency",
        "kind",
        "period",
        "batch_id",
        "row_count",
        "sha256",
        "source",
        "encoding",
        "state",
        "held_because",
        "reviewed_by",
        "reviewed_at",
        "review_note",
        "failure",
        "accepted",
        "rejected",
        "replaced",
        "received_at",
        "ingested_at",
        "created_by",
        "rejected_rows",
    )
    readonly_fields = fields

    @admin.display(description=_("why it was held"))
    def held_because(self, obj):
        if not obj.hold_reasons:
            return "-"
        return "；".join(str(HOLD_REASONS.get(code, code)) for code in obj.hold_reasons)

    def has_review_permission(self, request):
        return can_review_held_pushes(request.user)

    @admin.action(description=_("Release the selected held pushes (ingest them)"), permissions=["review"])
    def release_held(self, request, queryset):
        self.run_each(request, queryset, lambda push: push_release(actor=request.user, push_id=push.pk))

    @admin.action(description=_("Reject the selected held pushes"), permissions=["review"])
    def reject_held(self, request, queryset):
        return self.reason_action(
            request,
            queryset,
            action="reject_held",
            title=gettext("Reject held pushes"),
            run=lambda push, reason: push_reject(actor=request.user, push_id=push.pk, note=reason),
            missing=gettext("Say why the push is rejected."),
        )

    @admin.display(description=_("why it failed"))
    def failure(self, obj):
        error = (obj.response or {}).get("error") if obj.state == DataPush.State.FAILED else None
        if not error:
            return "-"
        return format_html("<code>{}</code> {}", error.get("code", ""), error.get("message", ""))

    @admin.display(description=_("rejected rows"))
    def rejected_rows(self, obj):
        errors = obj.errors or []
        if not errors:
            return "-"
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td><code>{}</code></td><td>{}</td></tr>",
            ((e.get("line", ""), e.get("reason", ""), e.get("message", "")) for e in errors[:1000]),
        )
        more = ""
        if len(errors) > 1000:
            more = format_html("<p>{}</p>", gettext("… and %(count)d more.") % {"count": len(errors) - 1000})
        return format_html(
            '<table class="push-errors"><thead><tr><th>{}</th><th>{}</th><th>{}</th></tr></thead>'
            "<tbody>{}</tbody></table>{}",
            gettext("Line"),
            gettext("Reason"),
            gettext("Problem"),
            rows,
            more,
        )

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        # Uploading on an agency's behalf: city-level staff with `upload_agency_data` only.
        return super().has_add_permission(request) and can_upload_agency_data(request.user)

    def add_view(self, request, form_url="", extra_context=None):
        return push_upload(self, request)


MAX_PUSH_UPLOAD_BYTES = 50 * 1024 * 1024


# --- Data pushes: the admin upload -----------------------------------------------------------


class PushUploadForm(forms.Form):
    agency = forms.ModelChoiceField(label=_("agency"), queryset=Agency.objects.none())
    kind = forms.ChoiceField(label=_("kind"), choices=PushKind.choices)
    period = forms.CharField(label=_("period"), max_length=7, help_text=_("A month (2025-03) or a quarter (2025-Q1)."))
    batch_id = forms.CharField(
        label=_("batch id"),
        max_length=64,
        help_text=_("The agency's own id for this batch; the same id is taken once."),
    )
    file = forms.FileField(
        label=_("file (CSV or XLSX)"),
        help_text=_("CSV in UTF-8 (with or without BOM), GBK or GB18030, or an Excel XLSX workbook."),
    )

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        # Only the agencies this staff member may act for (the service checks it again).
        self.fields["agency"].queryset = agencies_uploadable_by(user)

    def clean_period(self):
        try:
            return str(period_parse(self.cleaned_data["period"]))
        except ServiceError as exc:
            raise forms.ValidationError(exc.message, code=exc.code) from None

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_PUSH_UPLOAD_BYTES:
            raise forms.ValidationError(gettext("The file is larger than 50 MB: send it through the API in pages."))
        return upload


def count_data_rows(content: bytes, kind: str) -> int:
    """The data rows of a CSV or XLSX file as the manifest's row count declares them (the header
    and blank lines not counted), read the way the ingestion reads it; a bad header is refused.
    A workbook is read streamed, its claimed dimension ignored (bounded by the 50 MB upload)."""
    stream = io.BytesIO(content)
    fmt, count = detect_format(stream, kind)
    return count if count is not None else count_rows(stream, fmt, kind, limit=max_rows())


def push_upload(model_admin, request) -> TemplateResponse:
    """Upload an agency's file for staff: the manifest's row count and SHA-256 are computed
    from the file; the answer (rows accepted, each rejected row's line and reason) is shown."""
    if not model_admin.has_add_permission(request):
        raise PermissionDenied
    page = AdminPage(model_admin, request)
    title = gettext("Upload agency data")
    if request.method != "POST":
        return page.render("admin/hardship/datapush/upload.html", title=title, form=PushUploadForm(user=request.user))
    form = PushUploadForm(request.POST, request.FILES, user=request.user)
    if not form.is_valid():
        return page.render("admin/hardship/datapush/upload.html", title=title, form=form)
    data = form.cleaned_data
    upload = data["file"]
    content = b"".join(upload.chunks())
    try:
        row_count = count_data_rows(content, data["kind"])
    except ServiceError as exc:
        form.add_error("file", exc.message)
        return page.render("admin/hardship/datapush/upload.html", title=title, form=form)
    manifest = {
        "agency": data["agency"].code,
        "kind": data["kind"],
        "period": data["period"],
        "batch_id": data["batch_id"].strip(),
        "row_count": row_count,
        "sha256": hashlib.sha256(content).hexdigest(),
    }
    try:
        push = push_upload_service(
            actor=request.user, agency=data["agency"], manifest=manifest, content=content, filename=upload.name
        )
    except ServiceError as exc:
        form.add_error(None, exc.message)
        return page.render("admin/hardship/datapush/upload.html", title=title, form=form)
    return page.render(
        "admin/hardship/datapush/upload.html",
        title=title,
        form=PushUploadForm(user=request.user),
        push=push,
        answer=push_answer(push),
        repeated=not getattr(push, "created_now", True),
        file_name=upload.name,
    )
