"""Issue 10: one person could approve unlimited aid alone. Aid dated 2027-01, 2027-02, 2031-06 and
1999-01, each at the threshold, all went through without a checker, because the threshold counted
the month of a typed date that had no bounds. Now the date lies within the case's life (and at most
three days ahead), and the threshold counts the household's aid RECORDED in the last 365 days."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from core.errors import ServiceError
from core.models import AuditEntry
from hardship import services
from hardship.models import Aid, Case
from tests.hardship.conftest import grant_hardship
from tests.hardship.test_admin import STAFF_PERMS, login

D = Decimal
THRESHOLD = "5000.00"  # HardshipSettings' default second_approval_above
TODAY = dt.date(2026, 12, 7)
ISSUE_DATES = [dt.date(2027, 1, 15), dt.date(2027, 2, 15), dt.date(2031, 6, 15), dt.date(1999, 1, 15)]


@pytest.fixture(autouse=True)
def clock():
    """Today is 7 December 2026 (Shanghai); the shared case was opened on 2 January 2025."""
    with time_machine.travel(dt.datetime(2026, 12, 7, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))) as traveller:
        yield traveller


def aid(case, actor, amount=THRESHOLD, *, paid_on, **kw):
    return services.aid_create(
        case=case,
        actor=actor,
        fund_line="illness",
        amount=amount,
        purpose="大病救助",
        paid_on=paid_on,
        double_aid_acknowledged=True,
        **kw,
    )


# --- The date lies within the case's life ------------------------------------------------------------


@pytest.mark.parametrize("paid_on", ISSUE_DATES, ids=str)
def test_it_refuses_each_date_of_the_issue_in_the_service(filed_case, case_staff, paid_on):
    with pytest.raises(ServiceError) as exc:
        aid(filed_case, case_staff, paid_on=paid_on)
    assert exc.value.code == "aid_date_out_of_range"
    assert "2025-01-02" in exc.value.message and "2026-12-10" in exc.value.message
    assert not Aid.objects.exists()
    assert not AuditEntry.objects.filter(action="hardship.aid.created").exists()


def test_it_takes_the_first_and_last_days_of_the_case_and_three_days_ahead(filed_case, case_staff):
    assert services.aid_date_bounds(filed_case) == (dt.date(2025, 1, 2), dt.date(2026, 12, 10))
    for day in (dt.date(2025, 1, 2), TODAY, dt.date(2026, 12, 10)):
        assert aid(filed_case, case_staff, "1.00", paid_on=day).paid_on == day
    for day in (dt.date(2025, 1, 1), dt.date(2026, 12, 11)):
        with pytest.raises(ServiceError) as exc:
            aid(filed_case, case_staff, "1.00", paid_on=day)
        assert exc.value.code == "aid_date_out_of_range"


def test_it_ends_the_dates_on_the_day_a_case_closed(filed_case):
    Case.objects.filter(pk=filed_case.pk).update(state="exited", closed_at=dt.datetime(2026, 6, 30, 10, tzinfo=dt.UTC))
    filed_case.refresh_from_db()
    assert services.aid_date_bounds(filed_case) == (dt.date(2025, 1, 2), dt.date(2026, 6, 30))


@pytest.fixture
def hs(staff):
    return grant_hardship(staff, *STAFF_PERMS)


@pytest.mark.parametrize("paid_on", ISSUE_DATES, ids=str)
def test_it_refuses_each_date_of_the_issue_in_the_admin(client, hs, filed_case, paid_on):
    login(client, hs)
    data = {"aid-fund_line": "illness", "aid-amount": THRESHOLD, "aid-purpose": "大病救助"}
    resp = client.post(f"/admin/hardship/case/{filed_case.pk}/do/aid/", {**data, "aid-paid_on": paid_on.isoformat()})
    assert resp.status_code == 200
    page = resp.content.decode()
    assert "帮扶日期须在 2025-01-02（建档之日）至 2026-12-10 之间" in page
    assert not Aid.objects.exists()
    # The page's date picker offers the same bounds.
    assert 'min="2025-01-02"' in page and 'max="2026-12-10"' in page


# --- The threshold counts the aid recorded in the last 365 days -----------------------------------------


def test_the_four_aids_of_the_issue_dated_within_the_case_need_a_checker_from_the_second(filed_case, case_staff):
    """The issue's four aids at the threshold, back-dated across months and years of the case's life:
    the first is approved at once, each later one waits for a checker."""
    days = [dt.date(2025, 1, 15), dt.date(2025, 2, 15), dt.date(2026, 6, 15), dt.date(2026, 12, 9)]
    made = [aid(filed_case, case_staff, paid_on=day) for day in days]
    assert [a.state for a in made] == ["approved", "pending", "pending", "pending"]
    totals = [
        AuditEntry.objects.get(action="hardship.aid.created", object_id=str(a.pk)).new["window_total"] for a in made
    ]
    assert totals == ["5000.00", "10000.00", "15000.00", "20000.00"]


def test_aid_split_into_small_amounts_over_many_months_still_needs_a_checker(filed_case, case_staff):
    months = [dt.date(2025, m, 10) for m in range(1, 13)]
    made = [aid(filed_case, case_staff, "1000.00", paid_on=day) for day in months[:6]]
    # 5 × 1,000 is not above 5,000; the sixth, dated in another month, is.
    assert [a.state for a in made] == ["approved"] * 5 + ["pending"]


def test_aid_recorded_more_than_a_year_ago_no_longer_counts(filed_case, case_staff, clock):
    clock.move_to(dt.datetime(2025, 12, 1, 10, tzinfo=dt.UTC))
    aid(filed_case, case_staff, paid_on=dt.date(2025, 12, 1))
    clock.move_to(dt.datetime(2026, 11, 30, 10, tzinfo=dt.UTC))  # 364 days later: it still counts
    assert aid(filed_case, case_staff, "0.01", paid_on=dt.date(2026, 11, 30)).state == "pending"
    clock.move_to(dt.datetime(2026, 12, 2, 10, tzinfo=dt.UTC))  # 366 days after the first
    assert services.household_aid_total(case=filed_case) == D("0.01")
    assert aid(filed_case, case_staff, "4999.99", paid_on=dt.date(2026, 12, 2)).state == "approved"


def test_closing_the_case_and_opening_another_does_not_start_afresh(filed_case, case_staff, member):
    aid(filed_case, case_staff, paid_on=dt.date(2026, 12, 1))
    services.case_transition(case=filed_case, to_state="resolved", actor=case_staff)
    again = services.case_open(head=member, actor=case_staff)
    services.case_transition(case=again, to_state="contacted", actor=case_staff)
    services.case_assess(
        case=again,
        actor=case_staff,
        household_size=3,
        annual_income="20000.00",
        medical_expenditure="0",
        schooling_expenditure="0",
        sudden_accident=False,
    )
    services.case_transition(case=again, to_state="filed", actor=case_staff)
    assert aid(again, case_staff, "0.01", paid_on=timezone.localdate()).state == "pending"
