"""Aid in the admin: the list, the second approval or the rejection of aid waiting for it, and the
voiding of approved aid (with a reason)."""

from django.contrib import admin
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db import models
from django.template.response import TemplateResponse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core.admin_kit import MAX_ACTION_ROWS, UnionSubtreeFilter
from hardship.admin.base import HardshipAdmin, member_masked_label
from hardship.admin.display import cny
from hardship.models import Aid
from hardship.selectors.aid import aid_pending_for, double_aid_check
from hardship.services.aid import aid_approve, aid_reject, aid_void


class AidAwaitingFilter(admin.SimpleListFilter):
    """Aid waiting for the user's second approval, entered by someone else (the landing page's
    card links here)."""

    title = _("awaiting")
    parameter_name = "awaiting"

    def lookups(self, request, model_admin):
        return [("me", _("awaiting your approval"))]

    def queryset(self, request, queryset):
        if self.value() == "me":
            return queryset.filter(pk__in=aid_pending_for(request.user).values("pk"))
        return queryset


@admin.register(Aid)
class AidAdmin(HardshipAdmin):
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
    list_filter = (AidAwaitingFilter, "state", "fund_line", "period", UnionSubtreeFilter)
    list_select_related = ("member", "case", "maker", "approver")
    search_fields = ("=member__member_no", "=case__case_no")
    search_help_text = _("A member number or a case number.")
    ordering = (
        models.Case(models.When(state="pending", then=models.Value(0)), default=models.Value(1)),
        "-paid_on",
        "-id",
    )
    list_per_page = 50  # as every hardship list
    actions = ["approve", "reject", "void"]
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
        "payment_batch",
        "paid_at",
        "voided_by",
        "voided_at",
    )
    readonly_fields = fields

    @admin.display(description=_("recipient"))
    def member_label(self, obj):
        return member_masked_label(obj.member)

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
        """A page lists what the double-aid check finds for each selected aid; then `aid_approve`
        runs on each, with the acknowledgement given (or not) on the page. The service's rule is
        the one: aid with no findings is approved, aid with findings and no acknowledgement is
        refused, each refusal shown for its row."""
        objects = list(queryset.select_related("member", "case", "union")[: MAX_ACTION_ROWS + 1])
        if len(objects) > MAX_ACTION_ROWS:
            self.too_many(request)
            return None
        if "apply" in request.POST:
            acknowledged = request.POST.get("acknowledge") == "yes"
            self.run_each(
                request,
                objects,
                lambda aid: aid_approve(aid=aid, actor=request.user, double_aid_acknowledged=acknowledged),
            )
            return None
        checks = [
            {
                "aid": aid,
                "found": double_aid_check(
                    member=aid.member, fund_line=aid.fund_line, purpose=aid.purpose, period=aid.period, exclude_aid=aid
                ),
            }
            for aid in objects
        ]
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Approve aid"),
            "checks": checks,
            "any_found": any(c["found"] for c in checks),
            "action": "approve",
            "opts": self.model._meta,
            "action_checkbox_name": ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/hardship/aid_approve.html", context)

    @admin.action(description=_("Reject the selected aid…"), permissions=["change"])
    def reject(self, request, queryset):
        return self.note_action(
            request,
            queryset.select_related("member", "case"),
            action="reject",
            title=gettext("Reject aid"),
            label=gettext("Reason"),
            button=gettext("Reject"),
            run=lambda aid, note: aid_reject(aid=aid, actor=request.user, reason=note),
        )

    @admin.action(description=_("Void the selected approved aid…"), permissions=["change"])
    def void(self, request, queryset):
        return self.note_action(
            request,
            queryset.select_related("member", "case", "payment_batch"),
            action="void",
            title=gettext("Void aid"),
            label=gettext("Reason"),
            button=gettext("Void the aid"),
            run=lambda aid, note: aid_void(aid=aid, actor=request.user, reason=note),
        )
