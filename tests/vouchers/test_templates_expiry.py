"""Monthly templates → campaigns on union benefit day (工惠日), voucher expiry, and their beat entries."""

import datetime as dt
import zoneinfo
from decimal import Decimal

import pytest
from django.utils import timezone

from core.errors import ServiceError
from vouchers import services, tasks
from vouchers.models import Campaign, CampaignTemplate, Voucher
from vouchers.services import campaigns

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


@pytest.fixture
def template(db, tree, food_merchant):
    t = CampaignTemplate.objects.create(
        name="工惠日 满1000减100", face_value=Decimal("100"), threshold=Decimal("1000"), stackable=True,
        max_per_order=3, total_stock=500, budget=Decimal("50000"), limit_per_member=1, limit_per_member_month=2,
        eligible_union=tree.wx, eligible_forms=["delivery_rider"], accepted_categories=["food", "supermarket"],
        opens_day=20, opens_time=dt.time(10, 0), claim_hours=72, valid_days_default=30,
    )  # fmt: skip
    t.accepted_merchants.add(food_merchant)
    return t


def test_it_makes_one_scheduled_campaign_per_template_and_month_however_often_it_runs(template, food_merchant):
    CampaignTemplate.objects.create(
        name="停用模板", face_value=Decimal("10"), total_stock=1, budget=Decimal("10"), is_active=False
    )
    first = services.campaigns_from_templates(month="2026-12")
    second = services.campaigns_from_templates(month="2026-12")

    assert len(first) == 1 and second == []
    campaign = Campaign.objects.get()
    assert (campaign.template, campaign.month, campaign.state) == (template, "2026-12", Campaign.State.SCHEDULED)
    assert campaign.remaining == campaign.total_stock == 500
    # The rules and the accepting merchants are copied from the template.
    assert (campaign.face_value, campaign.threshold, campaign.stackable, campaign.max_per_order) == (
        Decimal("100"), Decimal("1000"), True, 3,
    )  # fmt: skip
    assert campaign.limit_per_member_month == 2 and campaign.eligible_union == template.eligible_union
    assert campaign.eligible_forms == ["delivery_rider"] and campaign.accepted_categories == ["food", "supermarket"]
    assert list(campaign.accepted_merchants.all()) == [food_merchant]
    assert campaign.name.endswith("2026-12")


def test_the_20th_at_10_00_is_taken_in_asia_shanghai(template):
    (campaign,) = services.campaigns_from_templates(month="2026-12")
    campaign.refresh_from_db()
    assert campaign.claim_opens_at == dt.datetime(2026, 12, 20, 2, 0, tzinfo=dt.UTC)
    assert campaign.claim_opens_at.astimezone(SHANGHAI) == dt.datetime(2026, 12, 20, 10, 0, tzinfo=SHANGHAI)
    assert campaign.claim_closes_at - campaign.claim_opens_at == dt.timedelta(hours=72)
    assert campaign.valid_from == dt.date(2026, 12, 20)
    assert campaign.valid_until == dt.date(2027, 1, 19)  # opens + 30 days


def test_a_template_that_cannot_be_scheduled_leaves_a_draft_for_staff(template):
    template.budget = Decimal("100")  # far below 500 × 100
    template.save()
    (campaign,) = services.campaigns_from_templates(month="2027-01")
    assert Campaign.objects.get(pk=campaign.pk).state == Campaign.State.DRAFT
    assert services.campaigns_from_templates(month="2027-01") == []  # still one per month


def test_a_run_stopped_between_creating_and_scheduling_is_finished_by_the_next(template, monkeypatch):
    real = services.campaign_schedule

    def killed(**kwargs):
        raise SystemExit("worker killed after the campaign was created")

    monkeypatch.setattr(campaigns, "campaign_schedule", killed)
    with pytest.raises(SystemExit):
        services.campaigns_from_templates(month="2026-12")
    monkeypatch.setattr(campaigns, "campaign_schedule", real)
    services.campaigns_from_templates(month="2026-12")
    assert list(Campaign.objects.filter(month="2026-12").values_list("state", flat=True)) == ["scheduled"]


def test_a_draft_staff_created_themselves_is_left_alone(template, city_staff):
    (campaign,) = services.campaigns_from_templates(month="2026-12")
    Campaign.objects.filter(pk=campaign.pk).update(state=Campaign.State.DRAFT, created_by=city_staff)
    services.campaigns_from_templates(month="2026-12")
    assert Campaign.objects.get(pk=campaign.pk).state == Campaign.State.DRAFT


def test_a_day_past_the_end_of_the_month_is_its_last_day(template):
    template.opens_day = 31
    template.save()
    (campaign,) = services.campaigns_from_templates(month="2027-02")
    assert timezone.localtime(campaign.claim_opens_at).date() == dt.date(2027, 2, 28)


@pytest.mark.parametrize("month", ["2026-13", "2026-1", "202612", ""])
def test_it_rejects_a_malformed_month(template, month):
    with pytest.raises(ServiceError):
        services.campaigns_from_templates(month=month)
    assert not Campaign.objects.exists()


def test_the_task_defaults_to_this_month_in_shanghai(template, time_machine):
    # 2026-11-30 16:30 UTC is already 1 December in Shanghai.
    time_machine.move_to(dt.datetime(2026, 11, 30, 16, 30, tzinfo=dt.UTC))
    ids = tasks.campaigns_from_templates.delay().get()
    assert list(Campaign.objects.values_list("pk", "month")) == [(ids[0], "2026-12")]


def test_it_expires_claimed_vouchers_past_their_expiry_only(campaign_factory, voucher_factory, member, other_member):
    now = timezone.now()
    campaign = campaign_factory(limit_per_member=3)
    past = voucher_factory(campaign, member, expires_at=now - dt.timedelta(seconds=1))
    live = voucher_factory(campaign, member, expires_at=now + dt.timedelta(hours=1))
    used = voucher_factory(campaign, other_member, expires_at=now - dt.timedelta(days=1), state="used")

    assert services.vouchers_expire(now=now) == 1
    assert services.vouchers_expire(now=now) == 0
    states = dict(Voucher.objects.values_list("pk", "state"))
    assert states == {past.pk: "expired", live.pk: "claimed", used.pk: "used"}


def test_the_tick_task_opens_and_closes_due_campaigns(campaign_factory):
    now = timezone.now()
    due = campaign_factory(state="scheduled", claim_opens_at=now - dt.timedelta(seconds=5))
    ended = campaign_factory(claim_opens_at=now - dt.timedelta(days=3), claim_closes_at=now - dt.timedelta(seconds=5))
    result = tasks.campaigns_tick.delay().get()
    assert result == {"opened": [due.pk], "sold_out": [], "closed": [ended.pk]}


def test_beat_runs_the_voucher_jobs_on_benefit_day_every_minute_and_nightly():
    from unionportal.celery import app

    schedule = app.conf.beat_schedule
    monthly = schedule["vouchers-campaigns-from-templates"]
    assert monthly["task"] == "vouchers.tasks.campaigns_from_templates"
    cron = monthly["schedule"]
    assert (cron.day_of_month, cron.hour, cron.minute) == ({20}, set(range(24)), {5})  # hourly: catch-up
    assert app.conf.timezone == "Asia/Shanghai"
    assert schedule["vouchers-campaigns-tick"]["schedule"] == 60.0
    nightly = schedule["vouchers-expire"]["schedule"]
    assert (nightly.hour, nightly.minute) == ({0}, {30})
    assert all(name in app.tasks for name in (e["task"] for k, e in schedule.items() if k.startswith("vouchers-")))


def test_a_template_valid_for_days_after_claiming_gives_each_voucher_that_many_days(template, tree):
    from tests.factories import MemberFactory
    from vouchers.services import claim_facts

    template.valid_days = 7
    template.eligible_forms = []
    template.save()
    (campaign,) = services.campaigns_from_templates(month="2026-12")
    campaign.refresh_from_db()
    assert (campaign.valid_days, campaign.valid_until) == (7, None)
    assert campaign.state == Campaign.State.SCHEDULED
    now = timezone.now()
    Campaign.objects.filter(pk=campaign.pk).update(
        claim_opens_at=now - dt.timedelta(hours=1), claim_closes_at=now + dt.timedelta(hours=1)
    )
    claim_facts.campaign_facts_invalidate(campaign.pk)
    result = services.voucher_claim(campaign_id=campaign.pk, member=MemberFactory(union=tree.g1))
    assert result.outcome == "claimed"
    assert result.voucher.expires_at - result.voucher.claimed_at == dt.timedelta(days=7)
