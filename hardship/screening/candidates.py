"""Screening a period: every active rule's hits become candidates for staff to review, or a note
of new evidence on the member's open case; evidence seen before raises nothing."""

from collections import defaultdict

from django.db import transaction

from hardship.models import Candidate, Case, CaseEvent, PushRow, ScreeningRule
from hardship.periods import period_check
from hardship.screening.evaluators import EVALUATORS
from hardship.screening.facts import Tick, evidence_key, fact_key, id_batches, row_fact
from hardship.services.cases import case_note_evidence
from members.models import Member


def _note_evidence(*, case_id: int, evidence: dict) -> None:
    """New evidence for a member whose case is open: a note on the case's timeline
    (`hardship.services.case_note_evidence`, idempotent per evidence key)."""
    case_note_evidence(case=Case.objects.get(pk=case_id), candidate_or_evidence=evidence)


def _facts_of_rows(row_ids: set[int]) -> dict[int, str]:
    """Fact keys of rows named on case timelines (they are stored there by row id only)."""
    out: dict[int, str] = {}
    fields = ("id", "kind", "agency_id", "period", "source_key", "payload")
    for batch in id_batches(sorted(row_ids)):
        for row_id, kind, agency_id, row_period, source_key, payload in PushRow.objects.filter(
            pk__in=batch
        ).values_list(*fields):
            out[row_id] = fact_key(row_fact(kind, agency_id, row_period, source_key, payload or {}))
    return out


def _seen_before(
    rule: ScreeningRule, ids: list[int]
) -> tuple[dict[int, set[str]], dict[int, Candidate], dict[int, int]]:
    """What was seen before for these members and this rule: the facts of every candidate (open,
    confirmed or dismissed) and of the evidence noted on their open cases; their open candidate
    and their open case (member id → candidate, member id → case id)."""
    seen: dict[int, set[str]] = defaultdict(set)
    open_candidates: dict[int, Candidate] = {}
    open_cases: dict[int, int] = {}
    for batch in id_batches(ids):
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
    for batch in id_batches(sorted(case_member)):
        for case_id, data in CaseEvent.objects.filter(case_id__in=batch, kind="evidence").values_list(
            "case_id", "data"
        ):
            if isinstance(data, dict) and data.get("rule") == rule.pk:
                noted_rows[case_member[case_id]].update(r for r in data.get("rows", []) if isinstance(r, int))
    if noted_rows:
        row_facts = _facts_of_rows(set().union(*noted_rows.values()))
        for member_id, rows in noted_rows.items():
            seen[member_id].update(row_facts[r] for r in rows if r in row_facts)
    return seen, open_candidates, open_cases


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
    for batch in id_batches(sorted(hits)):
        members.update(Member.objects.filter(pk__in=batch, status=Member.Status.ACTIVE).values_list("pk", "union_id"))
    figures["hits"] = len(members)
    ids = sorted(members)
    seen, open_candidates, open_cases = _seen_before(rule, ids)

    to_create: list[Candidate] = []
    for member_id in ids:
        ev = hits[member_id]
        facts = sorted({fact_key(f) for f in ev.pop("facts")})
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
