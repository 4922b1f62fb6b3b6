"""Custom admin pages of the vouchers app: figures (ECharts, XLSX), fraud signals, building a
month's settlements, the one-time display of a merchant's new API key and the revocation of one. Doors only."""

import datetime as dt

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core import xlsx
from core.errors import ServiceError
from core.parsing import Period, month_parse
from vouchers import selectors, services
from vouchers.selectors import reports


def render(model_admin, request, template: str, **extra) -> TemplateResponse:
    opts = model_admin.model._meta
    context = {**model_admin.admin_site.each_context(request), "opts": opts, "app_label": opts.app_label, **extra}
    return TemplateResponse(request, template, context)


def _require(request, perm: str) -> None:
    if not request.user.has_perm(perm):
        raise PermissionDenied


def _month_arg(request) -> str:
    """The month asked for (default: this month); '' for all months."""
    month = request.GET.get("month")
    if month is None:
        return str(Period.of(timezone.localdate()))
    if month.strip() == "":
        return ""
    try:
        return str(month_parse(month))
    except ServiceError:
        return str(Period.of(timezone.localdate()))


# --- Figures ----------------------------------------------------------------------------------


def figures_page(model_admin, request) -> TemplateResponse:
    _require(request, "vouchers.view_campaign")
    month = _month_arg(request)
    rows = reports.campaign_figures(month=month or None)
    categories = reports.category_figures(month=month or None)
    unions = reports.union_figures(user=request.user, month=month or None)
    chart = {
        "campaigns": [r["name"] for r in rows],
        "claimed": [r["claimed"] for r in rows],
        "used": [r["used"] for r in rows],
        "categories": [{"name": c["label"], "value": float(c["face_value_used"])} for c in categories],
        "labels": {"claimed": gettext("Claimed"), "used": gettext("Used")},
    }
    totals = reports.figures_totals(rows)
    return render(
        model_admin,
        request,
        "admin/vouchers/figures.html",
        title=gettext("Voucher figures"),
        month=month,
        rows=rows,
        categories=categories,
        unions=unions,
        totals=totals,
        chart=chart,
    )


def figures_export(model_admin, request) -> HttpResponse:
    _require(request, "vouchers.view_campaign")
    month = _month_arg(request)
    data = reports.figures_export_xlsx(user=request.user, month=month or None)
    return xlsx.response(data, f"voucher-figures-{month or 'all'}.xlsx")


# --- Fraud signals ----------------------------------------------------------------------------

SIGNAL_LABELS = {
    "member_burst": _("Many vouchers of one member at one merchant"),
    "merchant_rate": _("A merchant far above its usual rate"),
    "threshold_hugging": _("Orders just over the threshold again and again"),
}


def fraud_page(model_admin, request) -> TemplateResponse:
    _require(request, "vouchers.view_redemption")
    since = timezone.now() - dt.timedelta(days=7)
    signals = [
        {**s, "label": SIGNAL_LABELS.get(s.get("kind"), s.get("kind", ""))}
        for s in selectors.fraud_signals(since=since)
    ]
    return render(
        model_admin, request, "admin/vouchers/fraud.html", title=gettext("Fraud signals"), since=since, signals=signals
    )


# --- Settlements ------------------------------------------------------------------------------


class MonthForm(forms.Form):
    month = forms.CharField(label=_("month"), max_length=7, help_text=_("YYYY-MM, e.g. 2026-11."))

    def clean_month(self):
        try:
            return str(month_parse(self.cleaned_data["month"]))
        except ServiceError as exc:
            raise forms.ValidationError(exc.message, code=exc.code) from None


def settlement_build_page(model_admin, request):
    if not model_admin.has_build_permission(request):  # city-level staff with vouchers.add_settlement
        raise PermissionDenied
    last = str(Period.of(timezone.localdate()).shift(-1))
    form = MonthForm(request.POST or None, initial={"month": last})
    if request.method == "POST" and form.is_valid():
        month = form.cleaned_data["month"]
        try:
            result = services.settlement_build(month=month, actor=request.user)
        except ServiceError as exc:
            form.add_error(None, exc.message)
        else:
            count = len(result["settlements"])
            model_admin.message_user(
                request,
                gettext("Settlements built for %(month)s: %(count)d merchants.") % {"month": month, "count": count},
            )
            for late in result.get("late", []):
                model_admin.message_user(
                    request,
                    gettext("%(merchant)s: %(vouchers)d vouchers (%(amount)s CNY) redeemed after the month was paid.")
                    % {"merchant": late["merchant"], "vouchers": late["vouchers"], "amount": late["amount"]},
                    messages.WARNING,
                )
            return HttpResponseRedirect(reverse("admin:vouchers_settlement_changelist"))
    return render(
        model_admin, request, "admin/vouchers/settlement/build.html", title=gettext("Build settlements"), form=form
    )


# --- A merchant's new API key -----------------------------------------------------------------


def key_created(model_admin, request, *, key, secret, merchant) -> TemplateResponse:
    """The secret is rendered into this one response only: never stored, never put in a message."""
    response = render(
        model_admin,
        request,
        "admin/vouchers/merchant/key_created.html",
        title=gettext("API key created"),
        key=key,
        secret=secret,
        merchant=merchant,
    )
    response["Cache-Control"] = "no-store"
    return response


def key_revoke_page(model_admin, request, merchant_id: int, link_id: int):
    """Revoke one of a merchant's keys: a page asks for the reason, then the service runs. For
    staff who may change the merchant; a key of another merchant is not found here."""
    merchant = model_admin.get_object(request, str(merchant_id))
    if merchant is None:
        raise Http404
    if not model_admin.has_change_permission(request, merchant):
        raise PermissionDenied
    link = selectors.merchant_key_link(merchant=merchant, link_id=link_id)
    if link is None:
        raise Http404
    back = reverse("admin:vouchers_merchant_change", args=[merchant.pk])
    error = ""
    reason = (request.POST.get("reason") or "").strip()
    if request.method == "POST":
        try:
            services.merchant_api_key_revoke(link=link, actor=request.user, reason=reason)
        except ServiceError as exc:
            error = exc.message
        else:
            model_admin.message_user(
                request, gettext("The key %(key)s is revoked: it is refused from now on.") % {"key": link.key}
            )
            return HttpResponseRedirect(back)
    return render(
        model_admin,
        request,
        "admin/vouchers/merchant/key_revoke.html",
        title=gettext("Revoke an API key"),
        merchant=merchant,
        objects=[link.key],
        reason=reason,
        error=error,
        back=back,
    )
