"""The worker's voucher pages (消费券): campaigns, the claim button, my vouchers and a voucher's QR.

Members only (logged in and an active member). Each view reads one selector or calls one service
and renders the result: the claim and the draw registration (`vouchers.services.claims`,
`vouchers.services.draws`); a voucher's QR code holds the merchant page's address with its code.
"""

from functools import lru_cache, wraps
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from core.errors import ServiceError
from core.ratelimit import client_ip
from members import posters
from members.models import Member
from members.selectors import member_for_user
from vouchers import selectors, services
from vouchers.models import Campaign, Distribution, VoucherSettings


def redeem_address(request, code: str) -> str:
    """The absolute address of the merchant's redemption page with the voucher's code filled in
    (settings.SITE_URL when set, else the request's host): what a voucher's QR code holds."""
    path = f"{reverse('vouchers:merchant')}?{urlencode({'code': code})}"
    if settings.SITE_URL:
        return settings.SITE_URL.rstrip("/") + path
    return request.build_absolute_uri(path)


def member_required(view):
    """Logged in and an active member; others are sent to their application (htmx calls get 403)."""

    @login_required
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        member = member_for_user(request.user)
        if member is None or not member.is_active:
            if request.headers.get("HX-Request") or request.method == "POST":
                return render(
                    request,
                    "vouchers/_claim_result.html",
                    {"outcome": "not_eligible", "message": _("Vouchers are for active union members.")},
                    status=403,
                )
            messages.info(request, _("Vouchers are for active union members."))
            return redirect("members:application")
        request.member = member
        return view(request, *args, **kwargs)

    return wrapped


def _campaign_or_404(request, pk: int) -> Campaign:
    campaign = selectors.campaign_for_member(request.member, pk)
    if campaign is None:
        raise Http404
    return campaign


@never_cache
@member_required
def campaigns(request):
    items = selectors.campaigns_for_member(request.member)
    for campaign in items:
        campaign.rule = selectors.rule_text(campaign)
    return render(request, "vouchers/campaigns.html", {"tab": "home", "campaigns": items, "now": timezone.now()})


@never_cache
@member_required
def campaign(request, pk: int):
    campaign = _campaign_or_404(request, pk)
    services.claimant_remember(request.user, request.member)  # the claim button then reads no member row
    now = timezone.now()
    window = services.claim_window(
        state=campaign.state, opens_at=campaign.claim_opens_at, closes_at=campaign.claim_closes_at, now=now
    )
    context = {
        "tab": "home",
        "campaign": campaign,
        # For the countdown: the server's clock, so a phone's wrong clock does not matter.
        "opens_iso": timezone.localtime(campaign.claim_opens_at).isoformat(timespec="milliseconds"),
        "now_iso": timezone.localtime(now).isoformat(timespec="milliseconds"),
        "rule": selectors.rule_text(campaign),
        "eligible": selectors.campaign_is_eligible(campaign, request.member),
        "is_draw": campaign.distribution == Distribution.DRAW,
        "registered": campaign.distribution == Distribution.DRAW
        and selectors.draw_registered(campaign, request.member),
        # The claim's own rule (services.claim_window), so the page says what a claim would answer.
        "before_window": window == "not_open",
        "after_window": window == "closed",
        "sold_out": window == "sold_out",
        "stock_hint": selectors.campaign_stock_hint(campaign.pk),
        "accepting": selectors.accepting_merchants(campaign),
        "now": now,
    }
    return render(request, "vouchers/campaign.html", context)


def _claim_answer(request, pk: int, outcome: str, message: str, voucher=None, status: int = 200):
    # A fragment that needs no context processor (no CSRF token: htmx sends the header), so none runs.
    context = {"outcome": outcome, "message": message, "voucher": voucher, "campaign_id": pk}
    return HttpResponse(render_to_string("vouchers/_claim_result.html", context), status=status)


@lru_cache(maxsize=8)
def sold_out_fragment(language: str) -> str:
    """The sold-out answer, rendered once per language: it is the same for every campaign and
    member, and on the rush day it is most of the answers."""
    result = services.sold_out_result()
    return render_to_string("vouchers/_claim_result.html", {"outcome": result.outcome, "message": result.message})


@never_cache
@require_POST
def claim(request, pk: int):
    """htmx: claim one voucher of the campaign; answer with the outcome (always 200 so htmx swaps it).

    Built for the rush: once the campaign is sold out the flag answers before the session, the user
    or the member is read; otherwise the member's facts come from the cache (`claimant_for_user`),
    not from the member row."""
    if services.sold_out_flag(pk):
        return HttpResponse(sold_out_fragment(get_language()))
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    claimant = services.claimant_for_user(request.user)
    if claimant is None or claimant.status != Member.Status.ACTIVE:
        return _claim_answer(request, pk, "not_eligible", _("Vouchers are for active union members."), status=403)
    try:
        result = services.voucher_claim(campaign_id=pk, member=claimant, ip=client_ip(request))
    except ServiceError as exc:  # e.g. the voucher could not be written: nothing was taken, try again
        return _claim_answer(request, pk, "error", exc.message)
    return _claim_answer(request, pk, result.outcome, result.message, result.voucher)


@never_cache
@require_POST
@member_required
def register(request, pk: int):
    """htmx: register interest in a draw campaign (抽签)."""
    campaign = _campaign_or_404(request, pk)
    try:
        services.draw_register(campaign=campaign, member=request.member)
    except ServiceError as exc:
        return render(request, "vouchers/_register_result.html", {"ok": False, "message": exc.message})
    return render(
        request,
        "vouchers/_register_result.html",
        {"ok": True, "message": _("You are registered for the draw. We will tell you the result.")},
    )


@never_cache
@member_required
def mine(request):
    vouchers = list(selectors.vouchers_of_member(request.member)[:100])
    for voucher in vouchers:
        voucher.rule = selectors.rule_text(voucher.campaign)
    return render(request, "vouchers/mine.html", {"tab": "home", "vouchers": vouchers})


@never_cache
@member_required
def voucher(request, code: str):
    voucher = selectors.voucher_of_member(request.member, code)
    if voucher is None:  # another member's voucher looks like no voucher at all
        raise Http404
    context = {
        "tab": "home",
        "voucher": voucher,
        "rule": selectors.rule_text(voucher.campaign),
        "refund_hours": VoucherSettings.get().refund_window_hours,
        "use": selectors.voucher_live_use(voucher) if voucher.state == voucher.State.USED else None,
        "accepting": selectors.accepting_merchants(voucher.campaign)
        if voucher.state == voucher.State.CLAIMED
        else None,
        # The merchant page's address with the code: any camera (WeChat's scanner too) opens it there.
        "qr": posters.qr_svg(
            redeem_address(request, voucher.code), title=_("Voucher QR code"), css_class="qr voucher-qr"
        )
        if voucher.state == voucher.State.CLAIMED
        else "",
    }
    return render(request, "vouchers/voucher.html", context)
