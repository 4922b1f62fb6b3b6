"""Reads about aid: the double-aid check (多头援助) and the aid waiting for a second approver."""

import re

from django.db.models import QuerySet

from core.errors import ServiceError
from core.parsing import period_parse
from hardship.models import Aid, PushKind, PushRow
from hardship.selectors.access import cases_visible_to
from members.models import Member


def _norm(text) -> str:
    return re.sub(r"\s+", "", str(text or "")).lower()


def double_aid_check(*, member: Member, fund_line: str, purpose: str, period: str, exclude_aid=None) -> list[dict]:
    """Aid for the same purpose or fund line given to `member` in the same period.

    Looks at aid pushed by other bodies (PushRow kind `aid_given` matched to the member, for the
    month or the quarter that contains it) and at the union's own aid (not rejected or voided; `exclude_aid`
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
        .exclude(state__in=Aid.NOT_COUNTED)
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
