"""Aid under a case: maker–checker above the threshold, the double-aid check; warmth batches and their XLSX."""

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from openpyxl import load_workbook

from core.crypto import id_number_index
from core.errors import ServiceError
from core.models import Agency, AuditEntry, Notification
from hardship import services
from hardship.models import AccessLog, Aid, Case, DataPush, HardshipSettings, PushRow, WarmthBatch, WarmthRosterEntry
from tests.factories import AgencyFactory, MemberFactory, StaffFactory

D = Decimal
PAID_ON = dt.date(2025, 3, 15)


def aid(case, actor, amount, *, fund_line="illness", purpose="大病救助", paid_on=PAID_ON, **kw):
    return services.aid_create(
        case=case, actor=actor, fund_line=fund_line, amount=amount, purpose=purpose, paid_on=paid_on, **kw
    )


# --- Maker–checker -----------------------------------------------------------------------------


def test_aid_at_the_threshold_is_approved_at_once_with_its_maker(filed_case, case_staff):
    assert HardshipSettings.get().second_approval_above == D("5000.00")
    a = aid(filed_case, case_staff, "5000.00")
    assert a.state == Aid.State.APPROVED
    assert a.maker == case_staff and a.approver is None and a.approved_at is not None
    assert a.period == "2025-03" and a.member == filed_case.head
    filed_case.refresh_from_db()
    assert filed_case.state == Case.State.RECEIVING_AID


def test_aid_above_the_threshold_waits_for_a_second_approver(
    filed_case, case_staff, case_checker, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        a = aid(filed_case, case_staff, "5000.01")
    assert a.state == Aid.State.PENDING_APPROVAL
    filed_case.refresh_from_db()
    assert filed_case.state == Case.State.FILED
    # The checker is told; the maker is not asked to approve their own aid.
    assert Notification.objects.filter(recipient=case_checker, kind="hardship.aid.pending").exists()
    assert not Notification.objects.filter(recipient=case_staff, kind="hardship.aid.pending").exists()


def test_the_threshold_is_read_from_the_settings(filed_case, case_staff):
    settings_row = HardshipSettings.get()
    settings_row.second_approval_above = D("20000")
    settings_row.save()
    assert aid(filed_case, case_staff, "15000").state == Aid.State.APPROVED


def test_aid_split_into_small_amounts_in_one_month_still_needs_a_second_approver(filed_case, case_staff):
    settings_row = HardshipSettings.get()
    settings_row.second_approval_above = D("10000")
    settings_row.save()
    made = [aid(filed_case, case_staff, "5000", double_aid_acknowledged=True) for _ in range(4)]
    # 5,000 and 10,000 are not above the threshold; 15,000 and 20,000 are.
    assert [a.state for a in made] == ["approved", "approved", "pending", "pending"]
    assert all(a.approver is None for a in made)
    entry = AuditEntry.objects.get(action="hardship.aid.created", object_id=str(made[2].pk))
    assert entry.new["window_total"] == "15000.00"


def test_the_total_counts_pending_aid_and_every_fund_line_and_month_but_not_rejected_aid(
    filed_case, case_staff, case_checker
):
    big = aid(filed_case, case_staff, "27000.00")
    assert big.state == Aid.State.PENDING_APPROVAL
    # The pending 27,000 counts: even a small aid for another fund line and purpose now needs a checker.
    small = aid(filed_case, case_staff, "100.00", fund_line="living", purpose="生活", double_aid_acknowledged=True)
    assert small.state == Aid.State.PENDING_APPROVAL
    services.aid_reject(aid=big, actor=case_checker, reason="金额需重新核定")
    services.aid_reject(aid=small, actor=case_checker, reason="重新录入")
    # Rejected aid no longer counts; another month does not start afresh (the total is the year's).
    assert aid(filed_case, case_staff, "4000.00", double_aid_acknowledged=True).state == Aid.State.APPROVED
    assert services.household_aid_total(case=filed_case) == D("4000.00")
    assert aid(filed_case, case_staff, "1000.00", paid_on=dt.date(2025, 4, 1)).state == Aid.State.APPROVED
    assert aid(filed_case, case_staff, "0.01", paid_on=dt.date(2025, 5, 1)).state == Aid.State.PENDING_APPROVAL


def test_the_maker_cannot_approve_their_own_aid(filed_case, case_staff):
    a = aid(filed_case, case_staff, "27000.00")
    with pytest.raises(ServiceError) as exc:
        services.aid_approve(aid=a, actor=case_staff)
    assert exc.value.code == "maker_cannot_approve"
    a.refresh_from_db()
    assert a.state == Aid.State.PENDING_APPROVAL


def test_another_staff_member_approves_and_the_case_receives_aid(filed_case, case_staff, case_checker):
    a = aid(filed_case, case_staff, "27000.00")
    services.aid_approve(aid=a, actor=case_checker)
    a.refresh_from_db()
    assert a.state == Aid.State.APPROVED and a.approver == case_checker and a.maker == case_staff
    filed_case.refresh_from_db()
    assert filed_case.state == Case.State.RECEIVING_AID
    assert filed_case.events.filter(kind="aid_approved").exists()
    entry = AuditEntry.objects.get(action="hardship.aid.approved", object_id=str(a.pk))
    assert entry.new["amount"] == "27000.00"
    with pytest.raises(ServiceError) as exc:
        services.aid_approve(aid=a, actor=case_checker)
    assert exc.value.code == "not_pending"


def test_the_database_refuses_an_aid_approved_by_its_maker(filed_case, case_staff):
    a = aid(filed_case, case_staff, "27000.00")
    with pytest.raises(IntegrityError), transaction.atomic():
        Aid.objects.filter(pk=a.pk).update(approver=case_staff, state="approved")


def test_the_outsider_and_staff_without_hardship_rights_cannot_approve(filed_case, case_staff, case_outsider, tree):
    a = aid(filed_case, case_staff, "27000.00")
    plain = StaffFactory(username="g1plain", union=tree.g1)  # G1 staff without hardship permissions
    for actor in (case_outsider, plain):
        with pytest.raises(ServiceError) as exc:
            services.aid_approve(aid=a, actor=actor)
        assert exc.value.code == "forbidden"
    a.refresh_from_db()
    assert a.state == Aid.State.PENDING_APPROVAL


def test_the_outsider_cannot_enter_aid(filed_case, case_outsider):
    with pytest.raises(ServiceError) as exc:
        aid(filed_case, case_outsider, "100")
    assert exc.value.code == "forbidden"
    assert not Aid.objects.exists()


def test_aid_needs_a_filed_case_and_a_positive_amount(filed_case, case_staff, tree):
    unfiled = services.case_open(head=MemberFactory(union=tree.g1), actor=case_staff)
    with pytest.raises(ServiceError) as exc:
        aid(unfiled, case_staff, "100")
    assert exc.value.code == "case_not_filed"
    for amount, code in (("0", "bad_amount"), ("-5", "negative_amount"), ("1.001", "bad_amount"), ("x", "bad_amount")):
        with pytest.raises(ServiceError) as exc:
            aid(filed_case, case_staff, amount)
        assert exc.value.code == code, amount
    with pytest.raises(ServiceError) as exc:
        aid(filed_case, case_staff, "100", fund_line="lottery")
    assert exc.value.code == "bad_fund_line"


def test_a_rejected_aid_is_not_approved(filed_case, case_staff, case_checker):
    a = aid(filed_case, case_staff, "27000.00")
    with pytest.raises(ServiceError):
        services.aid_reject(aid=a, actor=case_checker, reason="")
    services.aid_reject(aid=a, actor=case_checker, reason="金额需重新核定")
    a.refresh_from_db()
    assert a.state == Aid.State.REJECTED
    with pytest.raises(ServiceError) as exc:
        services.aid_approve(aid=a, actor=case_checker)
    assert exc.value.code == "not_pending"


@pytest.mark.parametrize("closed", ["withdrawn", "exited", "resolved"])
def test_closing_a_case_rejects_its_pending_aid(filed_case, case_staff, case_checker, closed):
    a = aid(filed_case, case_staff, "20000.00")
    assert a.state == Aid.State.PENDING_APPROVAL
    services.case_transition(case=filed_case, to_state=closed, actor=case_staff)
    a.refresh_from_db()
    assert a.state == Aid.State.REJECTED and a.approver is None
    event = filed_case.events.get(kind="aid_rejected")
    assert event.data == {"aid": a.pk, "amount": "20000.00", "reason": "case_closed"}
    assert AuditEntry.objects.filter(action="hardship.aid.rejected", object_id=str(a.pk)).exists()
    with pytest.raises(ServiceError) as exc:
        services.aid_approve(aid=a, actor=case_checker)
    assert exc.value.code == "not_pending"


def test_pending_aid_of_a_case_no_longer_filed_cannot_be_approved(filed_case, case_staff, case_checker):
    a = aid(filed_case, case_staff, "20000.00")
    # A case closed before closing rejected pending aid: its aid is still waiting.
    Case.objects.filter(pk=filed_case.pk).update(state=Case.State.WITHDRAWN)
    with pytest.raises(ServiceError) as exc:
        services.aid_approve(aid=a, actor=case_checker)
    assert exc.value.code == "case_not_filed"
    a.refresh_from_db()
    assert a.state == Aid.State.PENDING_APPROVAL and a.approver is None


# --- The double-aid check ------------------------------------------------------------------------


@pytest.fixture
def cdpf(db):
    return AgencyFactory(code="cdpf", name="残联")


def pushed_aid(agency: Agency, member, *, period="2025-03", purpose="大病救助", fund_line="illness", amount="3000.00"):
    push = DataPush.objects.create(
        agency=agency,
        kind="aid_given",
        period=period,
        batch_id=f"{agency.code}-{period}-{DataPush.objects.count()}",
        row_count=1,
        sha256="0" * 64,
        source="api_json",
        state="ingested",
    )
    return PushRow.objects.create(
        push=push,
        agency=agency,
        kind="aid_given",
        period=period,
        line=1,
        source_key=f"{agency.code}-{push.pk}",
        id_number=member.id_number,
        id_index=id_number_index(member.id_number),
        payload={
            "body": agency.name,
            "purpose": purpose,
            "fund_line": fund_line,
            "amount": amount,
            "date": f"{period[:4]}-03-02",
            "name": member.name,
        },
        member=member,
    )


def test_the_double_aid_check_finds_other_bodies_aid_for_the_same_purpose_and_period(member, cdpf):
    pushed_aid(cdpf, member)
    pushed_aid(cdpf, member, period="2025-05")  # another period
    pushed_aid(cdpf, member, purpose="助学", fund_line="schooling")  # another purpose
    found = services.double_aid_check(member=member, fund_line="illness", purpose="大病救助", period="2025-03")
    assert len(found) == 1
    assert found[0]["source"] == "agency" and found[0]["body"] == "残联" and found[0]["amount"] == "3000.00"
    assert services.double_aid_check(member=member, fund_line="illness", purpose="大病救助", period="2025-04") == []


def test_the_double_aid_check_matches_a_quarter_push_and_the_purpose_text(member, cdpf):
    pushed_aid(cdpf, member, period="2025-Q1", fund_line="other", purpose="大病 救助")
    found = services.double_aid_check(member=member, fund_line="illness", purpose="大病救助", period="2025-02")
    assert [f["source"] for f in found] == ["agency"]
    assert services.double_aid_check(member=member, fund_line="illness", purpose="大病救助", period="2025-04") == []


def test_the_double_aid_check_also_lists_the_unions_own_aid(filed_case, case_staff):
    aid(filed_case, case_staff, "1000.00")
    found = services.double_aid_check(member=filed_case.head, fund_line="illness", purpose="其他", period="2025-03")
    assert [f["source"] for f in found] == ["union"]


def test_approval_is_refused_until_the_double_aid_is_acknowledged(filed_case, case_staff, case_checker, cdpf):
    pushed_aid(cdpf, filed_case.head)
    a = aid(filed_case, case_staff, "27000.00")
    with pytest.raises(ServiceError) as exc:
        services.aid_approve(aid=a, actor=case_checker)
    assert exc.value.code == "double_aid_unacknowledged"
    a.refresh_from_db()
    assert a.state == Aid.State.PENDING_APPROVAL
    services.aid_approve(aid=a, actor=case_checker, double_aid_acknowledged=True)
    a.refresh_from_db()
    assert a.state == Aid.State.APPROVED
    assert AuditEntry.objects.get(action="hardship.aid.approved", object_id=str(a.pk)).new["double_aid_found"] == 1


def test_aid_approved_at_once_also_needs_the_double_aid_acknowledged(filed_case, case_staff, cdpf):
    pushed_aid(cdpf, filed_case.head)
    with pytest.raises(ServiceError) as exc:
        aid(filed_case, case_staff, "500.00")
    assert exc.value.code == "double_aid_unacknowledged"
    assert aid(filed_case, case_staff, "500.00", double_aid_acknowledged=True).state == Aid.State.APPROVED


def test_approval_without_any_double_aid_needs_no_acknowledgement(filed_case, case_staff, case_checker, cdpf):
    pushed_aid(cdpf, filed_case.head, period="2025-05")
    a = aid(filed_case, case_staff, "27000.00")
    assert services.aid_approve(aid=a, actor=case_checker).state == Aid.State.APPROVED


# --- Warmth batches -----------------------------------------------------------------------------


@pytest.fixture
def roster(tree, member, other_member):
    """Three 2025 recipients in 吴兴区, one in 南浔区, one inactive, one of 2024."""
    m2 = MemberFactory(union=tree.g1, name="李娜")
    m3 = MemberFactory(union=tree.g1, name="陈静")
    for m in (member, m2, m3):
        WarmthRosterEntry.objects.create(member=m, union=m.union, year=2025, source="case")
    WarmthRosterEntry.objects.create(member=other_member, union=tree.g2, year=2025, source="case")
    WarmthRosterEntry.objects.create(
        member=MemberFactory(union=tree.g1), union=tree.g1, year=2025, source="case", is_active=False
    )
    WarmthRosterEntry.objects.create(member=MemberFactory(union=tree.g1), union=tree.g1, year=2024, source="case")
    return [member, m2, m3]


def batch(tree, actor, amount="716.00"):
    return services.warmth_batch_create(
        union=tree.wx, period="2025-01", amount_per_person=amount, actor=actor, name="2025年春节送温暖"
    )


@pytest.fixture
def district_maker(district_staff):
    from tests.hardship.conftest import grant_hardship

    return grant_hardship(district_staff)


@pytest.fixture
def district_checker(tree):
    from tests.hardship.conftest import grant_hardship

    return grant_hardship(StaffFactory(username="wxchecker", union=tree.wx))


def test_a_warmth_batch_pays_every_active_recipient_of_the_subtree_once(tree, roster, district_maker):
    b = batch(tree, district_maker)
    assert b.recipients == 3
    assert b.total == D("2148.00")
    rows = Aid.objects.filter(batch=b)
    assert {a.member_id for a in rows} == {m.pk for m in roster}
    assert {(a.fund_line, a.amount, a.state, a.period) for a in rows} == {("warmth", D("716.00"), "pending", "2025-01")}
    with pytest.raises(IntegrityError), transaction.atomic():
        Aid.objects.create(
            batch=b,
            member=roster[0],
            union=tree.g1,
            fund_line="warmth",
            amount=D("1"),
            purpose="x",
            paid_on=dt.date(2025, 1, 1),
            period="2025-01",
            maker=district_maker,
        )


def test_a_warmth_batch_needs_a_second_approver(tree, roster, district_maker, district_checker):
    b = batch(tree, district_maker)
    with pytest.raises(ServiceError) as exc:
        services.warmth_batch_approve(batch=b, actor=district_maker)
    assert exc.value.code == "maker_cannot_approve"
    services.warmth_batch_approve(batch=b, actor=district_checker)
    b.refresh_from_db()
    assert b.state == WarmthBatch.State.APPROVED and b.approved_by == district_checker
    assert set(Aid.objects.filter(batch=b).values_list("state", "approver")) == {("approved", district_checker.pk)}


def test_the_outsider_cannot_create_approve_or_export_a_batch(tree, roster, district_maker, case_outsider):
    with pytest.raises(ServiceError) as exc:
        batch(tree, case_outsider)
    assert exc.value.code == "forbidden"
    b = batch(tree, district_maker)
    for call in (services.warmth_batch_approve, services.warmth_batch_export_xlsx):
        with pytest.raises(ServiceError) as exc:
            call(batch=b, actor=case_outsider)
        assert exc.value.code == "forbidden"
    assert not AccessLog.objects.exists()


def test_a_second_warmth_batch_for_the_same_period_is_refused(tree, roster, district_maker, district_checker):
    first = batch(tree, district_maker)
    # The same union again, or a union inside it, would pay the same people twice for 2025-01.
    for union, count in ((tree.wx, 3), (tree.g1, 3)):
        with pytest.raises(ServiceError) as exc:
            services.warmth_batch_create(
                union=union, period="2025-01", amount_per_person="716", actor=district_maker, name="春节"
            )
        assert exc.value.code == "already_paid"
        assert f"{count} " in exc.value.message and "2025-01" in exc.value.message
    assert list(WarmthBatch.objects.all()) == [first]
    # Once approved, it still counts; another month is paid.
    services.warmth_batch_approve(batch=first, actor=district_checker)
    with pytest.raises(ServiceError) as exc:
        batch(tree, district_maker)
    assert exc.value.code == "already_paid"
    later = services.warmth_batch_create(
        union=tree.wx, period="2025-02", amount_per_person="716", actor=district_maker, name="元宵"
    )
    assert later.recipients == 3
    for m in roster:
        assert Aid.objects.filter(member=m, fund_line="warmth", period="2025-01").count() == 1


def test_warmth_aid_under_a_case_counts_for_the_batch_of_its_month(
    tree, roster, filed_case, case_staff, district_maker
):
    services.aid_create(
        case=filed_case,
        actor=case_staff,
        fund_line="warmth",
        amount="500",
        purpose="春节慰问",
        paid_on=dt.date(2025, 1, 10),
    )
    with pytest.raises(ServiceError) as exc:
        batch(tree, district_maker)
    assert exc.value.code == "already_paid" and "1 " in exc.value.message


def test_an_empty_roster_makes_no_batch(tree, district_maker):
    with pytest.raises(ServiceError) as exc:
        batch(tree, district_maker)
    assert exc.value.code == "empty_roster"
    assert not WarmthBatch.objects.exists()


def test_the_batch_exports_masked_recipients_and_a_total_and_logs_the_export(tree, roster, district_maker):
    b = batch(tree, district_maker)
    content = services.warmth_batch_export_xlsx(batch=b, actor=district_maker)
    ws = load_workbook(io.BytesIO(content)).active
    rows = [r for r in ws.iter_rows(values_only=True) if any(v is not None for v in r)]
    header_at = next(i for i, r in enumerate(rows) if r[0] == "会员编号" or r[0] == "Member number")
    body, total = rows[header_at + 1 : -1], rows[-1]
    assert sorted(r[0] for r in body) == sorted(m.member_no for m in roster)
    assert {r[1] for r in body} == {m.masked_name for m in roster}
    assert {r[2] for r in body} == {m.id_masked for m in roster}
    assert all(D(str(r[4])) == D("716.00") for r in body)
    assert D(str(total[4])) == D("2148.00")
    text = repr(rows)
    for m in roster:
        assert m.id_number not in text and m.name not in text
    log = AccessLog.objects.get()
    assert log.user == district_maker and log.action == "export" and log.detail == f"warmth batch {b.pk}"
