"""Who may see and do what in the hardship app, and what they see.

Hardship staff are staff users holding the permission `hardship.view_case` (candidates:
`hardship.view_candidate`) who see only the cases of their own union's subtree
(`members.selectors.scoped`). The settings row and uploads on an agency's behalf are for
city-level staff only.
"""

from django.db.models import Q, QuerySet

from core.models import Agency
from hardship.models import Candidate, Case, CaseDocument
from members.models import Union, User
from members.selectors import is_city_level, scoped

VIEW_CASE = "hardship.view_case"
VIEW_CANDIDATE = "hardship.view_candidate"
LIST_ALL_CASES = "hardship.list_all_cases"
CHANGE_SETTINGS = "hardship.change_hardshipsettings"
CHANGE_SECOND_APPROVAL = "hardship.change_second_approval"
ADD_PUSH = "hardship.add_datapush"
REVIEW_HELD_PUSH = "hardship.review_held_push"
UPLOAD_AGENCY_DATA = "hardship.upload_agency_data"


def _has_perm(user, perm: str) -> bool:
    return bool(
        getattr(user, "is_authenticated", False)
        and getattr(user, "is_staff", False)
        and getattr(user, "is_active", False)
        and hasattr(user, "has_perm")
        and user.has_perm(perm)
    )


def is_hardship_staff(user) -> bool:
    return _has_perm(user, VIEW_CASE)


def cases_visible_to(user) -> QuerySet[Case]:
    """Cases of the user's union subtree, for staff with `hardship.view_case`; none otherwise."""
    if not is_hardship_staff(user):
        return Case.objects.none()
    return scoped(Case.objects.all(), user, "union")


def case_visible_to(user, case: Case) -> bool:
    return cases_visible_to(user).filter(pk=case.pk).exists()


def candidates_visible_to(user) -> QuerySet[Candidate]:
    """Candidates of the user's union subtree, for staff with `hardship.view_candidate`."""
    if not _has_perm(user, VIEW_CANDIDATE):
        return Candidate.objects.none()
    return scoped(Candidate.objects.all(), user, "union")


def candidates_open(user) -> QuerySet[Candidate]:
    """The candidates of the user's worklist still to assess (neither confirmed nor dismissed)."""
    return candidates_visible_to(user).filter(state=Candidate.State.OPEN)


def can_list_all_cases(user) -> bool:
    return is_hardship_staff(user) and _has_perm(user, LIST_ALL_CASES)


def can_change_hardship_settings(user) -> bool:
    """The settings row applies to the whole city: city-level staff with `change_hardshipsettings`."""
    return _has_perm(user, CHANGE_SETTINGS) and is_city_level(user)


def can_change_second_approval(user) -> bool:
    """The maker–checker threshold also needs the dedicated `hardship.change_second_approval`."""
    return can_change_hardship_settings(user) and _has_perm(user, CHANGE_SECOND_APPROVAL)


def can_upload_agency_data(user) -> bool:
    """Staff may upload a file on a partner agency's behalf only at city level, with
    `hardship.add_datapush` and `hardship.upload_agency_data`. Staff are not linked to agencies, and
    an agency's rows cover the whole city (a new push replaces the agency's earlier rows with the
    same source keys, and feeds screening, the double-aid check and the agency's outbound data), so
    district and grassroots staff, whose scope is part of the city, never act for an agency."""
    return is_city_level(user) and _has_perm(user, ADD_PUSH) and _has_perm(user, UPLOAD_AGENCY_DATA)


def can_review_held_pushes(user) -> bool:
    """Releasing a held push feeds its rows to screening and to the agency's outbound data for the
    whole city: city-level staff with `hardship.review_held_push` only."""
    return is_city_level(user) and _has_perm(user, REVIEW_HELD_PUSH)


def held_push_reviewer_ids() -> list[int]:
    """The active staff who may release or reject a held push (see `can_review_held_pushes`)."""
    perm = Q(user_permissions__codename="review_held_push") | Q(groups__permissions__codename="review_held_push")
    city = Q(union__kind=Union.Kind.CITY) & perm
    return list(
        User.objects.filter(is_active=True, is_staff=True)
        .filter(Q(is_superuser=True) | city)
        .values_list("pk", flat=True)
        .distinct()
        .order_by("pk")
    )


def agencies_uploadable_by(user) -> QuerySet[Agency]:
    """The agencies `user` may upload data for in the admin (see `can_upload_agency_data`)."""
    if not can_upload_agency_data(user):
        return Agency.objects.none()
    return Agency.objects.filter(is_active=True)


def case_visible(*, user, case_id: int) -> Case | None:
    """The case, if the user may see it; None otherwise. (Opening it for a person to read is
    `hardship.services.case_open`, which also writes the access log.)"""
    return cases_visible_to(user).select_related("head", "union").filter(pk=case_id).first()


def document_visible(*, user, document_id: int) -> CaseDocument | None:
    """A case document, if the user may see its case; None otherwise (`services.document_open_for_view`)."""
    return (
        CaseDocument.objects.select_related("case")
        .filter(pk=document_id, case__in=cases_visible_to(user).values("pk"))
        .first()
    )
