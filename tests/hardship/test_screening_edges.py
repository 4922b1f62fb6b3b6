"""Screening at its edges: rows whose figures cannot be read, rows arriving out of order, several
rows of one member, an aid threshold not reached, evidence noted as a dict."""

from decimal import Decimal

import pytest

from core.models import AuditEntry
from hardship import screening, services
from hardship.models import Candidate, CaseEvent, ScreeningRule, WarmthRosterEntry

P = "2025-03"
K = ScreeningRule.Kind


@pytest.fixture
def rules(db):
    screening.rules_ensure_defaults()
    return {r.kind: r for r in ScreeningRule.objects.all()}


def matched_screen(period=P):
    screening.match_rows(period=period)
    return screening.screen(period=period)


def evidence_of(member, kind):
    (found,) = Candidate.objects.filter(member=member, rule__kind=kind)
    return found.evidence


def test_a_grade_that_is_not_a_number_hits_nobody(member, push_row, rules):
    push_row("work_injury", P, {"injury_date": "2024-12-02", "grade": "严重"}, member=member)
    push_row("disability", P, {"type": "physical"}, member=member)  # no grade at all
    figures = matched_screen()
    assert figures["new"] == 0
    assert not Candidate.objects.filter(member=member).exists()


def test_the_most_severe_grade_of_several_rows_is_the_evidence(member, push_row, rules):
    first = push_row("work_injury", "2025-01", {"injury_date": "2024-06-01", "grade": 2}, member=member)
    second = push_row("work_injury", P, {"injury_date": "2025-02-01", "grade": 4}, member=member)
    matched_screen()
    evidence = evidence_of(member, K.WORK_INJURY_GRADE)
    assert (evidence["grade"], evidence["injury_date"]) == (2, "2024-06-01")
    assert evidence["rows"] == [first.pk, second.pk]


def test_a_medical_row_without_an_amount_is_left_out_of_a_hit(member, push_row, rules):
    counted = push_row("medical", P, {"out_of_pocket": "60000.00"}, member=member)
    push_row("medical", "2025-02", {"out_of_pocket": "0"}, member=member)
    push_row("medical", "2025-01", {"illness_category": "肝衰竭"}, member=member)
    matched_screen()
    evidence = evidence_of(member, K.MEDICAL_OUT_OF_POCKET)
    assert evidence["rows"] == [counted.pk]
    assert evidence["total"] == "60000.00"


def test_an_earlier_listing_arriving_after_a_later_one_does_not_decide(member, push_row, rules):
    push_row("low_income", "2025-02", {"list": "dibao", "start_date": "2024-01-01", "status": "active"}, member=member)
    push_row("low_income", "2025-01", {"list": "dibao", "start_date": "2024-01-01", "status": "ended"}, member=member)
    matched_screen()
    assert evidence_of(member, K.LOW_INCOME)["list"] == "dibao"


def test_the_roster_takes_the_latest_listing_of_the_year_whatever_order_it_arrived_in(tree, member, push_row, rules):
    push_row("low_income", "2025-02", {"list": "dibian", "start_date": "2024-01-01", "status": "active"}, member=member)
    push_row("low_income", "2025-01", {"list": "dibao", "start_date": "2024-01-01", "status": "ended"}, member=member)
    screening.match_rows()
    assert screening.roster_refresh(year=2025)["added"] == 1
    assert WarmthRosterEntry.objects.get(member=member, year=2025).is_active


def test_other_aid_below_the_rules_threshold_is_not_a_hit(member, other_member, push_row, rules):
    rule = rules[K.OTHER_AID]
    rule.threshold_amount = Decimal("5000.00")
    rule.save()
    aid = {"body": "慈善总会", "purpose": "住院", "fund_line": "illness", "date": "2025-03-10"}
    push_row("aid_given", P, {**aid, "amount": "3000.00"}, member=member)
    push_row("aid_given", P, {**aid, "amount": "3000.00"}, member=other_member)
    push_row("aid_given", P, {**aid, "amount": "2000.00"}, member=other_member)
    matched_screen()
    assert not Candidate.objects.filter(member=member).exists()
    assert evidence_of(other_member, K.OTHER_AID)["total"] == "5000.00"


def test_evidence_noted_as_a_dict_names_its_rule_and_is_noted_once(open_case, case_staff, rules):
    rule = rules[K.MEDICAL_OUT_OF_POCKET]
    evidence = {"rule": rule, "period": P, "evidence_key": "k-1", "rows": range(600), "amount": "99999.00"}

    event = services.case_note_evidence(case=open_case, candidate_or_evidence=evidence, actor=case_staff)
    again = services.case_note_evidence(case=open_case, candidate_or_evidence=evidence, actor=case_staff)

    assert again is None
    assert event.data["rule"] == rule.pk and event.data["rule_name"] == rule.name
    assert len(event.data["rows"]) == 500 and "amount" not in event.data  # references, not figures
    assert CaseEvent.objects.filter(case=open_case, kind="evidence", data__evidence_key="k-1").count() == 1
    noted = AuditEntry.objects.get(action="hardship.case.evidence_noted", object_id=str(open_case.pk))
    assert noted.new["rule"] == rule.pk and "rows" not in noted.new
