"""Unions, enterprises and union stations (工会驿站), each scoped by union, with their history."""

from django import forms
from django.contrib import admin
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from core.admin_kit import (
    ScopedAdminMixin,
    ScopedHistoryMixin,
    UnionSubtreeFilter,
)
from core.errors import ServiceError
from core.parsing import credit_code_parse
from members import selectors
from members.admin_scope import visible_enterprises
from members.models import (
    Enterprise,
    Station,
    Union,
)
from members.services import union_kind_check, union_save


class MemberUnionSubtreeFilter(UnionSubtreeFilter):
    union_field = "member__union"


# --- Organisations --------------------------------------------------------------------------


class UnionForm(forms.ModelForm):
    """Shows the refusal of `members.services.union_kind_check` on the form; `actor` is set by the admin."""

    actor = None

    class Meta:
        model = Union
        fields = ("name", "kind", "parent", "code", "address", "is_active")

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        kind = data.get("kind", self.instance.kind)
        parent = data["parent"] if "parent" in data else self.instance.parent
        try:
            union_kind_check(actor=self.actor, union=self.instance, kind=kind, parent=parent)
        except ServiceError as exc:
            field = exc.details.get("field")
            self.add_error(field if field in self.fields else None, exc.message)
        return data


@admin.register(Union)
class UnionAdmin(ScopedHistoryMixin, ScopedAdminMixin, SimpleHistoryAdmin):
    """The union tree. Staff create unions under a union of their subtree; a union's kind is changed
    only by staff of a union above it (never staff of the union itself), and fits the tree. Saved by
    `members.services.union_save` (audited, with the old and the new values); each version is kept
    in the union's history."""

    form = UnionForm
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
        if obj is None:
            return ("path",)
        if not selectors.user_covers_strictly(request.user, obj):
            return ("kind", "parent", "code", "path")  # the staff's own union, or one above it
        return ("parent", "code", "path")

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        return type(form.__name__, (form,), {"actor": request.user})

    def has_add_permission(self, request):
        # A new union sits under a union of the staff's subtree that is not itself a grassroots union.
        user = request.user
        if not user.is_superuser and (not user.union_id or user.union.holds_members):
            return False
        return super().has_add_permission(request)

    def save_model(self, request, obj, form, change):
        union_save(union=obj, actor=request.user)  # its refusals were shown by the form's clean

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
