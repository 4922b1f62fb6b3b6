"""The screening rules staff edit; each hit of a rule becomes a candidate for review."""

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from core.admin_kit import CityWideSettingsMixin, ScopedHistoryMixin
from core.errors import ServiceError
from hardship.admin.display import cny
from hardship.models import ScreeningRule
from hardship.services.screening_rules import screening_rule_check, screening_rule_save


class ScreeningRuleForm(forms.ModelForm):
    class Meta:
        model = ScreeningRule
        fields = ("name", "kind", "threshold_amount", "grade_at_least", "is_active", "adds_to_warmth_roster")

    def clean(self):
        data = super().clean()
        try:
            screening_rule_check(
                kind=data.get("kind"),
                threshold_amount=data.get("threshold_amount"),
                grade_at_least=data.get("grade_at_least"),
            )
        except ServiceError as exc:
            self.add_error(exc.details.get("field"), exc.message)
        return data


@admin.register(ScreeningRule)
class ScreeningRuleAdmin(CityWideSettingsMixin, ScopedHistoryMixin, SimpleHistoryAdmin):
    """The screening rules are records staff edit; each hit becomes a candidate for review. The form
    shows the refusal of `hardship.services.screening_rule_check`; saving is `screening_rule_save`,
    which checks again and writes the audit entry. The rules screen the whole city: only city-level
    staff change them (`CityWideSettingsMixin`); other staff see them read-only."""

    form = ScreeningRuleForm
    list_display = ("name", "kind", "threshold", "grade_at_least", "is_active", "adds_to_warmth_roster")
    list_filter = ("kind", "is_active")
    show_facets = admin.ShowFacets.NEVER

    @admin.display(description=_("threshold amount (CNY)"), ordering="threshold_amount")
    def threshold(self, obj):
        return cny(obj.threshold_amount) if obj.threshold_amount is not None else "-"

    def save_model(self, request, obj, form, change):
        screening_rule_save(rule=obj, actor=request.user)  # its refusals were shown by the form's clean

    def has_delete_permission(self, request, obj=None):
        return False  # candidates keep pointing at their rule: switch a rule off instead
