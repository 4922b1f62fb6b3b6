"""Referrals to the partner agencies, read-only (the agencies answer through the API); staff who
change cases withdraw one sent by mistake, with a reason."""

from django.contrib import admin
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core.admin_kit import ReadOnlyMixin
from hardship.admin.base import HardshipAdmin
from hardship.admin.display import cny
from hardship.models import Referral
from hardship.services.referrals import referral_withdraw


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
    actions = ["withdraw"]
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

    def has_withdraw_permission(self, request):
        return request.user.has_perm("hardship.change_case")

    @admin.action(description=_("Withdraw the selected referrals (not answered yet)…"), permissions=["withdraw"])
    def withdraw(self, request, queryset):
        return self.note_action(
            request,
            queryset.select_related("case", "agency"),
            action="withdraw",
            title=gettext("Withdraw referrals"),
            label=gettext("Why is the referral withdrawn?"),
            button=gettext("Withdraw"),
            run=lambda r, note: referral_withdraw(referral=r, actor=request.user, reason=note),
        )

    @admin.display(description=_("amount granted (CNY)"), ordering="amount")
    def amount_cny(self, obj):
        return cny(obj.amount) if obj.amount is not None else "-"
