"""A member's details that staff change: the mobile number (and the login that goes with it)."""

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
