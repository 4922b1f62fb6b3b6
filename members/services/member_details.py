"""A member's details that staff change: the mobile number (and the login that goes with it), and
the status (active, suspended, left). The union changes only by a transfer (转会)."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from core.errors import ErrorKind, ServiceError
from core.services import audit_log
from core.sms import mask_mobile
from members.models import Member, User
from members.services.scope import require_scope
from members.validators import normalize_mobile, validate_mobile


def member_mobile_change(*, member: Member, mobile: str, actor: User) -> Member:
    """Staff record a member's new mobile number; the member's login moves with it.

    Carriers give a number that was given up to someone else, so the old number must no longer open
    the member's card, vouchers or transfers: the worker login linked to the member takes the new
    number (its inbox and history with it) and every session of that login ends. When the new
    number already has a login of its own (the member signed in with it before), the member is
    linked to that one instead, and the old login loses its number.
    """
    require_scope(actor, member.union)
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


# From each status, the statuses staff may set. A member who left joins again by application
# (入会), whose approval reactivates the record; staff do not bring them back by hand.
STATUS_CHANGES = {
    Member.Status.ACTIVE: {Member.Status.SUSPENDED, Member.Status.LEFT},
    Member.Status.SUSPENDED: {Member.Status.ACTIVE, Member.Status.LEFT},
    Member.Status.LEFT: set(),
}


def member_status_change(*, member: Member, actor: User, status: str, reason: str) -> Member:
    """Staff suspend a member, reactivate a suspended one, or record that one left, with a reason.

    Only staff of the member's union (or above) may; the change and its audit entry (old and new
    status, the reason) are written together.
    """
    require_scope(actor, member.union)
    if status not in Member.Status.values:
        raise ServiceError("invalid_status", _("Choose a member status."))
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError("reason_required", _("Give a reason for the status change."))
    with transaction.atomic():
        member = Member.objects.select_for_update().get(pk=member.pk)
        old = member.status
        if status not in STATUS_CHANGES[old]:
            raise ServiceError(
                "status_change_not_allowed",
                _("A member cannot go from “%(old)s” to “%(new)s”.")
                % {"old": Member.Status(old).label, "new": Member.Status(status).label},
                kind=ErrorKind.CONFLICT,
            )
        member.status = status
        member._change_reason = "status changed by staff"
        member.save(update_fields=["status"])
        audit_log(
            action="members.member.status_changed",
            obj=member,
            actor=actor,
            old={"status": old},
            new={"status": status, "reason": reason},
        )
    return member
