"""Referrals to the partner agencies (the agencies answer through the API); staff may withdraw
one still waiting, with a reason."""

from django.contrib import admin
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from hardship.admin.base import HardshipAdmin
from hardship.admin.display import cny
from hardship.models import Referral
from hardship.services.referrals import referral_withdraw


@admin.register(Referral)
class ReferralAdmin(HardshipAdmin):
    """Cases handed to an agency for one of its benefits; the agency answers through the API, or
    staff withdraw a referral still waiting (the rows themselves are never edited here)."""

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
    actions = ["withdraw"]

    def has_add_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        if obj is not None:
            return False  # the detail page is read-only; the action below changes the state
        return super().has_change_permission(request, obj)

    @admin.action(description=_("Withdraw the selected referrals…"), permissions=["change"])
    def withdraw(self, request, queryset):
        return self.note_action(
            request,
            queryset.select_related("case", "agency"),
            action="withdraw",
            title=gettext("Withdraw referrals"),
            label=gettext("Reason"),
            button=gettext("Withdraw"),
            run=lambda ref, note: referral_withdraw(referral=ref, actor=request.user, reason=note),
        )

    @admin.display(description=_("amount granted (CNY)"), ordering="amount")
    def amount_cny(self, obj):
        return cny(obj.amount) if obj.amount is not None else "-"
