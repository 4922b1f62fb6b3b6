"""Voucher services and selectors at their edges: refusals with the input they refuse, no-op
changes that write nothing, and the branches the main suites do not take."""

import datetime as dt

import pytest
from django.utils import timezone

from core.errors import ServiceError
from core.models import AuditEntry
from members.models import Member
from vouchers import selectors, services
from vouchers.models import Campaign, Merchant
from vouchers.services import claims, merchants

pytestmark = pytest.mark.django_db


# --- Merchants ------------------------------------------------------------------------------------


def test_approving_an_approved_merchant_changes_nothing(food_merchant, staff):
    again = merchants.merchant_approve(merchant=food_merchant, actor=staff)
    assert again.state == Merchant.State.APPROVED
    assert not AuditEntry.objects.filter(action="vouchers.merchant.approved").exists()


def test_suspending_a_merchant_needs_a_reason(food_merchant, staff):
    with pytest.raises(ServiceError) as exc:
        merchants.merchant_suspend(merchant=food_merchant, actor=staff, reason="   ")
    assert exc.value.code == "reason_required"
    assert Merchant.objects.get(pk=food_merchant.pk).state == Merchant.State.APPROVED
    assert not AuditEntry.objects.filter(action="vouchers.merchant.suspended").exists()


# --- What a member is offered ----------------------------------------------------------------------


@pytest.mark.parametrize("status", [Member.Status.LEFT, Member.Status.SUSPENDED])
def test_a_member_who_is_not_active_is_offered_no_campaign(campaign_factory, member, status):
    campaign = campaign_factory()
    assert selectors.campaigns_for_member(member) == [campaign]
    Member.objects.filter(pk=member.pk).update(status=status)
    member.refresh_from_db()
    assert selectors.campaigns_for_member(member) == []
    assert selectors.campaign_is_eligible(campaign, member) is False
    assert selectors.campaign_is_eligible(campaign, None) is False


def test_a_sold_out_campaign_is_listed_with_no_stock_left(campaign_factory, member):
    campaign = campaign_factory(state=Campaign.State.SOLD_OUT, remaining=0)
    [listed] = selectors.campaigns_for_member(member)
    assert (listed.pk, listed.stock_hint) == (campaign.pk, 0)


# --- The minute's tick -----------------------------------------------------------------------------


def test_closing_a_campaign_drops_what_claims_knew_of_it(campaign_factory, member, django_capture_on_commit_callbacks):
    now = timezone.now()
    ended = campaign_factory(claim_opens_at=now - dt.timedelta(days=2), claim_closes_at=now - dt.timedelta(minutes=1))
    sold = campaign_factory(remaining=0)
    for campaign in (ended, sold):
        assert claims.campaign_facts(campaign.pk)["state"] == "open"  # cached for the rush

    with django_capture_on_commit_callbacks(execute=True):
        done = services.campaign_close_due(now=now)

    assert done == {"sold_out": [sold.pk], "closed": [ended.pk]}
    # the conditional UPDATE sent no post_save: the closing dropped the cached facts itself
    assert claims.campaign_facts(ended.pk)["state"] == "closed"
    assert claims.campaign_facts(sold.pk)["state"] == "sold_out"
    assert claims.voucher_claim(campaign_id=ended.pk, member=member).outcome != "claimed"
