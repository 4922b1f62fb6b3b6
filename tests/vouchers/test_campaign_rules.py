"""A campaign's rules are checked when staff save it, not only when they schedule it: a threshold
(满) at or below the face value, a claim window closing before it opens or already closed, a
validity ending before it starts or before the claim window does are refused in the admin, in
Chinese, and nothing is saved; the database refuses them too. A scheduled campaign goes back to
draft while its claim has not opened, and any draft or scheduled campaign can be opened now."""

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.db import IntegrityError, transaction
from django.utils import timezone

from core.models import AuditEntry
from tests.factories import MemberFactory, StaffFactory
from tests.vouchers.factories import CampaignFactory, CampaignTemplateFactory
from vouchers import services
from vouchers.models import Campaign, CampaignTemplate, Voucher
from vouchers.services import redis_stock

D = Decimal
pytestmark = pytest.mark.django_db


@pytest.fixture
def voucher_staff(tree):
    user = StaffFactory(username="voucherstaff", union=tree.city)
    user.user_permissions.add(*Permission.objects.filter(content_type__app_label="vouchers"))
    return user


@pytest.fixture
def redis_backend(settings, uses_redis):
    settings.VOUCHER_CLAIM_BACKEND = "redis"


def local(moment: dt.datetime) -> tuple[str, str]:
    moment = timezone.localtime(moment)
    return moment.strftime("%Y-%m-%d"), moment.strftime("%H:%M:%S")


def campaign_form(**changes) -> dict:
    """The admin's add form of a valid 满1000减100 campaign opening in three days, with `changes`
    (datetimes for claim_opens_at / claim_closes_at, dates for valid_from / valid_until)."""
    opens = changes.pop("claim_opens_at", timezone.now() + dt.timedelta(days=3))
    closes = changes.pop("claim_closes_at", opens + dt.timedelta(days=3))
    data = {
        "name": "工惠日满减券", "kind": "discount", "face_value": "100", "threshold": "1000", "stackable": "on",
        "max_per_order": "3", "total_stock": "100", "budget": "10000", "limit_per_member": "3",
        "distribution": "first_come", "valid_days": "30", "accepted_categories": ["appliances"],
    }  # fmt: skip
    data["claim_opens_at_0"], data["claim_opens_at_1"] = local(opens)
    data["claim_closes_at_0"], data["claim_closes_at_1"] = local(closes)
    for name in ("valid_from", "valid_until"):
        if name in changes:
            data[name] = changes.pop(name).isoformat()
    data.update(changes)
    return data


def errors_of(response) -> str:
    assert response.status_code == 200, "the form was accepted"
    return " ".join(str(e) for errs in response.context["adminform"].form.errors.values() for e in errs)


def act(client, action, objs):
    return client.post("/admin/vouchers/campaign/", {"action": action, ACTION_CHECKBOX_NAME: [o.pk for o in objs]})


def said(response) -> str:
    return " ".join(str(m) for m in get_messages(response.wsgi_request))


def test_a_valid_campaign_is_saved_as_a_draft(client, voucher_staff):
    client.force_login(voucher_staff)
    response = client.post("/admin/vouchers/campaign/add/", campaign_form())
    assert response.status_code == 302
    assert Campaign.objects.get().state == "draft"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"threshold": "50"}, "满减门槛必须高于面值"),
        ({"threshold": "100"}, "满减门槛必须高于面值"),
        ({"claim_closes_at": timezone.now() + dt.timedelta(days=2)}, "结束领取时间须晚于开始领取时间"),
        (
            {"claim_opens_at": timezone.now() - dt.timedelta(days=5), "claim_closes_at": timezone.now() - dt.timedelta(days=1)},
            "领取时段已经结束",
        ),
        (
            {"valid_from": timezone.localdate() + dt.timedelta(days=20), "valid_until": timezone.localdate() + dt.timedelta(days=10)},
            "有效期的结束日期不能早于开始日期",
        ),
        ({"valid_until": timezone.localdate() + dt.timedelta(days=4)}, "有效期至少要持续到领取时段结束"),
    ],
    ids=["threshold-below-face", "threshold-equal-face", "window-backwards", "window-past", "validity-backwards",
         "validity-before-window-end"],
)  # fmt: skip
def test_it_refuses_a_campaign_whose_rules_cannot_work(client, voucher_staff, changes, message):
    client.force_login(voucher_staff)
    response = client.post("/admin/vouchers/campaign/add/", campaign_form(**changes))
    assert message in errors_of(response)
    assert not Campaign.objects.exists()


def test_it_refuses_the_same_on_editing_a_draft(client, voucher_staff):
    draft = CampaignFactory(state="draft", claim_opens_at=timezone.now() + dt.timedelta(days=1))
    client.force_login(voucher_staff)
    response = client.post(f"/admin/vouchers/campaign/{draft.pk}/change/", campaign_form(threshold="80"))
    assert "满减门槛必须高于面值" in errors_of(response)
    draft.refresh_from_db()
    assert draft.threshold == D("1000")


def test_it_refuses_a_template_whose_threshold_is_below_its_face_value_or_opens_on_no_day(client, voucher_staff):
    template = CampaignTemplateFactory(threshold=D("0"))
    client.force_login(voucher_staff)
    data = {
        "name": template.name, "kind": "discount", "face_value": "100", "threshold": "60", "max_per_order": "1",
        "total_stock": "100", "budget": "10000", "limit_per_member": "1", "distribution": "first_come",
        "opens_day": "0", "opens_time": "10:00", "claim_hours": "0", "valid_days_default": "30", "is_active": "on",
    }  # fmt: skip
    response = client.post(f"/admin/vouchers/campaigntemplate/{template.pk}/change/", data)
    errors = response.context["adminform"].form.errors
    assert set(errors) >= {"threshold", "opens_day", "claim_hours"}
    assert "满减门槛必须高于面值" in " ".join(errors["threshold"])
    template.refresh_from_db()
    assert template.threshold == D("0")


def test_the_database_refuses_a_threshold_below_the_face_value_and_backward_dates(db):
    for fields in (
        {"threshold": D("50")},
        {"claim_closes_at": timezone.now() - dt.timedelta(days=1)},
        {"valid_from": dt.date(2026, 12, 31), "valid_until": dt.date(2026, 12, 1)},
    ):
        with pytest.raises(IntegrityError), transaction.atomic():
            CampaignFactory(**fields)
    with pytest.raises(IntegrityError), transaction.atomic():
        CampaignTemplateFactory(threshold=D("100"))


def test_scheduling_refuses_a_draft_whose_claim_window_has_passed(client, voucher_staff):
    past = timezone.now() - dt.timedelta(days=3)
    draft = CampaignFactory(state="draft", claim_opens_at=past, claim_closes_at=past + dt.timedelta(days=1))
    client.force_login(voucher_staff)
    response = act(client, "schedule", [draft])
    assert "领取时段已经结束" in said(response)
    draft.refresh_from_db()
    assert draft.state == "draft"


def test_a_scheduled_campaign_goes_back_to_draft_audited_and_can_be_edited_again(client, voucher_staff):
    campaign = CampaignFactory(state="draft", claim_opens_at=timezone.now() + dt.timedelta(days=1))
    services.campaign_schedule(campaign=campaign, actor=voucher_staff)
    client.force_login(voucher_staff)

    act(client, "unschedule", [campaign])

    campaign.refresh_from_db()
    assert campaign.state == "draft"
    entry = AuditEntry.objects.get(action="vouchers.campaign.unscheduled", object_id=str(campaign.pk))
    assert entry.actor == voucher_staff and entry.old == {"state": "scheduled"}
    page = client.get(f"/admin/vouchers/campaign/{campaign.pk}/change/").content.decode()
    assert 'name="total_stock"' in page


def test_a_campaign_whose_claim_has_opened_does_not_go_back_to_draft(client, voucher_staff, member):
    campaign = CampaignFactory(state="scheduled", claim_opens_at=timezone.now() - dt.timedelta(minutes=5))
    client.force_login(voucher_staff)
    response = act(client, "unschedule", [campaign])
    assert "领取已经开始" in said(response)
    campaign.refresh_from_db()
    assert campaign.state == "scheduled"
    assert not AuditEntry.objects.filter(action="vouchers.campaign.unscheduled").exists()


def test_the_outsider_cannot_unschedule_or_open_now(client, other_staff):
    campaign = CampaignFactory(state="scheduled", claim_opens_at=timezone.now() + dt.timedelta(days=1))
    client.force_login(other_staff)
    assert act(client, "unschedule", [campaign]).status_code == 403
    assert act(client, "open_now", [campaign]).status_code == 403
    campaign.refresh_from_db()
    assert campaign.state == "scheduled"


@pytest.mark.parametrize("state", ["draft", "scheduled"])
def test_open_now_starts_the_claim_window_now_and_a_member_can_claim(client, voucher_staff, tree, state):
    opens = timezone.now() + dt.timedelta(days=2)
    campaign = CampaignFactory(state=state, claim_opens_at=opens, remaining=7 if state == "draft" else 10)
    client.force_login(voucher_staff)
    before = timezone.now()

    act(client, "open_now", [campaign])

    campaign.refresh_from_db()
    assert campaign.state == "open" and before <= campaign.claim_opens_at <= timezone.now()
    assert campaign.remaining == campaign.total_stock
    entry = AuditEntry.objects.get(action="vouchers.campaign.opened_now", object_id=str(campaign.pk))
    assert entry.actor == voucher_staff and entry.old["state"] == state
    result = services.voucher_claim(campaign_id=campaign.pk, member=MemberFactory(union=tree.g1))
    assert result.outcome == "claimed"


def test_open_now_refuses_a_campaign_whose_window_has_closed_or_that_is_not_draft_or_scheduled(client, voucher_staff):
    past = timezone.now() - dt.timedelta(days=3)
    ended = CampaignFactory(state="scheduled", claim_opens_at=past, claim_closes_at=past + dt.timedelta(days=1))
    closed = CampaignFactory(state="closed")
    client.force_login(voucher_staff)
    response = act(client, "open_now", [ended, closed])
    assert "领取时段已经结束" in said(response) and "只有草稿或已排期的活动才能立即开放" in said(response)
    assert set(Campaign.objects.values_list("state", flat=True)) == {"scheduled", "closed"}


@pytest.mark.usefixtures("redis_backend")
def test_open_now_loads_the_stock_into_redis_and_unscheduling_takes_it_out(
    voucher_staff, django_capture_on_commit_callbacks
):
    campaign = CampaignFactory(state="draft", claim_opens_at=timezone.now() + dt.timedelta(days=1))
    with django_capture_on_commit_callbacks(execute=True):
        services.campaign_schedule(campaign=campaign, actor=voucher_staff)
    assert redis_stock.snapshot(campaign.pk)["stock"] == 10
    with django_capture_on_commit_callbacks(execute=True):
        services.campaign_unschedule(campaign=campaign, actor=voucher_staff)
    assert redis_stock.snapshot(campaign.pk)["stock"] is None
    Campaign.objects.filter(pk=campaign.pk).update(total_stock=4, remaining=4, budget=D("400"))
    with django_capture_on_commit_callbacks(execute=True):
        services.campaign_open_now(campaign=Campaign.objects.get(pk=campaign.pk), actor=voucher_staff)
    assert redis_stock.snapshot(campaign.pk)["stock"] == 4
    assert not Voucher.objects.exists()


def test_a_template_made_campaign_still_schedules(db):
    CampaignTemplateFactory(accepted_categories=["food"], threshold=D("1000"))
    month = (timezone.localdate().replace(day=1) + dt.timedelta(days=40)).strftime("%Y-%m")
    [campaign] = services.campaigns_from_templates(month=month)
    assert campaign.state == "scheduled"
    assert CampaignTemplate.objects.count() == 1


def test_it_refuses_a_budget_that_does_not_cover_the_stock_on_save(client, voucher_staff):
    client.force_login(voucher_staff)
    response = client.post("/admin/vouchers/campaign/add/", campaign_form(budget="9999"))
    assert "预算" in errors_of(response)
    assert not Campaign.objects.exists()
    template = CampaignTemplateFactory(threshold=D("0"))
    data = {
        "name": template.name, "kind": "discount", "face_value": "100", "threshold": "0", "max_per_order": "1",
        "total_stock": "100", "budget": "500", "limit_per_member": "1", "distribution": "first_come",
        "opens_day": "20", "opens_time": "10:00", "claim_hours": "72", "valid_days_default": "30", "is_active": "on",
    }  # fmt: skip
    response = client.post(f"/admin/vouchers/campaigntemplate/{template.pk}/change/", data)
    assert list(response.context["adminform"].form.errors) == ["budget"]
    template.refresh_from_db()
    assert template.budget == D("10000")
