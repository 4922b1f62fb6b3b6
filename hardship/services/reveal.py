"""Revealing a case's person (身份信息查看): staff holding `hardship.reveal_person` see the full name,
ID number, mobile and address of a case's head of household, with a stated reason; every reveal is
written to the access log (who, whom, why, when). Everything else stays masked."""

from dataclasses import dataclass

from django.db import transaction
from django.utils.translation import gettext as _

from core.errors import ErrorKind, ServiceError
from core.services import audit_log
from hardship.models import AccessLog, Case
from hardship.selectors.access import is_hardship_staff
from hardship.services.access import access_log, require_case

REVEAL_PERSON = "hardship.reveal_person"
REVEAL_REASON_MIN = 4  # "电话回访" is a reason; "看看" is not
REVEAL_REASON_MAX = 200  # the access log's detail


@dataclass(frozen=True)
class RevealedPerson:
    name: str
    id_number: str
    mobile: str
    address: str
    member_no: str


def can_reveal_person(user) -> bool:
    return is_hardship_staff(user) and user.has_perm(REVEAL_PERSON)


def case_reveal_person(*, case: Case, actor, reason: str) -> RevealedPerson:
    """The full identity and contact details of the case's head, for `actor` to read once. Refused
    without the permission (`forbidden`, nothing logged), outside the actor's scope (`forbidden`)
    and without a reason of at least `REVEAL_REASON_MIN` characters (`reason_required`). The access
    log gets the reveal with the reason; the audit log the fact (never the data)."""
    if not can_reveal_person(actor):
        raise ServiceError(
            "forbidden", _("You may not reveal the identity of a case's person."), kind=ErrorKind.FORBIDDEN
        )
    require_case(actor, case)
    reason = " ".join((reason or "").split())
    if len(reason) < REVEAL_REASON_MIN:
        raise ServiceError(
            "reason_required",
            _("State why you need the person's identity (at least %(count)d characters).")
            % {"count": REVEAL_REASON_MIN},
        )
    if len(reason) > REVEAL_REASON_MAX:
        raise ServiceError(
            "reason_too_long",
            _("Keep the reason under %(count)d characters.") % {"count": REVEAL_REASON_MAX},
        )
    case = Case.objects.select_related("head").get(pk=case.pk)
    head = case.head
    with transaction.atomic():
        access_log(user=actor, action=AccessLog.Action.REVEAL, case=case, detail=reason)
        audit_log(
            action="hardship.case.person_revealed",
            obj=case,
            actor=actor,
            new={"member": head.member_no, "fields": ["name", "id_number", "mobile", "address"]},
        )
    return RevealedPerson(
        name=head.name,
        id_number=head.id_number,
        mobile=head.mobile,
        address=case.address or "",
        member_no=head.member_no or "",
    )
