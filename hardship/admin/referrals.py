"""Referrals to the partner agencies, read-only (the agencies answer through the API)."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from core.admin_kit import ReadOnlyMixin
from hardship.admin.base import HardshipAdmin
from hardship.admin.display import cny
from hardship.models import Referral


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
