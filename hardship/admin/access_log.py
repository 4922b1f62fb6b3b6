"""The access log: who opened or exported which case file, read-only for everyone."""

import re

from django.contrib import admin
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core.admin_kit import LargeTableMixin, ReadOnlyMixin
from hardship.models import AccessLog
from hardship.selectors.access import can_list_all_cases
from members import selectors as member_selectors

# The details the portal writes (a reveal's detail is the reason staff gave, shown as it is).
FORM_LABELS = {
    "transition": _("Change the state"),
    "assess": _("Assess the household"),
    "category": _("Override the category"),
    "aid": _("Add aid"),
    "refer": _("Refer to an agency"),
    "document": _("Attach a document"),
    "review": _("Yearly review"),
    "roster": _("Warmth roster"),
    "reveal": _("Reveal"),
}
DETAIL_PATTERNS = (
    (re.compile(r"form (\w+)"), lambda m: gettext("Form: %(form)s") % {"form": FORM_LABELS.get(m[1], m[1])}),
    (re.compile(r"document (\d+)"), lambda m: gettext("Document %(id)s") % {"id": m[1]}),
    (re.compile(r"warmth batch (\d+)"), lambda m: gettext("Warmth batch %(id)s") % {"id": m[1]}),
    (re.compile(r"report (\S+)(?: (\S+))?"), lambda m: gettext("Hardship report %(period)s %(union)s")
     % {"period": m[1], "union": m[2] or ""}),
)  # fmt: skip


def access_detail_label(detail: str) -> str:
    """A detail written by the portal in the reader's language; anything else as it is."""
    for pattern, label in DETAIL_PATTERNS:
        if match := pattern.fullmatch(detail or ""):
            return label(match).strip()
    return detail or ""


@admin.register(AccessLog)
class AccessLogAdmin(ReadOnlyMixin, LargeTableMixin, admin.ModelAdmin):
    """Who opened or exported which case file. Read-only for everyone, superusers included;
    visible to supervisors (`hardship.list_all_cases`) for their subtree."""

    list_display = ("at", "user", "action", "case", "detail_label")
    list_filter = ("action",)
    list_select_related = ("user", "case")
    search_fields = ("=case__case_no", "=user__username")
    search_help_text = _("A case number or a username.")
    ordering = ("-at",)
    fields = ("at", "user", "action", "case", "detail_label")
    readonly_fields = fields

    @admin.display(description=_("detail"))
    def detail_label(self, obj):
        return access_detail_label(obj.detail)

    def _supervisor(self, request) -> bool:
        user = request.user
        return bool(user.is_active and user.is_staff and (user.is_superuser or can_list_all_cases(user)))

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
