"""Hardship reports: exact figures on a small fixture, scope, trend, query count, XLSX export, the page."""

import datetime as dt
import io
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from core.crypto import id_number_index
from core.errors import ServiceError
from hardship import reports
from hardship.models import (
    AccessLog,
    Aid,
    Candidate,
    Case,
    DataPush,
    PushRow,
    Referral,
    ScreeningRule,
    WarmthRosterEntry,
)
from tests.factories import AgencyFactory, MemberFactory, StaffFactory, id_number
from tests.hardship.conftest import grant_hardship

REPORT = "/admin/hardship/case/report/"
EXPORT = "/admin/hardship/case/report/export/"
D = Decimal
TZ = timezone.get_default_timezone()


def at(day: str) -> dt.datetime:
    return dt.datetime.fromisoformat(day).replace(tzinfo=TZ)


def push(agency, kind, period, rows, *, batch):
    """A data push with its rows, written directly: (member or None, is_current) per row."""
    p = DataPush.objects.create(
        agency=agency, kind=kind, period=period, batch_id=batch, row_count=len(rows), sha256="0" * 64, source="api_json"
    )
    for line, (member, current) in enumerate(rows, start=2):
        number = id_number()
        PushRow.objects.create(
            push=p,
            agency=agency,
            kind=kind,
            period=period,
            line=line,
            source_key=f"{batch}-{line}",
            id_number=number,
            id_index=id_number_index(number),
            payload={"name": "x"},
            member=member,
            is_current=current,
        )
    return p


@pytest.fixture
def world(tree, member, other_member):
    """吴兴区 (G1) and 南浔区 (G2) data for March 2025, with a row in February."""
    mca = AgencyFactory(code="mca", name="民政局")
    nhsa = AgencyFactory(code="nhsa", name="医保局")
    maker = StaffFactory(username="maker", union=tree.city)
    neighbour = MemberFactory(union=tree.g1, name="李娜", mobile="13711110001")
    push(mca, "low_income", "2025-03", [(member, True), (other_member, True), (None, True)], batch="m1")
    push(nhsa, "medical", "2025-03", [(member, True), (None, True), (member, False)], batch="n1")
    push(mca, "low_income", "2025-02", [(member, True)], batch="m0")

    low = ScreeningRule.objects.create(name="低保/低边", kind="low_income")
    med = ScreeningRule.objects.create(name="自付医疗", kind="medical_oop_12m", threshold_amount=D("50000"))
    Candidate.objects.create(member=member, union=tree.g1, rule=low, period="2025-03", evidence={}, evidence_key="a")
    Candidate.objects.create(
        member=member, union=tree.g1, rule=med, period="2025-03", evidence={}, evidence_key="b", state="confirmed"
    )
    Candidate.objects.create(
        member=other_member, union=tree.g2, rule=low, period="2025-03", evidence={}, evidence_key="c", state="dismissed"
    )

    case = Case.objects.create(
        head=member, union=tree.g1, case_no="K1", state="receiving_aid", filed_at=at("2025-03-10T10:00")
    )
    Case.objects.create(
        head=neighbour, union=tree.g1, case_no="K2", state="contacted", opened_at=at("2025-03-20T10:00")
    )
    nx_case = Case.objects.create(
        head=other_member, union=tree.g2, case_no="K3", state="filed", filed_at=at("2025-03-11T10:00")
    )

    def aid(m, union, line, amount, state="approved", c=None, period="2025-03"):
        return Aid.objects.create(
            case=c,
            member=m,
            union=union,
            fund_line=line,
            amount=D(amount),
            purpose="p",
            paid_on=dt.date(int(period[:4]), int(period[5:]), 5),
            period=period,
            state=state,
            maker=maker,
        )

    aid(member, tree.g1, "living", "3000.00", c=case)
    aid(member, tree.g1, "illness", "27000.00", state="pending", c=case)
    aid(member, tree.g1, "warmth", "716.00")
    aid(neighbour, tree.g1, "warmth", "716.00")
    aid(other_member, tree.g2, "warmth", "716.00")
    aid(member, tree.g1, "living", "500.00", c=case, period="2025-02")

    for m, union in ((member, tree.g1), (neighbour, tree.g1), (other_member, tree.g2)):
        WarmthRosterEntry.objects.create(member=m, union=union, year=2025, source="screening")

    cdpf = AgencyFactory(code="cdpf", name="残联")
    Referral.objects.create(
        case=case,
        agency=cdpf,
        benefit="disability_insurance",
        state="granted",
        amount=D("15000.00"),
        sent_at=at("2025-03-15T09:00"),
    )
    Referral.objects.create(case=case, agency=mca, benefit="low_income_status", sent_at=at("2025-03-16T09:00"))
    Referral.objects.create(
        case=nx_case, agency=cdpf, benefit="disability_insurance", state="granted", amount=D("9000.00"),
        sent_at=at("2025-03-17T09:00"),
    )  # fmt: skip
    return SimpleNamespace(case=case, nx_case=nx_case, maker=maker)


@pytest.fixture
def wx_staff(district_staff):
    return grant_hardship(district_staff)


@pytest.fixture
def nx_staff(other_staff):
    return grant_hardship(other_staff)


@pytest.fixture
def city_hardship(city_staff):
    return grant_hardship(city_staff)


# --- Figures ----------------------------------------------------------------------------------


def test_period_figures_are_exact_for_the_district(world, wx_staff):
    f = reports.period_figures(user=wx_staff, period="2025-03")

    received = {(r["agency"], r["kind"]): (r["rows"], r["matched"]) for r in f["received"]}
    assert received == {("mca", "low_income"): (3, 1), ("nhsa", "medical"): (2, 1)}
    assert (f["received_total"], f["matched_total"]) == (5, 2)
    assert f["candidates"] == {"open": 1, "confirmed": 1, "dismissed": 0}
    assert (f["cases"]["filed"], f["cases"]["open_now"]) == (1, 2)
    lines = {a["fund_line"]: (a["payments"], a["people"], a["amount"]) for a in f["aid"]}
    assert lines["living"] == (1, 1, D("3000.00"))
    assert lines["illness"] == (0, 0, D("0.00"))  # pending aid is not paid
    assert lines["warmth"] == (2, 2, D("1432.00"))
    assert f["aid_total"] == {"people": 2, "cases": 1, "amount": D("4432.00")}
    assert f["warmth"] == {"roster": 2, "recipients": 2, "amount": D("1432.00")}
    assert (f["referrals"]["total"], f["referrals"]["granted"], f["referrals"]["sent"]) == (2, 1, 1)
    assert f["referrals"]["granted_amount"] == D("15000.00")
    assert [s["value"] for s in f["funnel"]] == [5, 2, 2, 1, 1, 1]


def test_the_outsider_sees_only_its_own_district(world, nx_staff):
    f = reports.period_figures(user=nx_staff, period="2025-03")

    assert (f["received_total"], f["matched_total"]) == (5, 1)
    assert f["candidates"] == {"open": 0, "confirmed": 0, "dismissed": 1}
    assert (f["cases"]["filed"], f["cases"]["open_now"]) == (1, 1)
    assert f["aid_total"]["amount"] == D("716.00")
    assert f["referrals"]["granted_amount"] == D("9000.00")


def test_a_union_narrows_the_city_and_a_union_outside_the_scope_is_refused(world, city_hardship, wx_staff, tree):
    whole = reports.period_figures(user=city_hardship, period="2025-03")
    assert whole["aid_total"]["amount"] == D("5148.00")
    assert whole["cases"]["filed"] == 2

    nx = reports.period_figures(user=city_hardship, period="2025-03", union=tree.nx)
    assert nx["aid_total"]["amount"] == D("716.00")
    assert nx["matched_total"] == 1

    with pytest.raises(ServiceError):
        reports.period_figures(user=wx_staff, period="2025-03", union=tree.nx)


def test_a_year_covers_its_months(world, wx_staff):
    f = reports.period_figures(user=wx_staff, period="2025")

    assert f["received_total"] == 6
    assert f["aid_total"]["amount"] == D("4932.00")


def test_staff_without_the_hardship_permission_get_no_figures(world, district_staff):
    f = reports.period_figures(user=district_staff, period="2025-03")

    assert f["received_total"] == 0 and f["aid_total"]["amount"] == D("0.00") and f["cases"]["open_now"] == 0


def test_a_bad_period_is_refused(wx_staff):
    with pytest.raises(ServiceError):
        reports.period_figures(user=wx_staff, period="2025-13")


def test_the_trend_has_twelve_months_ending_at_the_period(world, wx_staff):
    months = reports.trend(user=wx_staff, end="2025-03")

    assert [m["month"] for m in months][0] == "2024-04"
    by_month = {m["month"]: m for m in months}
    assert len(months) == 12
    assert (by_month["2025-02"]["received"], by_month["2025-02"]["aid"]) == (1, D("500.00"))
    march = by_month["2025-03"]
    assert (march["received"], march["matched"], march["candidates"], march["filed"]) == (5, 2, 2, 1)
    assert (march["aid"], march["warmth_people"]) == (D("4432.00"), 2)


def test_a_quarters_rows_count_in_the_month_that_ends_the_quarter(world, wx_staff, member, other_member):
    mca = DataPush.objects.get(batch_id="m1").agency
    push(mca, "disability", "2025-Q1", [(member, True), (other_member, True), (None, True)], batch="q1")
    push(mca, "disability", "2025-Q2", [(member, True)], batch="q2")

    march = reports.period_figures(user=wx_staff, period="2025-03")
    february = reports.period_figures(user=wx_staff, period="2025-02")
    year = reports.period_figures(user=wx_staff, period="2025")
    trend = {m["month"]: m for m in reports.trend(user=wx_staff, end="2025-06")}

    received = {(r["agency"], r["kind"]): (r["rows"], r["matched"]) for r in march["received"]}
    assert received[("mca", "disability")] == (3, 1)  # only the member is in 吴兴区
    assert (march["received_total"], march["matched_total"]) == (8, 3)
    assert february["received_total"] == 1  # not in the quarter's other months
    assert year["received_total"] == 10  # counted once in the year
    assert (trend["2025-03"]["received"], trend["2025-03"]["matched"]) == (8, 3)
    assert (trend["2025-06"]["received"], trend["2025-02"]["received"]) == (1, 1)


def test_the_figures_take_a_fixed_number_of_queries(world, wx_staff, tree, django_assert_max_num_queries):
    for i in range(10):
        MemberFactory(union=tree.g1, mobile=f"1371111{i + 100:04d}")
    wx_staff.has_perm("hardship.view_case")  # the permission cache, as in a request
    with django_assert_max_num_queries(10):
        reports.period_figures(user=wx_staff, period="2025-03")
    with django_assert_max_num_queries(5):
        reports.trend(user=wx_staff, end="2025-03")


# --- Export and page --------------------------------------------------------------------------


def test_the_xlsx_export_is_readable_and_logged(client, world, wx_staff):
    client.force_login(wx_staff)
    resp = client.get(EXPORT, {"period": "2025-03"})

    assert resp.status_code == 200
    assert resp["Content-Type"].startswith("application/vnd.openxmlformats")
    wb = load_workbook(io.BytesIO(resp.content))
    summary = {row[0]: row[1] for row in wb.worksheets[0].iter_rows(min_row=2, values_only=True)}
    assert len(wb.worksheets) == 5
    values = list(summary.values())
    assert "2025-03" in values and 5 in values and 4432.0 in values
    trend_rows = list(wb.worksheets[-1].iter_rows(min_row=2, values_only=True))
    assert trend_rows[-1][:5] == ("2025-03", 5, 2, 2, 1)
    log = AccessLog.objects.get(action="export")
    assert log.user_id == wx_staff.pk and "2025-03" in log.detail


def test_the_report_page_shows_figures_and_passes_chart_data_as_json(client, world, wx_staff):
    client.force_login(wx_staff)
    resp = client.get(REPORT, {"period": "2025-03"})

    assert resp.status_code == 200
    html = resp.content.decode()
    assert "vendor/echarts/echarts.min.js" in html
    assert '<script id="report-data" type="application/json">' in html
    assert [f["value"] for f in resp.context["chart"]["funnel"]] == [5, 2, 2, 1, 1, 1]
    assert resp.context["chart"]["months"][-1] == "2025-03"
    assert "cdn" not in html.lower()


def test_the_report_page_refuses_staff_without_hardship_permissions(client, world, district_staff, other_staff):
    for user in (district_staff, other_staff):
        client.force_login(user)
        assert client.get(REPORT).status_code == 403
        assert client.get(EXPORT).status_code == 403


def test_the_outsider_cannot_pick_a_union_outside_its_scope(client, world, nx_staff, tree):
    client.force_login(nx_staff)
    resp = client.get(REPORT, {"period": "2025-03", "union": tree.wx.pk})

    assert resp.status_code == 200
    assert resp.context["union"] is None  # ignored: the report stays within 南浔区
    assert resp.context["figures"]["aid_total"]["amount"] == D("716.00")


def test_the_report_is_linked_from_the_admin_index_for_hardship_staff_only(client, wx_staff, other_staff):
    client.force_login(wx_staff)
    assert REPORT in client.get("/admin/").content.decode()
    client.force_login(other_staff)
    assert REPORT not in client.get("/admin/").content.decode()
