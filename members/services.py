"""Membership services: every write to members goes through one of these functions."""

import datetime as dt
import hashlib
import hmac
import logging
import secrets

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from core import ratelimit
from core.crypto import blind_index
from core.errors import ErrorKind, ServiceError
from core.parsing import id_number_normalize, normalize_digits
from core.services import audit_log, notification_send, recipients_language
from core.sms import mask_mobile, send_sms
from members.models import (
    EmploymentForm,
    Enterprise,
    JoinChannel,
    Member,
    MembershipApplication,
    MutualAidEnrolment,
    SmsCode,
    Station,
    Transfer,
    Union,
    User,
)
from members.selectors import sms_code_failures_today, user_can_manage
from members.validators import mask_id_number, normalize_mobile, parse_id_number, validate_mobile

logger = logging.getLogger(__name__)


def id_number_index(number: str) -> str:
    # On the normalised number: a fullwidth copy of an ID number finds the same person.
    return blind_index(id_number_normalize(number), purpose="id_number")


def _identity(number: str) -> dict:
    info = parse_id_number(number)
    return {
        "id_number": info.number,
        "id_index": id_number_index(info.number),
        "id_masked": mask_id_number(info.number),
        "_info": info,
    }


def _require_scope(actor: User, union: Union) -> None:
    if not user_can_manage(actor, union):
        raise ServiceError(
            "forbidden", _("You may only act for your own union and the unions under it."), kind=ErrorKind.FORBIDDEN
        )


# --- Joining (入会) -------------------------------------------------------------------------


def application_submit(
    *,
    applicant: User,
    name: str,
    id_number: str,
    mobile: str,
    union: Union,
    employment_form: str = EmploymentForm.EMPLOYEE,
    employer: Enterprise | None = None,
    employer_name: str = "",
    station: Station | None = None,
    privacy_consent: bool,
) -> MembershipApplication:
    """A worker applies to join a grassroots union. One pending application per person."""
    if not privacy_consent:
        raise ServiceError("privacy_consent", _("Please read and accept the privacy policy."))
    name = (name or "").strip()
    if not name:
        raise ServiceError("name", _("Please enter your real name."))
    mobile = normalize_mobile(mobile)
    ident = _identity(id_number)
    try:
        validate_mobile(mobile)
    except ValidationError as exc:
        raise ServiceError(exc.code or "invalid", exc.messages[0]) from None
    if not union.holds_members or not union.is_active:
        raise ServiceError("union", _("Choose a grassroots or joint union to join."))
    # A member who left (or was suspended) may apply again; approval reactivates their record.
    if Member.objects.filter(id_index=ident["id_index"], status=Member.Status.ACTIVE).exists():
        raise ServiceError(
            "already_member", _("This ID number already belongs to a union member."), kind=ErrorKind.CONFLICT
        )
    if Member.objects.filter(mobile=mobile).exclude(id_index=ident["id_index"]).exists():
        raise ServiceError(
            "mobile_taken", _("This mobile number already belongs to another member."), kind=ErrorKind.CONFLICT
        )
    now = timezone.now()
    ident.pop("_info")
    try:
        with transaction.atomic():
            app = MembershipApplication.objects.create(
                applicant=applicant,
                name=name,
                mobile=mobile,
                union=union,
                employer=employer,
                employer_name=employer_name or (employer.name if employer else ""),
                employment_form=employment_form,
                channel=JoinChannel.STATION if station else JoinChannel.ONLINE,
                station=station,
                privacy_version=settings.PRIVACY_POLICY_VERSION,
                privacy_consented_at=now,
                **ident,
            )
            audit_log(
                action="members.application.submitted",
                obj=app,
                actor=applicant,
                new={"union": union.pk, "station": station.pk if station else None, "id": app.id_masked},
            )
            staff_ids = _union_staff_ids(union)
            with recipients_language():
                notification_send(
                    recipient_ids=staff_ids,
                    kind="members.application.submitted",
                    title=_("New membership application"),
                    body=_("%(name)s applied to join %(union)s.") % {"name": app.masked_name, "union": union.name},
                    link=f"/admin/members/membershipapplication/{app.pk}/change/",
                )
    except IntegrityError:
        raise ServiceError("pending_exists", _("You already have an application under review.")) from None
    return app


def _union_staff_ids(union: Union) -> list[int]:
    """Staff who can act for `union`: its own staff, else the nearest ancestor's."""
    ids: list[int] = []
    node: Union | None = union
    while node is not None and not ids:
        ids = list(User.objects.filter(union=node, is_staff=True, is_active=True).values_list("pk", flat=True))
        node = node.parent
    return ids


def application_approve(*, application: MembershipApplication, actor: User) -> Member:
    _require_scope(actor, application.union)
    with transaction.atomic():
        app = MembershipApplication.objects.select_for_update().get(pk=application.pk)
        if app.status != MembershipApplication.Status.PENDING:
            raise ServiceError("not_pending", _("This application has already been decided."), kind=ErrorKind.CONFLICT)
        former = Member.objects.select_for_update().filter(id_index=app.id_index).first()
        if former is not None and former.status == Member.Status.ACTIVE:
            raise ServiceError(
                "already_member", _("This ID number already belongs to a union member."), kind=ErrorKind.CONFLICT
            )
        info = parse_id_number(app.id_number, min_age=0)
        joined = {
            "user": app.applicant,
            "name": app.name,
            "mobile": app.mobile,
            "employer": app.employer,
            "union": app.union,
            "employment_form": app.employment_form,
            "join_channel": app.channel,
            "station": app.station,
            "privacy_version": app.privacy_version,
            "privacy_consented_at": app.privacy_consented_at,
        }
        try:
            with transaction.atomic():
                if former is None:
                    member = Member.objects.create(
                        id_number=app.id_number,
                        id_index=app.id_index,
                        id_masked=app.id_masked,
                        gender=info.gender,
                        birth_date=info.birth_date,
                        **joined,
                    )
                else:
                    # A returning member: the same record (member number, history) is active again.
                    member = former
                    for field, value in joined.items():
                        setattr(member, field, value)
                    member.status, member.joined_on = Member.Status.ACTIVE, timezone.localdate()
                    member._change_reason = f"rejoined by application {app.pk}"
                    member.save(update_fields=[*joined, "status", "joined_on"])
        except IntegrityError:
            raise ServiceError(
                "mobile_taken", _("This mobile number already belongs to another member."), kind=ErrorKind.CONFLICT
            ) from None
        if former is None:
            member.member_no = member_number(member.pk)
            member.save(update_fields=["member_no"])
        app.status = MembershipApplication.Status.APPROVED
        app.decided_at = timezone.now()
        app.decided_by = actor
        app.member = member
        app.save(update_fields=["status", "decided_at", "decided_by", "member"])
        audit_log(
            action="members.application.approved",
            obj=app,
            actor=actor,
            old={"status": "pending"},
            new={"status": "approved", "member_no": member.member_no, "rejoined": former is not None},
        )
        with recipients_language():
            notification_send(
                recipient_ids=[app.applicant_id],
                kind="members.application.approved",
                title=_("Welcome to the union"),
                body=_("Your application to %(union)s was approved. Your e-membership card is ready.")
                % {"union": app.union.name},
                link="/m/card/",
                sms=True,
                dedupe_key=f"application-approved-{app.pk}",
            )
    return member


def application_reject(*, application: MembershipApplication, actor: User, reason: str) -> MembershipApplication:
    _require_scope(actor, application.union)
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError("reason_required", _("Give a reason for the rejection."))
    with transaction.atomic():
        app = MembershipApplication.objects.select_for_update().get(pk=application.pk)
        if app.status != MembershipApplication.Status.PENDING:
            raise ServiceError("not_pending", _("This application has already been decided."), kind=ErrorKind.CONFLICT)
        app.status = MembershipApplication.Status.REJECTED
        app.reject_reason = reason
        app.decided_at = timezone.now()
        app.decided_by = actor
        app.save(update_fields=["status", "reject_reason", "decided_at", "decided_by"])
        audit_log(
            action="members.application.rejected",
            obj=app,
            actor=actor,
            old={"status": "pending"},
            new={"status": "rejected", "reason": reason},
        )
        with recipients_language():
            notification_send(
                recipient_ids=[app.applicant_id],
                kind="members.application.rejected",
                title=_("Your membership application was not approved"),
                body=reason,
                link="/m/application/",
                sms=True,
                dedupe_key=f"application-rejected-{app.pk}",
            )
    return app


def application_update(
    *, application: MembershipApplication, actor: User, employer: Enterprise | None, employment_form: str
) -> MembershipApplication:
    """Staff correct a pending application's employer and form of employment before deciding it
    (the member is made from them on approval); audited with the old and new values."""
    _require_scope(actor, application.union)
    if employment_form not in EmploymentForm.values:
        raise ServiceError("employment_form", _("Choose a form of employment."))
    with transaction.atomic():
        app = MembershipApplication.objects.select_for_update().get(pk=application.pk)
        if app.status != MembershipApplication.Status.PENDING:
            raise ServiceError("not_pending", _("This application has already been decided."), kind=ErrorKind.CONFLICT)
        old = {"employer": app.employer_id, "employment_form": app.employment_form}
        new = {"employer": employer.pk if employer else None, "employment_form": employment_form}
        changed = [field for field in old if old[field] != new[field]]
        if not changed:
            return app
        app.employer, app.employment_form = employer, employment_form
        app.save(update_fields=changed)
        audit_log(
            action="members.application.changed",
            obj=app,
            actor=actor,
            old={field: old[field] for field in changed},
            new={field: new[field] for field in changed},
        )
    return app


def member_number(pk: int) -> str:
    """A member number that never changes: the city prefix and the row id, zero-padded."""
    return f"HZ{pk:010d}"


# --- Member details ----------------------------------------------------------------------------------


def member_mobile_change(*, member: Member, mobile: str, actor: User) -> Member:
    """Staff record a member's new mobile number; the member's login moves with it.

    Carriers give a number that was given up to someone else, so the old number must no longer open
    the member's card, vouchers or transfers: the worker login linked to the member takes the new
    number (its inbox and history with it) and every session of that login ends. When the new
    number already has a login of its own (the member signed in with it before), the member is
    linked to that one instead, and the old login loses its number.
    """
    _require_scope(actor, member.union)
    mobile = normalize_mobile(mobile)
    try:
        validate_mobile(mobile)
    except ValidationError as exc:
        raise ServiceError("mobile", exc.messages[0]) from None
    with transaction.atomic():
        member = Member.objects.select_for_update(of=("self",)).select_related("user").get(pk=member.pk)
        old = member.mobile
        if mobile == old:
            return member
        if Member.objects.filter(mobile=mobile).exclude(pk=member.pk).exists():
            raise ServiceError(
                "mobile_taken", _("This mobile number already belongs to another member."), kind=ErrorKind.CONFLICT
            )
        member.mobile = mobile
        member._change_reason = "mobile changed by staff"
        member.save(update_fields=["mobile"])
        login = member.user
        if login is not None and not (login.is_staff or login.is_superuser):
            # A new unusable password changes the session hash: every session of the login ends.
            login.set_unusable_password()
            owner = User.objects.select_for_update().filter(mobile=mobile).exclude(pk=login.pk).first()
            login.mobile = mobile if owner is None else None
            login.save(update_fields=["mobile", "password"])
            if owner is not None:
                linkable = not (owner.is_staff or owner.is_superuser or Member.objects.filter(user=owner).exists())
                member.user = owner if linkable else None
                member.save(update_fields=["user"])
        audit_log(
            action="members.member.mobile_changed",
            obj=member,
            actor=actor,
            old={"mobile": mask_mobile(old), "user": login.pk if login else None},
            new={"mobile": mask_mobile(mobile), "user": member.user_id},
        )
    return member


# --- The e-membership card --------------------------------------------------------------------

CARD_SALT = "members.card"


def member_card_token(member: Member) -> str:
    """A signed token for the card's QR code: it carries the member number, never the ID number."""
    return signing.dumps({"n": member.member_no}, salt=CARD_SALT, compress=True)


def member_card_verify(token: str) -> Member | None:
    """The member behind a card token, if it is genuine, recent and the member is active."""
    try:
        data = signing.loads(token, salt=CARD_SALT, max_age=settings.MEMBER_CARD_TOKEN_MAX_AGE)
    except signing.BadSignature:
        return None
    return Member.objects.select_related("union").filter(member_no=data.get("n"), status=Member.Status.ACTIVE).first()


# --- Transfers (转会) ---------------------------------------------------------------------------


def transfer_request(*, member: Member, to_union: Union, reason: str = "", actor: User) -> Transfer:
    if member.status != Member.Status.ACTIVE:
        raise ServiceError("not_active", _("Only active members can transfer."))
    if not to_union.holds_members or not to_union.is_active:
        raise ServiceError("union", _("Choose a grassroots or joint union to join."))
    if to_union.pk == member.union_id:
        raise ServiceError("same_union", _("You are already a member of this union."))
    try:
        with transaction.atomic():
            transfer = Transfer.objects.create(member=member, from_union=member.union, to_union=to_union, reason=reason)
            audit_log(
                action="members.transfer.requested",
                obj=transfer,
                actor=actor,
                new={"from": member.union_id, "to": to_union.pk},
            )
            with recipients_language():
                notification_send(
                    recipient_ids=_union_staff_ids(member.union),
                    kind="members.transfer.requested",
                    title=_("Transfer request"),
                    body=_("%(name)s asks to move to %(union)s.")
                    % {"name": member.masked_name, "union": to_union.name},
                    link=f"/admin/members/transfer/{transfer.pk}/change/",
                )
    except IntegrityError:
        raise ServiceError("transfer_open", _("You already have a transfer in progress.")) from None
    return transfer


def transfer_release(*, transfer: Transfer, actor: User) -> Transfer:
    """The old union lets the member go."""
    _require_scope(actor, transfer.from_union)
    with transaction.atomic():
        t = Transfer.objects.select_for_update().get(pk=transfer.pk)
        if t.status != Transfer.Status.REQUESTED:
            raise ServiceError("bad_state", _("This transfer cannot be released now."))
        t.status, t.released_at, t.released_by = Transfer.Status.RELEASED, timezone.now(), actor
        t.save(update_fields=["status", "released_at", "released_by"])
        audit_log(
            action="members.transfer.released",
            obj=t,
            actor=actor,
            old={"status": "requested"},
            new={"status": "released"},
        )
        with recipients_language():
            notification_send(
                recipient_ids=_union_staff_ids(t.to_union),
                kind="members.transfer.released",
                title=_("Transfer waiting for acceptance"),
                body=_("%(name)s was released by %(union)s.")
                % {"name": t.member.masked_name, "union": t.from_union.name},
                link=f"/admin/members/transfer/{t.pk}/change/",
            )
    return t


def transfer_accept(*, transfer: Transfer, actor: User) -> Transfer:
    """The new union takes the member in; the member's union changes (kept in its history)."""
    _require_scope(actor, transfer.to_union)
    with transaction.atomic():
        t = Transfer.objects.select_for_update().get(pk=transfer.pk)
        if t.status != Transfer.Status.RELEASED:
            raise ServiceError("bad_state", _("The old union must release the member first."))
        member = Member.objects.select_for_update().get(pk=t.member_id)
        if member.status != Member.Status.ACTIVE:
            # The member left or was suspended since asking: the transfer can only be rejected.
            raise ServiceError("not_active", _("This member is no longer active, so the transfer cannot be accepted."))
        old_union = member.union_id
        member.union = t.to_union
        member._change_reason = f"transfer {t.pk}"
        member.save(update_fields=["union"])
        t.status, t.completed_at, t.completed_by = Transfer.Status.COMPLETED, timezone.now(), actor
        t.save(update_fields=["status", "completed_at", "completed_by"])
        audit_log(
            action="members.transfer.accepted",
            obj=t,
            actor=actor,
            old={"status": "released", "union": old_union},
            new={"status": "completed", "union": t.to_union_id},
        )
        if member.user_id:
            with recipients_language():
                notification_send(
                    recipient_ids=[member.user_id],
                    kind="members.transfer.accepted",
                    title=_("Your transfer is complete"),
                    body=_("You are now a member of %(union)s.") % {"union": t.to_union.name},
                    link="/m/card/",
                    dedupe_key=f"transfer-accepted-{t.pk}",
                )
    return t


def transfer_reject(*, transfer: Transfer, actor: User, reason: str) -> Transfer:
    """Either union may refuse: the old one before releasing, the new one before accepting."""
    if not (reason or "").strip():
        raise ServiceError("reason_required", _("Give a reason for the rejection."))
    with transaction.atomic():
        t = Transfer.objects.select_for_update().get(pk=transfer.pk)
        # Which union may refuse is read from the locked row: a release that just happened hands
        # the decision to the new union, whatever the caller's copy of the transfer says.
        _require_scope(actor, t.from_union if t.status == Transfer.Status.REQUESTED else t.to_union)
        if t.status not in (Transfer.Status.REQUESTED, Transfer.Status.RELEASED):
            raise ServiceError("bad_state", _("This transfer is already closed."))
        old = t.status
        t.status, t.rejected_at, t.rejected_by, t.reject_reason = (
            Transfer.Status.REJECTED,
            timezone.now(),
            actor,
            reason,
        )
        t.save(update_fields=["status", "rejected_at", "rejected_by", "reject_reason"])
        audit_log(
            action="members.transfer.rejected",
            obj=t,
            actor=actor,
            old={"status": old},
            new={"status": "rejected", "reason": reason},
        )
        if t.member.user_id:
            with recipients_language():
                notification_send(
                    recipient_ids=[t.member.user_id],
                    kind="members.transfer.rejected",
                    title=_("Your transfer was not approved"),
                    body=reason,
                    dedupe_key=f"transfer-rejected-{t.pk}",
                )
    return t


# --- Mutual medical insurance (医疗互助保障) ---------------------------------------------------------


def mutual_aid_enrol(*, member: Member, year: int, actor: User | None = None) -> MutualAidEnrolment:
    if member.status != Member.Status.ACTIVE:
        raise ServiceError("not_active", _("Only active members can enrol."))
    with transaction.atomic():
        enrolment, created = MutualAidEnrolment.objects.get_or_create(
            member=member, year=year, defaults={"union": member.union}
        )
        if created:
            audit_log(action="members.mutual_aid.enrolled", obj=enrolment, actor=actor, new={"year": year})
    return enrolment


# --- SMS login codes -------------------------------------------------------------------------------


def _code_hash(mobile: str, code: str) -> str:
    return hmac.new(settings.SECRET_KEY.encode(), f"{mobile}:{code}".encode(), hashlib.sha256).hexdigest()


def sms_code_failures_refuse(*, mobile: str) -> None:
    """Refuse (ServiceError "too_many_failures") a number that had its day's wrong codes.

    Every code allows SMS_CODE_MAX_ATTEMPTS tries; this caps the tries over all of a number's codes
    at SMS_CODE_FAILURES_PER_DAY a day, so a code cannot be guessed by asking for code after code.
    """
    if sms_code_failures_today(normalize_mobile(mobile)) >= settings.SMS_CODE_FAILURES_PER_DAY:
        raise ServiceError(
            "too_many_failures",
            _("Too many wrong codes were entered for this number today. Please try again tomorrow."),
        )


def sms_code_send(*, mobile: str, ip: str) -> None:
    """Send a 6-digit login code, valid 5 minutes. Rate-limited per number and per IP, and refused
    once the number had its day's wrong codes."""
    mobile = normalize_mobile(mobile)
    try:
        validate_mobile(mobile)
    except ValidationError as exc:
        raise ServiceError("mobile", exc.messages[0]) from None
    sms_code_failures_refuse(mobile=mobile)
    now = timezone.now()
    recent = SmsCode.objects.filter(
        mobile=mobile, created_at__gt=now - dt.timedelta(seconds=settings.SMS_RESEND_SECONDS)
    ).exists()
    if recent:
        raise ServiceError("too_soon", _("A code was just sent. Please wait a minute before asking again."))
    if not ratelimit.hit(f"sms-ip:{ip}", settings.SMS_RATE_PER_IP) or not ratelimit.hit(
        f"sms-mobile:{mobile}", settings.SMS_RATE_PER_MOBILE
    ):
        raise ServiceError("rate_limited", _("Too many codes requested. Please try again later."))
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
