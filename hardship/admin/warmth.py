"""The warmth roster and the warmth batches paid to it: drawn up, approved, exported to XLSX."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core import xlsx
from core.admin_kit import MAX_ACTION_ROWS, ReadOnlyMixin, UnionSubtreeFilter
from core.errors import ServiceError
from core.forms import MoneyField
from core.parsing import month_parse
from hardship import reports
from hardship.admin.base import AdminPage, HardshipAdmin, member_masked_label
from hardship.admin.display import cny
from hardship.models import WarmthBatch, WarmthRosterEntry
from hardship.services.warmth import (
    warmth_batch_approve,
    warmth_batch_cancel,
    warmth_batch_create,
    warmth_batch_export_xlsx,
)
from members.models import Union


@admin.register(WarmthRosterEntry)
class WarmthRosterEntryAdmin(ReadOnlyMixin, HardshipAdmin):
    """The regular recipients of holiday and seasonal aid (常态化送温暖), refreshed by the monthly cycle."""

    list_defer = ("member__id_number",)
    list_display = ("member_label", "union", "year", "source", "reason", "is_active", "added_at")
    list_filter = ("year", "source", "is_active", UnionSubtreeFilter)
    list_select_related = ("member", "union")
    search_fields = ("=member__member_no",)
    search_help_text = _("A member number.")
    ordering = ("-year", "union__path", "id")
    list_per_page = 50  # as every hardship list
    fields = ("member_label", "union", "year", "source", "reason", "is_active", "added_at")
    readonly_fields = fields

    @admin.display(description=_("member"))
    def member_label(self, obj):
        return member_masked_label(obj.member)


@admin.register(WarmthBatch)
class WarmthBatchAdmin(HardshipAdmin):
    """Batch payments to the warmth roster: drawn up from the roster, approved, exported to XLSX."""

    list_display = ("name", "union", "period", "state", "recipients", "total_cny", "created_by", "approved_by")
    list_filter = ("state", "period")
    list_select_related = ("union", "created_by", "approved_by", "cancelled_by")
    ordering = ("-created_at",)
    actions = ["approve", "cancel", "export_xlsx"]
    fields = (
        "name",
        "union",
        "period",
        "state",
        "recipients",
        "total_cny",
        "created_by",
        "approved_by",
        "created_at",
        "cancelled_by",
        "cancelled_at",
        "cancel_reason",
    )
    readonly_fields = fields

    @admin.display(description=_("total (CNY)"), ordering="total")
    def total_cny(self, obj):
        return cny(obj.total)

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        if obj is not None:
            return False
        return super().has_change_permission(request, obj)

    def add_view(self, request, form_url="", extra_context=None):
        return warmth_batch_add(self, request)

    @admin.action(description=_("Approve the selected batches"), permissions=["change"])
    def approve(self, request, queryset):
        objects = list(queryset.select_related("union")[: MAX_ACTION_ROWS + 1])
        self.run_each(request, objects, lambda b: warmth_batch_approve(batch=b, actor=request.user))

    @admin.action(description=_("Cancel the selected batches (not paid yet)…"), permissions=["change"])
    def cancel(self, request, queryset):
        """A wrong batch, draft or approved, is cancelled with a reason: its month is free again."""
        return self.note_action(
            request,
            queryset.select_related("union"),
            action="cancel",
            title=gettext("Cancel warmth batches"),
            label=gettext("Why is the batch cancelled?"),
            button=gettext("Cancel the batches"),
            run=lambda b, note: warmth_batch_cancel(batch=b, actor=request.user, reason=note),
        )

    @admin.action(description=_("Export the selected batch to XLSX"), permissions=["view"])
    def export_xlsx(self, request, queryset):
        batches = list(queryset.select_related("union")[:2])
        if len(batches) != 1:
            self.message_user(request, gettext("Select one batch to export."), messages.WARNING)
            return None
        batch = batches[0]
        try:
            data = warmth_batch_export_xlsx(batch=batch, actor=request.user)
        except ServiceError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return None
        return xlsx.response(data, f"warmth-batch-{batch.pk}-{batch.period}.xlsx")


# --- Drawing up a batch ---------------------------------------------------------------------


class WarmthBatchForm(forms.Form):
    name = forms.CharField(label=_("name"), max_length=100, help_text=_("e.g. Spring Festival warmth 2025"))
    union = forms.ModelChoiceField(label=_("union"), queryset=Union.objects.none())
    period = forms.CharField(label=_("period"), max_length=7, help_text=_("The month of the payment (2025-02)."))
    amount_per_person = MoneyField(label=_("amount per person (CNY)"), allow_zero=False)

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["union"].queryset = reports.report_unions(user)

    def clean_period(self):
        try:
            return str(month_parse(self.cleaned_data["period"]))
        except ServiceError as exc:
            raise forms.ValidationError(exc.message, code=exc.code) from None


def warmth_batch_add(model_admin, request):
    """A batch payment to the warmth roster of a union's subtree (per-person amount)."""
    if not model_admin.has_add_permission(request):
        raise PermissionDenied
    page = AdminPage(model_admin, request)
    form = WarmthBatchForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            batch = warmth_batch_create(
                union=data["union"],
                period=data["period"],
                amount_per_person=data["amount_per_person"],
                actor=request.user,
                name=data["name"],
            )
        except ServiceError as exc:
            form.add_error(None, exc.message)
        else:
            model_admin.message_user(
                request,
                gettext("The batch was drawn up: %(count)d people, %(total)s.")
                % {"count": batch.recipients, "total": cny(batch.total)},
                messages.SUCCESS,
            )
            return HttpResponseRedirect(reverse("admin:hardship_warmthbatch_change", args=[batch.pk]))
    return page.render(
        "admin/hardship/form_page.html",
        title=gettext("Pay the warmth roster"),
        intro=gettext("Every active member of the warmth roster of the union's subtree gets the amount once."),
        form=form,
        submit=gettext("Draw up the batch"),
    )
