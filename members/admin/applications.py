"""Applications to join (入会) and transfers between unions (转会): staff decide them through the services."""

from django import forms
from django.contrib import admin
from django.db.models import Case, Value, When
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core.admin_kit import (
    MAX_ACTION_ROWS,
    IdentitySearchMixin,
    LargeTableMixin,
    ReasonActionsMixin,
    ScopedAdminMixin,
    UnionSubtreeFilter,
)
from core.sms import mask_mobile
from members import selectors
from members.models import (
    MembershipApplication,
    Transfer,
)
from members.services import (
    application_approve,
    application_reject,
    application_update,
    transfer_accept,
    transfer_reject,
    transfer_release,
)


class ApplicationForm(forms.ModelForm):
    class Meta:
        model = MembershipApplication
        fields = ("employer", "employment_form")


@admin.register(MembershipApplication)
class MembershipApplicationAdmin(
    LargeTableMixin, IdentitySearchMixin, ReasonActionsMixin, ScopedAdminMixin, admin.ModelAdmin
):
    reason_template = "admin/members/reason_form.html"
    list_defer = ("id_number",)
    form = ApplicationForm
    list_display = (
        "name",
        "id_masked",
        "mobile_masked",
        "union",
        "employment_form",
        "channel",
        "station",
        "status",
        "submitted_at",
    )
    list_select_related = ("union", "station")
    list_filter = ("status", UnionSubtreeFilter, "channel", "employment_form")
    search_help_text = _("An exact ID number or mobile, or the beginning of a name.")
    ordering = (Case(When(status="pending", then=Value(0)), default=Value(1)).asc(), "-submitted_at")
    list_per_page = 50
    actions = ["approve", "reject"]
    autocomplete_fields = ("employer",)
    fieldsets = (
        (None, {"fields": ("status", "name", "id_masked", "mobile", "union", "employer", "employer_name")}),
        (None, {"fields": ("employment_form", "channel", "station", "submitted_at", "privacy_version")}),
        (_("Decision"), {"fields": ("decided_at", "decided_by", "reject_reason", "member")}),
    )
    readonly_fields = (
        "status",
        "name",
        "id_masked",
        "mobile",
        "union",
        "employer_name",
        "channel",
        "station",
        "submitted_at",
        "privacy_version",
        "decided_at",
        "decided_by",
        "reject_reason",
        "member",
    )

    @admin.display(description=_("mobile"))
    def mobile_masked(self, obj):
        return mask_mobile(obj.mobile)

    def has_add_permission(self, request):
        return False  # workers apply on their phones

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.status != MembershipApplication.Status.PENDING:
            return False  # a decided application is read-only
        return super().has_change_permission(request, obj)

    def save_model(self, request, obj, form, change):
        app = application_update(
            application=obj,
            actor=request.user,
            employer=form.cleaned_data["employer"],
            employment_form=form.cleaned_data["employment_form"],
        )
        obj.employer, obj.employment_form = app.employer, app.employment_form

    @admin.action(description=_("Approve the selected applications"), permissions=["change"])
    def approve(self, request, queryset):
        objects = list(queryset.select_related("union", "applicant")[: MAX_ACTION_ROWS + 1])
        self.run_each(request, objects, lambda app: application_approve(application=app, actor=request.user))

    @admin.action(description=_("Reject the selected applications…"), permissions=["change"])
    def reject(self, request, queryset):
        return self.reason_action(
            request,
            queryset.select_related("union", "applicant"),
            action="reject",
            title=gettext("Reject membership applications"),
            run=lambda app, reason: application_reject(application=app, actor=request.user, reason=reason),
        )


class TransferAwaitingFilter(admin.SimpleListFilter):
    """The transfers waiting for the user's side (the landing page's card links here)."""

    title = _("awaiting")
    parameter_name = "awaiting"

    def lookups(self, request, model_admin):
        return [("me", _("awaiting your union"))]

    def queryset(self, request, queryset):
        if self.value() == "me":
            return queryset.filter(pk__in=selectors.transfers_awaiting(request.user).values("pk"))
        return queryset


@admin.register(Transfer)
class TransferAdmin(ReasonActionsMixin, ScopedAdminMixin, admin.ModelAdmin):
    reason_template = "admin/members/reason_form.html"
    list_defer = ("member__id_number",)
    list_display = ("member_label", "from_union", "to_union", "status", "requested_at", "released_at", "completed_at")
    list_select_related = ("member", "from_union", "to_union")
    list_filter = (TransferAwaitingFilter, "status")
    actions = ["release", "accept", "reject"]
    show_facets = admin.ShowFacets.NEVER
    readonly_fields = (
        "member",
        "from_union",
        "to_union",
        "reason",
        "status",
        "requested_at",
        "released_at",
        "released_by",
        "completed_at",
        "completed_by",
        "rejected_at",
        "rejected_by",
        "reject_reason",
    )
    fields = readonly_fields

    def scope_queryset(self, request, qs):
        return qs.filter(pk__in=selectors.transfers_visible_to(request.user).values("pk"))

    def in_scope(self, request, obj):
        return selectors.user_can_manage(request.user, obj.from_union) or selectors.user_can_manage(
            request.user, obj.to_union
        )

    @admin.display(description=_("member"))
    def member_label(self, obj):
        return f"{obj.member.masked_name} ({obj.member.member_no or '-'})"

    def has_add_permission(self, request):
        return False  # members ask for a transfer on their phones

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        if obj is not None:
            return False  # the record is changed only by the actions, one step per union
        return super().has_change_permission(request, obj)

    def _transfers(self, queryset):
        return list(queryset.select_related("member", "from_union", "to_union")[: MAX_ACTION_ROWS + 1])

    @admin.action(description=_("Release the selected members (old union)"), permissions=["change"])
    def release(self, request, queryset):
        self.run_each(request, self._transfers(queryset), lambda t: transfer_release(transfer=t, actor=request.user))

    @admin.action(description=_("Accept the selected members (new union)"), permissions=["change"])
    def accept(self, request, queryset):
        self.run_each(request, self._transfers(queryset), lambda t: transfer_accept(transfer=t, actor=request.user))

    @admin.action(description=_("Reject the selected transfers…"), permissions=["change"])
    def reject(self, request, queryset):
        return self.reason_action(
            request,
            queryset.select_related("member", "from_union", "to_union"),
            action="reject",
            title=gettext("Reject transfers"),
            run=lambda t, reason: transfer_reject(transfer=t, actor=request.user, reason=reason),
        )
