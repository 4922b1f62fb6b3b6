"""Read-side queries for hardship cases, candidates, aid and referrals, with the access rule.

Hardship staff are staff users holding the permission `hardship.view_case` (candidates:
`hardship.view_candidate`) who see only the cases of their own union's subtree
(`members.selectors.scoped`). Staff search for a case; only supervisors (`hardship.list_all_cases`)
may list every case in their scope. Opening a case file or a document writes an AccessLog row.
"""

import datetime as dt
import re

from django.db.models import Q, QuerySet
from django.utils import timezone

from core.errors import ServiceError
from core.models import Agency
from core.parsing import id_number_parse, normalize_digits, period_parse
from hardship.models import (
    Aid,
    Candidate,
    Case,
    CaseDocument,
    PushKind,
    PushRow,
    Referral,
)
from members.models import Member, Union
from members.selectors import scoped

VIEW_CASE = "hardship.view_case"
VIEW_CANDIDATE = "hardship.view_candidate"
LIST_ALL_CASES = "hardship.list_all_cases"
CHANGE_SETTINGS = "hardship.change_hardshipsettings"
CHANGE_SECOND_APPROVAL = "hardship.change_second_approval"
ADD_PUSH = "hardship.add_datapush"
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


def can_list_all_cases(user) -> bool:
    return is_hardship_staff(user) and _has_perm(user, LIST_ALL_CASES)


def is_city_level(user) -> bool:
    """A superuser, or staff of the city federation itself (the union of kind `city`)."""
    if not (getattr(user, "is_authenticated", False) and getattr(user, "is_staff", False)):
        return False
    if user.is_superuser:
        return True
    union = user.union if getattr(user, "union_id", None) else None
    return union is not None and union.kind == Union.Kind.CITY


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


def agencies_uploadable_by(user) -> QuerySet[Agency]:
    """The agencies `user` may upload data for in the admin (see `can_upload_agency_data`)."""
    if not can_upload_agency_data(user):
        return Agency.objects.none()
    return Agency.objects.filter(is_active=True)


def case_search(*, user, query: str) -> QuerySet[Case]:
    """The visible cases matching `query`: a case number, a member number, a whole ID number
    (looked up by its blind index, never stored or logged) or a member's exact real name.

    An empty query finds nothing: staff search for a case rather than browse all.
    """
    from members.services import id_number_index

    query = normalize_digits(query)  # a case or ID number typed with fullwidth digits
    if not query:
        return Case.objects.none()
    cond = Q(case_no__iexact=query) | Q(head__member_no__iexact=query) | Q(head__name=query)
    try:
        cond |= Q(head__id_index=id_number_index(id_number_parse(query)))
    except ServiceError:
        pass  # not an ID number (no member has one that the parser refuses)
    return cases_visible_to(user).filter(cond)


def cases_listable_by(user, query: str = "") -> QuerySet[Case]:
    """What a case list shows: every visible case for supervisors (`hardship.list_all_cases`),
    narrowed by `query` when given; for other hardship staff only the search results, and
    nothing at all without a query."""
    if can_list_all_cases(user):
        return case_search(user=user, query=query) if (query or "").strip() else cases_visible_to(user)
    return case_search(user=user, query=query)


def case_visible(*, user, case_id: int) -> Case | None:
    """The case, if the user may see it; None otherwise. (Opening it for a person to read is
    `hardship.services.case_open`, which also writes the access log.)"""
    return cases_visible_to(user).select_related("head", "union").filter(pk=case_id).first()


def document_visible(*, user, document_id: int) -> CaseDocument | None:
    """A case document, if the user may see its case; None otherwise (`services.document_open`)."""
    return (
        CaseDocument.objects.select_related("case")
        .filter(pk=document_id, case__in=cases_visible_to(user).values("pk"))
        .first()
    )


def overdue_reviews(user, *, today: dt.date | None = None) -> QuerySet[Case]:
    """Filed cases (filed or receiving aid) of the user's scope whose yearly review is overdue."""
    today = today or timezone.localdate()
    return (
        cases_visible_to(user)
        .filter(state__in=[Case.State.FILED, Case.State.RECEIVING_AID], review_due__lt=today)
        .order_by("review_due", "pk")
    )


def case_timeline(case: Case) -> QuerySet:
    return case.events.select_related("actor").order_by("created_at", "id")


def district_of(union: Union) -> Union | None:
    """The union itself when it is a district/county union, else its nearest such ancestor."""
    parts = union.path.split("/")[:-1]
    prefixes = ["/".join(parts[: i + 1]) + "/" for i in range(len(parts))]
    return (
        Union.objects.filter(path__in=prefixes, kind=Union.Kind.DISTRICT).order_by("-path").first()
        if prefixes
        else None
    )


# --- Double aid (多头援助) ------------------------------------------------------------------------


def _norm(text) -> str:
    return re.sub(r"\s+", "", str(text or "")).lower()


def double_aid_check(*, member: Member, fund_line: str, purpose: str, period: str, exclude_aid=None) -> list[dict]:
    """Aid for the same purpose or fund line given to `member` in the same period.

    Looks at aid pushed by other bodies (PushRow kind `aid_given` matched to the member, for the
    month or the quarter that contains it) and at the union's own aid (not rejected; `exclude_aid`
    leaves out the aid being approved). Each finding is a dict with `source` ("agency"/"union"),
    `body`, `purpose`, `fund_line`, `amount` (string), `date` (string) and the row's id.
    """
    periods = {period}
    try:
        month = period_parse(period)
    except ServiceError:
        month = None
    if month is not None and month.kind == "month":
        periods.add(str(month.quarter_of()))
    purpose_n = _norm(purpose)
    found: list[dict] = []
    rows = (
        PushRow.objects.select_related("agency")
        .filter(member=member, kind=PushKind.AID_GIVEN, period__in=periods, is_current=True)
        .order_by("pk")
    )
    for row in rows:
        payload = row.payload or {}
        if payload.get("fund_line") != fund_line and _norm(payload.get("purpose")) != purpose_n:
            continue
        found.append(
            {
                "source": "agency",
                "row": row.pk,
                "agency": row.agency.code,
                "body": str(payload.get("body") or row.agency.name),
                "purpose": str(payload.get("purpose", "")),
                "fund_line": str(payload.get("fund_line", "")),
                "amount": str(payload.get("amount", "")),
                "date": str(payload.get("date", "")),
            }
        )
    own = (
        Aid.objects.select_related("union")
        .filter(member=member, period=period)
        .exclude(state=Aid.State.REJECTED)
        .order_by("pk")
    )
    if exclude_aid is not None:
        own = own.exclude(pk=exclude_aid.pk)
    for aid in own:
        if aid.fund_line != fund_line and _norm(aid.purpose) != purpose_n:
            continue
        found.append(
            {
                "source": "union",
                "aid": aid.pk,
                "body": aid.union.name,
                "purpose": aid.purpose,
                "fund_line": aid.fund_line,
                "amount": str(aid.amount),
                "date": aid.paid_on.isoformat(),
            }
        )
    return found


def aid_pending_for(user) -> QuerySet[Aid]:
    """Aid waiting for a second approver that this user may approve (not their own)."""
    return (
        Aid.objects.filter(state=Aid.State.PENDING_APPROVAL, case__in=cases_visible_to(user).values("pk"))
        .exclude(maker=user)
        .select_related("case", "member")
    )


# --- Referrals, as an agency sees them ---------------------------------------------------------


def referrals_for_agency(agency: Agency, *, state: str | None = None) -> QuerySet[Referral]:
    qs = Referral.objects.filter(agency=agency).select_related("case", "case__head")
    if state:
        qs = qs.filter(state=state)
    return qs


def agency_source_keys(agency: Agency, member_ids) -> dict[int, list[str]]:
    """The agency's own source keys of its current pushed rows, per member id."""
    keys: dict[int, set[str]] = {}
    rows = (
        PushRow.objects.filter(agency=agency, member_id__in=list(member_ids), is_current=True)
        .values_list("member_id", "source_key")
        .order_by()
    )
    for member_id, key in rows:
        keys.setdefault(member_id, set()).add(key)
    return {m: sorted(v) for m, v in keys.items()}
