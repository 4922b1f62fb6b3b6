"""What the partner agencies read: their referrals, their own source keys, and the outbound data
of a published period: for the people an agency reported in its accepted push of that period, that
the union has them on file, with the agency's own keys and whether aid was given (no more)."""

from collections import defaultdict

from django.db.models import Q, QuerySet

from core.models import Agency
from core.parsing import period_parse
from hardship.models import Aid, Case, CycleRun, DataPush, PushRow, Referral
from hardship.periods import period_months
from members.models import Member

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


def accepted_push_exists(*, agency: Agency, period: str) -> bool:
    """Whether the agency has a push of exactly this period that was accepted and ingested (not
    held, rejected or failed): the outbound data of a period answers only about such pushes."""
    return DataPush.objects.filter(agency=agency, period=period, state=DataPush.State.INGESTED).exists()


def _reported_rows(*, agency: Agency, period: str) -> QuerySet[PushRow]:
    """The agency's current rows of its accepted pushes of exactly this period, matched to a member."""
    return PushRow.objects.filter(
        agency=agency, period=period, is_current=True, member__isnull=False, push__state=DataPush.State.INGESTED
    )


def _on_file(period: str) -> QuerySet[Case]:
    """Cases on file in the period: filed before it ended and still filed or receiving aid, or
    closed during or after it."""
    start, end = period_parse(period).bounds()
    return Case.objects.filter(filed_at__isnull=False, filed_at__lt=end).filter(
        Q(state__in=FILED_STATES) | Q(state__in=CLOSED_STATES, closed_at__gte=start)
    )


def outbound_people(*, agency: Agency, period: str) -> QuerySet[Member]:
    """The people an agency's outbound data of `period` answers about: those it reported in its
    own accepted pushes of that period (never another period's, never a held push's) who head a
    hardship case on file in the period. Oldest member first."""
    reported = _reported_rows(agency=agency, period=period).values("member_id")
    heads = _on_file(period).values("head_id")
    return Member.objects.filter(pk__in=reported).filter(pk__in=heads).order_by("pk")


def outbound_details(*, agency: Agency, period: str, people: list[Member]) -> list[dict]:
    """For a page of `outbound_people`, what the data-sharing arrangement gives the agency and no
    more: its own source keys for the person (to find its record) and whether the union gave the
    person aid in the period (to avoid double aid, 多头援助). No case state, category, amount, union,
    name or ID number: the agency learns that the union is assisting someone it reported, not how.
    """
    ids = [m.pk for m in people]
    keys: dict[int, set[str]] = defaultdict(set)
    for member_id, key in (
        _reported_rows(agency=agency, period=period).filter(member_id__in=ids).values_list("member_id", "source_key")
    ):
        keys[member_id].add(key)
    aided = set(
        Aid.objects.filter(period__in=period_months(period), state__in=AID_COUNTED)
        .filter(Q(member_id__in=ids) | Q(case__head_id__in=ids))
        .values_list("member_id", "case__head_id")
        .order_by()
        .distinct()
        .iterator()
    )
    aided_ids = {pk for pair in aided for pk in pair if pk is not None}
    return [{"source_keys": sorted(keys.get(m.pk, ())), "aid_in_period": m.pk in aided_ids} for m in people]
