"""Screening (主动发现): matching by blind index, the default rules at their boundaries, the
12-month window, candidates and their evidence, open cases, the warmth roster."""

import datetime as dt
from decimal import Decimal

import pytest

from core.errors import ServiceError
from hardship import periods, screening, selectors
from hardship.models import Candidate, Case, CaseEvent, PushRow, ScreeningRule, WarmthRosterEntry
from members.models import Member
from tests.factories import MemberFactory, id_number

P = "2025-03"
K = ScreeningRule.Kind


@pytest.fixture
def rules(db):
    screening.rules_ensure_defaults()
    return {r.kind: r for r in ScreeningRule.objects.all()}


def matched_screen(period=P):
    screening.match_rows(period=period)
    return screening.screen(period=period)


def candidates(member, kind=None):
    qs = Candidate.objects.filter(member=member)
    if kind:
        qs = qs.filter(rule__kind=kind)
    return list(qs.order_by("pk"))


# --- Periods -------------------------------------------------------------------------------------


def test_a_quarter_counts_as_its_last_month():
    assert periods.period_of_month("2025-Q1") == ["2025-03", "2025-Q1"]
    assert periods.period_of_month("2025-03") == ["2025-03", "2025-Q1"]
    assert periods.period_of_month("2025-02") == ["2025-02"]
    assert periods.period_months("2025-Q2") == ["2025-04", "2025-05", "2025-06"]


def test_the_window_holds_the_twelve_months_ending_at_the_period():
    window = periods.period_window("2025-03")
    assert "2025-03" in window and "2024-04" in window and "2024-Q2" in window and "2025-Q1" in window
    assert "2024-03" not in window and "2024-Q1" not in window and "2025-04" not in window
    assert len([p for p in window if "Q" not in p]) == 12


def test_the_window_crosses_into_the_year_before():
    assert periods.period_window("2025-02", months=3) == ["2025-02", "2025-01", "2024-12", "2024-Q4"]


def test_periods_sort_by_their_last_month_and_unparsable_ones_first():
    texts = ["2025-Q1", "2025-03", "bad", "2024-12", "2025-01"]
    assert sorted(texts, key=periods.period_sort_key) == ["bad", "2024-12", "2025-01", "2025-03", "2025-Q1"]


def test_periods_are_read_as_the_shared_parser_reads_them():
    # fullwidth digits and a lowercase q, as core.parsing reads them, in their canonical form
    assert periods.period_check(" ２０２５-q1 ") == "2025-Q1"
    assert periods.previous_month(dt.date(2025, 1, 15)) == "2024-12"


@pytest.mark.parametrize("bad", ["2025-13", "2025-3", "2025-Q5", "", "march", "2025-00", "1999-12", "2100-01", "2025"])
def test_it_rejects_a_malformed_period(bad):
    with pytest.raises(ServiceError) as err:
        periods.period_check(bad)
    assert err.value.code == "bad_period"


# --- Matching --------------------------------------------------------------------------------------


def test_rows_are_matched_by_blind_index_and_non_members_only_counted(member, push_row, rules):
    mine = push_row("medical", P, {"out_of_pocket": "60000.00"}, member=member)
    stranger = push_row("medical", P, {"out_of_pocket": "90000.00"}, id_number=id_number())

    figures = screening.match_rows(period=P)

    assert figures["newly_matched"] == 1
    assert figures["by_agency_kind"]["nhsa/medical"] == {"rows": 2, "matched": 1, "unmatched": 1}
    mine.refresh_from_db()
    stranger.refresh_from_db()
    assert (mine.member_id, stranger.member_id) == (member.pk, None)
    screening.screen(period=P)
    assert Candidate.objects.count() == 1  # the stranger is counted, never actioned
    assert Candidate.objects.get().member == member


def test_matching_with_a_period_reaches_its_window_and_without_one_every_row(member, push_row):
    inside = push_row("medical", "2024-04", {"out_of_pocket": "1.00"}, member=member)
    outside = push_row("medical", "2024-03", {"out_of_pocket": "1.00"}, member=member)

    assert screening.match_rows(period=P)["newly_matched"] == 1
    assert PushRow.objects.get(pk=outside.pk).member_id is None
    assert screening.match_rows()["newly_matched"] == 1
    assert PushRow.objects.filter(pk__in=[inside.pk, outside.pk], member=member).count() == 2
    assert screening.match_rows()["newly_matched"] == 0  # idempotent


def test_superseded_rows_are_not_matched(member, push_row):
    row = push_row("medical", P, {"out_of_pocket": "1.00"}, member=member)
    PushRow.objects.filter(pk=row.pk).update(is_current=False)
    assert screening.match_rows(period=P)["newly_matched"] == 0


# --- The default rules, each at its boundary --------------------------------------------------------


def test_default_rules_are_created_once_and_staff_edits_are_kept(db):
    screening.rules_ensure_defaults()
    assert set(ScreeningRule.objects.values_list("kind", flat=True)) == set(K.values)
    medical = ScreeningRule.objects.get(kind=K.MEDICAL_OUT_OF_POCKET)
    assert medical.threshold_amount == Decimal("50000.00")
    assert ScreeningRule.objects.get(kind=K.WORK_INJURY_GRADE).grade_at_least == 4
    assert ScreeningRule.objects.get(kind=K.DISABILITY_GRADE).grade_at_least == 2
    medical.threshold_amount = Decimal("80000")
    medical.is_active = False
    medical.save()

    screening.rules_ensure_defaults()

    assert ScreeningRule.objects.count() == 5
    medical.refresh_from_db()
    assert (medical.threshold_amount, medical.is_active) == (Decimal("80000.00"), False)


@pytest.mark.parametrize(("second", "hit"), [("20000.00", True), ("19999.99", False), ("25000.00", True)])
def test_the_medical_rule_hits_at_50000_out_of_pocket_over_12_months(member, push_row, rules, second, hit):
    a = push_row("medical", "2024-06", {"out_of_pocket": "30000.00", "total_cost": "90000.00"}, member=member)
    b = push_row("medical", P, {"out_of_pocket": second}, member=member)

    matched_screen()

    found = candidates(member, K.MEDICAL_OUT_OF_POCKET)
    assert bool(found) is hit
    if hit:
        ev = found[0].evidence
        assert ev["rows"] == [a.pk, b.pk]
        assert ev["total"] == f"{Decimal('30000.00') + Decimal(second):.2f}"
        assert [x["out_of_pocket"] for x in ev["amounts"]] == ["30000.00", second]
        assert ev["sources"] == ["nhsa"]
        assert found[0].union == member.union and found[0].period == P and found[0].state == "open"


@pytest.mark.parametrize(
    ("early_period", "counted"),
    [("2024-04", True), ("2024-03", False), ("2024-Q2", True), ("2024-Q1", False), ("2025-04", False)],
)
def test_the_medical_window_is_the_twelve_months_ending_at_the_period(member, push_row, rules, early_period, counted):
    push_row("medical", early_period, {"out_of_pocket": "30000.00"}, member=member)
    push_row("medical", P, {"out_of_pocket": "20000.00"}, member=member)
    screening.match_rows()

    screening.screen(period=P)

    assert bool(candidates(member, K.MEDICAL_OUT_OF_POCKET)) is counted


def test_a_quarter_period_screens_as_its_last_month(member, push_row, rules):
    push_row("medical", "2024-Q2", {"out_of_pocket": "50000.00"}, member=member)
    screening.match_rows()
    assert screening.screen(period="2025-Q1")["new"] == 1


@pytest.mark.parametrize(("status", "hit"), [("active", True), ("ended", False)])
def test_the_low_income_rule_hits_an_active_listing(member, push_row, rules, status, hit):
    push_row("low_income", P, {"list": "dibian", "start_date": "2024-11-01", "status": status}, member=member)
    matched_screen()
    found = candidates(member, K.LOW_INCOME)
    assert bool(found) is hit
    if hit:
        assert (found[0].evidence["list"], found[0].evidence["sources"]) == ("dibian", ["mca"])


def test_the_latest_listing_in_the_window_decides(member, push_row, rules):
    push_row("low_income", "2025-01", {"list": "dibao", "start_date": "2024-01-01", "status": "active"}, member=member)
    push_row("low_income", "2025-02", {"list": "dibao", "start_date": "2024-01-01", "status": "ended"}, member=member)
    matched_screen()
    assert not candidates(member, K.LOW_INCOME)


@pytest.mark.parametrize(("grade", "hit"), [(1, True), (4, True), (5, False), (10, False)])
def test_the_work_injury_rule_hits_grades_1_to_4(member, push_row, rules, grade, hit):
    push_row("work_injury", P, {"injury_date": "2024-12-02", "grade": grade}, member=member)
    matched_screen()
    found = candidates(member, K.WORK_INJURY_GRADE)
    assert bool(found) is hit
    if hit:
        assert (found[0].evidence["grade"], found[0].evidence["sources"]) == (grade, ["hrss"])


@pytest.mark.parametrize(("grade", "hit"), [(1, True), (2, True), (3, False), (4, False)])
def test_the_disability_rule_hits_grades_1_and_2(member, push_row, rules, grade, hit):
    push_row("disability", P, {"type": "physical", "grade": grade}, member=member)
    matched_screen()
    assert bool(candidates(member, K.DISABILITY_GRADE)) is hit


@pytest.mark.parametrize(("period", "hit"), [(P, True), ("2025-Q1", True), ("2025-02", False)])
def test_the_other_aid_rule_hits_aid_of_the_period(member, push_row, rules, period, hit):
    payload = {"body": "慈善总会", "purpose": "住院", "fund_line": "illness", "amount": "3000.00", "date": "2025-03-10"}
    push_row("aid_given", period, payload, member=member)
    matched_screen()
    found = candidates(member, K.OTHER_AID)
    assert bool(found) is hit
    if hit:
        assert found[0].evidence["amounts"][0]["amount"] == "3000.00"


def test_members_who_left_are_not_screened(member, push_row, rules):
    Member.objects.filter(pk=member.pk).update(status=Member.Status.LEFT)
    push_row("medical", P, {"out_of_pocket": "90000.00"}, member=member)
    assert matched_screen()["new"] == 0


# --- Edited rules -----------------------------------------------------------------------------------------


def test_edited_rules_change_the_result(member, other_member, push_row, rules):
    push_row("medical", P, {"out_of_pocket": "60000.00"}, member=member)
    push_row("work_injury", P, {"injury_date": "2024-12-02", "grade": 6}, member=other_member)
    medical, injury = rules[K.MEDICAL_OUT_OF_POCKET], rules[K.WORK_INJURY_GRADE]
    medical.threshold_amount = Decimal("60000.01")
    medical.save()
    injury.grade_at_least = 6
    injury.save()

    matched_screen()

    assert not candidates(member, K.MEDICAL_OUT_OF_POCKET)
    assert candidates(other_member, K.WORK_INJURY_GRADE)


def test_a_deactivated_rule_finds_nobody(member, push_row, rules):
    push_row("medical", P, {"out_of_pocket": "60000.00"}, member=member)
    ScreeningRule.objects.filter(kind=K.MEDICAL_OUT_OF_POCKET).update(is_active=False)
    figures = matched_screen()
    assert figures["new"] == 0
    assert str(rules[K.MEDICAL_OUT_OF_POCKET].pk) not in figures["rules"]


# --- Evidence identity: reruns, dismissals, new evidence --------------------------------------------------


def test_screening_twice_adds_nothing(member, other_member, push_row, rules):
    push_row("medical", P, {"out_of_pocket": "60000.00"}, member=member)
    push_row("disability", P, {"type": "visual", "grade": 1}, member=other_member)
    first = matched_screen()
    second = matched_screen()
    assert (first["new"], second["new"], second["seen"]) == (2, 0, 2)
    assert Candidate.objects.count() == 2
    assert first["new_by_union"] == {str(member.union_id): 1, str(other_member.union_id): 1}
    assert second["new_by_union"] == {}


def test_a_dismissed_candidate_does_not_come_back_for_the_same_evidence(member, push_row, rules):
    listing = {"list": "dibao", "start_date": "2024-06-01", "status": "active"}
    push_row("low_income", "2025-02", listing, member=member)
    matched_screen("2025-02")
    Candidate.objects.filter(member=member).update(state=Candidate.State.DISMISSED)

    push_row("low_income", P, listing, member=member)  # the same listing, pushed again next month
    figures = matched_screen(P)

    assert figures["new"] == 0 and figures["seen"] == 1
    assert len(candidates(member)) == 1


def test_a_dismissed_candidate_comes_back_for_new_evidence(member, push_row, rules):
    push_row("medical", "2025-02", {"out_of_pocket": "55000.00"}, member=member)
    matched_screen("2025-02")
    Candidate.objects.filter(member=member).update(state=Candidate.State.DISMISSED)

    assert matched_screen(P)["new"] == 0  # same bills, next month: still the same evidence
    new_bill = push_row("medical", P, {"out_of_pocket": "100.00"}, member=member)
    figures = matched_screen(P)

    assert figures["new"] == 1
    first, second = candidates(member)
    assert (first.state, second.state) == ("dismissed", "open")
    assert new_bill.pk in second.evidence["rows"] and second.evidence_key != first.evidence_key


def test_a_corrected_row_is_not_new_evidence(member, push_row, rules):
    old = push_row("medical", P, {"out_of_pocket": "55000.00"}, member=member, source_key="YB-1")
    matched_screen()
    Candidate.objects.filter(member=member).update(state=Candidate.State.DISMISSED)
    PushRow.objects.filter(pk=old.pk).update(is_current=False)
    push_row("medical", P, {"out_of_pocket": "55500.00"}, member=member, source_key="YB-1")

    assert matched_screen()["new"] == 0


def test_new_evidence_for_an_open_candidate_grows_its_evidence(member, push_row, rules):
    a = push_row("medical", "2025-02", {"out_of_pocket": "55000.00"}, member=member)
    matched_screen("2025-02")
    b = push_row("medical", P, {"out_of_pocket": "1000.00"}, member=member)

    figures = matched_screen(P)

    assert (figures["new"], figures["refreshed"]) == (0, 1)
    (cand,) = candidates(member)
    assert cand.evidence["rows"] == [a.pk, b.pk] and cand.evidence["total"] == "56000.00"
    assert matched_screen(P)["refreshed"] == 0


def test_a_member_with_an_open_case_gets_a_note_of_new_evidence_instead(open_case, member, push_row, rules):
    row = push_row("disability", P, {"type": "physical", "grade": 1}, member=member)

    figures = matched_screen()

    assert (figures["new"], figures["case_notes"]) == (0, 1)
    assert not candidates(member)
    note = CaseEvent.objects.get(case=open_case, kind="evidence")
    assert note.data["rule"] == rules[K.DISABILITY_GRADE].pk and note.data["rows"] == [row.pk]
    assert "physical" not in str(note.data)  # figures stay in the encrypted rows, not the timeline
    assert matched_screen()["case_notes"] == 0  # rerun: no second note
    push_row("disability", "2025-04", {"type": "physical", "grade": 1}, member=member)  # same listing again
    assert matched_screen("2025-04")["case_notes"] == 0
    assert CaseEvent.objects.filter(case=open_case, kind="evidence").count() == 1


# --- The case page --------------------------------------------------------------------------------------------


def test_member_evidence_gives_the_rows_decrypted_without_the_id_number(member, other_member, push_row):
    push_row("medical", "2025-02", {"out_of_pocket": "1000.00"}, member=member)
    push_row("disability", P, {"type": "physical", "grade": 4}, member=member)
    push_row("medical", P, {"out_of_pocket": "9.00"}, member=other_member)
    screening.match_rows()

    rows = selectors.member_evidence(member)

    assert [(r["kind"], r["period"]) for r in rows] == [("disability", P), ("medical", "2025-02")]
    assert rows[0]["data"] == {"type": "physical", "grade": 4} and rows[0]["agency"] == "cdpf"
    assert member.id_number not in str(rows)


# --- The warmth roster ------------------------------------------------------------------------------------------


def test_the_roster_is_refreshed_idempotently_and_deactivates_rather_than_deletes(
    open_case, member, other_member, tree, push_row, rules
):
    third = MemberFactory(union=tree.g1)
    push_row("low_income", P, {"list": "dibao", "start_date": "2024-01-01", "status": "active"}, member=third)
    push_row("medical", P, {"out_of_pocket": "70000.00"}, member=other_member)
    matched_screen()
    Candidate.objects.filter(member=other_member).update(state=Candidate.State.CONFIRMED)
    # The open case is on the roster as assessed in hardship (never assessed, it would not be: see below).
    Case.objects.filter(pk=open_case.pk).update(computed_category="deep", category="deep")

    first = screening.roster_refresh(year=2025)
    second = screening.roster_refresh(year=2025)

    entries = {e.member_id: e for e in WarmthRosterEntry.objects.filter(year=2025)}
    assert set(entries) == {member.pk, other_member.pk, third.pk}
    assert entries[member.pk].source == "case" and entries[other_member.pk].source == "screening"
    assert (first["added"], second["added"], second["updated"], second["deactivated"]) == (3, 0, 0, 0)
    assert second["active"] == 3

    Candidate.objects.filter(member=other_member).update(state=Candidate.State.DISMISSED)
    assert screening.roster_refresh(year=2025)["deactivated"] == 1
    assert WarmthRosterEntry.objects.get(member=other_member, year=2025).is_active is False
    Candidate.objects.filter(member=other_member).update(state=Candidate.State.CONFIRMED)
    assert screening.roster_refresh(year=2025)["reactivated"] == 1


def test_the_roster_follows_the_low_income_rules_setting(tree, push_row, rules):
    someone = MemberFactory(union=tree.g1)
    push_row("low_income", P, {"list": "dibian", "start_date": "2024-01-01", "status": "active"}, member=someone)
    screening.match_rows()
    ScreeningRule.objects.filter(kind=K.LOW_INCOME).update(adds_to_warmth_roster=False)
    assert screening.roster_refresh(year=2025)["eligible"] == 0
    ScreeningRule.objects.filter(kind=K.LOW_INCOME).update(adds_to_warmth_roster=True)
    assert screening.roster_refresh(year=2025)["added"] == 1
