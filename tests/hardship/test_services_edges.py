"""Hardship services at their edges: each refusal with the input it refuses (and nothing changed),
and the branches the main suites do not take."""

import datetime as dt
from decimal import Decimal
from unittest import mock

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from core.errors import ServiceError
from core.models import AuditEntry, Notification
from hardship import services
from hardship.models import (
    Aid,
    Candidate,
    Case,
    CaseDocument,
    CaseEvent,
    HardshipSettings,
    Referral,
    ScreeningRule,
    WarmthBatch,
    WarmthRosterEntry,
)
from tests.factories import AgencyFactory, MemberFactory, StaffFactory
from tests.hardship.conftest import CASE_STAFF_PERMS, grant_hardship

D = Decimal
PAID_ON = dt.date(2025, 3, 15)


def refused(func, **kwargs) -> ServiceError:
    with pytest.raises(ServiceError) as exc:
        func(**kwargs)
    return exc.value


@pytest.fixture
def rule(db):
    return ScreeningRule.objects.create(name="自付医疗费用≥5万", kind="medical_oop_12m", threshold_amount=D("50000"))


def candidate(member, rule, *, union=None, key="e1"):
    return Candidate.objects.create(
        member=member,
        union=union or member.union,
        rule=rule,
        period="2025-03",
        evidence={"rows": [1], "amount": "60000.00"},
        evidence_key=key,
    )


def aid(case, actor, amount="1000.00", **kw):
    args = {"fund_line": "illness", "purpose": "大病救助", "paid_on": PAID_ON, **kw}
    return services.aid_create(case=case, actor=actor, amount=amount, **args)


@pytest.fixture
def supervisor(district_staff):
    """吴兴区 staff with the hardship permissions: above the case's union, not its own staff."""
    return grant_hardship(district_staff)


# --- Opening a case, candidates ---------------------------------------------------------------------


def test_a_case_cannot_be_opened_from_another_members_candidate(member, case_staff, rule, tree):
    someone_else = MemberFactory(union=tree.g1)
    cand = candidate(someone_else, rule)
    assert refused(services.case_open, head=member, actor=case_staff, candidate=cand).code == "wrong_candidate"
    assert not Case.objects.exists()
    assert Candidate.objects.get(pk=cand.pk).state == Candidate.State.OPEN


def test_a_case_cannot_be_opened_from_a_candidate_outside_the_staff_members_scope(member, case_staff, rule, tree):
    # the head is in G1, but the candidate was raised for 南浔 (the member's union when screened)
    cand = candidate(member, rule, union=tree.g2)
    error = refused(services.case_open, head=member, actor=case_staff, candidate=cand)
    assert (error.code, error.kind) == ("forbidden", "forbidden")
    assert not Case.objects.exists()
    assert Candidate.objects.get(pk=cand.pk).state == Candidate.State.OPEN


def test_opening_an_open_case_again_without_a_note_adds_nothing_to_its_timeline(open_case, member, case_staff):
    events = CaseEvent.objects.filter(case=open_case).count()
    assert services.case_open(head=member, actor=case_staff) == open_case
    assert CaseEvent.objects.filter(case=open_case).count() == events


def test_a_decided_candidate_cannot_be_dismissed_again(member, case_staff, rule):
    cand = candidate(member, rule)
    services.candidate_dismiss(candidate=cand, actor=case_staff, note="收入正常")
    error = refused(services.candidate_dismiss, candidate=cand, actor=case_staff, note="重复操作")
    assert error.code == "candidate_decided"
    cand.refresh_from_db()
    assert cand.state == Candidate.State.DISMISSED
    assert AuditEntry.objects.filter(action="hardship.candidate.dismissed").count() == 1


def test_a_case_opened_by_a_supervisor_above_keeps_the_supervisor_told(
    member, supervisor, case_staff, local_standard, django_capture_on_commit_callbacks
):
    case = services.case_open(head=member, actor=supervisor)
    services.case_transition(case=case, to_state="contacted", actor=case_staff)
    services.case_assess(
        case=case,
        actor=case_staff,
        household_size=3,
        annual_income="20000.00",
        medical_expenditure="0",
        schooling_expenditure="0",
        sudden_accident=False,
    )
    services.case_transition(case=case, to_state="filed", actor=case_staff)
    with django_capture_on_commit_callbacks(execute=True):
        pending = aid(case, case_staff, "8000.00", paid_on=timezone.localdate())
    # G1's own hardship staff made the aid; the supervisor who opened the case is asked to check it
    assert pending.state == Aid.State.PENDING_APPROVAL
    told = Notification.objects.filter(kind="hardship.aid.pending")
    assert list(told.values_list("recipient_id", flat=True)) == [supervisor.pk]


# --- Assessment, override, review ------------------------------------------------------------------


@pytest.mark.parametrize("size", ["三", None, "0", "51", "٣", "²"])
def test_assessment_refuses_a_household_size_that_is_not_a_number_of_people(open_case, case_staff, size):
    services.case_transition(case=open_case, to_state="contacted", actor=case_staff)
    error = refused(
        services.case_assess,
        case=open_case,
        actor=case_staff,
        household_size=size,
        annual_income="60000.00",
        medical_expenditure="0",
        schooling_expenditure="0",
        sudden_accident=False,
    )
    assert error.code == "bad_household_size"
    open_case.refresh_from_db()
    assert (open_case.state, open_case.computed_category) == ("contacted", "")


def test_a_case_not_yet_contacted_cannot_be_assessed(open_case, case_staff, local_standard):
    error = refused(
        services.case_assess,
        case=open_case,
        actor=case_staff,
        household_size=3,
        annual_income="60000.00",
        medical_expenditure="0",
        schooling_expenditure="0",
        sudden_accident=False,
    )
    assert error.code == "bad_state"
    open_case.refresh_from_db()
    assert (open_case.state, open_case.computed_category) == ("candidate", "")


def test_an_override_refuses_a_category_that_does_not_exist(filed_case, case_staff):
    error = refused(
        services.case_override_category, case=filed_case, actor=case_staff, category="very_poor", reason="走访核实"
    )
    assert error.code == "bad_category"
    filed_case.refresh_from_db()
    assert filed_case.category == Case.Category.DEEP and filed_case.category_override_reason == ""


def test_a_closed_case_keeps_its_category(filed_case, case_staff):
    services.case_transition(case=filed_case, to_state="resolved", actor=case_staff)
    error = refused(
        services.case_override_category, case=filed_case, actor=case_staff, category="relative", reason="走访核实"
    )
    assert error.code == "bad_state"
    assert Case.objects.get(pk=filed_case.pk).category == Case.Category.DEEP
    assert not AuditEntry.objects.filter(action="hardship.case.category_overridden").exists()


def test_only_a_filed_case_has_a_yearly_review(open_case, case_staff):
    error = refused(services.case_review, case=open_case, actor=case_staff, note="年审", still_in_hardship=True)
    assert error.code == "not_filed"
    open_case.refresh_from_db()
    assert (open_case.state, open_case.review_due) == ("candidate", None)


def test_the_category_needs_a_household_of_at_least_one():
    with pytest.raises(ValueError, match="household size"):
        services.category_for(
            annual_income=D("1000"),
            medical=D("0"),
            schooling=D("0"),
            household_size=0,
            monthly_standard=D("1200"),
            sudden_accident=False,
        )


# --- Settings --------------------------------------------------------------------------------------


@pytest.fixture
def city_settings(city_staff):
    return grant_hardship(city_staff, *CASE_STAFF_PERMS, "change_hardshipsettings", "change_second_approval")


@pytest.mark.parametrize("size", ["0", "-5", "十兆", "", "٣", "²"])
def test_the_settings_refuse_a_document_limit_below_one_byte(city_settings, size):
    error = refused(services.settings_change, actor=city_settings, document_max_bytes=size)
    assert error.code == "bad_size"
    assert HardshipSettings.get().document_max_bytes == 10485760
    assert not AuditEntry.objects.filter(action="hardship.settings.changed").exists()


def test_settings_saved_unchanged_write_no_audit_entry(city_settings):
    row = services.settings_change(actor=city_settings, second_approval_above="5000.00", document_max_bytes=10485760)
    assert (row.second_approval_above, row.document_max_bytes) == (D("5000.00"), 10485760)
    assert not AuditEntry.objects.filter(action="hardship.settings.changed").exists()


# --- Documents ---------------------------------------------------------------------------------------


def test_a_document_the_database_refuses_leaves_no_file_behind(open_case, case_staff, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    out = tmp_path / "in.png"
    Image.new("RGB", (8, 8), (0, 128, 0)).save(out, "PNG")
    upload = SimpleUploadedFile("scan.png", out.read_bytes())
    out.unlink()

    with mock.patch("hardship.services.case_documents.audit_log", side_effect=RuntimeError("database gone")):
        with pytest.raises(RuntimeError):
            services.document_attach(case=open_case, actor=case_staff, upload=upload, title="诊断证明")

    assert not CaseDocument.objects.exists()
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


# --- Aid -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [("purpose", "  ", "purpose_required"), ("paid_on", "2025-03-15", "bad_date"), ("paid_on", None, "bad_date")],
)
def test_aid_refuses_a_missing_purpose_or_date(filed_case, case_staff, field, value, code):
    assert refused(aid, case=filed_case, actor=case_staff, **{field: value}).code == code
    assert not Aid.objects.exists()
    assert Case.objects.get(pk=filed_case.pk).state == Case.State.FILED


def test_pending_aid_is_rejected_once(filed_case, case_staff, case_checker):
    pending = aid(filed_case, case_staff, "8000.00")
    services.aid_reject(aid=pending, actor=case_checker, reason="金额需重新核定")
    error = refused(services.aid_reject, aid=pending, actor=case_checker, reason="再次驳回")
    assert (error.code, error.kind) == ("not_pending", "conflict")
    assert Aid.objects.get(pk=pending.pk).state == Aid.State.REJECTED
    assert AuditEntry.objects.filter(action="hardship.aid.rejected").count() == 1


def test_approving_more_aid_keeps_a_case_receiving_aid(filed_case, case_staff, case_checker):
    aid(filed_case, case_staff, "1000.00")  # at or below the threshold: approved at once
    assert Case.objects.get(pk=filed_case.pk).state == Case.State.RECEIVING_AID
    pending = aid(filed_case, case_staff, "8000.00", double_aid_acknowledged=True)

    services.aid_approve(aid=pending, actor=case_checker, double_aid_acknowledged=True)

    assert Aid.objects.get(pk=pending.pk).state == Aid.State.APPROVED
    assert Case.objects.get(pk=filed_case.pk).state == Case.State.RECEIVING_AID
    # the case moved to receiving aid once, with its first aid
    assert AuditEntry.objects.filter(action="hardship.case.receiving_aid", object_id=str(filed_case.pk)).count() == 1


# --- Warmth batches --------------------------------------------------------------------------------


@pytest.fixture
def roster(tree, member):
    WarmthRosterEntry.objects.create(member=member, union=member.union, year=2025, source="case")


@pytest.fixture
def district_maker(district_staff):
    return grant_hardship(district_staff)


@pytest.fixture
def district_checker(tree):
    return grant_hardship(StaffFactory(username="wxchecker", union=tree.wx))


def warmth(tree, actor, *, period="2025-01", name="2025年春节送温暖"):
    return services.warmth_batch_create(
        union=tree.wx, period=period, amount_per_person="716.00", actor=actor, name=name
    )


@pytest.mark.parametrize(
    ("period", "name", "code"),
    [("2025-01", " ", "name_required"), ("2025-1", "春节", "bad_period"), ("2025-Q1", "春节", "bad_period")],
)
def test_a_warmth_batch_needs_a_name_and_a_month(tree, roster, district_maker, period, name, code):
    assert refused(warmth, tree=tree, actor=district_maker, period=period, name=name).code == code
    assert not WarmthBatch.objects.exists() and not Aid.objects.exists()


def test_a_warmth_batch_is_approved_once(tree, roster, district_maker, district_checker):
    batch = warmth(tree, district_maker)
    services.warmth_batch_approve(batch=batch, actor=district_checker)
    error = refused(services.warmth_batch_approve, batch=batch, actor=district_checker)
    assert (error.code, error.kind) == ("not_pending", "conflict")
    assert AuditEntry.objects.filter(action="hardship.warmth_batch.approved").count() == 1


def test_aid_of_a_warmth_batch_is_decided_with_its_batch_only(tree, roster, district_maker, district_checker):
    batch = warmth(tree, district_maker)
    (batch_aid,) = Aid.objects.filter(batch=batch)
    assert refused(services.aid_approve, aid=batch_aid, actor=district_checker).code == "batch_aid"
    assert refused(services.aid_reject, aid=batch_aid, actor=district_checker, reason="不发").code == "batch_aid"
    assert Aid.objects.get(pk=batch_aid.pk).state == Aid.State.PENDING_APPROVAL


# --- Referrals ------------------------------------------------------------------------------------


@pytest.fixture
def cdpf(db):
    return AgencyFactory(code="cdpf", name="残联")


def test_a_referral_refuses_a_benefit_the_agencies_do_not_give(filed_case, case_staff, cdpf):
    error = refused(services.referral_send, case=filed_case, agency=cdpf, benefit="housing", actor=case_staff)
    assert error.code == "bad_benefit"
    assert not Referral.objects.exists()


def test_a_referral_refuses_an_inactive_agency(filed_case, case_staff, cdpf):
    cdpf.is_active = False
    cdpf.save()
    error = refused(
        services.referral_send, case=filed_case, agency=cdpf, benefit="disability_insurance", actor=case_staff
    )
    assert error.code == "agency_inactive"
    assert not Referral.objects.exists()


@pytest.mark.parametrize("closed", ["resolved", "withdrawn"])
def test_a_closed_case_cannot_be_referred(filed_case, case_staff, cdpf, closed):
    services.case_transition(case=filed_case, to_state=closed, actor=case_staff)
    error = refused(
        services.referral_send, case=filed_case, agency=cdpf, benefit="disability_insurance", actor=case_staff
    )
    assert error.code == "bad_state"
    assert not Referral.objects.exists()


def test_a_case_still_a_candidate_cannot_be_referred(open_case, case_staff, cdpf):
    error = refused(
        services.referral_send, case=open_case, agency=cdpf, benefit="disability_insurance", actor=case_staff
    )
    assert error.code == "bad_state"
    assert not Referral.objects.exists()


def test_the_answer_to_a_supervisors_referral_goes_to_the_supervisor_too(
    filed_case, case_staff, supervisor, cdpf, django_capture_on_commit_callbacks
):
    ref = services.referral_send(case=filed_case, agency=cdpf, benefit="disability_insurance", actor=supervisor)
    with django_capture_on_commit_callbacks(execute=True):
        services.referral_answer(referral=ref, agency=cdpf, granted=True, amount="9000")
    told = Notification.objects.filter(kind="hardship.referral.answered")
    assert sorted(told.values_list("recipient_id", flat=True)) == sorted([case_staff.pk, supervisor.pk])


def test_the_settings_read_a_document_limit_typed_in_fullwidth_digits(city_settings):
    services.settings_change(actor=city_settings, document_max_bytes="１０４８５７６")
    assert HardshipSettings.get().document_max_bytes == 1048576
