"""The evaluators of the rule kinds: each finds the members a rule hits in a period, with the
rows and figures that triggered it."""

from collections import defaultdict
from collections.abc import Callable
from decimal import Decimal

from core.errors import ServiceError
from core.models import Agency
from core.parsing import money_parse
from hardship.models import PushKind, PushRow, ScreeningRule
from hardship.periods import period_of_month, period_sort_key, period_window
from hardship.screening.facts import Tick, id_batches, row_fact, stream_rows


def _cents(value) -> int | None:
    """An amount (a pushed row's, stored as `core.parsing.money_text` wrote it, or a rule's
    threshold) in cents; None when it is not an amount."""
    try:
        return int(money_parse(value) * 100)
    except ServiceError:
        return None


def _money(cents: int) -> str:
    return f"{Decimal(cents) / 100:.2f}"


def _grade(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _agency_codes() -> dict[int, str]:
    return dict(Agency.objects.values_list("pk", "code"))


def _rows(kind: str, periods: list[str]):
    return PushRow.objects.filter(kind=kind, is_current=True, member__isnull=False, period__in=periods)


# Each evaluator returns {member_id: evidence}, evidence holding "rows", "facts" (raw fact strings,
# hashed later), "sources" (agency codes) and the figures that triggered the hit.


def _eval_medical(rule: ScreeningRule, period: str, tick: Tick) -> dict[int, dict]:
    if rule.threshold_amount is None:
        return {}
    threshold = _cents(rule.threshold_amount)
    window = period_window(period)
    totals: dict[int, int] = defaultdict(int)
    for member_id, payload in stream_rows(_rows(PushKind.MEDICAL, window), ("member_id", "payload"), tick):
        cents = _cents((payload or {}).get("out_of_pocket"))
        if cents:
            totals[member_id] += cents
    hitters = sorted(m for m, total in totals.items() if total >= threshold)
    del totals
    codes = _agency_codes()
    hits: dict[int, dict] = {}
    fields = ("id", "member_id", "agency_id", "period", "source_key", "payload")
    for batch in id_batches(hitters):
        qs = _rows(PushKind.MEDICAL, window).filter(member_id__in=batch).order_by("member_id", "period", "id")
        for row_id, member_id, agency_id, row_period, source_key, payload in qs.values_list(*fields):
            cents = _cents((payload or {}).get("out_of_pocket"))
            if not cents:
                continue
            ev = hits.setdefault(member_id, {"rows": [], "facts": [], "sources": set(), "amounts": [], "_total": 0})
            ev["rows"].append(row_id)
            ev["facts"].append(row_fact(PushKind.MEDICAL, agency_id, row_period, source_key, payload))
            ev["sources"].add(codes.get(agency_id, ""))
            ev["amounts"].append({"row": row_id, "period": row_period, "out_of_pocket": _money(cents)})
            ev["_total"] += cents
    for ev in hits.values():
        ev["total"] = _money(ev.pop("_total"))
        ev["threshold"] = _money(threshold)
    return hits


def _eval_low_income(rule: ScreeningRule, period: str, tick: Tick) -> dict[int, dict]:
    """The member's latest list row in the 12-month window says "active"."""
    latest: dict[int, tuple] = {}
    fields = ("id", "member_id", "agency_id", "period", "source_key", "payload")
    for rec in stream_rows(_rows(PushKind.LOW_INCOME, period_window(period)), fields, tick):
        key = (period_sort_key(rec[3]), rec[0])
        if rec[1] not in latest or key > latest[rec[1]][0]:
            latest[rec[1]] = (key, rec)
    codes = _agency_codes()
    hits: dict[int, dict] = {}
    for member_id, (_key, (row_id, _m, agency_id, row_period, source_key, payload)) in latest.items():
        payload = payload or {}
        if payload.get("status") != "active":
            continue
        hits[member_id] = {
            "rows": [row_id],
            "facts": [row_fact(PushKind.LOW_INCOME, agency_id, row_period, source_key, payload)],
            "sources": {codes.get(agency_id, "")},
            "list": payload.get("list", ""),
            "start_date": payload.get("start_date", ""),
        }
    return hits


def _eval_grade(kind: str, detail: str) -> Callable[[ScreeningRule, str, Tick], dict[int, dict]]:
    """Any row in the 12-month window with a grade at or above the rule's (grade ≤ level)."""

    def evaluate(rule: ScreeningRule, period: str, tick: Tick) -> dict[int, dict]:
        if rule.grade_at_least is None:
            return {}
        codes = _agency_codes()
        hits: dict[int, dict] = {}
        fields = ("id", "member_id", "agency_id", "period", "source_key", "payload")
        for row_id, member_id, agency_id, row_period, source_key, payload in stream_rows(
            _rows(kind, period_window(period)), fields, tick
        ):
            payload = payload or {}
            grade = _grade(payload.get("grade"))
            if grade is None or not 1 <= grade <= rule.grade_at_least:
                continue
            ev = hits.setdefault(member_id, {"rows": [], "facts": [], "sources": set(), "grade": grade, detail: ""})
            ev["rows"].append(row_id)
            ev["facts"].append(row_fact(kind, agency_id, row_period, source_key, payload))
            ev["sources"].add(codes.get(agency_id, ""))
            if grade <= ev["grade"]:
                ev["grade"], ev[detail] = grade, str(payload.get(detail, ""))
        for ev in hits.values():
            ev["rows"].sort()
        return hits

    return evaluate


def _eval_other_aid(rule: ScreeningRule, period: str, tick: Tick) -> dict[int, dict]:
    """Aid pushed for the period's month (or its quarter); with a threshold, the total must reach it."""
    codes = _agency_codes()
    hits: dict[int, dict] = {}
    fields = ("id", "member_id", "agency_id", "period", "source_key", "payload")
    for row_id, member_id, agency_id, row_period, source_key, payload in stream_rows(
        _rows(PushKind.AID_GIVEN, period_of_month(period)), fields, tick
    ):
        payload = payload or {}
        cents = _cents(payload.get("amount")) or 0
        ev = hits.setdefault(member_id, {"rows": [], "facts": [], "sources": set(), "amounts": [], "_total": 0})
        ev["rows"].append(row_id)
        ev["facts"].append(row_fact(PushKind.AID_GIVEN, agency_id, row_period, source_key, payload))
        ev["sources"].add(codes.get(agency_id, ""))
        ev["amounts"].append(
            {
                "row": row_id,
                "body": str(payload.get("body", "")),
                "purpose": str(payload.get("purpose", "")),
                "fund_line": str(payload.get("fund_line", "")),
                "amount": _money(cents),
                "date": str(payload.get("date", "")),
            }
        )
        ev["_total"] += cents
    threshold = _cents(rule.threshold_amount) if rule.threshold_amount is not None else None
    out = {}
    for member_id, ev in hits.items():
        total = ev.pop("_total")
        if threshold is not None and total < threshold:
            continue
        ev["rows"].sort()
        ev["total"] = _money(total)
        out[member_id] = ev
    return out


EVALUATORS = {
    ScreeningRule.Kind.MEDICAL_OUT_OF_POCKET: _eval_medical,
    ScreeningRule.Kind.LOW_INCOME: _eval_low_income,
    ScreeningRule.Kind.WORK_INJURY_GRADE: _eval_grade(PushKind.WORK_INJURY, "injury_date"),
    ScreeningRule.Kind.DISABILITY_GRADE: _eval_grade(PushKind.DISABILITY, "type"),
    ScreeningRule.Kind.OTHER_AID: _eval_other_aid,
}
RULE_ROW_KIND = {
    ScreeningRule.Kind.MEDICAL_OUT_OF_POCKET: PushKind.MEDICAL,
    ScreeningRule.Kind.LOW_INCOME: PushKind.LOW_INCOME,
    ScreeningRule.Kind.WORK_INJURY_GRADE: PushKind.WORK_INJURY,
    ScreeningRule.Kind.DISABILITY_GRADE: PushKind.DISABILITY,
    ScreeningRule.Kind.OTHER_AID: PushKind.AID_GIVEN,
}
