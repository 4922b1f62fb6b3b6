"""Campaign lifecycle: draft → scheduled → open → sold out / closed → settled."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from core.errors import ServiceError
from core.models import AuditEntry
from vouchers import services
from vouchers.models import Campaign


@pytest.fixture
def draft(campaign_factory):
    now = timezone.now()
    return campaign_factory(
        state="draft",
        remaining=0,
        claim_opens_at=now + dt.timedelta(days=1),
        claim_closes_at=now + dt.timedelta(days=4),
    )


def test_it_schedules_a_valid_draft_and_fills_its_stock(
    draft, city_staff, django_capture_on_commit_callbacks, monkeypatch
):
    prepared = []
    monkeypatch.setattr(
        "vouchers.services.campaigns.campaign_prepare", lambda *, campaign: prepared.append(campaign.pk)
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.campaign_schedule(campaign=draft, actor=city_staff)
    draft.refresh_from_db()
    assert draft.state == Campaign.State.SCHEDULED and draft.remaining == draft.total_stock == 10
    assert prepared == [draft.pk]  # loaded into Redis once committed
    entry = AuditEntry.objects.get(action="vouchers.campaign.scheduled")
    assert entry.actor == city_staff and entry.object_id == str(draft.pk)


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"total_stock": 0}, "stock"),
        ({"budget": Decimal("999.99")}, "budget"),
        (
            {"claim_opens_at": "-2d", "claim_closes_at": "-1d"},
            "window_past",
        ),  # one closing before it opens: the database refuses it
        ({"valid_days": None, "valid_until": None}, "validity"),
        ({"accepted_categories": []}, "merchants"),
    ],
)
def test_it_refuses_to_schedule_a_campaign_with_broken_rules(draft, city_staff, fields, code):
    for name, value in fields.items():
        setattr(draft, name, timezone.now() - dt.timedelta(days=int(value[1])) if value in ("-1d", "-2d") else value)
    draft.save()
    with pytest.raises(ServiceError) as exc:
        services.campaign_schedule(campaign=draft, actor=city_staff)
    assert exc.value.code == code
    draft.refresh_from_db()
    assert draft.state == Campaign.State.DRAFT
    assert not AuditEntry.objects.filter(action="vouchers.campaign.scheduled").exists()


def test_accepted_merchants_alone_are_enough_to_schedule(draft, city_staff, food_merchant):
    draft.accepted_categories = []
    draft.valid_days, draft.valid_until = None, dt.date(2030, 1, 31)
    draft.save()
    draft.accepted_merchants.add(food_merchant)
    services.campaign_schedule(campaign=draft, actor=city_staff)
    assert Campaign.objects.get(pk=draft.pk).state == Campaign.State.SCHEDULED


def test_it_schedules_only_drafts(campaign_factory, city_staff):
    campaign = campaign_factory(state="open")
    with pytest.raises(ServiceError) as exc:
        services.campaign_schedule(campaign=campaign, actor=city_staff)
    assert exc.value.code == "state"


def test_open_due_opens_scheduled_campaigns_whose_window_began(campaign_factory):
    now = timezone.now()
    began = campaign_factory(state="scheduled", claim_opens_at=now - dt.timedelta(minutes=1))
    later = campaign_factory(state="scheduled", claim_opens_at=now + dt.timedelta(minutes=5))
    ended = campaign_factory(
        state="scheduled", claim_opens_at=now - dt.timedelta(days=3), claim_closes_at=now - dt.timedelta(minutes=1)
    )
    draft = campaign_factory(state="draft", claim_opens_at=now - dt.timedelta(minutes=1))

    assert services.campaign_open_due(now=now) == [began.pk]
    assert services.campaign_open_due(now=now) == []  # a second run (or worker) opens nothing again
    states = dict(Campaign.objects.values_list("pk", "state"))
    assert states == {began.pk: "open", later.pk: "scheduled", ended.pk: "scheduled", draft.pk: "draft"}
    assert AuditEntry.objects.filter(action="vouchers.campaign.opened").count() == 1


def test_close_due_closes_ended_campaigns_and_marks_empty_ones_sold_out(campaign_factory):
    now = timezone.now()
    ended = campaign_factory(claim_opens_at=now - dt.timedelta(days=3), claim_closes_at=now - dt.timedelta(seconds=1))
    running = campaign_factory()
    empty = campaign_factory(remaining=0)
    sold_out_ended = campaign_factory(
        state="sold_out", remaining=0, claim_opens_at=now - dt.timedelta(days=3), claim_closes_at=now
    )

    result = services.campaign_close_due(now=now)

    assert result == {"sold_out": [empty.pk], "closed": [ended.pk]}
    states = dict(Campaign.objects.values_list("pk", "state"))
    assert states == {ended.pk: "closed", running.pk: "open", empty.pk: "sold_out", sold_out_ended.pk: "sold_out"}
    assert services.campaign_close_due(now=now) == {"sold_out": [], "closed": []}


def test_staff_close_a_campaign_early(campaign_factory, city_staff):
    campaign = campaign_factory()
    services.campaign_close(campaign=campaign, actor=city_staff)
    assert Campaign.objects.get(pk=campaign.pk).state == Campaign.State.CLOSED
    entry = AuditEntry.objects.get(action="vouchers.campaign.closed")
    assert entry.old == {"state": "open"} and entry.new == {"state": "closed"}
    with pytest.raises(ServiceError):
        services.campaign_close(campaign=campaign, actor=city_staff)


def test_it_settles_a_closed_campaign_only_once_no_voucher_can_be_used(
    campaign_factory, voucher_factory, member, other_member, city_staff
):
    campaign = campaign_factory(state="closed")
    live = voucher_factory(campaign, member)
    past = voucher_factory(campaign, other_member, expires_at=timezone.now() - dt.timedelta(minutes=1))

    with pytest.raises(ServiceError) as exc:
        services.campaign_settle(campaign=campaign, actor=city_staff)
    assert exc.value.code == "vouchers_live"
    assert Campaign.objects.get(pk=campaign.pk).state == Campaign.State.CLOSED

    live.state = "used"
    live.save()
    services.campaign_settle(campaign=campaign, actor=city_staff)
    assert Campaign.objects.get(pk=campaign.pk).state == Campaign.State.SETTLED
    past.refresh_from_db()
    assert past.state == "expired"
    assert AuditEntry.objects.filter(action="vouchers.campaign.settled", actor=city_staff).count() == 1


def test_it_refuses_to_settle_an_open_campaign(campaign_factory, city_staff):
    with pytest.raises(ServiceError) as exc:
        services.campaign_settle(campaign=campaign_factory(), actor=city_staff)
    assert exc.value.code == "state"


def test_a_draft_whose_stock_changes_has_its_whole_stock_left_and_a_scheduled_one_keeps_its_own(
    campaign_factory, city_staff
):
    draft = campaign_factory(state="draft", total_stock=10, remaining=10)
    draft.total_stock, draft.budget = 25, Decimal("2500")  # the budget covers the stock, checked on save
    services.campaign_draft_save(campaign=draft, actor=city_staff, created=False, changed=["total_stock"])
    draft.refresh_from_db()
    assert (draft.total_stock, draft.remaining) == (25, 25)

    scheduled = campaign_factory(state="scheduled", total_stock=10, remaining=4)
    scheduled.total_stock = 25
    services.campaign_draft_save(campaign=scheduled, actor=city_staff, created=False, changed=["total_stock"])
    scheduled.refresh_from_db()
    assert scheduled.remaining == 4  # the claims' count is never reset by an edit
