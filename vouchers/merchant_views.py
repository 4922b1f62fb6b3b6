"""The merchant's phone page (核销): scan (the phone's camera, or any camera opening a voucher's QR
address) or type voucher codes, enter the order amount, see the quote, confirm, see the result. For merchant staff (MerchantStaff), who log in like workers, with
their mobile number and an SMS code at /m/login/. Each view parses input and calls one service."""

import secrets

from django import forms
from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from core.errors import ServiceError
from core.forms import MoneyField
from vouchers import selectors
from vouchers.services import redemption


class RedeemForm(forms.Form):
    codes = forms.CharField(
        label=gettext_lazy("Voucher codes"),
        max_length=4000,
        widget=forms.Textarea(
            attrs={
                "rows": 3,
                "class": "weui-textarea",
                "autocapitalize": "characters",
                "autocomplete": "off",
                "autofocus": True,
            }  # fmt: skip
        ),
        help_text=gettext_lazy("Scan the member's voucher QR code or type the codes, one per line."),
    )
    order_amount = MoneyField(
        label=gettext_lazy("Order amount (CNY)"),
        allow_zero=False,
        widget=forms.TextInput(attrs={"class": "weui-input", "placeholder": "0.00", "inputmode": "decimal"}),
    )
    order_ref = forms.CharField(
        label=gettext_lazy("Order number"),
        max_length=64,
        required=False,
        widget=forms.TextInput(
            attrs={"class": "weui-input", "autocomplete": "off", "placeholder": gettext_lazy("Optional")}
        ),
    )

    def code_list(self) -> list[str]:
        return redemption.codes_from_input(self.cleaned_data["codes"])


def _not_staff(request):
    return render(request, "vouchers/merchant/not_staff.html", {"tab": "me"}, status=403)


def _first_error(form) -> str:
    for errors in form.errors.values():
        return errors[0]
    return ""


@never_cache
@login_required
@require_http_methods(["GET"])
def scan(request):
    """The redemption page. A voucher's QR code holds this page's address with `?code=`: scanned
    by any camera (WeChat's own scanner too) it opens here, after the login when needed, with the
    code filled in; the page's camera button reads the same QR codes into the box."""
    merchant = selectors.merchant_of_staff(request.user)
    if merchant is None:
        return _not_staff(request)
    code = redemption.code_from_input(request.GET.get("code", ""))
    form = RedeemForm(initial={"codes": code})
    if code:  # the code is there: the amount is next
        form.fields["codes"].widget.attrs.pop("autofocus", None)
        form.fields["order_amount"].widget.attrs["autofocus"] = True
    return render(
        request,
        "vouchers/merchant/scan.html",
        {
            "tab": "home",
            "merchant": merchant,
            "form": form,
            "scanned": code,
            "recent": selectors.redemptions_today(merchant),
        },
    )


@never_cache
@login_required
@require_POST
def quote(request):
    merchant = selectors.merchant_of_staff(request.user)
    if merchant is None:
        return _not_staff(request)
    form = RedeemForm(request.POST)
    context = {"tab": "home", "merchant": merchant, "form": form, "recent": selectors.redemptions_today(merchant)}
    if not form.is_valid():
        context["error"] = _first_error(form)
        return render(request, "vouchers/merchant/scan.html", context)
    codes = form.code_list()
    try:
        answer = redemption.redemption_quote(
            merchant=merchant, codes=codes, order_amount=form.cleaned_data["order_amount"]
        )
    except ServiceError as exc:
        context["error"] = exc.message
        return render(request, "vouchers/merchant/scan.html", context)
    return render(
        request,
        "vouchers/merchant/confirm.html",
        {
            "tab": "home",
            "merchant": merchant,
            "quote": answer,
            "codes": "\n".join(answer["used_codes"] + answer["unused_codes"]),
            "order_amount": form.cleaned_data["order_amount"],
            "order_ref": form.cleaned_data["order_ref"],  # when empty, the redemption numbers the order
            # One key per confirmation screen: a double tap or a resent form redeems once.
            "idempotency_key": "web-" + secrets.token_urlsafe(16),
        },
    )


@never_cache
@login_required
@require_POST
def redeem(request):
    merchant = selectors.merchant_of_staff(request.user)
    if merchant is None:
        return _not_staff(request)
    form = RedeemForm(request.POST)
    if not form.is_valid():
        context = {"tab": "home", "merchant": merchant, "form": form, "error": _first_error(form)}
        return render(request, "vouchers/merchant/scan.html", context)
    try:
        result = redemption.redemption_create(
            merchant=merchant,
            codes=form.code_list(),
            order_amount=form.cleaned_data["order_amount"],
            order_ref=form.cleaned_data["order_ref"],
            idempotency_key=request.POST.get("idempotency_key", ""),
            actor=request.user,
        )
    except ServiceError as exc:
        context = {
            "tab": "home",
            "merchant": merchant,
            "form": form,
            "error": exc.message,
            "recent": selectors.redemptions_today(merchant),
        }
        return render(request, "vouchers/merchant/scan.html", context)
    return render(
        request,
        "vouchers/merchant/result.html",
        {"tab": "home", "merchant": merchant, "result": redemption.redemption_answer(result)},
    )
