"""Mutual medical insurance (医疗互助保障) enrolments."""

from django import forms
from django.contrib import admin
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core import xlsx
from core.admin_kit import (
    MAX_ACTION_ROWS,
    LargeTableMixin,
    ReasonActionsMixin,
    ScopedAdminMixin,
)
from members import admin_views, selectors
from members.admin.organisations import MemberUnionSubtreeFilter
from members.models import (
    MutualAidEnrolment,
)
from members.services import (
    mutual_aid_enrol,
    mutual_aid_withdraw,
)


class EnrolmentForm(forms.ModelForm):
    class Meta:
        model = MutualAidEnrolment
        fields = ("member", "year")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "year" in self.fields:  # the change page shows every field read-only: no form fields
            self.fields["year"].initial = timezone.localdate().year

    def clean_member(self):
        member = self.cleaned_data["member"]
        if member is not None and not member.is_active:
            raise forms.ValidationError(gettext("Only active members can enrol."))
        return member


@admin.register(MutualAidEnrolment)
class MutualAidEnrolmentAdmin(ReasonActionsMixin, LargeTableMixin, ScopedAdminMixin, admin.ModelAdmin):
    """Enrolments of the staff member's unions. Bulk actions: export the selected rows, and
    withdraw the selected enrolments (with a reason) through `mutual_aid_withdraw`, one row at a
    time: each withdrawal is its own transaction, each refused row is reported with its reason."""

    scope_field = "member__union"
    actions = ("export_xlsx", "withdraw")
    reason_template = "admin/members/mutualaidenrolment/withdraw.html"
    list_defer = ("member__id_number",)
    form = EnrolmentForm
    list_display = ("member", "year", "union", "enrolled_at")
    list_select_related = ("member", "union")
    list_filter = ("year", MemberUnionSubtreeFilter)
    search_fields = ("=member__member_no", "=member__mobile")
    autocomplete_fields = ("member",)
    # 25 rows a page: the admin's row rendering, not the SQL, dominates a page of this table.
    list_per_page = 25
    ordering = ("-pk",)

    def get_fields(self, request, obj=None):
        return ("member", "year") if obj is None else ("member", "year", "union", "enrolled_at")

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else ("member", "year", "union", "enrolled_at")

    def has_change_permission(self, request, obj=None):
        if obj is not None:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        enrolment = mutual_aid_enrol(member=obj.member, year=obj.year, actor=request.user)
        obj.pk, obj.union, obj.enrolled_at = enrolment.pk, enrolment.union, enrolment.enrolled_at
        obj._state.adding = False

    def has_withdraw_permission(self, request):
        return request.user.has_perm("members.delete_mutualaidenrolment")

    def has_export_permission(self, request):
        return request.user.has_perm("members.view_mutualaidenrolment")

    @admin.action(description=_("Export the selected enrolments to XLSX"), permissions=["export"])
    def export_xlsx(self, request, queryset):
        if queryset.count() > MAX_ACTION_ROWS:
            self.too_many(request)
            return None
        data = selectors.mutual_aid_enrolments_xlsx(queryset)
        return xlsx.response(data, "mutual-aid-enrolments.xlsx")

    @admin.action(description=_("Withdraw the selected enrolments…"), permissions=["withdraw"])
    def withdraw(self, request, queryset):
        return self.reason_action(
            request,
            queryset.select_related("member__union"),
            action="withdraw",
            title=gettext("Withdraw enrolments"),
            run=lambda enrolment, reason: mutual_aid_withdraw(enrolment=enrolment, actor=request.user, reason=reason),
            missing=gettext("Give a reason for the withdrawal."),
        )

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path(
                "participation/",
                view(admin_views.ParticipationReportView.as_view(model_admin=self)),
                name="members_mutualaidenrolment_participation",
            ),
            *super().get_urls(),
        ]


# --- Logins ---------------------------------------------------------------------------------
