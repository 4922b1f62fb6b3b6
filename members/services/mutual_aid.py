"""Mutual medical insurance (医疗互助保障): a member's enrolment for a year."""

from django.db import transaction
from django.utils.translation import gettext as _

from core.errors import ServiceError
from core.services import audit_log
from members.models import Member, MutualAidEnrolment, User


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
