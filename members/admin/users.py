"""Logins: staff manage staff of their own subtree and hand out no more than they hold."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.models import Group, Permission
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from core.admin_kit import (
    LargeTableMixin,
    OneVersionPerSaveMixin,
    ScopedAdminMixin,
)
from core.sms import mask_mobile
from members.models import User


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
