"""Screening (主动发现): pushed rows matched to members, rules applied, a worklist of candidates.

- `match_rows` binds rows to members by the keyed blind index in one SQL UPDATE … FROM (rows of
  non-members stay unmatched: they are counted, never actioned).
- `screen` applies every active `ScreeningRule` to the current, matched rows of active members.
  Payloads are encrypted, so rows are streamed (only the needed columns, in chunks) and
  aggregated in Python. Each hit becomes a `Candidate` with its evidence, or a note of new
  evidence on the member's open case. Screening never decides against anyone: it only adds to
  the staff's worklist.
- `roster_refresh` rebuilds a year's warmth roster (常态化送温暖) from open cases, confirmed
  candidates and the low-income lists.

Evidence identity. Agencies push their lists every month, so the same fact (someone on the 低保
list since a date, a grade-4 work injury) arrives again and again as new rows. A candidate's
evidence is therefore identified by *facts*, not row ids: an event row (a medical bill, a payment)
is the agency's record (agency, kind, period, source key: a corrected row keeps it), a list row
is what it states (list and start date; grade and injury date; type and grade). A hit whose facts
were all seen before for the same member and rule (by any candidate, open, confirmed or dismissed,
or on the open case's timeline) is not raised again; a hit with a new fact is. `evidence_key` is a
hash of the rule id and the sorted fact keys.

Periods are "YYYY-MM" or "YYYY-Qn"; a quarter counts as its last month.
"""

import hashlib
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Q
from django.utils import translation
from django.utils.translation import gettext as _

from core.models import Agency
from hardship.models import Candidate, Case, CaseEvent, PushKind, PushRow, ScreeningRule, WarmthRosterEntry
from hardship.periods import period_check, period_of_month, period_sort_key, period_window
from members.models import Member

CHUNK = 5_000  # rows fetched per round trip while streaming
ID_BATCH = 1_000  # ids per IN (...) list
Tick = Callable[[], None] | None

# --- Matching -------------------------------------------------------------------------------------


def match_rows(*, period: str | None = None) -> dict:
    """Bind current, unmatched rows to members by the blind index (one UPDATE … FROM).

    With a period, the rows screening for that period reads (its 12-month window) are matched,
    so rows of a worker who joined since are picked up; without, every unmatched row.
    The join is on `hardship_pushrow.id_index` (indexed) and the unique `members_member.id_index`.
    Figures: `newly_matched`, and per agency/kind `rows`, `matched`, `unmatched` for the period's
    own rows (all current rows without a period).
    """
    periods = period_window(period) if period else None
    qn = connection.ops.quote_name
    row_t, member_t = qn(PushRow._meta.db_table), qn(Member._meta.db_table)
    sql = (
        f"UPDATE {row_t} SET {qn('member_id')} = m.{qn('id')} FROM {member_t} m "  # noqa: S608 - names, not input
        f"WHERE {row_t}.{qn('id_index')} = m.{qn('id_index')} "
        f"AND {row_t}.{qn('member_id')} IS NULL AND {row_t}.{qn('is_current')} = %s"
    )
    params: list = [True]
    if periods:
        sql += f" AND {row_t}.{qn('period')} IN ({', '.join(['%s'] * len(periods))})"
        params += periods
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(sql, params)
        newly = max(cur.rowcount, 0)
    return {"period": period or "", "newly_matched": newly, **match_figures(period=period)}


def match_figures(*, period: str | None = None) -> dict:
    """Rows, matched and unmatched per agency and kind: the period's own current rows (or all)."""
    qs = PushRow.objects.filter(is_current=True)
    if period:
        qs = qs.filter(period__in=period_of_month(period))
    grouped = (
        qs.values("agency__code", "kind")
        .annotate(rows=Count("id"), matched=Count("member_id"))
        .order_by("agency__code", "kind")
    )
    by = {}
    totals = {"rows": 0, "matched": 0, "unmatched": 0}
    for g in grouped:
        rows, matched = g["rows"], g["matched"]
        by[f"{g['agency__code']}/{g['kind']}"] = {"rows": rows, "matched": matched, "unmatched": rows - matched}
        totals["rows"] += rows
        totals["matched"] += matched
        totals["unmatched"] += rows - matched
    return {**totals, "by_agency_kind": by}


# --- Rules ----------------------------------------------------------------------------------------


def rules_ensure_defaults() -> None:
    """Create the default screening rules, once per kind (idempotent; staff edits are kept).

    A kind that already has a rule (even one staff deactivated) gets nothing new.
    """
    K = ScreeningRule.Kind
    with translation.override(settings.LANGUAGE_CODE):
        defaults = [
            (K.MEDICAL_OUT_OF_POCKET, _("Out-of-pocket medical costs of 50,000 CNY or more in 12 months"),
             {"threshold_amount": Decimal("50000.00"), "adds_to_warmth_roster": True}),
            (K.LOW_INCOME, _("On a low-income list (dibao or dibian)"), {"adds_to_warmth_roster": True}),
            (K.WORK_INJURY_GRADE, _("Work-injury disability of grade 1 to 4"),
             {"grade_at_least": 4, "adds_to_warmth_roster": True}),
            (K.DISABILITY_GRADE, _("Disability of grade 1 or 2"), {"grade_at_least": 2, "adds_to_warmth_roster": True}),
            (K.OTHER_AID, _("Aid from another body in the period"), {"adds_to_warmth_roster": False}),
        ]  # fmt: skip
        with transaction.atomic():
            for kind, name, fields in defaults:
                if not ScreeningRule.objects.filter(kind=kind).exists():
                    ScreeningRule.objects.create(kind=kind, name=str(name), **fields)


# --- Facts and evidence ---------------------------------------------------------------------------


def _fact_key(fact: str) -> str:
    return hashlib.sha256(fact.encode()).hexdigest()[:20]


def _row_fact(kind: str, agency_id: int, period: str, source_key: str, payload: dict) -> str:
    """What a row states, independent of which monthly push carried it (see the module doc)."""
    if kind == PushKind.LOW_INCOME:
        return f"low_income/{agency_id}/{payload.get('list', '')}/{payload.get('start_date', '')}"
    if kind == PushKind.WORK_INJURY:
        return f"work_injury/{agency_id}/{payload.get('grade', '')}/{payload.get('injury_date', '')}"
    if kind == PushKind.DISABILITY:
        return f"disability/{agency_id}/{payload.get('type', '')}/{payload.get('grade', '')}"
    return f"{kind}/{agency_id}/{period}/{source_key}"


def evidence_key(rule_id: int, fact_keys: Iterable[str]) -> str:
    return hashlib.sha256(f"{rule_id}|{'|'.join(sorted(set(fact_keys)))}".encode()).hexdigest()


def _cents(value) -> int | None:
    try:
        return int((Decimal(str(value)) * 100).to_integral_value())
    except (InvalidOperation, TypeError, ValueError):
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


def _stream(qs, fields: tuple[str, ...], tick: Tick) -> Iterator[tuple]:
    """Stream `fields` of `qs` in chunks (a server-side cursor on PostgreSQL), ticking per chunk."""
    for i, rec in enumerate(qs.order_by().values_list(*fields).iterator(chunk_size=CHUNK)):
        if tick and i % CHUNK == 0:
            tick()
        yield rec


def _rows(kind: str, periods: list[str]):
    return PushRow.objects.filter(kind=kind, is_current=True, member__isnull=False, period__in=periods)


def _batches(ids: list[int], size: int = ID_BATCH) -> Iterator[list[int]]:
    for i in range(0, len(ids), size):
        yield ids[i : i + size]


# Each evaluator returns {member_id: evidence}, evidence holding "rows", "facts" (raw fact strings,
# hashed later), "sources" (agency codes) and the figures that triggered the hit.


def _eval_medical(rule: ScreeningRule, period: str, tick: Tick) -> dict[int, dict]:
    if rule.threshold_amount is None:
        return {}
    threshold = _cents(rule.threshold_amount)
    window = period_window(period)
    totals: dict[int, int] = defaultdict(int)
    for member_id, payload in _stream(_rows(PushKind.MEDICAL, window), ("member_id", "payload"), tick):
        cents = _cents((payload or {}).get("out_of_pocket"))
        if cents:
            totals[member_id] += cents
    hitters = sorted(m for m, total in totals.items() if total >= threshold)
    del totals
    codes = _agency_codes()
    hits: dict[int, dict] = {}
    fields = ("id", "member_id", "agency_id", "period", "source_key", "payload")
    for batch in _batches(hitters):
        qs = _rows(PushKind.MEDICAL, window).filter(member_id__in=batch).order_by("member_id", "period", "id")
        for row_id, member_id, agency_id, row_period, source_key, payload in qs.values_list(*fields):
            cents = _cents((payload or {}).get("out_of_pocket"))
            if not cents:
                continue
            ev = hits.setdefault(member_id, {"rows": [], "facts": [], "sources": set(), "amounts": [], "_total": 0})
            ev["rows"].append(row_id)
            ev["facts"].append(_row_fact(PushKind.MEDICAL, agency_id, row_period, source_key, payload))
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
    for rec in _stream(_rows(PushKind.LOW_INCOME, period_window(period)), fields, tick):
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
            "facts": [_row_fact(PushKind.LOW_INCOME, agency_id, row_period, source_key, payload)],
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
        for row_id, member_id, agency_id, row_period, source_key, payload in _stream(
            _rows(kind, period_window(period)), fields, tick
        ):
            payload = payload or {}
            grade = _grade(payload.get("grade"))
            if grade is None or not 1 <= grade <= rule.grade_at_least:
                continue
            ev = hits.setdefault(member_id, {"rows": [], "facts": [], "sources": set(), "grade": grade, detail: ""})
            ev["rows"].append(row_id)
            ev["facts"].append(_row_fact(kind, agency_id, row_period, source_key, payload))
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
    for row_id, member_id, agency_id, row_period, source_key, payload in _stream(
        _rows(PushKind.AID_GIVEN, period_of_month(period)), fields, tick
    ):
        payload = payload or {}
        cents = _cents(payload.get("amount")) or 0
        ev = hits.setdefault(member_id, {"rows": [], "facts": [], "sources": set(), "amounts": [], "_total": 0})
        ev["rows"].append(row_id)
        ev["facts"].append(_row_fact(PushKind.AID_GIVEN, agency_id, row_period, source_key, payload))
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


# --- Screening --------------------------------------------------------------------------------------


def _note_evidence(*, case_id: int, evidence: dict) -> None:
    """New evidence for a member whose case is open: a note on the case's timeline (engineer C's
    `case_note_evidence`, idempotent per evidence key)."""
    from hardship.services import case_note_evidence

    case_note_evidence(case=Case.objects.get(pk=case_id), candidate_or_evidence=evidence)


def _facts_of_rows(row_ids: set[int]) -> dict[int, str]:
    """Fact keys of rows named on case timelines (they are stored there by row id only)."""
    out: dict[int, str] = {}
    fields = ("id", "kind", "agency_id", "period", "source_key", "payload")
    for batch in _batches(sorted(row_ids)):
        for row_id, kind, agency_id, row_period, source_key, payload in PushRow.objects.filter(
            pk__in=batch
        ).values_list(*fields):
            out[row_id] = _fact_key(_row_fact(kind, agency_id, row_period, source_key, payload or {}))
    return out


def screen_rule(rule: ScreeningRule, *, period: str, tick: Tick = None) -> dict:
    """Apply one rule for the period; return its figures and the new candidates per union."""
    evaluate = EVALUATORS.get(rule.kind)
    figures = {"rule": rule.pk, "kind": rule.kind, "hits": 0, "new": 0, "refreshed": 0, "case_notes": 0, "seen": 0}
    new_by_union: dict[str, int] = defaultdict(int)
    if evaluate is None:
        return {**figures, "new_by_union": {}}
    if tick:
        tick()
    hits = evaluate(rule, period, tick)
    # Active members only; the union is the member's union now.
    members: dict[int, int] = {}
    for batch in _batches(sorted(hits)):
        members.update(Member.objects.filter(pk__in=batch, status=Member.Status.ACTIVE).values_list("pk", "union_id"))
    figures["hits"] = len(members)
    ids = sorted(members)
    # What was seen before: every candidate's facts for this member and rule, open cases and their notes.
    seen: dict[int, set[str]] = defaultdict(set)
    open_candidates: dict[int, Candidate] = {}
    open_cases: dict[int, int] = {}
    for batch in _batches(ids):
        for cand in Candidate.objects.filter(rule=rule, member_id__in=batch).only(
            "id", "member_id", "state", "evidence", "evidence_key", "period"
        ):
            seen[cand.member_id].update((cand.evidence or {}).get("facts", []))
            if cand.state == Candidate.State.OPEN:
                open_candidates[cand.member_id] = cand
        open_cases.update(
            Case.objects.filter(head_id__in=batch, state__in=Case.OPEN_STATES).values_list("head_id", "pk")
        )
    noted_rows: dict[int, set[int]] = defaultdict(set)
    case_member = {case_id: member_id for member_id, case_id in open_cases.items()}
    for batch in _batches(sorted(case_member)):
        for case_id, data in CaseEvent.objects.filter(case_id__in=batch, kind="evidence").values_list(
            "case_id", "data"
        ):
            if isinstance(data, dict) and data.get("rule") == rule.pk:
                noted_rows[case_member[case_id]].update(r for r in data.get("rows", []) if isinstance(r, int))
    if noted_rows:
        row_facts = _facts_of_rows(set().union(*noted_rows.values()))
        for member_id, rows in noted_rows.items():
            seen[member_id].update(row_facts[r] for r in rows if r in row_facts)

    to_create: list[Candidate] = []
    for member_id in ids:
        ev = hits[member_id]
        facts = sorted({_fact_key(f) for f in ev.pop("facts")})
        ev["sources"] = sorted(s for s in ev["sources"] if s)
        ev["period"] = period
        if set(facts) <= seen[member_id]:
            figures["seen"] += 1
            continue
        if member_id in open_cases:
            key = evidence_key(rule.pk, facts)
            note = {"rule": rule.pk, "rule_name": rule.name, "rule_kind": rule.kind, "period": period,
                    "evidence_key": key, "rows": ev["rows"]}  # fmt: skip
            _note_evidence(case_id=open_cases[member_id], evidence=note)
            figures["case_notes"] += 1
            continue
        cand = open_candidates.get(member_id)
        if cand is not None:
            # New facts for a candidate still waiting for staff: its evidence grows, no second entry.
            merged = sorted(set((cand.evidence or {}).get("facts", [])) | set(facts))
            cand.evidence = {**ev, "facts": merged}
            cand.evidence_key = evidence_key(rule.pk, merged)
            cand.save(update_fields=["evidence", "evidence_key"])
            figures["refreshed"] += 1
            continue
        union_id = members[member_id]
        to_create.append(
            Candidate(
                member_id=member_id,
                union_id=union_id,
                rule=rule,
                period=period,
                evidence={**ev, "facts": facts},
                evidence_key=evidence_key(rule.pk, facts),
            )
        )
        new_by_union[str(union_id)] += 1
    Candidate.objects.bulk_create(to_create, batch_size=500)
    figures["new"] = len(to_create)
    return {**figures, "new_by_union": dict(new_by_union)}


def screen(*, period: str, tick: Tick = None) -> dict:
    """Apply every active rule to the current, matched rows for `period` (idempotent).

    Figures: per rule (`hits`, `new` candidates, `refreshed` open candidates, `case_notes` on open
    cases, `seen`: hits whose evidence was all seen before), totals, and `new_by_union`
    ({union id: new candidates}) for the notification step.
    """
    period = period_check(period)
    figures = {"period": period, "rules": {}, "hits": 0, "new": 0, "refreshed": 0, "case_notes": 0, "seen": 0}
    new_by_union: dict[str, int] = defaultdict(int)
    with transaction.atomic():
        for rule in ScreeningRule.objects.filter(is_active=True).order_by("pk"):
            result = screen_rule(rule, period=period, tick=tick)
            for union_id, n in result.pop("new_by_union").items():
                new_by_union[union_id] += n
            figures["rules"][str(rule.pk)] = result
            for k in ("hits", "new", "refreshed", "case_notes", "seen"):
                figures[k] += result[k]
    figures["new_by_union"] = dict(sorted(new_by_union.items()))
    return figures


# --- Warmth roster --------------------------------------------------------------------------------------


def _low_income_members(year: int) -> dict[int, str]:
    """Members whose latest low-income row of the year is active: {member id: list}."""
    latest: dict[int, tuple] = {}
    qs = PushRow.objects.filter(
        kind=PushKind.LOW_INCOME, is_current=True, member__isnull=False, period__startswith=f"{year:04d}-"
    )
    for row_id, member_id, row_period, payload in _stream(qs, ("id", "member_id", "period", "payload"), None):
        key = (period_sort_key(row_period), row_id)
        if member_id not in latest or key > latest[member_id][0]:
            latest[member_id] = (key, payload or {})
    return {m: p.get("list", "") for m, (_k, p) in latest.items() if p.get("status") == "active"}


def roster_refresh(*, year: int) -> dict:
    """Rebuild the year's warmth roster (idempotent).

    Eligible active members, first source wins:
    1. heads of open cases (source `case`);
    2. members with a confirmed candidate of a rule that `adds_to_warmth_roster`, of that year's
       periods or confirmed in that year (source `screening`);
    3. members whose latest low-income row of the year is active, when an active low-income rule
       `adds_to_warmth_roster` (source `screening`): civil affairs already recognised their hardship,
       so no confirmation is waited for.
    Entries no longer eligible are deactivated, never deleted (some have been paid); eligible
    ones come back active.
    """
    with translation.override(settings.LANGUAGE_CODE):
        eligible: dict[int, tuple[str, str]] = {}
        for member_id, case_no in Case.objects.filter(state__in=Case.OPEN_STATES).values_list("head_id", "case_no"):
            eligible[member_id] = (
                WarmthRosterEntry.Source.CASE,
                _("Open case %(case_no)s") % {"case_no": case_no or ""},
            )
        confirmed = (
            Candidate.objects.filter(state=Candidate.State.CONFIRMED, rule__adds_to_warmth_roster=True)
            .filter(Q(period__startswith=f"{year:04d}-") | Q(decided_at__year=year))
            .values_list("member_id", "rule__name")
            .order_by("member_id", "pk")
        )
        for member_id, rule_name in confirmed:
            eligible.setdefault(
                member_id, (WarmthRosterEntry.Source.SCREENING, _("Screening: %(rule)s") % {"rule": rule_name})
            )
        if ScreeningRule.objects.filter(
            kind=ScreeningRule.Kind.LOW_INCOME, is_active=True, adds_to_warmth_roster=True
        ).exists():
            labels = {"dibao": _("Minimum living allowance (dibao)"), "dibian": _("Marginal low income (dibian)")}
            for member_id, list_name in _low_income_members(year).items():
                reason = _("On the low-income list: %(list)s") % {"list": labels.get(list_name, list_name)}
                eligible.setdefault(member_id, (WarmthRosterEntry.Source.SCREENING, reason))
        reasons = {m: (s, str(r)[:200]) for m, (s, r) in eligible.items()}

    figures = {"year": year, "eligible": 0, "added": 0, "reactivated": 0, "updated": 0, "deactivated": 0}
    with transaction.atomic():
        unions: dict[int, int] = {}
        for batch in _batches(sorted(reasons)):
            unions.update(
                Member.objects.filter(pk__in=batch, status=Member.Status.ACTIVE).values_list("pk", "union_id")
            )
        figures["eligible"] = len(unions)
        existing = {e.member_id: e for e in WarmthRosterEntry.objects.select_for_update().filter(year=year)}
        to_add, to_update = [], []
        for member_id, union_id in sorted(unions.items()):
            source, reason = reasons[member_id]
            entry = existing.get(member_id)
            if entry is None:
                to_add.append(
                    WarmthRosterEntry(member_id=member_id, union_id=union_id, year=year, source=source, reason=reason)
                )
                continue
            if not entry.is_active:
                figures["reactivated"] += 1
            elif (entry.source, entry.reason, entry.union_id) == (source, reason, union_id):
                continue
            else:
                figures["updated"] += 1
            entry.is_active, entry.source, entry.reason, entry.union_id = True, source, reason, union_id
            to_update.append(entry)
        gone = [e.pk for m, e in existing.items() if e.is_active and m not in unions]
        WarmthRosterEntry.objects.bulk_create(to_add, batch_size=500)
        WarmthRosterEntry.objects.bulk_update(to_update, ["is_active", "source", "reason", "union"], batch_size=500)
        for batch in _batches(gone):
            WarmthRosterEntry.objects.filter(pk__in=batch).update(is_active=False)
        figures["added"] = len(to_add)
        figures["deactivated"] = len(gone)
        figures["active"] = WarmthRosterEntry.objects.filter(year=year, is_active=True).count()
        figures["by_source"] = dict(
            WarmthRosterEntry.objects.filter(year=year, is_active=True)
            .values("source")
            .annotate(n=Count("id"))
            .values_list("source", "n")
        )
    return figures
