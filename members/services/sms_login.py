"""Workers log in with their mobile number and a code sent by SMS."""

import datetime as dt
import hashlib
import hmac
import logging
import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from core import ratelimit
from core.errors import ServiceError
from core.parsing import normalize_digits
from core.sms import mask_mobile, send_sms
from members.models import Member, SmsCode, User
from members.selectors import seconds_to_midnight, sms_code_failures_today
from members.validators import normalize_mobile, validate_mobile

logger = logging.getLogger(__name__)
security_log = logging.getLogger("security")


def _code_hash(mobile: str, code: str) -> str:
    return hmac.new(settings.SECRET_KEY.encode(), f"{mobile}:{code}".encode(), hashlib.sha256).hexdigest()


def sms_code_failures_refuse(*, mobile: str) -> None:
    """Refuse (ServiceError "too_many_failures") a number that had its day's wrong codes.

    Every code allows SMS_CODE_MAX_ATTEMPTS tries; this caps the tries over all of a number's codes
    at SMS_CODE_FAILURES_PER_DAY a day, so a code cannot be guessed by asking for code after code.
    """
    if sms_code_failures_today(normalize_mobile(mobile)) >= settings.SMS_CODE_FAILURES_PER_DAY:
        raise ServiceError("too_many_failures", paused_message(seconds_to_midnight()))


def paused_message(seconds: int) -> str:
    """What a number that had its day's wrong codes is told: how long until it may log in again."""
    hours, minutes = seconds // 3600, (seconds % 3600 + 59) // 60
    if minutes == 60:
        hours, minutes = hours + 1, 0
    return _(
        "Too many wrong codes were entered for this number today. For your safety, logging in with it by SMS "
        "is paused until midnight: %(hours)d h %(minutes)d min from now."
    ) % {"hours": hours, "minutes": minutes}


def sms_code_send(*, mobile: str, ip: str) -> None:
    """Send a 6-digit login code, valid 5 minutes. Rate-limited per number and per IP, refused
    once the number had its day's wrong codes, and capped for the whole portal per hour and per
    day (SMS_GLOBAL_RATE_PER_HOUR, SMS_GLOBAL_RATE_PER_DAY; a security event when reached).

    Any well-formed number gets a code, member or not: a worker may log in before their
    membership is imported, and refusing other numbers would tell anyone whether a number
    belongs to a member. The answer is the same for every number."""
    mobile = normalize_mobile(mobile)
    try:
        validate_mobile(mobile)
    except ValidationError as exc:
        raise ServiceError("mobile", exc.messages[0]) from None
    sms_code_failures_refuse(mobile=mobile)
    now = timezone.now()
    recent = (
        SmsCode.objects.filter(mobile=mobile, created_at__gt=now - dt.timedelta(seconds=settings.SMS_RESEND_SECONDS))
        .order_by("-created_at")
        .first()
    )
    if recent:
        wait = max(
            1, int((recent.created_at + dt.timedelta(seconds=settings.SMS_RESEND_SECONDS) - now).total_seconds())
        )
        raise ServiceError(
            "too_soon",
            _("A code was just sent. You can ask for another in %(seconds)d seconds.") % {"seconds": wait},
            resend_in=wait,
        )
    if not ratelimit.hit(f"sms-ip:{ip}", settings.SMS_RATE_PER_IP) or not ratelimit.hit(
        f"sms-mobile:{mobile}", settings.SMS_RATE_PER_MOBILE
    ):
        # The fixed windows of both limits end at the latest in this many minutes.
        periods = [ratelimit.parse_rate(r)[1] for r in (settings.SMS_RATE_PER_IP, settings.SMS_RATE_PER_MOBILE)]
        left = max(p - int(now.timestamp()) % p for p in periods)
        raise ServiceError(
            "rate_limited",
            _("Too many codes were asked for. You can ask again in %(minutes)d minutes at the latest.")
            % {"minutes": (left + 59) // 60},
        )
    # The whole portal's cap, counted atomically (INCR) after the number's and the address's
    # limits, so that a refused request does not use it up.
    if not ratelimit.hit_all(
        [("sms-global:h", settings.SMS_GLOBAL_RATE_PER_HOUR), ("sms-global:d", settings.SMS_GLOBAL_RATE_PER_DAY)]
    ):
        security_log.warning("sms.global_cap_reached ip=%s mobile=%s", ip, mask_mobile(mobile))
        raise ServiceError(
            "sms_capacity", _("Login codes cannot be sent right now: too many were sent. Please try again later.")
        )
    code = f"{secrets.randbelow(10**6):06d}"
    failed = []

    def deliver(row: SmsCode, text: str) -> None:
        # A gateway failure removes the code, so the worker may ask again at once, and is told.
        try:
            send_sms(mobile, text)
        except Exception:
            logger.exception("SMS login code to %s could not be sent", mask_mobile(mobile))
            SmsCode.objects.filter(pk=row.pk).delete()
            failed.append(row.pk)

    with transaction.atomic():
        # A new code replaces any earlier one for the number.
        SmsCode.objects.filter(mobile=mobile, used_at__isnull=True).update(used_at=now)
        row = SmsCode.objects.create(
            mobile=mobile,
            code_hash=_code_hash(mobile, code),
            expires_at=now + dt.timedelta(seconds=settings.SMS_CODE_TTL_SECONDS),
        )
        text = _("Your union portal login code is %(code)s, valid for 5 minutes. Do not share it.") % {"code": code}
        transaction.on_commit(lambda: deliver(row, text))
    # Outside any caller's transaction the code was sent (or not) when the block above committed.
    if failed:
        raise ServiceError("sms_failed", _("The SMS could not be sent. Please try again in a moment."))


def sms_code_check(*, mobile: str, code: str) -> bool:
    """Consume the code if it matches: single use, expires, at most 5 attempts, and none once the
    number had its day's wrong codes (even the right code: the guesser might have found it)."""
    mobile, code = normalize_mobile(mobile), normalize_digits(code)
    now = timezone.now()
    with transaction.atomic():
        sms = (
            SmsCode.objects.select_for_update()
            .filter(mobile=mobile, used_at__isnull=True, expires_at__gt=now)
            .order_by("-created_at")
            .first()
        )
        if sms is None:
            return False
        if sms.attempts >= settings.SMS_CODE_MAX_ATTEMPTS:
            return False
        # Read after the lock: a concurrent wrong try on this code has been counted.
        if sms_code_failures_today(mobile) >= settings.SMS_CODE_FAILURES_PER_DAY:
            return False
        if not hmac.compare_digest(sms.code_hash, _code_hash(mobile, code)):
            SmsCode.objects.filter(pk=sms.pk).update(attempts=F("attempts") + 1)
            return False
        # The conditional update makes the code single-use even under concurrent logins.
        return SmsCode.objects.filter(pk=sms.pk, used_at__isnull=True).update(used_at=now) == 1


def worker_user_for_mobile(mobile: str) -> User:
    """The login for a mobile number, created on first login and linked to an imported member."""
    mobile = normalize_mobile(mobile)
    with transaction.atomic():
        user, created = User.objects.get_or_create(mobile=mobile, defaults={"username": f"m{mobile}"})
        if created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
        Member.objects.filter(mobile=mobile, user__isnull=True).update(user=user)
    return user


def sms_codes_purge_expired() -> int:
    """Delete login codes that expired more than a day ago (a day's failures stay countable);
    return how many. Idempotent."""
    deleted, _deleted_by_model = SmsCode.objects.filter(expires_at__lt=timezone.now() - dt.timedelta(days=1)).delete()
    return deleted
