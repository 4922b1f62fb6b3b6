"""Staff figures: per campaign (claimed, used, 核销率, face value used, order value, 杠杆率, budget
left), by merchant category and by union, the XLSX export and the admin page."""

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone
from openpyxl import load_workbook

from core.errors import ServiceError
from tests.factories import MemberFactory, StaffFactory
from vouchers.models import Campaign, Merchant, Redemption, RedemptionItem, Voucher
from vouchers.selectors import reports

D = Decimal
BUDGET = D("10000")
OPENS = dt.datetime(2026, 10, 20, 10, 0, tzinfo=timezone.get_current_timezone())


def make_merchant(category: str, code: str) -> Merchant:
    return Merchant.objects.create(
        name=f"{category} shop", category=category, address="湖州市吴兴区人民路1号", credit_code=code,
        contact_name="李明", contact_mobile="13700000000", state=Merchant.State.APPROVED,
    )  # fmt: skip


def make_campaign(name="工惠日满减券", opens=OPENS, stock=100, budget=BUDGET) -> Campaign:
    return Campaign.objects.create(
        name=name, face_value=D("100"), threshold=D("1000"), stackable=True, max_per_order=5, total_stock=stock,
        budget=budget, remaining=stock, state=Campaign.State.CLOSED, claim_opens_at=opens,
        claim_closes_at=opens + dt.timedelta(hours=72), valid_days=30,
        accepted_categories=["appliances", "supermarket"],
    )  # fmt: skip


def redeem(merchant, vouchers, order_amount, ref, *, reversed_=False):
    r = Redemption.objects.create(
        merchant=merchant, member=vouchers[0].member, order_ref=ref, order_amount=D(order_amount),
        discount=D(100) * len(vouchers), payable=D(order_amount) - D(100) * len(vouchers),
        created_at=OPENS + dt.timedelta(days=1),
    )  # fmt: skip
    for v in vouchers:
        RedemptionItem.objects.create(
            redemption=r, voucher=v, discount=D("100"), reversed_at=timezone.now() if reversed_ else None
        )
    return r


@pytest.fixture
def figures_fixture(tree):
    """10 vouchers claimed (7 by members of 吴兴区, 3 of 南浔区), 4 used in 3 orders
    (1,200 and 2,350 at an appliance shop, 1,100 at a supermarket), 1 expired, and one use
    reversed by a full refund (5,000: not counted)."""
    campaign = make_campaign()
    appliances = make_merchant("appliances", "91330502MA2B3C4D5E")
    supermarket = make_merchant("supermarket", "91330502MA2B3C4D6C")
    members = [MemberFactory(union=tree.g1) for _ in range(7)] + [MemberFactory(union=tree.g2) for _ in range(3)]
    vouchers = [
        Voucher.objects.create(
            campaign=campaign,
            member=m,
            code=f"CODE{i:06d}",
            claim_month="2026-10",
            claimed_at=OPENS,
            expires_at=OPENS + dt.timedelta(days=30),
        )  # fmt: skip
        for i, m in enumerate(members)
    ]
    campaign.remaining = campaign.total_stock - 10
    campaign.save(update_fields=["remaining"])
    # Used: v0 alone, v1+v2 (same member is not required by the figures), v7 (南浔) at the supermarket.
    redeem(appliances, [vouchers[0]], "1200.00", "A1")
    redeem(appliances, [vouchers[1], vouchers[2]], "2350.00", "A2")
    redeem(supermarket, [vouchers[7]], "1100.00", "S1")
    redeem(appliances, [vouchers[3]], "5000.00", "A3", reversed_=True)
    Voucher.objects.filter(pk__in=[vouchers[i].pk for i in (0, 1, 2, 7)]).update(state=Voucher.State.USED)
    Voucher.objects.filter(pk=vouchers[9].pk).update(state=Voucher.State.EXPIRED)
    return campaign


@pytest.mark.django_db
def test_campaign_figures_are_exact_on_a_small_campaign(figures_fixture, django_assert_max_num_queries):
    with django_assert_max_num_queries(4):
        rows = reports.campaign_figures(month="2026-10")

    assert len(rows) == 1
    row = rows[0]
    assert (row["claimed"], row["used"], row["expired"]) == (10, 4, 1)
    assert row["redemption_rate"] == 40.0
    assert row["face_value_used"] == D("400.00")
    assert row["order_value"] == D("4650.00")  # 1200 + 2350 + 1100; the refunded order is not counted
    assert row["leverage"] == round(4650 / 400, 2)
    assert row["budget_left"] == D("9600.00")


def test_the_totals_take_the_rate_and_leverage_of_the_sums_not_an_average_of_the_campaigns():
    rows = [
        {"claimed": 10, "used": 1, "face_value_used": D("100.00"), "order_value": D("1000.00")},
        {"claimed": 90, "used": 89, "face_value_used": D("900.00"), "order_value": D("1800.00")},
    ]
    totals = reports.figures_totals(rows)
    assert (totals["claimed"], totals["used"]) == (100, 90)
    assert (totals["face"], totals["orders"]) == (D("1000.00"), D("2800.00"))
    assert totals["rate"] == 90.0  # not (10% + 98.9%) / 2
    assert totals["leverage"] == 2.8
    assert reports.figures_totals([]) == {
        "claimed": 0, "used": 0, "face": D("0.00"), "orders": D("0.00"), "rate": None, "leverage": None,
    }  # fmt: skip


@pytest.mark.django_db
def test_campaign_figures_keep_to_the_month_and_the_campaign(figures_fixture):
    other = make_campaign(name="打车券", opens=OPENS + dt.timedelta(days=31))

    assert reports.campaign_figures(month="2026-09") == []
    assert [r["campaign_id"] for r in reports.campaign_figures(month="2026-11")] == [other.pk]
    assert [r["campaign_id"] for r in reports.campaign_figures(campaign=figures_fixture)] == [figures_fixture.pk]
    empty = reports.campaign_figures(campaign=other)[0]
    assert empty["claimed"] == 0 and empty["redemption_rate"] is None and empty["leverage"] is None


@pytest.mark.django_db
def test_figures_by_merchant_category_sum_each_order_once(figures_fixture):
    rows = {r["category"]: r for r in reports.category_figures(month="2026-10")}

    assert rows["appliances"]["used"] == 3
    assert rows["appliances"]["face_value_used"] == D("300.00")
    assert rows["appliances"]["order_value"] == D("3550.00")
    assert rows["supermarket"]["used"] == 1 and rows["supermarket"]["order_value"] == D("1100.00")
    assert rows["supermarket"]["leverage"] == 11.0


@pytest.mark.django_db
def test_figures_by_union_roll_up_to_the_districts_and_the_city(figures_fixture, city_staff, district_staff):
    rows = {r["union"].code: r for r in reports.union_figures(user=city_staff, month="2026-10")}

    assert set(rows) == {"HZ", "WX", "NX"}
    assert (rows["WX"]["claimed"], rows["WX"]["used"]) == (7, 3)
    assert (rows["NX"]["claimed"], rows["NX"]["used"]) == (3, 1)
    assert rows["HZ"]["claimed"] == 10 and rows["HZ"]["redemption_rate"] == 40.0
    assert rows["WX"]["order_value"] == D("3550.00") and rows["NX"]["face_value_used"] == D("100.00")
    # District staff see their district and the unions right under it, nothing of 南浔区.
    rows = reports.union_figures(user=district_staff, month="2026-10")
    assert [(r["union"].code, r["depth"], r["claimed"]) for r in rows] == [("WX", 0, 7), ("WX-S1", 1, 7)]


@pytest.mark.django_db
def test_street_and_grassroots_staff_see_their_own_unions_figures(figures_fixture, tree):
    from tests.factories import StaffFactory

    street_staff = StaffFactory(username="s1staff", union=tree.street)
    rows = reports.union_figures(user=street_staff, month="2026-10")
    assert [(r["union"].code, r["depth"], r["claimed"], r["used"]) for r in rows] == [
        ("WX-S1", 0, 7, 3),
        ("G1", 1, 7, 3),
    ]
    g1_staff = StaffFactory(username="g1only", union=tree.g1)
    rows = reports.union_figures(user=g1_staff, month="2026-10")
    assert [(r["union"].code, r["depth"], r["claimed"]) for r in rows] == [("G1", 0, 7)]
    g2_staff = StaffFactory(username="g2only", union=tree.g2)
    assert [(r["union"].code, r["claimed"]) for r in reports.union_figures(user=g2_staff, month="2026-10")] == [
        ("G2", 3)
    ]


@pytest.mark.django_db
def test_the_xlsx_export_is_readable_and_holds_the_figures(figures_fixture, city_staff):
    wb = load_workbook(io.BytesIO(reports.figures_export_xlsx(user=city_staff, month="2026-10")))

    campaigns = list(wb.worksheets[0].iter_rows(values_only=True))
    assert len(campaigns) == 2
    assert campaigns[1][0] == "工惠日满减券" and campaigns[1][4:7] == (10, 4, 1) and campaigns[1][7] == 40.0
    assert len(wb.worksheets) == 3


@pytest.fixture
def voucher_staff(tree):
    user = StaffFactory(username="voucherstaff", union=tree.city)
    user.user_permissions.add(*Permission.objects.filter(content_type__app_label="vouchers"))
    return user


@pytest.mark.django_db
def test_the_figures_page_shows_charts_data_and_refuses_the_outsider(
    figures_fixture, client, voucher_staff, other_staff
):
    client.force_login(other_staff)
    assert client.get("/admin/vouchers/campaign/figures/?month=2026-10").status_code == 403
    assert client.get("/admin/vouchers/campaign/figures/export/?month=2026-10").status_code == 403

    client.force_login(voucher_staff)
    response = client.get("/admin/vouchers/campaign/figures/?month=2026-10")
    assert response.status_code == 200
    body = response.content.decode()
    assert "vendor/echarts/echarts.min.js" in body and 'id="figures-data"' in body
    assert response.context["totals"]["claimed"] == 10 and response.context["chart"]["used"] == [4]

    export = client.get("/admin/vouchers/campaign/figures/export/?month=2026-10")
    assert export.status_code == 200
    assert load_workbook(io.BytesIO(export.content)).worksheets[0].max_row == 2


def test_a_bad_month_is_refused():
    with pytest.raises(ServiceError) as exc:
        reports.month_parse("2026-13")
    assert exc.value.code == "bad_period"
