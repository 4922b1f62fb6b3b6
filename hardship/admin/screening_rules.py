"""The screening rules staff edit; each hit of a rule becomes a candidate for review."""

from django import forms
from django.contrib import admin
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from hardship.admin.display import cny
from hardship.models import ScreeningRule


class ScreeningRuleForm(forms.ModelForm):
    class Meta:
        model = ScreeningRule
        fields = ("name", "kind", "threshold_amount", "grade_at_least", "is_active", "adds_to_warmth_roster")

    def clean(self):
        data = super().clean()
        kind = data.get("kind")
        if kind == ScreeningRule.Kind.MEDICAL_OUT_OF_POCKET and data.get("threshold_amount") is None:
            self.add_error("threshold_amount", gettext("This rule needs a threshold amount."))
        if kind in (ScreeningRule.Kind.WORK_INJURY_GRADE, ScreeningRule.Kind.DISABILITY_GRADE):
            if data.get("grade_at_least") is None:
                self.add_error("grade_at_least", gettext("This rule needs a grade."))
        return data


@admin.register(ScreeningRule)
class ScreeningRuleAdmin(admin.ModelAdmin):
    """The screening rules are records staff edit; each hit becomes a candidate for review."""

    form = ScreeningRuleForm
    list_display = ("name", "kind", "threshold", "grade_at_least", "is_active", "adds_to_warmth_roster")
    list_filter = ("kind", "is_active")
    show_facets = admin.ShowFacets.NEVER

    @admin.display(description=_("threshold amount (CNY)"), ordering="threshold_amount")
    def threshold(self, obj):
        return cny(obj.threshold_amount) if obj.threshold_amount is not None else "-"

    def has_delete_permission(self, request, obj=None):
        return False  # candidates keep pointing at their rule: switch a rule off instead
