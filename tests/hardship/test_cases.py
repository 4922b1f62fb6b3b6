"""Case files (建档): the ACFTU category, assessment, states, reviews, one open case per household."""

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from core.errors import ServiceError
from core.models import AuditEntry
from hardship import periods, selectors, services
from hardship.models import Candidate, Case, CaseEvent, LocalStandard, ScreeningRule
from tests.factories import MemberFactory

D = Decimal


def category(income, medical="0", schooling="0", size=1, standard="1200.00", accident=False):
    return services.category_for(
        annual_income=D(income),
        medical=D(medical),
        schooling=D(schooling),
        household_size=size,
        monthly_standard=D(standard),
        sudden_accident=accident,
    )


# --- The ACFTU formula -----------------------------------------------------------------------


def test_the_seed_example_is_deep_hardship():
    # Household of 3, income 60,000, 154,184.67 out of pocket: (60,000 − 154,184.67) / 12 / 3 < 0.
    assert category("60000.00", medical="154184.67", size=3) == Case.Category.DEEP


def test_exactly_at_the_standard_is_not_below_it():
    # 14,400 / 12 / 1 = 1,200.00 exactly: not below the standard, but below twice it.
    assert category("14400.00") == Case.Category.RELATIVE
    assert category("14399.99") == Case.Category.DEEP


def test_exactly_at_twice_the_standard_is_not_relative_hardship():
    assert category("28800.00") == Case.Category.NONE
    assert category("28799.99") == Case.Category.RELATIVE


def test_rigid_expenditure_is_subtracted_before_dividing():
    # (50,000 − (20,000 + 6,000)) / 12 / 2 = 1,000 < 1,200.
    assert category("50000.00", medical="20000.00", schooling="6000.00", size=2) == Case.Category.DEEP
    assert category("50000.00", size=2) == Case.Category.RELATIVE


def test_the_comparison_is_exact_when_the_division_does_not_terminate():
    # Household of 3: the boundary is 1,200 × 12 × 3 = 43,200; 43,199.99 / 36 = 1,199.99972…
    assert category("43200.00", size=3) == Case.Category.RELATIVE
    assert category("43199.99", size=3) == Case.Category.DEEP
    assert category("86399.99", size=3) == Case.Category.RELATIVE
    assert category("86400.00", size=3) == Case.Category.NONE


def test_an_accident_counts_only_when_income_does_not_already_make_the_household_poor():
    assert category("100000.00", accident=True) == Case.Category.ACCIDENT
    assert category("100000.00", accident=False) == Case.Category.NONE
    assert category("20000.00", accident=True) == Case.Category.RELATIVE
    assert category("10000.00", accident=True) == Case.Category.DEEP


def test_per_capita_monthly_is_rounded_for_display_only():
    assert services.per_capita_monthly(
        annual_income=D("43199.99"), medical=D("0"), schooling=D("0"), household_size=3
    ) == D("1200.00")


# --- Assessment -------------------------------------------------------------------------------


def _contacted(case, actor):
    return services.case_transition(case=case, to_state="contacted", actor=actor)


def test_assessment_stores_the_figures_encrypted_and_computes_the_category(open_case, case_staff, local_standard):
    _contacted(open_case, case_staff)
    case = services.case_assess(
        case=open_case,
        actor=case_staff,
        household_size=3,
        annual_income=D("60000"),
        medical_expenditure=D("154184.67"),
        schooling_expenditure=D("0"),
        sudden_accident=True,
        health_notes="肝衰竭",
    )
    assert case.state == Case.State.ASSESSING
    assert case.computed_category == case.category == Case.Category.DEEP
    case.refresh_from_db()
    assert case.medical_expenditure == "154184.67"
    assert case.annual_income == "60000.00"
    assert case.health_notes == "肝衰竭"
    with connection.cursor() as cur:
        cur.execute(
            "SELECT annual_income, medical_expenditure, health_notes FROM hardship_case WHERE id = %s", [case.pk]
        )
        raw = cur.fetchone()
    assert "60000" not in raw[0] and "154184.67" not in raw[1] and "肝衰竭" not in raw[2]
    entry = AuditEntry.objects.get(action="hardship.case.assessed")
    assert "154184.67" not in str(entry.new) and "60000" not in str(entry.new) and "肝衰竭" not in str(entry.new)


def test_assessment_uses_the_standard_of_the_district_above_the_union(tree, open_case, case_staff, local_standard):
    # A standard set on the street or city union does not count; 吴兴区's (1,200) does.
    LocalStandard.objects.create(union=tree.city, year=local_standard.year, monthly_amount=D("5000.00"))
    _contacted(open_case, case_staff)
    case = services.case_assess(
        case=open_case,
        actor=case_staff,
        household_size=1,
        annual_income="14400.00",
        medical_expenditure="0",
        schooling_expenditure="0",
        sudden_accident=False,
    )
    assert case.category == Case.Category.RELATIVE


def test_a_missing_standard_tells_staff_to_set_it_in_the_admin(tree, open_case, case_staff, local_standard):
    _contacted(open_case, case_staff)
    with pytest.raises(ServiceError) as exc:
        services.case_assess(
            case=open_case,
            actor=case_staff,
            household_size=1,
            annual_income="1000",
            medical_expenditure="0",
            schooling_expenditure="0",
            sudden_accident=False,
            year=local_standard.year - 1,
        )
    assert exc.value.code == "no_local_standard"
    # Chinese is the default language: the message points staff to the admin page by name.
    assert "管理后台" in exc.value.message and "吴兴区总工会" in exc.value.message


def test_assessment_refuses_bad_figures(open_case, case_staff, local_standard):
    _contacted(open_case, case_staff)
    base = dict(
        case=open_case,
        actor=case_staff,
        household_size=1,
        annual_income="1000",
        medical_expenditure="0",
        schooling_expenditure="0",
        sudden_accident=False,
    )
    for bad, code in (
        ({"household_size": 0}, "bad_household_size"),
        ({"annual_income": "-1"}, "negative_amount"),
        ({"medical_expenditure": "12.345"}, "bad_amount"),
        ({"schooling_expenditure": "abc"}, "bad_amount"),
    ):
        with pytest.raises(ServiceError) as exc:
            services.case_assess(**{**base, **bad})
        assert exc.value.code == code, bad


def test_override_needs_a_reason_and_keeps_the_computed_category(filed_case, case_staff):
    with pytest.raises(ServiceError) as exc:
        services.case_override_category(case=filed_case, actor=case_staff, category="relative", reason="  ")
    assert exc.value.code == "reason_required"
    case = services.case_override_category(
        case=filed_case, actor=case_staff, category="relative", reason="家属已就业，收入将改善"
    )
    case.refresh_from_db()
    assert case.category == Case.Category.RELATIVE
    assert case.computed_category == Case.Category.DEEP
    assert case.category_override_reason == "家属已就业，收入将改善"
    assert case.events.filter(kind="category_override").exists()
    entry = AuditEntry.objects.get(action="hardship.case.category_overridden", object_id=str(case.pk))
    assert entry.new == {"category": "relative", "computed_category": "deep"}  # the reason stays off the log


def test_override_needs_an_assessment_first(open_case, case_staff):
    with pytest.raises(ServiceError) as exc:
        services.case_override_category(case=open_case, actor=case_staff, category="deep", reason="急病")
    assert exc.value.code == "not_assessed"


# --- States ----------------------------------------------------------------------------------


def test_a_case_gets_a_number_like_kn_year_serial(open_case):
    assert re.fullmatch(r"KN\d{4}-\d{6}", open_case.case_no)
    assert open_case.case_no == f"KN{timezone.localdate().year}-{open_case.pk:06d}"
    assert open_case.state == Case.State.CANDIDATE


def test_the_allowed_transitions_lead_from_candidate_to_filed(filed_case):
    filed_case.refresh_from_db()
    assert filed_case.state == Case.State.FILED
    states = [e.data["to"] for e in filed_case.events.filter(kind="state")]
    assert states == ["contacted", "assessing", "filed"]
    assert AuditEntry.objects.filter(action="hardship.case.filed", object_id=str(filed_case.pk)).exists()


@pytest.mark.parametrize(
    ("path", "refused"),
    [
        ([], "filed"),
        ([], "receiving_aid"),
        ([], "assessing"),
        (["contacted"], "exited"),
        (["withdrawn"], "contacted"),
    ],
)
def test_it_refuses_transitions_outside_the_table(open_case, case_staff, path, refused):
    for state in path:
        services.case_transition(case=open_case, to_state=state, actor=case_staff)
    with pytest.raises(ServiceError) as exc:
        services.case_transition(case=open_case, to_state=refused, actor=case_staff)
    assert exc.value.code == "bad_transition"


def test_it_refuses_to_file_a_case_that_was_not_assessed(open_case, case_staff):
    services.case_transition(case=open_case, to_state="contacted", actor=case_staff)
    Case.objects.filter(pk=open_case.pk).update(state="assessing")
    with pytest.raises(ServiceError) as exc:
        services.case_transition(case=open_case, to_state="filed", actor=case_staff)
    assert exc.value.code == "not_assessed"


def test_it_refuses_to_file_a_household_found_not_in_hardship_unless_overridden(open_case, case_staff, local_standard):
    _contacted(open_case, case_staff)
    services.case_assess(
        case=open_case,
        actor=case_staff,
        household_size=1,
        annual_income="100000",
        medical_expenditure="0",
        schooling_expenditure="0",
        sudden_accident=False,
    )
    with pytest.raises(ServiceError) as exc:
        services.case_transition(case=open_case, to_state="filed", actor=case_staff)
    assert exc.value.code == "not_in_hardship"
    services.case_override_category(case=open_case, actor=case_staff, category="accident", reason="突发重病住院")
    assert services.case_transition(case=open_case, to_state="filed", actor=case_staff).state == "filed"


def test_filing_sets_the_review_a_year_after_the_filing_date(filed_case):
    filed_case.refresh_from_db()
    filed_on = timezone.localdate(filed_case.filed_at)
    assert filed_case.review_due == periods.add_years(filed_on)
    assert filed_case.review_due.year == filed_on.year + 1


def test_a_year_after_29_february_is_28_february():
    assert periods.add_years(dt.date(2024, 2, 29)) == dt.date(2025, 2, 28)
    assert periods.add_years(dt.date(2025, 3, 1)) == dt.date(2026, 3, 1)


def test_closing_a_case_sets_closed_at_and_frees_the_household_for_a_new_case(filed_case, case_staff, member):
    case = services.case_transition(case=filed_case, to_state="resolved", actor=case_staff, note="再就业")
    assert case.closed_at is not None
    again = services.case_open(head=member, actor=case_staff)
    assert again.pk != case.pk


# --- Reviews ---------------------------------------------------------------------------------


def test_an_early_review_moves_the_due_date_forward_a_year(filed_case, case_staff):
    due = timezone.localdate() + dt.timedelta(days=30)
    Case.objects.filter(pk=filed_case.pk).update(review_due=due)
    case = services.case_review(case=filed_case, actor=case_staff, note="复核：仍困难", still_in_hardship=True)
    assert case.review_due == periods.add_years(due)
    assert case.state == Case.State.FILED
    assert case.events.filter(kind="review").exists()


def test_a_late_review_sets_the_next_one_a_year_from_today(filed_case, case_staff):
    Case.objects.filter(pk=filed_case.pk).update(review_due=timezone.localdate() - dt.timedelta(days=90))
    case = services.case_review(case=filed_case, actor=case_staff, note="逾期复核", still_in_hardship=True)
    assert case.review_due == periods.add_years(timezone.localdate())


def test_a_review_finding_no_more_hardship_exits_the_case(filed_case, case_staff):
    case = services.case_review(case=filed_case, actor=case_staff, note="已脱困", still_in_hardship=False)
    assert case.state == Case.State.EXITED
    assert case.closed_at is not None


# --- A filed case re-assessed as not in hardship --------------------------------------------------


def _reassess_not_in_hardship(case, actor):
    return services.case_assess(
        case=case,
        actor=actor,
        household_size=1,
        annual_income="900000",
        medical_expenditure="0",
        schooling_expenditure="0",
        sudden_accident=False,
    )


def _aid(case, actor, amount="3000.00"):
    return services.aid_create(
        case=case, actor=actor, fund_line="living", amount=amount, purpose="生活救助", paid_on=dt.date(2025, 3, 1)
    )


def test_a_filed_case_assessed_as_not_in_hardship_stays_filed_but_gets_no_new_aid(filed_case, case_staff):
    case = _reassess_not_in_hardship(filed_case, case_staff)

    assert (case.state, case.category) == (Case.State.FILED, Case.Category.NONE)
    assert services.needs_decision(case)
    assert case.events.filter(kind="not_in_hardship").exists()
    with pytest.raises(ServiceError) as exc:
        _aid(case, case_staff)
    assert exc.value.code == "not_in_hardship"
    assert not case.aid.exists()
    with pytest.raises(ServiceError) as exc:
        services.case_transition(case=case, to_state="receiving_aid", actor=case_staff)
    assert exc.value.code == "not_in_hardship"


def test_an_override_to_not_in_hardship_also_stops_new_aid(filed_case, case_staff):
    services.case_override_category(case=filed_case, actor=case_staff, category="none", reason="家属已就业")

    with pytest.raises(ServiceError) as exc:
        _aid(filed_case, case_staff)
    assert exc.value.code == "not_in_hardship"


def test_waiting_aid_is_approved_only_once_the_case_is_in_hardship_again(filed_case, case_staff, case_checker):
    waiting = _aid(filed_case, case_staff, amount="20000.00")
    assert waiting.state == "pending"
    _reassess_not_in_hardship(filed_case, case_staff)

    with pytest.raises(ServiceError) as exc:
        services.aid_approve(aid=waiting, actor=case_checker)
    assert exc.value.code == "not_in_hardship"
    waiting.refresh_from_db()
    assert waiting.state == "pending" and waiting.approver is None

    services.case_override_category(case=filed_case, actor=case_staff, category="accident", reason="突发重病")
    assert services.aid_approve(aid=waiting, actor=case_checker).state == "approved"


def test_closing_a_case_assessed_as_not_in_hardship_needs_a_reason(filed_case, case_staff):
    _reassess_not_in_hardship(filed_case, case_staff)

    for to_state in ("exited", "resolved"):
        with pytest.raises(ServiceError) as exc:
            services.case_transition(case=filed_case, to_state=to_state, actor=case_staff, note="  ")
        assert exc.value.code == "reason_required"
    case = services.case_transition(case=filed_case, to_state="exited", actor=case_staff, note="收入已超过标准")
    assert case.state == Case.State.EXITED
    assert case.events.get(kind="state", data__to="exited").text == "收入已超过标准"


def test_a_case_assessed_as_not_in_hardship_cannot_be_reviewed_as_still_in_hardship(filed_case, case_staff):
    _reassess_not_in_hardship(filed_case, case_staff)

    with pytest.raises(ServiceError) as exc:
        services.case_review(case=filed_case, actor=case_staff, note="仍困难", still_in_hardship=True)
    assert exc.value.code == "not_in_hardship"
    case = services.case_review(case=filed_case, actor=case_staff, note="已脱困", still_in_hardship=False)
    assert case.state == Case.State.EXITED


def test_a_filed_case_still_in_hardship_closes_without_a_reason(filed_case, case_staff):
    assert services.case_transition(case=filed_case, to_state="resolved", actor=case_staff).state == "resolved"


def test_overdue_reviews_lists_only_filed_cases_past_their_date(tree, filed_case, case_staff, case_outsider):
    today = timezone.localdate()
    other = MemberFactory(union=tree.g1)
    on_time = services.case_open(head=other, actor=case_staff)
    Case.objects.filter(pk=on_time.pk).update(state="filed", review_due=today + dt.timedelta(days=1))
    due_today = services.case_open(head=MemberFactory(union=tree.g1), actor=case_staff)
    Case.objects.filter(pk=due_today.pk).update(state="receiving_aid", review_due=today)
    closed = services.case_open(head=MemberFactory(union=tree.g1), actor=case_staff)
    Case.objects.filter(pk=closed.pk).update(state="exited", review_due=today - dt.timedelta(days=400))
    Case.objects.filter(pk=filed_case.pk).update(review_due=today - dt.timedelta(days=1))
    assert list(selectors.overdue_reviews(case_staff)) == [filed_case]
    assert list(selectors.overdue_reviews(case_outsider)) == []


# --- One open case per household; candidates ---------------------------------------------------


def test_opening_a_second_case_for_the_same_head_returns_the_open_one(open_case, member, case_staff):
    again = services.case_open(head=member, actor=case_staff, note="又来咨询")
    assert again.pk == open_case.pk
    assert Case.objects.filter(head=member).count() == 1


def test_the_database_holds_one_open_case_per_household(open_case, member):
    with pytest.raises(IntegrityError), transaction.atomic():
        Case.objects.create(head=member, union=member.union, state="filed")
    Case.objects.create(head=member, union=member.union, state="withdrawn")


@pytest.fixture
def rule(db):
    return ScreeningRule.objects.create(name="自付医疗费用≥5万", kind="medical_oop_12m", threshold_amount=D("50000"))


def _candidate(member, rule, key="e1", period="2025-03"):
    return Candidate.objects.create(
        member=member,
        union=member.union,
        rule=rule,
        period=period,
        evidence={"rows": [1, 2], "amount": "154184.67"},
        evidence_key=key,
    )


def test_opening_from_a_candidate_confirms_it_and_puts_its_evidence_on_the_timeline(member, case_staff, rule):
    cand = _candidate(member, rule)
    case = services.case_open(head=member, actor=case_staff, candidate=cand, note="电话联系本人")
    cand.refresh_from_db()
    assert cand.state == Candidate.State.CONFIRMED and cand.decided_by == case_staff
    evidence = case.events.get(kind="evidence")
    assert evidence.data["candidate"] == cand.pk and evidence.data["rows"] == [1, 2]
    assert "154184.67" not in str(evidence.data)  # the timeline is not encrypted: no figures on it


def test_a_candidate_for_a_head_with_an_open_case_adds_evidence_instead(open_case, member, case_staff, rule):
    cand = _candidate(member, rule, key="e2")
    case = services.case_open(head=member, actor=case_staff, candidate=cand)
    assert case.pk == open_case.pk
    assert case.events.filter(kind="evidence", data__candidate=cand.pk).count() == 1
    cand.refresh_from_db()
    assert cand.state == Candidate.State.CONFIRMED


def test_a_decided_candidate_cannot_open_a_case(member, case_staff, rule):
    cand = _candidate(member, rule)
    services.candidate_dismiss(candidate=cand, actor=case_staff, note="已在外地就业，收入正常")
    with pytest.raises(ServiceError) as exc:
        services.case_open(head=member, actor=case_staff, candidate=cand)
    assert exc.value.code == "candidate_decided"


def test_dismissing_a_candidate_needs_a_reason(member, case_staff, rule):
    cand = _candidate(member, rule)
    with pytest.raises(ServiceError) as exc:
        services.candidate_dismiss(candidate=cand, actor=case_staff, note="")
    assert exc.value.code == "reason_required"
    cand.refresh_from_db()
    assert cand.state == Candidate.State.OPEN


def test_noting_the_same_evidence_twice_adds_one_event(open_case):
    evidence = {"rule": 3, "period": "2025-03", "evidence_key": "k-1", "rows": [9], "amount": "99999.00"}
    assert services.case_note_evidence(case=open_case, candidate_or_evidence=evidence) is not None
    assert services.case_note_evidence(case=open_case, candidate_or_evidence=evidence) is None
    event = CaseEvent.objects.get(case=open_case, kind="evidence")
    assert event.data == {"rule": 3, "period": "2025-03", "evidence_key": "k-1", "rows": [9]}


def test_the_outsider_cannot_open_assess_or_move_a_case(member, open_case, case_outsider, local_standard):
    with pytest.raises(ServiceError) as exc:
        services.case_open(head=member, actor=case_outsider)
    assert exc.value.code == "forbidden"
    with pytest.raises(ServiceError) as exc:
        services.case_transition(case=open_case, to_state="contacted", actor=case_outsider)
    assert exc.value.code == "forbidden"
    with pytest.raises(ServiceError) as exc:
        services.case_assess(
            case=open_case,
            actor=case_outsider,
            household_size=1,
            annual_income="1",
            medical_expenditure="0",
            schooling_expenditure="0",
            sudden_accident=False,
        )
    assert exc.value.code == "forbidden"
    open_case.refresh_from_db()
    assert open_case.state == Case.State.CANDIDATE


# --- Free text encrypted at rest ---------------------------------------------------------------

HEALTH = "肝衰竭"


def _raw(sql: str, params=()) -> list:
    with connection.cursor() as cur:
        cur.execute(sql, list(params))
        return [row[0] for row in cur.fetchall()]


def test_health_and_income_free_text_is_encrypted_at_rest(filed_case, case_staff, member, rule):
    from tests.factories import AgencyFactory

    agency = AgencyFactory(code="cdpf", name="残联")
    referral = services.referral_send(
        case=filed_case, agency=agency, benefit="disability_insurance", actor=case_staff, note=f"肢体四级残疾，{HEALTH}"
    )
    services.referral_answer(referral=referral, agency=agency, granted=False, note=f"{HEALTH}不在保障范围")
    services.case_override_category(
        case=filed_case, actor=case_staff, category="accident", reason=f"{HEALTH}住院，收入为零"
    )
    services.case_review(case=filed_case, actor=case_staff, note=f"{HEALTH}复查", still_in_hardship=True)
    other = MemberFactory(union=member.union, name="李娜")
    services.candidate_dismiss(candidate=_candidate(other, rule, key="e9"), actor=case_staff, note=f"{HEALTH}已治愈")

    raw = [
        *_raw("SELECT note FROM hardship_referral"),
        *_raw("SELECT outcome_note FROM hardship_referral"),
        *_raw("SELECT category_override_reason FROM hardship_case"),
        *_raw("SELECT text FROM hardship_caseevent"),
        *_raw("SELECT note FROM hardship_candidate"),
    ]
    assert raw and not [value for value in raw if HEALTH in value]
    # Read back in clear through the models.
    referral.refresh_from_db()
    filed_case.refresh_from_db()
    assert referral.note == f"肢体四级残疾，{HEALTH}" and referral.outcome_note == f"{HEALTH}不在保障范围"
    assert filed_case.category_override_reason == f"{HEALTH}住院，收入为零"
    assert {e.text for e in filed_case.events.filter(kind__in=["referral_sent", "review", "category_override"])} == {
        f"肢体四级残疾，{HEALTH}",
        f"{HEALTH}复查",
        f"{HEALTH}住院，收入为零",
    }
    assert Candidate.objects.get(member=other).note == f"{HEALTH}已治愈"


def test_the_data_migration_encrypts_rows_stored_in_clear_once_and_can_undo_it(filed_case, case_staff, member, rule):
    import importlib
    from types import SimpleNamespace

    from django.apps import apps

    from core.crypto import decrypt

    migration = importlib.import_module("hardship.migrations.0005_encrypt_existing_free_text")
    services.candidate_dismiss(candidate=_candidate(member, rule), actor=case_staff, note="x")
    event = services.case_note_evidence(case=filed_case, candidate_or_evidence={"evidence_key": "k"})
    # Rows as they were before the fields were encrypted: text in clear (and one empty value).
    with connection.cursor() as cur:
        cur.execute("UPDATE hardship_case SET category_override_reason = %s", [f"{HEALTH}住院"])
        cur.execute("UPDATE hardship_caseevent SET text = %s WHERE id = %s", [f"{HEALTH}复查", event.pk])
        cur.execute("UPDATE hardship_candidate SET note = %s", [f"{HEALTH}已治愈"])
    editor = SimpleNamespace(connection=connection)

    migration.encrypt_rows(apps, editor)
    once = _raw("SELECT category_override_reason FROM hardship_case") + _raw(
        "SELECT text FROM hardship_caseevent WHERE id = %s", [event.pk]
    )
    assert [decrypt(value) for value in once] == [f"{HEALTH}住院", f"{HEALTH}复查"]
    filed_case.refresh_from_db()
    assert filed_case.category_override_reason == f"{HEALTH}住院"
    assert CaseEvent.objects.get(pk=event.pk).text == f"{HEALTH}复查"
    assert Candidate.objects.get().note == f"{HEALTH}已治愈"
    assert "" in _raw("SELECT text FROM hardship_caseevent")  # empty text stays empty

    migration.encrypt_rows(apps, editor)  # run again: already encrypted rows are left alone
    assert _raw("SELECT category_override_reason FROM hardship_case") == once[:1]

    migration.decrypt_rows(apps, editor)
    assert _raw("SELECT note FROM hardship_candidate") == [f"{HEALTH}已治愈"]


def test_reviewing_again_and_again_does_not_put_the_next_review_years_away(filed_case, case_staff):
    """Issue 10's class of fault: each early review added a year to the due date, so five reviews in
    a day moved a case's yearly review five years away and off the overdue list."""
    today = timezone.localdate()
    for _ in range(5):
        case = services.case_review(case=filed_case, actor=case_staff, note="复核：仍困难", still_in_hardship=True)
    assert case.review_due == periods.add_years(today) + dt.timedelta(days=90)
