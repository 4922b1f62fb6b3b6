"""Members (会员), scoped by union: the identity search, the mobile change, the status change (an
action with a reason), the member list's import page. The union is read-only: a member moves by a
transfer (转会)."""

from django import forms
from django.contrib import admin
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from core.admin_kit import (
    IdentitySearchMixin,
    LargeTableMixin,
    ReasonActionsMixin,
    ScopedAdminMixin,
    ScopedHistoryMixin,
    UnionSubtreeFilter,
)
from core.sms import mask_mobile
from members import admin_views
from members.models import Member
from members.services import (
    member_mobile_change,
    member_status_change,
    mutual_aid_enrol,
)
from members.validators import normalize_mobile


class MemberForm(forms.ModelForm):
    class Meta:
        model = Member
        # Not the union (a transfer moves a member) nor the status (the "change status" action).
        fields = ("name", "mobile", "employer", "employment_form", "station", "joined_on")

    def clean_mobile(self):
        return normalize_mobile(self.cleaned_data["mobile"])


@admin.register(Member)
class MemberAdmin(
    ReasonActionsMixin, LargeTableMixin, IdentitySearchMixin, ScopedHistoryMixin, ScopedAdminMixin, SimpleHistoryAdmin
):
    form = MemberForm
    reason_template = "admin/members/member/status_form.html"
    # Bulk actions run the service once per selected row (at most MAX_ACTION_ROWS), each row in its
    # own transaction: the rows that pass are done, each refused row is reported with its reason,
    # and a summary says how many were done. The rows are those of the staff member's unions only.
    actions = ("status_change", "mutual_aid_enrol_this_year")
    list_defer = ("id_number",)
    history_excluded_fields = ("id_number", "id_index")
    list_display = (
        "member_no",
        "name",
        "id_masked",
        "mobile_masked",
        "union",
        "employment_form",
        "join_channel",
        "status",
        "joined_on",
    )
    list_display_links = ("member_no", "name")
    list_select_related = ("union",)
    list_filter = (UnionSubtreeFilter, "status", "employment_form", "join_channel")
    search_help_text = _("An exact ID number, mobile or member number, or the beginning of a name.")
    # 25 rows a page: the admin's row rendering, not the SQL, dominates a page of this table.
    list_per_page = 25
    ordering = ("-pk",)
    autocomplete_fields = ("employer", "station")
    readonly_fields = (
        "member_no",
        "union",
        "status",
        "id_masked",
        "gender",
        "birth_date",
        "join_channel",
        "user",
        "privacy_version",
        "privacy_consented_at",
        "created_at",
    )
    fieldsets = (
        (None, {"fields": ("member_no", "name", "id_masked", "gender", "birth_date", "mobile")}),
        (_("Membership"), {"fields": ("union", "employer", "employment_form", "station", "joined_on", "status")}),
        (_("Origin"), {"fields": ("join_channel", "user", "privacy_version", "privacy_consented_at", "created_at")}),
    )

    @admin.display(description=_("mobile"))
    def mobile_masked(self, obj):
        return mask_mobile(obj.mobile)

    def has_add_permission(self, request):
        return False  # members join by application or bulk import

    def save_model(self, request, obj, form, change):
        if change and "mobile" in form.changed_data:
            # The service changes the number and moves the member's login with it.
            new_mobile, obj.mobile = obj.mobile, form.initial["mobile"]
            super().save_model(request, obj, form, change)
            member_mobile_change(member=obj, mobile=new_mobile, actor=request.user)
            obj.refresh_from_db(fields=["mobile", "user"])
        else:
            super().save_model(request, obj, form, change)

    def has_delete_permission(self, request, obj=None):
        return False  # a member who leaves keeps the record, with the status "left"

    @admin.action(description=_("Change the status of the selected members…"), permissions=["change"])
    def status_change(self, request, queryset):
        status = request.POST.get("status", "")
        return self.text_action(
            request,
            queryset.select_related("union"),
            field="reason",
            template=self.reason_template,
            missing=gettext("Give a reason for the status change."),
            context={
                "title": gettext("Change the status of members"),
                "action": "status_change",
                "statuses": Member.Status.choices,
                "status": status,
            },
            run=lambda member, reason: member_status_change(
                member=member, actor=request.user, status=status, reason=reason
            ),
        )

    @admin.action(
        description=_("Enrol the selected members in this year's mutual medical insurance"), permissions=["enrol"]
    )
    def mutual_aid_enrol_this_year(self, request, queryset):
        year = timezone.localdate().year
        self.run_each(
            request,
            queryset.select_related("union"),
            lambda member: mutual_aid_enrol(member=member, year=year, actor=request.user),
        )

    def has_enrol_permission(self, request):
        return request.user.has_perm("members.add_mutualaidenrolment")

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("import/", view(admin_views.MemberImportView.as_view(model_admin=self)), name="members_member_import"),
            path(
                "import/template.csv",
                view(admin_views.member_import_template),
                name="members_member_import_template",
            ),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "can_import": admin_views.can_import(request.user)}
        return super().changelist_view(request, extra_context)
