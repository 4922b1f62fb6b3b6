"""Joining a union (入会): a worker applies, staff of the union approve or reject."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.crypto import id_number_index
from core.errors import ErrorKind, ServiceError
from core.services import audit_log, notification_send, recipients_language
from members.models import EmploymentForm, Enterprise, JoinChannel, Member, MembershipApplication, Station, Union, User
from members.selectors import union_staff_ids
from members.services.identity import member_number
from members.services.scope import require_scope
from members.validators import mask_id_number, normalize_mobile, parse_id_number, validate_mobile


def _identity(number: str) -> dict:
    info = parse_id_number(number)
    return {
        "id_number": info.number,
        "id_index": id_number_index(info.number),
        "id_masked": mask_id_number(info.number),
        "_info": info,
    }


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
            staff_ids = union_staff_ids(union)
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


def application_approve(*, application: MembershipApplication, actor: User) -> Member:
    require_scope(actor, application.union)
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
    require_scope(actor, application.union)
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
    require_scope(actor, application.union)
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
