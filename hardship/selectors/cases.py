"""Finding cases and reading a case file: search, the lists supervisors see, overdue reviews,
the timeline, the district whose standard applies, the agencies' rows about the head, and what
the case file page lists (`case_file`).

Staff search for a case; only supervisors (`hardship.list_all_cases`) may list every case in
their scope. Nothing here writes, not even the access log (opening a case for a person to read
is `hardship.services.case_open_for_view`).
"""

import datetime as dt

from django.db.models import Q, QuerySet
from django.utils import timezone

from core.crypto import id_number_index
from core.errors import ServiceError
from core.parsing import id_number_parse, normalize_digits
from hardship.models import Case, PushKind, PushRow
from hardship.periods import period_sort_key
from hardship.selectors.access import can_list_all_cases, cases_visible_to
from members.models import Union


def case_search(*, user, query: str) -> QuerySet[Case]:
    """The visible cases matching `query`: a case number, a member number, a whole ID number
    (looked up by its blind index, never stored or logged) or a member's exact real name.

    An empty query finds nothing: staff search for a case rather than browse all.
    """
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


def overdue_reviews(user, *, today: dt.date | None = None) -> QuerySet[Case]:
    """Filed cases (filed or receiving aid) of the user's scope whose yearly review is overdue."""
    today = today or timezone.localdate()
    return (
        cases_visible_to(user)
        .filter(state__in=[Case.State.FILED, Case.State.RECEIVING_AID], review_due__lt=today)
        .order_by("review_due", "pk")
    )


REVIEW_SOON_DAYS = 30


def reviews_due(user, *, today: dt.date | None = None, within_days: int = REVIEW_SOON_DAYS) -> QuerySet[Case]:
    """The caseworkers' review list: filed cases (filed or receiving aid) of the user's scope whose
    yearly review is overdue or due within `within_days`, the most overdue first, with head and union."""
    today = today or timezone.localdate()
    return (
        cases_visible_to(user)
        .filter(
            state__in=[Case.State.FILED, Case.State.RECEIVING_AID],
            review_due__lte=today + dt.timedelta(days=within_days),
        )
        .select_related("head", "union")
        .defer(
            "head__id_number",
            "annual_income",
            "medical_expenditure",
            "schooling_expenditure",
            "health_notes",
            "address",
        )
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


# --- The agencies' rows about the head, for the case page ----------------------------------------


def member_evidence(member) -> list[dict]:
    """The member's current pushed rows, decrypted, newest period first (for the case page).

    The ID number is never included; nor is the name the agency sent (it is the member's).
    """
    rows = (
        PushRow.objects.filter(member=member, is_current=True)
        .select_related("agency")
        .only("id", "kind", "period", "source_key", "payload", "created_at", "agency__code", "agency__name")
    )
    labels = dict(PushKind.choices)
    out = [
        {
            "id": row.pk,
            "agency": row.agency.code,
            "agency_name": row.agency.name,
            "kind": row.kind,
            "kind_label": str(labels.get(row.kind, row.kind)),
            "period": row.period,
            "source_key": row.source_key,
            "data": {k: v for k, v in (row.payload or {}).items() if k != "name"},
            "received_at": row.created_at,
        }
        for row in rows
    ]
    out.sort(key=lambda r: (period_sort_key(r["period"]), r["kind"], r["id"]), reverse=True)
    return out


def case_file(case: Case) -> dict:
    """What the case file page lists: aid (newest payment first, with who made and approved it),
    documents (newest first), referrals (newest first, with their agency), the agencies' rows
    about the head (`member_evidence`) and the timeline (oldest first)."""
    return {
        "aid": list(case.aid.select_related("maker", "approver").order_by("-paid_on", "-id")),
        "documents": list(case.documents.order_by("-uploaded_at")),
        "referrals": list(case.referrals.select_related("agency").order_by("-sent_at")),
        "evidence": member_evidence(case.head),
        "events": list(case_timeline(case)),
    }
