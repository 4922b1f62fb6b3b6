"""Mutual medical insurance (医疗互助保障): a member's enrolment for a year, and its withdrawal."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import ServiceError
from core.services import audit_log
from members.models import Member, MutualAidEnrolment, User
from members.services.scope import require_scope


def mutual_aid_enrol(*, member: Member, year: int, actor: User | None = None) -> MutualAidEnrolment:
    """Enrol an active member for `year` (a member already enrolled stays as they are). Staff enrol
    only members of their own unions. Audited as `members.mutual_aid.enrolled`."""
    if actor is not None and getattr(actor, "is_staff", False):
        require_scope(actor, member.union)
    if member.status != Member.Status.ACTIVE:
        raise ServiceError("not_active", _("Only active members can enrol."))
    with transaction.atomic():
        enrolment, created = MutualAidEnrolment.objects.get_or_create(
            member=member, year=year, defaults={"union": member.union}
        )
        if created:
            audit_log(action="members.mutual_aid.enrolled", obj=enrolment, actor=actor, new={"year": year})
    return enrolment


def mutual_aid_withdraw(*, enrolment: MutualAidEnrolment, actor: User, reason: str) -> None:
    """Withdraw an enrolment made in error, with a reason, by staff of the member's unions. Only an
    enrolment of this year or a later one: past years are the record the participation figures
    are built from. Audited as `members.mutual_aid.withdrawn` with what the enrolment was."""
    require_scope(actor, enrolment.member.union)
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError("reason_required", _("Give a reason for the withdrawal."))
    if enrolment.year < timezone.localdate().year:
        raise ServiceError("past_year", _("An enrolment of a past year cannot be withdrawn."))
    with transaction.atomic():
        locked = MutualAidEnrolment.objects.select_for_update().filter(pk=enrolment.pk).first()
        if locked is None:
            raise ServiceError("gone", _("This enrolment has already been withdrawn."))
        audit_log(
            action="members.mutual_aid.withdrawn",
            obj=locked,
            actor=actor,
            old={"member_no": enrolment.member.member_no, "year": locked.year, "union": locked.union_id},
            new={"reason": reason[:300]},
        )
        locked.delete()
