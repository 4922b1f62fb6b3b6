"""The worklist of members found by screening: confirm (open a case file) or dismiss with a note."""

from django.contrib import admin
from django.db import models
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core.admin_kit import MAX_ACTION_ROWS, UnionSubtreeFilter
from hardship.admin.base import HardshipAdmin, member_masked_label
from hardship.admin.display import agency_names, evidence_items, evidence_text
from hardship.models import Candidate
from hardship.selectors.access import candidates_visible_to
from hardship.services.cases import candidate_dismiss, case_open

# The evidence figures shown in the worklist; the candidate's page shows all of it.
SUMMARY_KEYS = ("sources", "total", "threshold", "list", "start_date", "grade", "type", "injury_date", "amount")


def _rendered_with_agency_names(response):
    """Render now, while the evidence's agency codes show as the agencies' names (one query)."""
    if hasattr(response, "render") and not getattr(response, "is_rendered", True):
        with agency_names():
            response.render()
    return response


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
        qs = candidates_visible_to(request.user).select_related("member", "union", "rule")
        ordering = self.get_ordering(request)
        return qs.order_by(*ordering) if ordering else qs

    @admin.display(description=_("member"))
    def member_label(self, obj):
        return member_masked_label(obj.member)

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

    def changelist_view(self, request, extra_context=None):
        return _rendered_with_agency_names(super().changelist_view(request, extra_context))

    def change_view(self, request, object_id, form_url="", extra_context=None):
        return _rendered_with_agency_names(super().change_view(request, object_id, form_url, extra_context))

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
        self.run_each(
            request, self._open(queryset), lambda c: case_open(head=c.member, candidate=c, actor=request.user)
        )

    @admin.action(description=_("Dismiss the selected candidates…"), permissions=["change"])
    def dismiss(self, request, queryset):
        return self.note_action(
            request,
            queryset.select_related("member", "rule"),
            action="dismiss",
            title=gettext("Dismiss candidates"),
            label=gettext("Why are they not in hardship? (kept with the candidate)"),
            button=gettext("Dismiss"),
            run=lambda c, note: candidate_dismiss(candidate=c, actor=request.user, note=note),
        )
