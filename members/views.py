"""The worker's mobile pages. Each view parses input, calls one service (or reads one selector)
and renders the result."""

import datetime as dt

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from social_core.actions import do_complete
from social_core.exceptions import AuthProviderError, SocialAuthBaseException
from social_django.utils import load_strategy

from core.errors import ServiceError
from core.ratelimit import client_ip
from core.sms import mask_mobile
from members import posters, selectors, services, wechat
from members.auth import SmsCodeBackend
from members.forms import ApplicationForm, CorrectionForm, LoginForm, TransferForm, first_error
from members.models import REQUIRED_CONSENTS, ConsentPurpose, MembershipApplication, Station, Union
from members.validators import normalize_mobile

ELDER_COOKIE = "elder"
ELDER_COOKIE_AGE = 365 * 24 * 3600


def _absolute_url(request, path: str) -> str:
    """An absolute link for QR codes: settings.SITE_URL when set, else the request's host."""
    if settings.SITE_URL:
        return settings.SITE_URL.rstrip("/") + path
    return request.build_absolute_uri(path)


def _safe_next(request) -> str:
    """The `next` parameter when it points back into this site, else ''."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return ""


def _union_options(request, *, station: Station | None = None, selected: str = "") -> list[Union]:
    """The choices of the union picker, keeping the worker's current choice among them."""
    options = selectors.unions_for_picker(q=request.GET.get("q", ""), station=station)
    if selected and all(str(u.pk) != selected for u in options):
        chosen = selectors.union_joinable(selected)
        if chosen:
            options.insert(0, chosen)
    return options


def _sms_authenticate(request, mobile: str, code: str):
    """Check a login code with members.auth.SmsCodeBackend and return the worker, or None.

    Not through django.contrib.auth.authenticate(): there django-axes counts and locks staff
    password logins, with the admin's lock-out page and its own cool-off, and a worker who mistyped
    a code five times met "Django 管理" and was refused even the right code. The SMS login has its
    own limits (members.services.sms_login: tries per code, a resend interval, codes per hour, wrong
    codes per number a day) and says which one holds and how long to wait (_sms_failure).

    A number that had its day's wrong codes raises ServiceError ("too_many_failures"), so the
    worker is told why even the right code no longer works, and until when.
    """
    services.sms_code_failures_refuse(mobile=mobile)
    user = SmsCodeBackend().authenticate(request, mobile=mobile, sms_code=code)
    if user is not None:
        user.backend = f"{SmsCodeBackend.__module__}.{SmsCodeBackend.__qualname__}"
    return user


def _sms_failure(mobile: str) -> tuple[str, bool]:
    """After a refused code: what the worker can really do next, and whether SMS login is now
    paused for the day (the lock-out page). Never "ask for a new code" while a new one would be
    refused."""
    try:
        services.sms_code_failures_refuse(mobile=mobile)
    except ServiceError as exc:
        return exc.message, True
    standing = selectors.sms_login_standing(normalize_mobile(mobile))
    if not standing.sent:
        message = _("No code has been sent to this number yet. Please ask for a code first.")
    elif standing.tries_left:
        message = ngettext(
            "The code is wrong. You can try %(n)d more time with this code.",
            "The code is wrong. You can try %(n)d more times with this code.",
            standing.tries_left,
        ) % {"n": standing.tries_left}
    elif standing.resend_in:
        message = _(
            "This code no longer works: it was mistyped too often, has expired or was already used. "
            "You can ask for a new code in %(seconds)d seconds."
        ) % {"seconds": standing.resend_in}
    else:
        message = _(
            "This code no longer works: it was mistyped too often, has expired or was already used. "
            "Please ask for a new code."
        )
    return message, False


def _locked_out(request, message: str):
    """The worker site's lock-out page (429): why SMS login is paused and for how long."""
    return render(request, "locked_out.html", {"tab": "me", "message": message}, status=429)


# --- Home, login, settings -----------------------------------------------------------------------


def home(request):
    member = selectors.member_for_user(request.user)
    application = None if member else selectors.application_latest(request.user)
    return render(request, "members/home.html", {"tab": "home", "member": member, "application": application})


@sensitive_post_parameters("mobile", "sms_code")
@never_cache
@require_http_methods(["GET", "POST"])
def login_view(request):
    next_url = _safe_next(request)
    if request.method == "GET" and request.user.is_authenticated:
        return redirect(next_url or "members:home")
    form = LoginForm(request.POST or None, initial={"mobile": request.GET.get("mobile", "")})
    error = ""
    if request.method == "POST":
        if form.is_valid():
            mobile = form.cleaned_data["mobile"]
            try:
                user = _sms_authenticate(request, mobile, form.cleaned_data["sms_code"])
            except ServiceError as exc:
                return _locked_out(request, exc.message)
            if user is not None:
                login(request, user)
                return redirect(next_url or "members:home")
            error, paused = _sms_failure(mobile)
            if paused:
                return _locked_out(request, error)
        else:
            error = first_error(form)
    context = {"tab": "me", "form": form, "error": error, "next": next_url}
    context["wechat_login"] = wechat.wechat_enabled() and wechat.in_wechat(request)
    return render(request, "members/login.html", context)


@require_POST
def login_code(request):
    """htmx: send a login code to the mobile number in the form; answer with a short message."""
    mobile = normalize_mobile(request.POST.get("mobile", ""))
    try:
        services.sms_code_send(mobile=mobile, ip=client_ip(request))
    except ServiceError as exc:
        context = {
            "ok": False,
            "message": exc.message,
            "code": exc.code,
            "resend_seconds": exc.details.get("resend_in"),
        }
        return render(request, "members/_code_result.html", context)
    message = _("A code was sent to %(mobile)s. It is valid for %(minutes)d minutes.") % {
        "mobile": mask_mobile(mobile),
        "minutes": settings.SMS_CODE_TTL_SECONDS // 60,
    }
    return render(
        request,
        "members/_code_result.html",
        {"ok": True, "message": message, "resend_seconds": settings.SMS_RESEND_SECONDS},
    )


@require_POST
def logout_view(request):
    logout(request)
    return redirect("members:home")


@require_POST
def elder_mode(request):
    """Turn the large-text elder mode (长辈模式) on or off; it is kept in a cookie."""
    response = redirect(_safe_next(request) or "members:home")
    if request.POST.get("elder") == "1":
        response.set_cookie(
            ELDER_COOKIE, "1", max_age=ELDER_COOKIE_AGE, samesite="Lax", httponly=True, secure=request.is_secure()
        )
    else:
        response.delete_cookie(ELDER_COOKIE, samesite="Lax")
    return response


def me(request):
    member = selectors.member_for_user(request.user)
    mobile = getattr(request.user, "mobile", None)
    context = {"tab": "me", "member": member, "mobile_masked": mask_mobile(mobile) if mobile else ""}
    if request.user.is_authenticated:
        context["wechat_bound"] = selectors.wechat_bound(request.user)
        context["wechat_can_bind"] = (
            wechat.wechat_enabled() and wechat.in_wechat(request) and not request.user.is_staff and bool(mobile)
        )
    return render(request, "members/me.html", context)


def privacy(request):
    return render(request, "members/privacy.html", {"tab": "me", "version": settings.PRIVACY_POLICY_VERSION})


# --- Joining (入会) ---------------------------------------------------------------------------------


@sensitive_post_parameters("name", "id_number", "mobile", "sms_code", "employer_name")
@never_cache
@require_http_methods(["GET", "POST"])
def join(request, station_code: str | None = None):
    station = None
    if station_code is not None:
        station = selectors.station_open(station_code)
        if station is None:
            raise Http404
    user = request.user
    if user.is_authenticated:
        member = selectors.member_for_user(user)
        if member is not None and member.is_active:  # a member who left may join again
            messages.info(request, _("You are already a union member."))
            return redirect("members:card")
        latest = selectors.application_latest(user)
        if latest and latest.status == MembershipApplication.Status.PENDING:
            messages.info(request, _("You already have an application under review."))
            return redirect("members:application")
    context = {"tab": "home", "station": station, "needs_mobile": user.is_authenticated and not user.mobile}
    form = ApplicationForm(request.POST or None, anonymous=not user.is_authenticated)
    error = ""
    if request.method == "POST" and not context["needs_mobile"]:
        if form.is_valid():
            data = form.cleaned_data
            if form.anonymous:
                # The SMS code proves the mobile number and logs the worker in.
                try:
                    worker = _sms_authenticate(request, data["mobile"], data["sms_code"])
                except ServiceError as exc:
                    form.add_error("sms_code", exc.message)
                else:
                    if worker is None:
                        form.add_error("sms_code", _sms_failure(data["mobile"])[0])
                    else:
                        login(request, worker)
                        # The number may be an imported member's, now linked to this login: the
                        # worker is already a member (their own membership), not refused as
                        # someone else's number.
                        member = selectors.member_for_user(request.user)
                        if member is not None and member.is_active:
                            messages.info(request, _("You are already a union member."))
                            return redirect("members:card")
                        form = ApplicationForm(request.POST, anonymous=False)
                        form.is_valid()
            if not form.errors:
                try:
                    services.application_submit(
                        applicant=request.user,
                        name=data["name"],
                        id_number=data["id_number"],
                        mobile=request.user.mobile,
                        union=data["union"],
                        employment_form=data["employment_form"],
                        employer_name=data["employer_name"],
                        station=station,
                        privacy_consent=data["privacy_consent"],
                    )
                except ServiceError as exc:
                    error = exc.message
                else:
                    messages.success(request, _("Your application was submitted."))
                    return redirect("members:application")
        error = error or first_error(form)
    context.update(
        form=form,
        error=error,
        unions=_union_options(request, station=station, selected=str(form["union"].value() or "")),
        mobile_masked=mask_mobile(user.mobile) if user.is_authenticated and user.mobile else "",
    )
    return render(request, "members/join.html", context)


@require_GET
def union_options(request):
    """htmx: the <option>s of the union picker that match the search box."""
    station = None
    if request.GET.get("station"):
        station = selectors.station_open(request.GET["station"])
    return render(request, "members/_union_options.html", {"unions": _union_options(request, station=station)})


@login_required
def application(request):
    app = selectors.application_latest(request.user)
    # A member registered by their union (imported) has no application: they are told they are a
    # member, not "you have not applied".
    member = selectors.member_for_user(request.user)
    return render(request, "members/application.html", {"tab": "me", "application": app, "member": member})


# --- The e-membership card ---------------------------------------------------------------------------


@never_cache
@login_required
def card(request):
    member = selectors.member_for_user(request.user)
    if member is None or not member.is_active:
        if member is None:
            messages.info(request, _("Your e-membership card appears here once your application is approved."))
        else:
            messages.info(
                request,
                _("Your membership is not active (%(status)s), so there is no e-membership card.")
                % {"status": member.get_status_display()},
            )
        return redirect("members:application")
    token = services.member_card_token(member)
    # The token is accepted for MEMBER_CARD_TOKEN_MAX_AGE (services.member_card_verify): the page
    # says until when, rather than promising a code that changes.
    valid_until = timezone.now() + dt.timedelta(seconds=settings.MEMBER_CARD_TOKEN_MAX_AGE)
    verify_url = _absolute_url(request, reverse("members:card-verify", args=[token]))
    qr = posters.qr_svg(verify_url, title=_("E-membership card QR code"), css_class="qr card-qr")
    return render(request, "members/card.html", {"tab": "card", "member": member, "qr": qr, "valid_until": valid_until})


@never_cache
def card_verify(request, token: str):
    """Public: a station or merchant scans a member's card. An invalid token is a page with an error state."""
    member = services.member_card_verify(token)
    return render(request, "members/card_verify.html", {"tab": "card", "member": member, "checked_at": timezone.now()})


# --- Transfers (转会) ------------------------------------------------------------------------------------


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def transfer(request):
    member = selectors.member_for_user(request.user)
    if member is None or not member.is_active:
        messages.info(request, _("Only active members can transfer."))
        return redirect("members:application")
    form = TransferForm(request.POST or None)
    error = ""
    if request.method == "POST":
        if form.is_valid():
            try:
                services.transfer_request(
                    member=member,
                    to_union=form.cleaned_data["to_union"],
                    reason=form.cleaned_data["reason"],
                    actor=request.user,
                )
            except ServiceError as exc:
                error = exc.message
            else:
                messages.success(request, _("Your transfer request was sent."))
                return redirect("members:transfer")
        error = error or first_error(form)
    context = {
        "tab": "me",
        "member": member,
        "form": form,
        "error": error,
        "unions": _union_options(request, selected=str(form["to_union"].value() or "")),
        "transfers": selectors.transfers_of_member(member),
    }
    return render(request, "members/transfer.html", context)


# --- Station posters (扫码入会) ----------------------------------------------------------------------------


def station_poster(request, code: str):
    """A printable A5 SVG poster whose QR code opens the station's join link."""
    station = selectors.station_open(code)
    if station is None:
        raise Http404
    join_url = _absolute_url(request, reverse("members:station-join", args=[station.code]))
    response = HttpResponse(
        posters.station_poster_svg(station=station, join_url=join_url), content_type="image/svg+xml; charset=utf-8"
    )
    response["Content-Disposition"] = f'inline; filename="station-{station.code}.svg"'
    return response


# --- A member's rights over their data (PIPL): consents and corrections ------------------------------


def _member_or_redirect(request):
    member = selectors.member_for_user(request.user)
    if member is None:
        messages.info(request, _("This page is for union members."))
    return member


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def consents(request):
    """The member's consents: the required one explained, the optional ones given or withdrawn here."""
    member = _member_or_redirect(request)
    if member is None:
        return redirect("members:application")
    error = ""
    if request.method == "POST":
        try:
            services.consent_set(
                member=member,
                purpose=request.POST.get("purpose", ""),
                given=request.POST.get("given") == "1",
                actor=request.user,
            )
        except ServiceError as exc:
            error = exc.message
        else:
            messages.success(request, _("Your choice was saved."))
            return redirect("members:consents")
    given = selectors.consents_of_member(member)
    items = [
        {
            "purpose": p.value,
            "label": p.label,
            "required": p in REQUIRED_CONSENTS,
            "given": (p in REQUIRED_CONSENTS) or (p.value in given and given[p.value].is_given),
            "record": given.get(p.value),
        }
        for p in ConsentPurpose
    ]
    return render(request, "members/consents.html", {"tab": "me", "member": member, "items": items, "error": error})


@never_cache
@login_required
@sensitive_post_parameters("proposed")
@require_http_methods(["GET", "POST"])
def correction(request):
    """Ask the union to correct a detail (PIPL art. 46); the answers appear here and in 我的数据."""
    member = _member_or_redirect(request)
    if member is None:
        return redirect("members:application")
    form = CorrectionForm(request.POST or None)
    error = ""
    if request.method == "POST":
        if form.is_valid():
            try:
                services.correction_request_submit(member=member, actor=request.user, **form.cleaned_data)
            except ServiceError as exc:
                error = exc.message
            else:
                messages.success(request, _("Your request was sent to your union."))
                return redirect("members:correction")
        error = error or first_error(form)
    context = {
        "tab": "me",
        "form": form,
        "error": error,
        "requests": selectors.corrections_of_member(member),
    }
    return render(request, "members/correction.html", context)


# --- WeChat one-tap login (members.wechat) ---------------------------------------------------------------


def _wechat_backend(request):
    """The WeChat backend for this request; 404 unless WECHAT_APP_ID and WECHAT_APP_SECRET are set."""
    if not wechat.wechat_enabled():
        raise Http404
    return wechat.WechatOAuth2(
        load_strategy(request), redirect_uri=_absolute_url(request, reverse("members:wechat-complete"))
    )


def _wechat_start(request, intent: str):
    backend = _wechat_backend(request)
    request.session[wechat.INTENT_KEY] = intent
    return redirect(backend.auth_url())


def _wechat_login(backend, user, social_user):
    user.backend = f"{wechat.WechatOAuth2.__module__}.{wechat.WechatOAuth2.__name__}"
    login(backend.strategy.request, user)


@never_cache
@require_GET
def wechat_login(request):
    """One tap in WeChat: off to WeChat's authorisation, back at wechat_complete."""
    return _wechat_start(request, "login")


@never_cache
@login_required
@require_POST
def wechat_bind(request):
    """Bind the logged-in worker's WeChat identity (after an SMS login)."""
    return _wechat_start(request, "bind")


@never_cache
@require_GET
def wechat_complete(request):
    """WeChat sends the worker back here with a code: bind or sign in; a refusal is a message."""
    backend = _wechat_backend(request)
    intent = request.session.get(wechat.INTENT_KEY)
    user = request.user if request.user.is_authenticated else None
    try:
        do_complete(backend, _wechat_login, user=user)
    except wechat.WechatRefused as exc:
        message = exc.message
    except AuthProviderError as exc:
        code = getattr(exc, "provider_code", None) or ""
        message = _("WeChat did not authorise the login (error %(code)s). Try again, or log in with an SMS code.") % {
            "code": code
        }
    except SocialAuthBaseException:
        message = _("The WeChat authorisation failed or expired. Try again, or log in with an SMS code.")
    else:
        request.session.pop(wechat.INTENT_KEY, None)
        if intent == "bind":
            messages.success(request, _("WeChat is bound: next time, log in with one tap in WeChat."))
            return redirect("members:me")
        return redirect("members:home")
    request.session.pop(wechat.INTENT_KEY, None)
    messages.error(request, message)
    return redirect("members:me" if request.user.is_authenticated else "members:login")


@login_required
@require_POST
def wechat_unbind(request):
    """Unbind WeChat; allowed even when WeChat login is switched off, so no worker is left bound."""
    if services.wechat_unbind(user=request.user):
        messages.success(request, _("WeChat is unbound."))
    return redirect("members:me")
