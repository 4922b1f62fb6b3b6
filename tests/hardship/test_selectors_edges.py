"""Hardship reads at their edges (the double-aid check's periods and matches, aid awaiting a second
approver, an agency's referrals by state, who is city level, reports for staff without a scope),
and the screening rules' refusal of staff without the permission."""

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.auth.models import AnonymousUser

from core.errors import ErrorKind, ServiceError
from core.models import AuditEntry
from hardship import reports, screening, selectors, services
from hardship.models import Aid, Referral, ScreeningRule
from tests.factories import AgencyFactory, StaffFactory
from tests.hardship.conftest import grant_hardship

PAID_ON = dt.date(2025, 3, 15)
AID = {"body": "慈善总会", "purpose": "大病 救助", "fund_line": "illness", "amount": "3000.00", "date": "2025-03-02"}


def refused(func, **kwargs) -> ServiceError:
    with pytest.raises(ServiceError) as exc:
        func(**kwargs)
    return exc.value


def own_aid(case, actor, *, fund_line="illness", purpose="大病救助"):
    return services.aid_create(
        case=case,
        actor=actor,
        amount="1000.00",
        fund_line=fund_line,
        purpose=purpose,
        paid_on=PAID_ON,
        double_aid_acknowledged=True,
    )


# --- The double-aid check ----------------------------------------------------------------------


def test_the_double_aid_check_of_a_month_also_reads_aid_pushed_for_its_quarter(member, push_row):
    push_row("aid_given", "2025-Q1", AID, member=member)
    screening.match_rows()
    found = selectors.double_aid_check(member=member, fund_line="illness", purpose="x", period="2025-03")
    assert [(f["source"], f["agency"], f["amount"]) for f in found] == [("agency", "mca", "3000.00")]


def test_the_double_aid_check_of_a_quarter_reads_only_that_quarter(member, push_row):
    push_row("aid_given", "2025-Q1", AID, member=member)
    push_row("aid_given", "2025-03", AID, member=member)
    screening.match_rows()
    found = selectors.double_aid_check(member=member, fund_line="illness", purpose="x", period="2025-Q1")
    assert len(found) == 1


def test_the_double_aid_check_of_a_period_it_cannot_read_matches_that_text_only(member, push_row):
    push_row("aid_given", "2025-03", AID, member=member)
    screening.match_rows()
    assert selectors.double_aid_check(member=member, fund_line="illness", purpose="x", period="三月") == []


def test_the_double_aid_check_matches_the_unions_aid_by_fund_line_or_purpose_only(filed_case, member, case_staff):
    same_line = own_aid(filed_case, case_staff, fund_line="illness", purpose="住院")
    same_purpose = own_aid(filed_case, case_staff, fund_line="living", purpose="大病 救助")
    own_aid(filed_case, case_staff, fund_line="schooling", purpose="助学")  # neither
    found = selectors.double_aid_check(member=member, fund_line="illness", purpose="大病救助", period="2025-03")
    assert [f["aid"] for f in found] == [same_line.pk, same_purpose.pk]


# --- Aid awaiting a second approver ----------------------------------------------------------------


def test_aid_awaiting_approval_is_listed_for_the_checker_and_not_for_its_maker_or_an_outsider(
    filed_case, case_staff, case_checker, case_outsider
):
    pending = own_aid(filed_case, case_staff)
    own_aid(filed_case, case_staff, fund_line="living", purpose="生活")
    Aid.objects.filter(pk=pending.pk).update(state=Aid.State.PENDING_APPROVAL)
    Aid.objects.exclude(pk=pending.pk).update(state=Aid.State.APPROVED)

    assert list(selectors.aid_pending_for(case_checker)) == [pending]
    assert not selectors.aid_pending_for(case_staff).exists()  # the maker
    assert not selectors.aid_pending_for(case_outsider).exists()  # 南浔区


# --- Referrals and levels -------------------------------------------------------------------------


def test_an_agencys_referrals_may_be_read_by_state(filed_case, case_staff):
    cdpf = AgencyFactory(code="cdpf", name="残联")
    referral = services.referral_send(case=filed_case, agency=cdpf, benefit="disability_insurance", actor=case_staff)
    assert list(selectors.referrals_for_agency(cdpf, state=referral.state)) == [referral]
    other_state = next(s for s in Referral.State.values if s != referral.state)
    assert not selectors.referrals_for_agency(cdpf, state=other_state).exists()
    assert not selectors.referrals_for_agency(AgencyFactory(code="mca")).exists()


def test_only_staff_are_city_level(tree, member):
    assert selectors.is_city_level(AnonymousUser()) is False
    assert selectors.is_city_level(member.user) is False  # a worker, even if the city were theirs
    assert selectors.is_city_level(StaffFactory(union=tree.city)) is True
    assert selectors.is_city_level(StaffFactory(union=tree.wx)) is False


# --- Reports for staff without a scope ------------------------------------------------------------


def test_hardship_staff_without_a_union_see_an_empty_trend_and_empty_figures(db):
    unplaced = grant_hardship(StaffFactory(username="unplaced", union=None))
    months = reports.trend(user=unplaced, end="2025-03", months=3)
    assert [m["month"] for m in months] == ["2025-01", "2025-02", "2025-03"]
    assert all(m["received"] == m["candidates"] == m["filed"] == 0 and m["aid"] == 0 for m in months)


def test_staff_without_the_hardship_permission_may_narrow_a_report_to_no_union(tree, staff):
    assert not reports.report_unions(staff).exists()


def test_it_refuses_a_report_export_to_staff_without_the_hardship_permission(tree, staff):
    error = refused(reports.report_export_xlsx, user=staff, period="2025-03")
    assert (error.code, error.kind) == ("forbidden", ErrorKind.FORBIDDEN)
    assert error.message == "您无权导出困难职工帮扶报表。"


# --- Screening rules ------------------------------------------------------------------------------


def test_it_refuses_a_screening_rule_from_staff_without_the_permission(staff):
    rule = ScreeningRule(
        name="自付≥8万", kind=ScreeningRule.Kind.MEDICAL_OUT_OF_POCKET, threshold_amount=Decimal(80000)
    )
    error = refused(services.screening_rule_save, rule=rule, actor=staff)
    assert (error.code, error.kind) == ("forbidden", ErrorKind.FORBIDDEN)
    assert not ScreeningRule.objects.exists()
    assert not AuditEntry.objects.filter(action__startswith="hardship.screening_rule").exists()


def test_case_file_lists_the_pages_rows_newest_first_and_writes_nothing(open_case, push_row):
    from hardship.models import AccessLog
    from tests.hardship.factories import AidFactory, ReferralFactory

    older = AidFactory(case=open_case, member=open_case.head, paid_on=dt.date(2025, 1, 5), period="2025-01")
    newer = AidFactory(case=open_case, member=open_case.head, paid_on=dt.date(2025, 3, 5), period="2025-03")
    first = ReferralFactory(case=open_case, sent_at=dt.datetime(2025, 1, 1, tzinfo=dt.UTC))
    second = ReferralFactory(case=open_case, sent_at=dt.datetime(2025, 2, 1, tzinfo=dt.UTC))
    row = push_row("medical", "2025-02", {"out_of_pocket": "60000.00"}, member=open_case.head)
    row.member = open_case.head  # matched to the head
    row.save(update_fields=["member"])
    audits, reads = AuditEntry.objects.count(), AccessLog.objects.count()
    rows = selectors.case_file(open_case)
    assert rows["aid"] == [newer, older]
    assert rows["referrals"] == [second, first]
    assert rows["documents"] == []
    assert [e["period"] for e in rows["evidence"]] == ["2025-02"]
    assert rows["events"] == list(open_case.events.order_by("created_at", "id"))
    assert (AuditEntry.objects.count(), AccessLog.objects.count()) == (audits, reads)
