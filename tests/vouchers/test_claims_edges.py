"""Claims, stock and draws at their edges: stock taken since the facts were cached, a sold-out flag
raised by another process, reconciliation of a campaign row that disagrees, rule texts, a draw of
members without a login."""

import datetime as dt
from decimal import Decimal
from unittest import mock

import pytest
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from core.models import Notification
from tests.factories import MemberFactory
from tests.vouchers.factories import CampaignFactory, VoucherFactory
from tests.vouchers.test_claims import new_campaign
from vouchers.models import Campaign, DrawEntry, Voucher
from vouchers.selectors.campaigns import rule_text
from vouchers.services import claim_facts, reconcile_campaign, redis_stock, voucher_claim
from vouchers.services.draws import draw_register, draw_run


@pytest.fixture
def db_path(settings):
    settings.VOUCHER_CLAIM_BACKEND = "db"


@pytest.fixture
def redis_path(settings, uses_redis):
    settings.VOUCHER_CLAIM_BACKEND = "redis"


def test_stock_taken_since_the_facts_were_cached_answers_sold_out_and_raises_the_flag(db_path, member):
    campaign = new_campaign(stock=1)
    Campaign.objects.filter(pk=campaign.pk).update(remaining=0)  # another process took the last one

    assert voucher_claim(campaign_id=campaign.pk, member=member).outcome == "sold_out"

    assert not Voucher.objects.exists()
    assert claim_facts.sold_out_flag(campaign.pk)
    claim_facts.process_memos_clear()
    assert claim_facts.sold_out_seen(campaign.pk)  # the flag every process reads


def test_a_sold_out_flag_raised_by_another_process_answers_without_the_database(
    db_path, member, django_assert_num_queries
):
    campaign = new_campaign(stock=5)
    claim_facts.sold_out_mark(campaign.pk)
    claim_facts.process_memos_clear()  # this process has not seen it

    with django_assert_num_queries(0):
        assert voucher_claim(campaign_id=campaign.pk, member=member).outcome == "sold_out"

    assert claim_facts.sold_out_flag(campaign.pk)  # remembered by this process now
    assert Campaign.objects.get(pk=campaign.pk).remaining == 5 and not Voucher.objects.exists()


def test_reconciliation_reports_vouchers_the_campaign_row_does_not_count(db_path, member, other_member):
    campaign = new_campaign(stock=2)
    VoucherFactory(campaign=campaign, member=member)
    VoucherFactory(campaign=campaign, member=other_member)  # written without taking from the row

    report = reconcile_campaign(campaign_id=campaign.pk)

    assert report["differences"] == ["database: total_stock - remaining = 0, vouchers = 2"]
    assert (report["remaining"], report["vouchers"], report["redis"]) == (2, 2, False)


def test_reconciling_a_campaign_without_stock_raises_its_sold_out_flag(db_path, member):
    campaign = new_campaign(stock=1)
    VoucherFactory(campaign=campaign, member=member)
    Campaign.objects.filter(pk=campaign.pk).update(remaining=0)
    claim_facts.process_memos_clear()

    assert reconcile_campaign(campaign_id=campaign.pk)["differences"] == []

    assert claim_facts.sold_out_seen(campaign.pk)


def test_reconciliation_reports_a_redis_stock_and_flag_that_disagree_and_fixes_them(redis_path, member):
    campaign = new_campaign(stock=1)  # Redis holds a stock of 1
    VoucherFactory(campaign=campaign, member=member)
    Campaign.objects.filter(pk=campaign.pk).update(remaining=0)  # the database: sold out

    report = reconcile_campaign(campaign_id=campaign.pk)

    assert report["differences"] == [
        "stock: redis 1, database 0",
        "sold-out flag: redis False, database True",
        "member counts differ for 1 members",
    ]
    assert redis_stock.snapshot(campaign.pk)["stock"] == 0
    assert voucher_claim(campaign_id=campaign.pk, member=MemberFactory(union=member.union)).outcome == "sold_out"


def test_no_member_is_a_claimant_for_an_anonymous_visitor(db):
    assert claim_facts.claimant_for_user(AnonymousUser()) is None


@pytest.mark.parametrize(
    ("threshold", "stackable", "text"),
    [("0", True, "立减100元"), ("1000", False, "满1000元减100元"), ("1000.50", False, "满1000.50元减100元")],
)
def test_the_rule_of_a_campaign_reads_as_a_sentence(threshold, stackable, text):
    assert rule_text(CampaignFactory.build(threshold=Decimal(threshold), stackable=stackable)) == text


def test_a_draw_among_members_without_a_login_gives_vouchers_and_sends_no_notification(tree, city_staff):
    campaign = new_campaign(distribution="draw", stock=2)
    entrants = [MemberFactory(union=tree.g1, user=None) for _i in range(3)]
    for m in entrants:
        draw_register(campaign=campaign, member=m)

    Campaign.objects.filter(pk=campaign.pk).update(claim_closes_at=timezone.now() - dt.timedelta(seconds=1))
    campaign.refresh_from_db()

    result = draw_run(campaign=campaign, actor=city_staff)

    assert len(result["winners"]) == 2
    assert Voucher.objects.filter(campaign=campaign).count() == 2
    assert DrawEntry.objects.filter(campaign=campaign, won=False).count() == 1
    assert not Notification.objects.filter(kind__startswith="vouchers.draw").exists()


def test_a_claim_stopped_by_its_time_limit_after_redis_took_the_stock_gives_it_back(redis_path, member):
    from billiard.exceptions import SoftTimeLimitExceeded

    campaign = new_campaign(stock=2)
    with (
        mock.patch.object(Voucher.objects, "create", side_effect=SoftTimeLimitExceeded()),
        pytest.raises(SoftTimeLimitExceeded),
    ):
        voucher_claim(campaign_id=campaign.pk, member=member)

    assert redis_stock.snapshot(campaign.pk) == {"stock": 2, "members": {}, "sold_out": False}
    assert not Voucher.objects.exists()
    assert voucher_claim(campaign_id=campaign.pk, member=member).outcome == "claimed"
