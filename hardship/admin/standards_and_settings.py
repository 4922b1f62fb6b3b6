"""The local minimum living standards (低保标准) and the city-wide hardship settings row."""

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from core.admin_kit import CityWideSettingsMixin, ScopedAdminMixin, ScopedHistoryMixin
from core.errors import ServiceError
from hardship.admin.display import cny
from hardship.models import HardshipSettings, LocalStandard
from hardship.selectors.access import can_change_hardship_settings, can_change_second_approval
from hardship.services.hardship_settings import settings_change, settings_values_check
from members import selectors as member_selectors
from members.models import Union


@admin.register(LocalStandard)
class LocalStandardAdmin(CityWideSettingsMixin, ScopedHistoryMixin, ScopedAdminMixin, SimpleHistoryAdmin):
    """The local minimum living standard (低保标准) per district or county and year: the city's
    settings, changed by city-level staff only (`CityWideSettingsMixin`), each version in its history."""

    list_display = ("union", "year", "monthly")
    list_filter = ("year",)
    list_select_related = ("union",)
    ordering = ("-year", "union__path")
    show_facets = admin.ShowFacets.NEVER

    @admin.display(description=_("monthly amount (CNY)"), ordering="monthly_amount")
    def monthly(self, obj):
        return cny(obj.monthly_amount)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "union":
            kwargs["queryset"] = member_selectors.unions_visible_to(request.user).filter(kind=Union.Kind.DISTRICT)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class HardshipSettingsForm(forms.ModelForm):
    class Meta:
        model = HardshipSettings
        fields = ("second_approval_above", "document_max_bytes")

    def clean(self):
        data = super().clean()
        try:
            settings_values_check(**{name: data.get(name) for name in self.Meta.fields})
        except ServiceError as exc:
            self.add_error(exc.details.get("field"), exc.message)
        return data


@admin.register(HardshipSettings)
class HardshipSettingsAdmin(CityWideSettingsMixin, ScopedHistoryMixin, SimpleHistoryAdmin):
    """One row for the whole city: change only, by city-level staff (others see it read-only); the
    second-approval threshold also needs `hardship.change_second_approval`. Saved through
    `hardship.services.settings_change`, which writes the audit entry."""

    form = HardshipSettingsForm
    fields = ("second_approval_above", "document_max_bytes")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and can_change_hardship_settings(request.user)

    def get_readonly_fields(self, request, obj=None):
        if not can_change_second_approval(request.user):
            return ("second_approval_above",)
        return ()

    def save_model(self, request, obj, form, change):
        values = {name: form.cleaned_data[name] for name in form.changed_data if name in self.fields}
        row = settings_change(actor=request.user, **values)
        obj.second_approval_above, obj.document_max_bytes = row.second_approval_above, row.document_max_bytes

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        obj = HardshipSettings.get()
        return HttpResponseRedirect(reverse("admin:hardship_hardshipsettings_change", args=[obj.pk]))
