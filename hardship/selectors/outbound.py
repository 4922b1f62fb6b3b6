"""What the partner agencies read: their referrals, their own source keys, and the outbound data
of a published period (the filed cases they may see, with their referrals and aid)."""

from collections import defaultdict

from django.db.models import Q, QuerySet, Sum
from django.utils import timezone

from core.models import Agency
from core.parsing import period_parse
from hardship.models import Aid, Case, CycleRun, PushRow, Referral
from hardship.periods import period_months

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


FILED_STATES = (Case.State.FILED, Case.State.RECEIVING_AID)
CLOSED_STATES = (Case.State.EXITED, Case.State.RESOLVED, Case.State.WITHDRAWN)
AID_COUNTED = (Aid.State.APPROVED, Aid.State.PAID)


# --- Outbound data for the agencies ---------------------------------------------------------------------


def is_published(period: str) -> bool:
    """A month is published by its cycle run; a quarter (2025-Q1) once its last month (2025-03)
    is, since the cycles run month by month."""
    parsed = period_parse(period)
    return CycleRun.objects.filter(
        period__in={str(parsed), str(parsed.last_month)}, published_at__isnull=False
    ).exists()


def outbound_cases(*, agency: Agency, period: str) -> QuerySet[Case]:
    """The filed cases an agency may see for `period`, for its own cross-checks.

    Filed (filed before the period ended) and still filed or receiving aid, or closed during or
    after the period; and either headed by someone in the agency's own current pushed rows, or
    referred to the agency.
    """
    start, end = period_parse(period).bounds()
    own_heads = PushRow.objects.filter(agency=agency, is_current=True, member__isnull=False).values("member_id")
    referred = Referral.objects.filter(agency=agency).values("case_id")
    return (
        Case.objects.filter(filed_at__isnull=False, filed_at__lt=end)
        .filter(Q(state__in=FILED_STATES) | Q(state__in=CLOSED_STATES, closed_at__gte=start))
        .filter(Q(head_id__in=own_heads) | Q(pk__in=referred))
    )


def _head_aid_cases(*, agency: Agency, period: str, head_ids) -> dict[int, int]:
    """For each head, the one outbound case of the period credited with the head's aid that has no
    case (warmth batches): the case still filed, else the latest filed (then the highest id).
    Chosen among all of the agency's outbound cases, not one page's, so that aid is counted once
    even when the head's cases fall on different pages."""
    chosen: dict[int, tuple] = {}
    rows = outbound_cases(agency=agency, period=period).filter(head_id__in=head_ids)
    for head_id, pk, state, filed_at in rows.values_list("head_id", "pk", "state", "filed_at"):
        rank = (state in FILED_STATES, filed_at, pk)
        if head_id not in chosen or rank > chosen[head_id]:
            chosen[head_id] = rank
    return {head_id: rank[2] for head_id, rank in chosen.items()}


def outbound_details(*, agency: Agency, period: str, cases: list[Case]) -> list[dict]:
    """For a page of `outbound_cases`: the agency's own source keys, its referrals, and the aid
    (approved or paid) of the period by fund line: the case's own and the head's warmth payments.

    A head may have two outbound cases in a period (one closed during it and a new one). The
    agency's source keys are about the person, so each of the head's cases lists them. Aid under a
    case counts for that case; the head's aid without a case counts once, for the case
    `_head_aid_cases` chooses."""
    ids = [c.pk for c in cases]
    page = set(ids)
    head_ids = sorted({c.head_id for c in cases})
    keys: dict[int, set[str]] = defaultdict(set)  # by head
    for member_id, key in PushRow.objects.filter(agency=agency, is_current=True, member_id__in=head_ids).values_list(
        "member_id", "source_key"
    ):
        keys[member_id].add(key)
    referrals: dict[int, list[dict]] = defaultdict(list)
    for ref in Referral.objects.filter(agency=agency, case_id__in=ids).order_by("sent_at", "pk"):
        referrals[ref.case_id].append(
            {"id": ref.pk, "benefit": ref.benefit, "state": ref.state, "sent_at": ref.sent_at, "amount": ref.amount}
        )
    months = period_months(period)
    head_aid_case = _head_aid_cases(agency=agency, period=period, head_ids=head_ids) if head_ids else {}
    aid: dict[int, dict[str, str]] = defaultdict(dict)
    grouped = (
        Aid.objects.filter(period__in=months, state__in=AID_COUNTED)
        .filter(Q(case_id__in=ids) | Q(case__isnull=True, member_id__in=head_ids))
        .values("case_id", "member_id", "fund_line")
        .annotate(total=Sum("amount"))
        .order_by()
    )
    sums: dict[int, dict] = defaultdict(lambda: defaultdict(int))
    for g in grouped:
        case_id = g["case_id"] or head_aid_case.get(g["member_id"])
        if case_id in page:  # the head's chosen case may be on another page
            sums[case_id][g["fund_line"]] += g["total"]
    for case_id, lines in sums.items():
        aid[case_id] = {line: f"{total:.2f}" for line, total in sorted(lines.items())}
    return [
        {
            "case_no": c.case_no or "",
            "state": c.state,
            "category": c.category,
            "filed_on": timezone.localtime(c.filed_at).date() if c.filed_at else None,
            "closed_on": timezone.localtime(c.closed_at).date() if c.closed_at else None,
            "head": {"masked_name": c.head.masked_name, "id_masked": c.head.id_masked},
            "union": {"code": c.union.code, "name": c.union.name},
            "source_keys": sorted(keys.get(c.head_id, ())),
            "referrals": referrals.get(c.pk, []),
            "aid": aid.get(c.pk, {}),
        }
        for c in cases
    ]
