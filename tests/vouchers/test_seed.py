"""Voucher demo data: merchants in every category with valid licences, the monthly templates,
last benefit day's campaigns with claims and redemptions, the next one scheduled; once only,
and the same data from the same seed."""

from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command

from core.models import ApiKey
from core.parsing import validate_credit_code
from core.seed import SeedContext, registered_steps
from members.models import User
from members.seed import demo as members_demo
from vouchers import seed
from vouchers.models import (
    Campaign,
    CampaignTemplate,
    Merchant,
    MerchantCategory,
    MerchantStaff,
    Redemption,
    RedemptionItem,
    Voucher,
)

# The demo commands run only in development (core.seed.refuse_outside_development).
pytestmark = pytest.mark.usefixtures("development")


def ctx() -> SeedContext:
    return SeedContext(seed=1, members=300, progress=False, log=lambda msg: None)


def run_steps(c: SeedContext) -> None:
    for step in registered_steps():
        if step.name.startswith("vouchers.") and not step.done(c):
            step.run(c)


def snapshot() -> dict:
    return {
        "merchants": sorted(Merchant.objects.values_list("credit_code", "name", "category", "state")),
        "campaigns": sorted(Campaign.objects.values_list("name", "month", "state", "remaining")),
        "vouchers": sorted(Voucher.objects.values_list("code", "member_id", "state", "claimed_at")),
        "redemptions": sorted(Redemption.objects.values_list("order_ref", "order_amount", "discount", "created_at")),
    }


@pytest.fixture
def city(db):
    c = ctx()
    members_demo.seed_city(c)
    members_demo.seed_logins(c)
    return c


@pytest.mark.django_db
def test_the_demo_has_merchants_templates_and_campaigns_and_runs_once(city):
    run_steps(city)
    first = snapshot()

    assert Merchant.objects.count() == seed.MERCHANTS
    assert set(Merchant.objects.values_list("category", flat=True)) == set(MerchantCategory.values)
    assert Merchant.objects.filter(state="approved").count() > 0.8 * seed.MERCHANTS
    for code in Merchant.objects.values_list("credit_code", flat=True)[:50]:
        validate_credit_code(code)
    assert all(a.startswith("浙江省湖州市") for a in Merchant.objects.values_list("address", flat=True))

    monthly = CampaignTemplate.objects.get(name="工惠日满减券")
    assert (monthly.face_value, monthly.threshold, monthly.stackable, monthly.max_per_order) == (
        Decimal("100"), Decimal("1000"), True, 5,
    )  # fmt: skip
    assert CampaignTemplate.objects.count() == 4
    past, nxt = seed.benefit_days(__import__("django.utils.timezone").utils.timezone.localdate())
    upcoming = Campaign.objects.get(template=monthly, month=f"{nxt:%Y-%m}")
    assert upcoming.state == Campaign.State.SCHEDULED and upcoming.claim_opens_at.day == 20
    assert Campaign.objects.filter(month=f"{past:%Y-%m}").count() == 4
    assert Voucher.objects.count() > 100 and RedemptionItem.objects.count() > 30
    for c in Campaign.objects.filter(month=f"{past:%Y-%m}"):
        assert c.remaining == c.total_stock - c.vouchers.count()
    # Every used voucher has one use; the discount is the face value per voucher used.
    assert Voucher.objects.filter(state="used").count() == RedemptionItem.objects.count()
    for r in Redemption.objects.prefetch_related("items__voucher__campaign")[:50]:
        assert r.discount == sum(i.voucher.campaign.face_value for i in r.items.all())
        assert r.order_amount >= r.items.first().voucher.campaign.threshold * r.items.count()

    user = User.objects.get(username=seed.MERCHANT_USERNAME)
    assert user.mobile == "13900000000" and not user.has_usable_password()  # SMS login, as workers
    assert MerchantStaff.objects.get(user=user).merchant.state == "approved"
    assert User.objects.get(username="city").has_perm("vouchers.change_campaign")

    run_steps(city)
    assert snapshot() == first


@pytest.mark.django_db
def test_the_same_seed_gives_the_same_demo(city):
    run_steps(city)
    first = snapshot()
    for step in reversed(registered_steps()):
        if step.name.startswith("vouchers.") and step.reset:
            step.reset(city)
    assert not Voucher.objects.exists() and not Merchant.objects.exists()

    run_steps(ctx())
    again = snapshot()
    assert again["merchants"] == first["merchants"]
    assert again["vouchers"] == first["vouchers"] and again["redemptions"] == first["redemptions"]


@pytest.mark.django_db
def test_demo_logins_print_the_merchant_login_and_a_fresh_merchant_key(city):
    run_steps(city)
    out = StringIO()
    call_command("demo_logins", stdout=out)
    text = out.getvalue()

    merchant = seed.demo_merchant()
    key = ApiKey.objects.get(merchant_link__merchant=merchant, revoked_at__isnull=True)
    assert key.scopes == ["vouchers:redeem"]
    assert "merchant" in text and "13900000000" in text and f"upk_{key.key_id}_" in text

    call_command("demo_logins", stdout=StringIO())
    assert ApiKey.objects.filter(merchant_link__merchant=merchant, revoked_at__isnull=True).count() == 1


def test_benefit_days_are_the_last_and_the_next_20th():
    import datetime as dt

    d = dt.date
    assert seed.benefit_days(d(2026, 11, 29)) == (d(2026, 11, 20), d(2026, 12, 20))
    assert seed.benefit_days(d(2026, 12, 21)) == (d(2026, 12, 20), d(2027, 1, 20))
    assert seed.benefit_days(d(2027, 1, 5)) == (d(2026, 12, 20), d(2027, 1, 20))
    assert seed.benefit_days(d(2026, 11, 20)) == (d(2026, 10, 20), d(2026, 11, 20))


@pytest.mark.django_db
def test_a_benefit_day_still_in_its_window_is_open_and_prepared(city, monkeypatch, django_capture_on_commit_callbacks):
    import datetime as dt

    import time_machine
    from django.utils import timezone

    from vouchers import services

    prepared = []
    monkeypatch.setattr(services, "campaign_prepare", lambda *, campaign: prepared.append(campaign.pk))
    with time_machine.travel(dt.datetime(2026, 11, 21, 12, 0, tzinfo=timezone.get_current_timezone()), tick=False):
        seed.seed_merchants(city)
        with django_capture_on_commit_callbacks(execute=True):
            seed.seed_campaigns(city)

    nov = Campaign.objects.filter(month="2026-11", claim_opens_at__day=20).exclude(state="scheduled")
    assert nov.count() == 4
    assert {c.state for c in nov} <= {"open", "sold_out"}
    assert prepared and sorted(prepared) == sorted(c.pk for c in nov if c.state == "open")
    assert Campaign.objects.get(month="2026-12").state == "scheduled"
