"""Payment batches in the admin: drawn up from a union's approved aid, sent to the bank as a file,
confirmed as paid or cancelled with a reason. Each page and action calls one service."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core import xlsx
from core.admin_kit import MAX_ACTION_ROWS, UnionSubtreeFilter
from core.errors import ServiceError
from hardship import reports
from hardship.admin.base import AdminPage, HardshipAdmin
from hardship.admin.display import cny
from hardship.models import PaymentBatch
from hardship.services.payments import (
    payment_batch_bank_file,
    payment_batch_cancel,
    payment_batch_confirm,
    payment_batch_create,
)
from members.models import Union


@admin.register(PaymentBatch)
class PaymentBatchAdmin(HardshipAdmin):
    """Approved aid paid through the bank: draft → sent (the bank file) → paid (confirmed), or cancelled."""

    list_display = (
        "__str__",
        "union",
        "state",
        "aid_count",
        "total_cny",
        "created_by",
        "created_at",
        "sent_at",
        "confirmed_by",
        "confirmed_at",
    )
    list_filter = ("state", UnionSubtreeFilter)
    list_select_related = ("union", "created_by", "confirmed_by")
    ordering = ("-created_at", "-id")
    actions = ["bank_file", "confirm", "cancel"]
    fields = (
        "union",
        "state",
        "aid_count",
        "total_cny",
        "created_by",
        "created_at",
        "sent_at",
        "confirmed_by",
        "confirmed_at",
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
        return payment_batch_add(self, request)

    @admin.action(description=_("Download the bank file (sends a draft batch)"), permissions=["change"])
    def bank_file(self, request, queryset):
        batches = list(queryset.select_related("union")[:2])
        if len(batches) != 1:
            self.message_user(request, gettext("Select one batch."), messages.WARNING)
            return None
        try:
            content = payment_batch_bank_file(batch=batches[0], actor=request.user)
        except ServiceError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return None
        return xlsx.response(content, f"payment-batch-{batches[0].pk}.xlsx")

    @admin.action(description=_("Confirm the bank paid the selected batches"), permissions=["change"])
    def confirm(self, request, queryset):
        objects = list(queryset.select_related("union")[: MAX_ACTION_ROWS + 1])
        self.run_each(request, objects, lambda b: payment_batch_confirm(batch=b, actor=request.user))

    @admin.action(description=_("Cancel the selected batches…"), permissions=["change"])
    def cancel(self, request, queryset):
        return self.note_action(
            request,
            queryset.select_related("union"),
            action="cancel",
            title=gettext("Cancel payment batches"),
            label=gettext("Reason"),
            button=gettext("Cancel the batches"),
            run=lambda batch, note: payment_batch_cancel(batch=batch, actor=request.user, reason=note),
        )


class PaymentBatchForm(forms.Form):
    union = forms.ModelChoiceField(label=_("union"), queryset=Union.objects.none())

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["union"].queryset = reports.report_unions(user)


def payment_batch_add(model_admin, request):
    """A batch of every approved, unpaid aid of a union's subtree."""
    if not model_admin.has_add_permission(request):
        raise PermissionDenied
    form = PaymentBatchForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            batch = payment_batch_create(union=form.cleaned_data["union"], actor=request.user)
        except ServiceError as exc:
            form.add_error(None, exc.message)
        else:
            model_admin.message_user(
                request,
                gettext("The payment batch was drawn up: %(count)d payments, %(total)s.")
                % {"count": batch.aid_count, "total": cny(batch.total)},
                messages.SUCCESS,
            )
            return HttpResponseRedirect(reverse("admin:hardship_paymentbatch_change", args=[batch.pk]))
    return AdminPage(model_admin, request).render(
        "admin/hardship/form_page.html",
        title=gettext("Draw up a payment batch"),
        intro=gettext("Every approved aid of the union's subtree that is not paid and not in another batch."),
        form=form,
        submit=gettext("Draw up the batch"),
    )
