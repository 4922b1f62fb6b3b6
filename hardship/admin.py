"""The staff admin for hardship assistance (困难职工帮扶).

Hardship staff are staff holding the hardship permissions (`hardship.view_case` …); they see the
candidates, cases, aid and referrals of their own union's subtree (a superuser: everything).
Cases are searched for, not browsed: only supervisors (`hardship.list_all_cases`) list them, and
every opening of a case file is written to the access log, which nobody can change.
Pages and actions are doors: one form, one service call (hardship.services, hardship.ingest,
hardship.cycle), its answer or refusal shown.
"""

import datetime as dt

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.utils import unquote
from django.contrib.admin.views.main import SEARCH_VAR
from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from core import xlsx
from core.admin_kit import (
    ID_SEARCH_RE,
    INDEX_SEARCH_RE,
    MAX_ACTION_ROWS,
    LargeTableMixin,
    ReadOnlyMixin,
    ReasonActionsMixin,
    ScopedAdminMixin,
    ScopedHistoryMixin,
    UnionSubtreeFilter,
)
from core.errors import ServiceError
from hardship import admin_views, selectors, services
from hardship.admin_views import cny, evidence_items, evidence_text
from hardship.models import (
    AccessLog,
    Aid,
    Candidate,
    Case,
    CycleRun,
    DataPush,
    HardshipSettings,
    LocalStandard,
    Referral,
    ScreeningRule,
    WarmthBatch,
    WarmthRosterEntry,
)
from members import selectors as member_selectors
from members.models import Union
from members.services import id_number_index
from members.validators import normalize_digits


class HardshipAdmin(ReasonActionsMixin, ScopedAdminMixin, admin.ModelAdmin):
    """Scoped to the user's union subtree; lists are paged without counting big tables."""

    list_per_page = 50
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER

    def note_action(self, request, queryset, *, action: str, title: str, label: str, button: str, run):
        """An action that needs a note: an intermediate page asks for it, then `run(obj, note)` per row."""
        return self.text_action(
            request,
            queryset,
            field="note",
            template="admin/hardship/note_form.html",
            missing=gettext("Write a note."),
            context={"title": title, "action": action, "label": label, "button": button},
            run=run,
        )


def _member_label(member) -> str:
    return f"{member.masked_name} ({member.member_no or '-'})"


# --- Data in --------------------------------------------------------------------------------


@admin.register(DataPush)
class DataPushAdmin(admin.ModelAdmin):
    """Agencies' pushes: their manifest, state and answer. Rows are never added or changed by hand."""

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
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
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
        return super().has_add_permission(request) and selectors.can_upload_agency_data(request.user)

    def add_view(self, request, form_url="", extra_context=None):
        return admin_views.push_upload(self, request)


# --- Rules and settings ---------------------------------------------------------------------


class ScreeningRuleForm(forms.ModelForm):
    class Meta:
        model = ScreeningRule
        fields = ("name", "kind", "threshold_amount", "grade_at_least", "is_active", "adds_to_warmth_roster")

    def clean(self):
        data = super().clean()
        kind = data.get("kind")
        if kind == ScreeningRule.Kind.MEDICAL_OUT_OF_POCKET and data.get("threshold_amount") is None:
            self.add_error("threshold_amount", gettext("This rule needs a threshold amount."))
        if kind in (ScreeningRule.Kind.WORK_INJURY_GRADE, ScreeningRule.Kind.DISABILITY_GRADE):
            if data.get("grade_at_least") is None:
                self.add_error("grade_at_least", gettext("This rule needs a grade."))
        return data


@admin.register(ScreeningRule)
class ScreeningRuleAdmin(ScopedHistoryMixin, SimpleHistoryAdmin):
    """The screening rules are records staff edit; each hit becomes a candidate for review."""

    form = ScreeningRuleForm
    list_display = ("name", "kind", "threshold", "grade_at_least", "is_active", "adds_to_warmth_roster")
    list_filter = ("kind", "is_active")
    show_facets = admin.ShowFacets.NEVER

    @admin.display(description=_("threshold amount (CNY)"), ordering="threshold_amount")
    def threshold(self, obj):
        return cny(obj.threshold_amount) if obj.threshold_amount is not None else "-"

    def has_delete_permission(self, request, obj=None):
        return False  # candidates keep pointing at their rule: switch a rule off instead


@admin.register(LocalStandard)
class LocalStandardAdmin(ScopedHistoryMixin, ScopedAdminMixin, SimpleHistoryAdmin):
    """The local minimum living standard (低保标准) per district or county and year."""

    list_display = ("union", "year", "monthly")
    list_filter = ("year",)
    list_select_related = ("union",)
    ordering = ("-year", "union__path")
    show_facets = admin.ShowFacets.NEVER

    @admin.display(description=_("monthly amount (CNY)"), ordering="monthly_amount")
    def monthly(self, obj):
        return cny(obj.monthly_amount)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "union":
            kwargs["queryset"] = member_selectors.unions_visible_to(request.user).filter(kind=Union.Kind.DISTRICT)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class HardshipSettingsForm(forms.ModelForm):
    class Meta:
        model = HardshipSettings
        fields = ("second_approval_above", "document_max_bytes")

    def clean_second_approval_above(self):
        value = self.cleaned_data["second_approval_above"]
        if value is not None and value < 0:
            raise forms.ValidationError(gettext("The threshold cannot be negative."))
        return value

    def clean_document_max_bytes(self):
        value = self.cleaned_data["document_max_bytes"]
        if value is not None and value < 1:
            raise forms.ValidationError(gettext("The largest document must be at least one byte."))
        return value


@admin.register(HardshipSettings)
class HardshipSettingsAdmin(ScopedHistoryMixin, SimpleHistoryAdmin):
    """One row for the whole city: change only, by city-level staff (others see it read-only); the
    second-approval threshold also needs `hardship.change_second_approval`. Saved through
    `hardship.services.settings_change`, which writes the audit entry."""

    form = HardshipSettingsForm
    fields = ("second_approval_above", "document_max_bytes")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and selectors.can_change_hardship_settings(request.user)

    def get_readonly_fields(self, request, obj=None):
        if not selectors.can_change_second_approval(request.user):
            return ("second_approval_above",)
        return ()

    def save_model(self, request, obj, form, change):
        from hardship.services import settings_change

        values = {name: form.cleaned_data[name] for name in form.changed_data if name in self.fields}
        row = settings_change(actor=request.user, **values)
        obj.second_approval_above, obj.document_max_bytes = row.second_approval_above, row.document_max_bytes

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        obj = HardshipSettings.get()
        return HttpResponseRedirect(reverse("admin:hardship_hardshipsettings_change", args=[obj.pk]))


# --- Candidates -----------------------------------------------------------------------------

# The evidence figures shown in the worklist; the candidate's page shows all of it.
SUMMARY_KEYS = ("sources", "total", "threshold", "list", "start_date", "grade", "type", "injury_date", "amount")


@admin.register(Candidate)
class CandidateAdmin(HardshipAdmin):
    """The worklist of members found by screening: open ones first, with their evidence."""

    list_defer = ("member__id_number",)
    list_display = ("member_label", "rule", "period", "state", "evidence_summary", "union")
    list_display_links = ("member_label",)
    list_filter = ("state", "rule", "period", UnionSubtreeFilter)
    list_select_related = ("member", "union", "rule")
    search_fields = ("=member__member_no",)
    search_help_text = _("A member number.")
    ordering = (models.Case(models.When(state="open", then=models.Value(0)), default=models.Value(1)), "-created_at")
    actions = ["confirm", "dismiss"]
    fields = (
        "member_label",
        "union",
        "rule",
        "period",
        "state",
        "evidence_list",
        "created_at",
        "decided_at",
        "decided_by",
        "note",
    )
    readonly_fields = fields

    def get_queryset(self, request):
        qs = selectors.candidates_visible_to(request.user).select_related("member", "union", "rule")
        ordering = self.get_ordering(request)
        return qs.order_by(*ordering) if ordering else qs

    @admin.display(description=_("member"))
    def member_label(self, obj):
        return _member_label(obj.member)

    @admin.display(description=_("evidence"))
    def evidence_summary(self, obj):
        brief = {k: v for k, v in (obj.evidence or {}).items() if k in SUMMARY_KEYS}
        return format_html(
            '<span class="evidence-brief" style="display:inline-block;min-width:14em;max-width:26em">{}</span>',
            evidence_text(brief),
        )

    @admin.display(description=_("evidence"))
    def evidence_list(self, obj):
        return format_html(
            "<dl class='evidence'>{}</dl>",
            format_html_join("", "<dt>{}</dt><dd>{}</dd>", evidence_items(obj.evidence)),
        )

    def has_add_permission(self, request):
        return False  # candidates come from screening

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        if obj is not None:
            return False  # decided by the actions only
        return super().has_change_permission(request, obj)

    def _open(self, queryset):
        return list(queryset.select_related("member", "member__union", "union", "rule")[: MAX_ACTION_ROWS + 1])

    @admin.action(description=_("Confirm: open a case file for the selected candidates"), permissions=["change"])
    def confirm(self, request, queryset):
        from hardship.services import case_open

        self.run_each(
            request, self._open(queryset), lambda c: case_open(head=c.member, candidate=c, actor=request.user)
        )

    @admin.action(description=_("Dismiss the selected candidates…"), permissions=["change"])
    def dismiss(self, request, queryset):
        from hardship.services import candidate_dismiss

        return self.note_action(
            request,
            queryset.select_related("member", "rule"),
            action="dismiss",
            title=gettext("Dismiss candidates"),
            label=gettext("Why are they not in hardship? (kept with the candidate)"),
            button=gettext("Dismiss"),
            run=lambda c, note: candidate_dismiss(candidate=c, actor=request.user, note=note),
        )


# --- Cases ----------------------------------------------------------------------------------


class ReviewOverdueFilter(admin.SimpleListFilter):
    title = _("yearly review")
    parameter_name = "review"

    def lookups(self, request, model_admin):
        return [("overdue", _("overdue"))]

    def queryset(self, request, queryset):
        if self.value() == "overdue":
            return queryset.filter(pk__in=selectors.overdue_reviews(request.user).values("pk"))
        return queryset


@admin.register(Case)
class CaseAdmin(LargeTableMixin, HardshipAdmin):
    """Search first: staff find a case by its number, a member number, an ID number or a name;
    supervisors may also list. Opening a case file writes an access log row."""

    list_defer = ("head__id_number", "annual_income", "medical_expenditure", "schooling_expenditure", "health_notes")
    list_display = ("case_label", "head_label", "union", "state", "category", "opened_at", "filed_at", "review_due")
    list_display_links = ("case_label",)
    list_filter = ("state", "category", ReviewOverdueFilter, UnionSubtreeFilter)
    list_select_related = ("head", "union")
    search_fields = ("case_no",)  # the search itself is `hardship.selectors.case_search`
    search_help_text = _("A case number, a member number, a whole ID number or a member's full name.")
    ordering = ("-opened_at",)
    list_per_page = 50  # as every hardship list
    actions = None

    def get_queryset(self, request):
        qs = selectors.cases_visible_to(request.user).select_related("head", "union")
        ordering = self.get_ordering(request)
        return qs.order_by(*ordering) if ordering else qs

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if INDEX_SEARCH_RE.fullmatch(term):  # a whole ID number, replaced by its blind index (see below)
            return queryset.filter(head__id_index=term[3:]), False
        listable = selectors.cases_listable_by(request.user, term)
        return queryset.filter(pk__in=listable.values("pk")), False

    @admin.display(description=_("case number"), ordering="case_no")
    def case_label(self, obj):
        return str(obj)

    @admin.display(description=_("head of household"))
    def head_label(self, obj):
        return _member_label(obj.head)

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        term = normalize_digits(request.GET.get(SEARCH_VAR, ""))
        if ID_SEARCH_RE.fullmatch(term):
            # The ID number never stays in the URL, the browser history or the server's logs.
            params = request.GET.copy()
            params[SEARCH_VAR] = "id:" + id_number_index(term.upper())
            return HttpResponseRedirect(f"{request.path}?{params.urlencode()}")
        extra_context = {
            **(extra_context or {}),
            "can_list_all": selectors.can_list_all_cases(request.user),
            "searched": bool(term),
        }
        return super().changelist_view(request, extra_context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if request.method != "GET":
            raise PermissionDenied  # a case changes through its small forms, one service each
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        pk = unquote(object_id)
        case = services.case_open_for_view(user=request.user, case_id=int(pk)) if str(pk).isdigit() else None
        if case is None:
            raise Http404
        return admin_views.case_page(self, request, case)

    def add_view(self, request, form_url="", extra_context=None):
        return admin_views.case_add(self, request)

    def history_view(self, request, object_id, extra_context=None):
        raise PermissionDenied  # the case's timeline is on its page

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("report/", view(lambda r: admin_views.report_page(self, r)), name="hardship_report"),
            path("report/export/", view(lambda r: admin_views.report_export(self, r)), name="hardship_report_export"),
            path(
                "<path:object_id>/do/<slug:action>/",
                view(lambda r, object_id, action: admin_views.case_action(self, r, object_id, action)),
                name="hardship_case_action",
            ),
            *super().get_urls(),
        ]


# --- Aid and warmth -------------------------------------------------------------------------


@admin.register(Aid)
class AidAdmin(LargeTableMixin, HardshipAdmin):
    """Aid entered under cases and warmth batches. Approval is maker–checker, after the double-aid check."""

    list_defer = ("member__id_number",)
    list_display = (
        "member_label",
        "case",
        "fund_line",
        "amount_cny",
        "purpose",
        "period",
        "paid_on",
        "state",
        "maker",
        "approver",
    )
    list_filter = ("state", "fund_line", "period", UnionSubtreeFilter)
    list_select_related = ("member", "case", "maker", "approver")
    search_fields = ("=member__member_no", "=case__case_no")
    search_help_text = _("A member number or a case number.")
    ordering = (
        models.Case(models.When(state="pending", then=models.Value(0)), default=models.Value(1)),
        "-paid_on",
        "-id",
    )
    list_per_page = 50  # as every hardship list
    actions = ["approve", "reject"]
    fields = (
        "member_label",
        "case",
        "batch",
        "union",
        "fund_line",
        "amount_cny",
        "purpose",
        "period",
        "paid_on",
        "state",
        "maker",
        "approver",
        "approved_at",
        "created_at",
    )
    readonly_fields = fields

    @admin.display(description=_("recipient"))
    def member_label(self, obj):
        return _member_label(obj.member)

    @admin.display(description=_("amount (CNY)"), ordering="amount")
    def amount_cny(self, obj):
        return cny(obj.amount)

    def has_add_permission(self, request):
        return False  # aid is entered on its case's page, or by a warmth batch

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        if obj is not None:
            return False
        return super().has_change_permission(request, obj)

    @admin.action(description=_("Approve the selected aid (second approver)…"), permissions=["change"])
    def approve(self, request, queryset):
        from hardship.services import aid_approve

        objects = list(queryset.select_related("member", "case", "union")[: MAX_ACTION_ROWS + 1])
        if len(objects) > MAX_ACTION_ROWS:
            self.too_many(request)
            return None
        checks = [
            {
                "aid": aid,
                "found": selectors.double_aid_check(
                    member=aid.member, fund_line=aid.fund_line, purpose=aid.purpose, period=aid.period, exclude_aid=aid
                ),
            }
            for aid in objects
        ]
        any_found = any(c["found"] for c in checks)
        error = ""
        if "apply" in request.POST:
            if not any_found or request.POST.get("acknowledge") == "yes":
                acknowledged = request.POST.get("acknowledge") == "yes"
                self.run_each(
                    request,
                    objects,
                    lambda aid: aid_approve(aid=aid, actor=request.user, double_aid_acknowledged=acknowledged),
                )
                return None
            error = gettext("Confirm that you have seen the aid from other bodies.")
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Approve aid"),
            "checks": checks,
            "any_found": any_found,
            "action": "approve",
            "opts": self.model._meta,
            "action_checkbox_name": ACTION_CHECKBOX_NAME,
            "error": error,
        }
        return TemplateResponse(request, "admin/hardship/aid_approve.html", context)

    @admin.action(description=_("Reject the selected aid…"), permissions=["change"])
    def reject(self, request, queryset):
        from hardship.services import aid_reject

        return self.note_action(
            request,
            queryset.select_related("member", "case"),
            action="reject",
            title=gettext("Reject aid"),
            label=gettext("Reason"),
            button=gettext("Reject"),
            run=lambda aid, note: aid_reject(aid=aid, actor=request.user, reason=note),
        )


@admin.register(WarmthRosterEntry)
class WarmthRosterEntryAdmin(ReadOnlyMixin, LargeTableMixin, HardshipAdmin):
    """The regular recipients of holiday and seasonal aid (常态化送温暖), refreshed by the monthly cycle."""

    list_defer = ("member__id_number",)
    list_display = ("member_label", "union", "year", "source", "reason", "is_active", "added_at")
    list_filter = ("year", "source", "is_active", UnionSubtreeFilter)
    list_select_related = ("member", "union")
    search_fields = ("=member__member_no",)
    search_help_text = _("A member number.")
    ordering = ("-year", "union__path", "id")
    list_per_page = 50  # as every hardship list
    fields = ("member_label", "union", "year", "source", "reason", "is_active", "added_at")
    readonly_fields = fields

    @admin.display(description=_("member"))
    def member_label(self, obj):
        return _member_label(obj.member)


@admin.register(WarmthBatch)
class WarmthBatchAdmin(HardshipAdmin):
    """Batch payments to the warmth roster: drawn up from the roster, approved, exported to XLSX."""

    list_display = ("name", "union", "period", "state", "recipients", "total_cny", "created_by", "approved_by")
    list_filter = ("state", "period")
    list_select_related = ("union", "created_by", "approved_by")
    ordering = ("-created_at",)
    actions = ["approve", "export_xlsx"]
    fields = ("name", "union", "period", "state", "recipients", "total_cny", "created_by", "approved_by", "created_at")
    readonly_fields = fields

    @admin.display(description=_("total (CNY)"), ordering="total")
    def total_cny(self, obj):
        return cny(obj.total)

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        if obj is not None:
            return False
        return super().has_change_permission(request, obj)

    def add_view(self, request, form_url="", extra_context=None):
        return admin_views.warmth_batch_add(self, request)

    @admin.action(description=_("Approve the selected batches"), permissions=["change"])
    def approve(self, request, queryset):
        from hardship.services import warmth_batch_approve

        objects = list(queryset.select_related("union")[: MAX_ACTION_ROWS + 1])
        self.run_each(request, objects, lambda b: warmth_batch_approve(batch=b, actor=request.user))

    @admin.action(description=_("Export the selected batch to XLSX"), permissions=["view"])
    def export_xlsx(self, request, queryset):
        from hardship.services import warmth_batch_export_xlsx

        batches = list(queryset.select_related("union")[:2])
        if len(batches) != 1:
            self.message_user(request, gettext("Select one batch to export."), messages.WARNING)
            return None
        batch = batches[0]
        try:
            data = warmth_batch_export_xlsx(batch=batch, actor=request.user)
        except ServiceError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return None
        return xlsx.response(data, f"warmth-batch-{batch.pk}-{batch.period}.xlsx")


@admin.register(Referral)
class ReferralAdmin(ReadOnlyMixin, HardshipAdmin):
    """Cases handed to an agency for one of its benefits; the agency answers through the API."""

    scope_field = "case__union"
    list_display = ("case", "agency", "benefit", "state", "amount_cny", "sent_at", "answered_at")
    list_filter = ("state", "benefit", "agency")
    list_select_related = ("case", "agency")
    search_fields = ("=case__case_no",)
    search_help_text = _("A case number.")
    ordering = ("-sent_at",)
    fields = (
        "case",
        "agency",
        "benefit",
        "note",
        "state",
        "amount_cny",
        "outcome_note",
        "sent_at",
        "sent_by",
        "answered_at",
    )
    readonly_fields = fields

    @admin.display(description=_("amount granted (CNY)"), ordering="amount")
    def amount_cny(self, obj):
        return cny(obj.amount) if obj.amount is not None else "-"


# --- The monthly cycle ----------------------------------------------------------------------


def local_time(iso) -> str:
    """An ISO timestamp of a step, in local time."""
    try:
        when = dt.datetime.fromisoformat(str(iso))
    except ValueError:
        return ""
    return timezone.localtime(when).strftime("%Y-%m-%d %H:%M:%S") if timezone.is_aware(when) else str(when)[:19]


def figures_html(figures: dict, depth: int = 0):
    """A step's figures as a readable nested list (numbers first, then the groups)."""
    if not isinstance(figures, dict) or not figures:
        return "-"
    scalars = [(k, v) for k, v in figures.items() if not isinstance(v, dict | list)]
    groups = [(k, v) for k, v in figures.items() if isinstance(v, dict) and depth < 2]
    parts = format_html_join(", ", "{}: <b>{}</b>", scalars)
    nested = format_html_join("", "<li>{}: {}</li>", ((k, figures_html(v, depth + 1)) for k, v in groups if v))
    return format_html("{}<ul style='margin:0'>{}</ul>", parts, nested) if groups else parts


@admin.register(CycleRun)
class CycleRunAdmin(ReadOnlyMixin, admin.ModelAdmin):
    """Each month's cycle: the state and figures of each step; staff can start a period."""

    list_display = ("period", "state", "step_states", "runs", "started_at", "finished_at")
    list_filter = ("state",)
    ordering = ("-period",)
    show_facets = admin.ShowFacets.NEVER
    fields = ("period", "state", "runs", "started_at", "finished_at", "steps_table")
    readonly_fields = fields

    @admin.display(description=_("steps"))
    def step_states(self, obj):
        steps = obj.steps or {}
        return " → ".join(f"{name}: {(steps.get(name) or {}).get('state', '-')}" for name in CycleRun.STEPS)

    @admin.display(description=_("steps"))
    def steps_table(self, obj):
        steps = obj.steps or {}
        rows = []
        for name in (*CycleRun.STEPS, *[s for s in steps if s not in CycleRun.STEPS]):
            step = steps.get(name) or {}
            rows.append(
                (
                    name,
                    step.get("state", "-"),
                    local_time(step.get("started_at")),
                    step.get("seconds", ""),
                    step.get("attempts", ""),
                    figures_html(step.get("figures") or {}),
                    step.get("error", "") or "",
                )
            )
        return format_html(
            '<table class="cycle-steps"><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th>'
            "<th>{}</th></tr></thead><tbody>{}</tbody></table>",
            gettext("Step"),
            gettext("State"),
            gettext("Started"),
            gettext("Seconds"),
            gettext("Attempts"),
            gettext("Figures"),
            gettext("Error"),
            format_html_join(
                "", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>", rows
            ),
        )

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "can_run": request.user.has_perm("hardship.change_cyclerun")}
        return super().changelist_view(request, extra_context)

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("run/", view(lambda r: admin_views.cycle_start_page(self, r)), name="hardship_cyclerun_run"),
            *super().get_urls(),
        ]


# --- The access log -------------------------------------------------------------------------


@admin.register(AccessLog)
class AccessLogAdmin(ReadOnlyMixin, LargeTableMixin, admin.ModelAdmin):
    """Who opened or exported which case file. Read-only for everyone, superusers included;
    visible to supervisors (`hardship.list_all_cases`) for their subtree."""

    list_display = ("at", "user", "action", "case", "detail")
    list_filter = ("action",)
    list_select_related = ("user", "case")
    search_fields = ("=case__case_no", "=user__username")
    search_help_text = _("A case number or a username.")
    ordering = ("-at",)
    fields = ("at", "user", "action", "case", "detail")
    readonly_fields = fields

    def _supervisor(self, request) -> bool:
        user = request.user
        return bool(user.is_active and user.is_staff and (user.is_superuser or selectors.can_list_all_cases(user)))

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        prefix = member_selectors.scope_prefix(request.user)
        if prefix is None or not self._supervisor(request):
            return qs.none()
        if prefix == "":
            return qs
        return qs.filter(
            models.Q(case__union__path__startswith=prefix)
            | models.Q(case__isnull=True, user__union__path__startswith=prefix)
        )

    def has_view_permission(self, request, obj=None):
        if not (self._supervisor(request) and super().has_view_permission(request, obj)):
            return False
        return obj is None or self.get_queryset(request).filter(pk=obj.pk).exists()

    def has_module_permission(self, request):
        return self._supervisor(request) and super().has_module_permission(request)
