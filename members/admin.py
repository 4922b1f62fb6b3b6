"""The staff admin for membership, scoped by union (see core.admin_kit and members.admin_scope)."""

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.models import Group, Permission
from django.db.models import Case, Q, Value, When
from django.urls import NoReverseMatch, path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from core.admin_kit import (
    MAX_ACTION_ROWS,
    IdentitySearchMixin,
    LargeTableMixin,
    OneVersionPerSaveMixin,
    ReasonActionsMixin,
    ScopedAdminMixin,
    ScopedHistoryMixin,
    UnionSubtreeFilter,
)
from core.errors import ServiceError
from core.parsing import credit_code_parse
from core.sms import mask_mobile
from members import admin_views, selectors
from members.admin_scope import visible_enterprises
from members.models import (
    Enterprise,
    Member,
    MembershipApplication,
    MutualAidEnrolment,
    Station,
    Transfer,
    Union,
    User,
)
from members.services import (
    application_approve,
    application_reject,
    application_update,
    member_mobile_change,
    mutual_aid_enrol,
    transfer_accept,
    transfer_reject,
    transfer_release,
)
from members.validators import normalize_mobile


class MemberUnionSubtreeFilter(UnionSubtreeFilter):
    union_field = "member__union"


# --- Organisations --------------------------------------------------------------------------


@admin.register(Union)
class UnionAdmin(ScopedHistoryMixin, ScopedAdminMixin, SimpleHistoryAdmin):
    scope_field = None
    list_display = ("tree_name", "code", "kind", "is_active", "members_link")
    list_filter = ("kind", "is_active")
    search_fields = ("name", "=code")
    ordering = ("path",)
    list_per_page = 100
    show_facets = admin.ShowFacets.NEVER
    fields = ("name", "kind", "parent", "code", "path", "address", "is_active")

    @admin.display(description=_("name"), ordering="path")
    def tree_name(self, obj):
        return format_html('<span style="padding-left:{}em">{}</span>', 1.5 * (obj.path.count("/") - 1), obj.name)

    @admin.display(description=_("members"))
    def members_link(self, obj):
        if not obj.holds_members:
            url = reverse("admin:members_member_changelist") + f"?in_union={obj.pk}"
        else:
            url = reverse("admin:members_member_changelist") + f"?union__id__exact={obj.pk}"
        return format_html('<a href="{}">{}</a>', url, gettext("members"))

    def get_readonly_fields(self, request, obj=None):
        # Moving a union or changing its code would change the paths of its whole subtree.
        return ("path",) if obj is None else ("parent", "code", "path")

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "parent" and not request.user.is_superuser:
            kwargs["required"] = True
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.pk == request.user.union_id and not request.user.is_superuser:
            return False
        return super().has_delete_permission(request, obj)


class EnterpriseForm(forms.ModelForm):
    class Meta:
        model = Enterprise
        fields = ("name", "credit_code", "union", "address", "industry")

    def clean_credit_code(self):
        try:
            return credit_code_parse(self.cleaned_data.get("credit_code"))
        except ServiceError as exc:
            raise forms.ValidationError(exc.message, code=exc.code) from None


@admin.register(Enterprise)
class EnterpriseAdmin(ScopedHistoryMixin, ScopedAdminMixin, SimpleHistoryAdmin):
    form = EnterpriseForm
    list_display = ("name", "credit_code", "union", "industry")
    list_select_related = ("union",)
    search_fields = ("name", "=credit_code")
    autocomplete_fields = ("union",)
    show_facets = admin.ShowFacets.NEVER

    def scope_queryset(self, request, qs):
        return qs.filter(pk__in=visible_enterprises(request.user).values("pk"))

    def has_view_permission(self, request, obj=None):
        # Enterprises not yet assigned to a union are visible (not editable) to all staff.
        if obj is not None and obj.union_id is None:
            return admin.ModelAdmin.has_view_permission(self, request, obj)
        return super().has_view_permission(request, obj)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "union":
            kwargs["queryset"] = selectors.unions_visible_to(request.user).filter(kind__in=Union.MEMBER_KINDS)
            kwargs["required"] = not request.user.is_superuser
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(Station)
class StationAdmin(ScopedHistoryMixin, ScopedAdminMixin, SimpleHistoryAdmin):
    list_display = ("code", "name", "union", "joins", "poster_link", "is_active")
    list_select_related = ("union",)
    list_filter = ("is_active",)
    search_fields = ("name", "=code")
    autocomplete_fields = ("union",)
    show_facets = admin.ShowFacets.NEVER

    def get_queryset(self, request):
        # Only the list counts joins; autocomplete and the change page need no aggregate.
        if getattr(request, "_station_join_counts", False):
            return self.scope_queryset(request, selectors.station_join_counts().select_related("union"))
        return super().get_queryset(request)

    def changelist_view(self, request, extra_context=None):
        request._station_join_counts = True
        return super().changelist_view(request, extra_context)

    @admin.display(description=_("joins by QR code"), ordering="joins")
    def joins(self, obj):
        return obj.joins

    @admin.display(description=_("QR poster"))
    def poster_link(self, obj):
        try:
            url = reverse("members:station-poster", kwargs={"code": obj.code})
        except NoReverseMatch:
            return "-"
        return format_html('<a href="{}" target="_blank">{}</a>', url, gettext("Print the poster"))


# --- Members --------------------------------------------------------------------------------


def _member_unions(request):
    return selectors.unions_visible_to(request.user).filter(kind__in=Union.MEMBER_KINDS, is_active=True)


class MemberForm(forms.ModelForm):
    class Meta:
        model = Member
        fields = ("name", "mobile", "union", "employer", "employment_form", "station", "joined_on", "status")

    def clean_mobile(self):
        return normalize_mobile(self.cleaned_data["mobile"])


@admin.register(Member)
class MemberAdmin(LargeTableMixin, IdentitySearchMixin, ScopedHistoryMixin, ScopedAdminMixin, SimpleHistoryAdmin):
    form = MemberForm
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
    autocomplete_fields = ("union", "employer", "station")
    readonly_fields = (
        "member_no",
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

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "union":
            kwargs["queryset"] = _member_unions(request)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

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


@admin.register(Transfer)
class TransferAdmin(ReasonActionsMixin, ScopedAdminMixin, admin.ModelAdmin):
    reason_template = "admin/members/reason_form.html"
    list_defer = ("member__id_number",)
    list_display = ("member_label", "from_union", "to_union", "status", "requested_at", "released_at", "completed_at")
    list_select_related = ("member", "from_union", "to_union")
    list_filter = ("status",)
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
class MutualAidEnrolmentAdmin(LargeTableMixin, ScopedAdminMixin, admin.ModelAdmin):
    scope_field = "member__union"
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


@admin.register(User)
class UserAdmin(LargeTableMixin, OneVersionPerSaveMixin, ScopedAdminMixin, SimpleHistoryAdmin, DjangoUserAdmin):
    """Logins, scoped by union; a staff login's history (union, flags, groups and permissions) is
    kept with who changed it, one version per saved form."""

    list_display = ("username", "full_name", "mobile_masked", "union", "is_staff", "is_superuser", "is_active")
    list_select_related = ("union",)
    list_filter = ("is_staff", "is_superuser", "is_active")
    search_fields = ("username", "first_name", "last_name", "=mobile")
    autocomplete_fields = ("union",)
    fieldsets = (
        *DjangoUserAdmin.fieldsets[:1],
        (_("Union and mobile"), {"fields": ("union", "mobile")}),
        *DjangoUserAdmin.fieldsets[1:],
    )
    add_fieldsets = (
        *DjangoUserAdmin.add_fieldsets,
        (_("Union and mobile"), {"fields": ("union", "mobile", "is_staff")}),
    )

    @admin.display(description=_("name"))
    def full_name(self, obj):
        return obj.get_full_name()

    @admin.display(description=_("mobile"))
    def mobile_masked(self, obj):
        return mask_mobile(obj.mobile or "")

    def scope_queryset(self, request, qs):
        if request.user.is_superuser:
            return qs
        return super().scope_queryset(request, qs.filter(is_staff=True, is_superuser=False))

    def in_scope(self, request, obj):
        if request.user.is_superuser:
            return True
        return obj.is_staff and not obj.is_superuser and super().in_scope(request, obj)

    def get_readonly_fields(self, request, obj=None):
        fields = tuple(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            fields += ("is_superuser", "last_login", "date_joined")
        return fields

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "union" and not request.user.is_superuser:
            kwargs["required"] = True
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        # Nobody can hand out more than they hold.
        if not request.user.is_superuser:
            if db_field.name == "user_permissions":
                held = request.user.get_all_permissions()
                q = Q(pk__in=[])
                for perm in held:
                    app_label, codename = perm.split(".", 1)
                    q |= Q(content_type__app_label=app_label, codename=codename)
                kwargs["queryset"] = Permission.objects.filter(q).select_related("content_type")
            elif db_field.name == "groups":
                kwargs["queryset"] = Group.objects.filter(pk__in=request.user.groups.values("pk"))
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        if not request.user.is_superuser:
            obj.is_staff = True  # staff manage staff only
            obj.is_superuser = False
        super().save_model(request, obj, form, change)
