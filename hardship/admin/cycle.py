"""The monthly cycle in the admin: each period's run and its steps, and starting a period."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core.admin_kit import CityWideSettingsMixin, ReadOnlyMixin
from core.errors import ServiceError
from core.parsing import Period, month_parse
from hardship.admin.base import AdminPage
from hardship.admin.cycle_figures import CycleNames, figures_labelled_html, step_label, step_state_label
from hardship.admin.display import local_time
from hardship.cycle.start import cycle_start
from hardship.models import CycleRun


@admin.register(CycleRun)
class CycleRunAdmin(CityWideSettingsMixin, ReadOnlyMixin, admin.ModelAdmin):
    """Each month's cycle: the state and figures of each step. The cycle is the whole city's: only
    city-level staff with `hardship.change_cyclerun` start a period (`can_run`)."""

    list_display = ("period", "state", "step_states", "runs", "started_at", "finished_at")
    list_filter = ("state",)
    ordering = ("-period",)
    show_facets = admin.ShowFacets.NEVER
    fields = ("period", "state", "runs", "started_at", "finished_at", "steps_table")
    readonly_fields = fields

    @admin.display(description=_("steps"))
    def step_states(self, obj):
        steps = obj.steps or {}
        return " → ".join(
            f"{step_label(name)}: {step_state_label((steps.get(name) or {}).get('state'))}" for name in CycleRun.STEPS
        )

    @admin.display(description=_("steps"))
    def steps_table(self, obj):
        steps = obj.steps or {}
        names = CycleNames([steps])
        rows = []
        for name in (*CycleRun.STEPS, *[s for s in steps if s not in CycleRun.STEPS]):
            step = steps.get(name) or {}
            rows.append(
                (
                    step_label(name),
                    step_state_label(step.get("state")),
                    local_time(step.get("started_at")),
                    step.get("seconds", ""),
                    step.get("attempts", ""),
                    figures_labelled_html(step.get("figures") or {}, names),
                    step.get("error", "") or "",
                )
            )
        return format_html(
            '<table class="cycle-steps"><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th>'
            "<th>{}</th></tr></thead><tbody>{}</tbody></table>",
            gettext("Step"),
            gettext("State"),
            gettext("Started"),
            gettext("Seconds"),
            gettext("Attempts"),
            gettext("Figures"),
            gettext("Error"),
            format_html_join(
                "", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>", rows
            ),
        )

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "can_run": self.can_run(request)}
        return super().changelist_view(request, extra_context)

    def can_run(self, request) -> bool:
        return self.city_level(request) and request.user.has_perm("hardship.change_cyclerun")

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("run/", view(lambda r: cycle_start_page(self, r)), name="hardship_cyclerun_run"),
            *super().get_urls(),
        ]


class CycleForm(forms.Form):
    period = forms.CharField(label=_("period"), max_length=7, help_text=_("The month to run (2025-03)."))
    restart = forms.BooleanField(
        label=_("run every step again"), required=False, help_text=_("For a month whose cycle is already done.")
    )

    def clean_period(self):
        try:
            return str(month_parse(self.cleaned_data["period"]))
        except ServiceError as exc:
            raise forms.ValidationError(exc.message, code=exc.code) from None


def cycle_start_page(model_admin, request):
    """Start the monthly cycle for a period (in the background; its progress shows in the list)."""
    if not model_admin.can_run(request):
        raise PermissionDenied
    page = AdminPage(model_admin, request)
    form = CycleForm(request.POST or None, initial={"period": str(Period.of(timezone.localdate()))})
    if request.method == "POST" and form.is_valid():
        period = form.cleaned_data["period"]
        try:
            cycle_start(period=period, actor=request.user, restart=form.cleaned_data["restart"])
        except ServiceError as exc:
            form.add_error(None, exc.message)
        else:
            model_admin.message_user(
                request, gettext("The cycle for %(period)s was started.") % {"period": period}, messages.SUCCESS
            )
            return HttpResponseRedirect(reverse("admin:hardship_cyclerun_changelist"))
    return page.render(
        "admin/hardship/form_page.html",
        title=gettext("Run the monthly cycle"),
        intro=gettext(
            "Ingest the pending pushes, match, screen, refresh the warmth roster, notify staff and publish the "
            "outbound data for the period. Running it again for the same period changes nothing already done."
        ),
        form=form,
        submit=gettext("Run the cycle"),
    )
