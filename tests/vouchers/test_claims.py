"""The claim: every answer, the window in Asia/Shanghai, limits, the sold-out flag, both paths."""

import datetime as dt
import os
from decimal import Decimal
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.cache import cache
from django.core.management import call_command
from django.db import OperationalError, connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core.errors import ServiceError
from members.models import Member
from tests.factories import MemberFactory, UserFactory
from vouchers.models import Campaign, Voucher
from vouchers.selectors import campaign_stock_hint
from vouchers.services import (
    campaign_prepare,
    claim_facts,
    claims,
    reconcile_campaign,
    redis_stock,
    remaining_sync,
    voucher_claim,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")


def new_campaign(**kwargs) -> Campaign:
    """A first-come campaign open now (unless told otherwise), prepared for the claim."""
    now = timezone.now()
    stock = kwargs.pop("stock", 10)
    values = {
        "name": "工惠日 满1000减100",
        "face_value": Decimal("100"),
        "threshold": Decimal("1000"),
        "total_stock": stock,
        "remaining": stock,
        "budget": Decimal("100") * stock,
        "state": Campaign.State.OPEN,
        "claim_opens_at": now - dt.timedelta(hours=1),
        "claim_closes_at": now + dt.timedelta(hours=71),
        "valid_days": 30,
    }
    values.update(kwargs)
    campaign = Campaign.objects.create(**values)
    campaign_prepare(campaign=campaign)
    return campaign


def new_member(union, **kwargs) -> Member:
    user = UserFactory()
    return MemberFactory(user=user, union=union, **kwargs)


@pytest.fixture(params=["db", "redis"])
def backend(request, settings):
    """Run a test on both claim paths; the Redis one only when REDIS_URL is set."""
    if request.param == "redis" and not os.environ.get("REDIS_URL"):
        pytest.skip("needs Redis (set REDIS_URL)")
    settings.VOUCHER_CLAIM_BACKEND = request.param
    return request.param


def test_it_claims_a_voucher_and_takes_one_from_the_stock(backend, member):
    campaign = new_campaign(stock=5)
    result = voucher_claim(campaign_id=campaign.pk, member=member)
    assert result.outcome == "claimed"
    assert result.message
    voucher = result.voucher
    assert voucher.member == member and voucher.seq == 1
    assert len(voucher.code) == 10 and not set(voucher.code) & set("01OILZ2B58S")
    assert voucher.claim_month == timezone.localtime(voucher.claimed_at).strftime("%Y-%m")
    assert voucher.expires_at == voucher.claimed_at + dt.timedelta(days=30)
    campaign.refresh_from_db()
    assert campaign.remaining == 4
    assert Voucher.objects.filter(campaign=campaign).count() == 1


def test_a_fixed_validity_expires_at_the_end_of_the_day_in_shanghai(backend, member):
    campaign = new_campaign(valid_days=None, valid_until=dt.date(2030, 12, 31))
    voucher = voucher_claim(campaign_id=campaign.pk, member=member).voucher
    assert voucher.expires_at == dt.datetime(2030, 12, 31, 23, 59, 59, tzinfo=SHANGHAI)


def test_a_double_tap_gives_one_voucher(backend, member):
    campaign = new_campaign()
    first = voucher_claim(campaign_id=campaign.pk, member=member)
    again = voucher_claim(campaign_id=campaign.pk, member=member)
    assert first.outcome == "claimed"
    assert again.outcome == "limit_reached"
    assert again.voucher == first.voucher
    assert Voucher.objects.filter(campaign=campaign, member=member).count() == 1
    campaign.refresh_from_db()
    assert campaign.remaining == 9


def test_it_allows_up_to_the_limit_per_member(backend, member):
    campaign = new_campaign(limit_per_member=2)
    outcomes = [voucher_claim(campaign_id=campaign.pk, member=member).outcome for _i in range(3)]
    assert outcomes == ["claimed", "claimed", "limit_reached"]
    assert sorted(Voucher.objects.filter(member=member).values_list("seq", flat=True)) == [1, 2]


def test_the_monthly_limit_counts_across_campaigns_that_have_one(backend, member):
    first = new_campaign(name="A", limit_per_member_month=1)
    second = new_campaign(name="B", limit_per_member_month=1)
    unlimited = new_campaign(name="C")
    assert voucher_claim(campaign_id=first.pk, member=member).outcome == "claimed"
    refused = voucher_claim(campaign_id=second.pk, member=member)
    assert refused.outcome == "limit_reached"
    assert voucher_claim(campaign_id=unlimited.pk, member=member).outcome == "claimed"
    second.refresh_from_db()
    assert second.remaining == 10
    assert not Voucher.objects.filter(campaign=second).exists()


def test_it_answers_sold_out_when_the_stock_is_gone(backend, member, other_member):
    campaign = new_campaign(stock=1)
    assert voucher_claim(campaign_id=campaign.pk, member=member).outcome == "claimed"
    result = voucher_claim(campaign_id=campaign.pk, member=other_member)
    assert result.outcome == "sold_out" and result.voucher is None
    campaign.refresh_from_db()
    assert campaign.remaining == 0
    assert campaign.state == Campaign.State.SOLD_OUT
    assert Voucher.objects.filter(campaign=campaign).count() == 1


def test_the_sold_out_flag_answers_without_the_database(backend, member, other_member, django_assert_num_queries):
    campaign = new_campaign(stock=1)
    voucher_claim(campaign_id=campaign.pk, member=member)
    voucher_claim(campaign_id=campaign.pk, member=other_member)  # the cache is warm
    with django_assert_num_queries(0):
        assert voucher_claim(campaign_id=campaign.pk, member=other_member).outcome == "sold_out"


def test_a_rush_request_reads_the_campaign_from_the_cache(backend, member):
    campaign = new_campaign(stock=5, limit_per_member=1)
    voucher_claim(campaign_id=campaign.pk, member=member)
    with CaptureQueriesContext(connection) as ctx:
        assert voucher_claim(campaign_id=campaign.pk, member=member).outcome == "limit_reached"
    assert ctx.captured_queries  # the member's own voucher is read
    assert not any('"vouchers_campaign"' in q["sql"].split("WHERE")[0] for q in ctx.captured_queries)


def test_a_change_to_the_campaign_reaches_the_next_claim(backend, member):
    campaign = new_campaign()
    claim_facts.campaign_facts(campaign.pk)  # cached
    campaign.state = Campaign.State.CLOSED
    campaign.save()
    assert voucher_claim(campaign_id=campaign.pk, member=member).outcome == "closed"


def test_it_refuses_members_outside_the_union_subtree(backend, tree, member, other_member):
    campaign = new_campaign(eligible_union=tree.wx)
    refused = voucher_claim(campaign_id=campaign.pk, member=other_member)  # 南浔区: the outsider
    assert refused.outcome == "not_eligible" and refused.voucher is None
    assert voucher_claim(campaign_id=campaign.pk, member=member).outcome == "claimed"  # G1 is under 吴兴区


def test_it_refuses_other_forms_of_employment(backend, tree, member):
    courier = new_member(tree.g1, employment_form="courier")
    campaign = new_campaign(eligible_forms=["courier", "ride_hailing"])
    assert voucher_claim(campaign_id=campaign.pk, member=member).outcome == "not_eligible"
    assert voucher_claim(campaign_id=campaign.pk, member=courier).outcome == "claimed"


@pytest.mark.parametrize("status", [Member.Status.SUSPENDED, Member.Status.LEFT])
def test_it_refuses_an_inactive_member(backend, member, status):
    member.status = status
    member.save()
    campaign = new_campaign()
    assert voucher_claim(campaign_id=campaign.pk, member=member).outcome == "not_eligible"
    assert not Voucher.objects.exists()


def test_the_window_opens_at_ten_shanghai_time(backend, member):
    opens = dt.datetime(2026, 11, 20, 10, 0, tzinfo=SHANGHAI)
    campaign = new_campaign(
        state=Campaign.State.SCHEDULED, claim_opens_at=opens, claim_closes_at=opens + dt.timedelta(hours=72)
    )
    with time_machine.travel(dt.datetime(2026, 11, 20, 1, 59, 59, tzinfo=dt.UTC), tick=False):
        assert timezone.localtime().strftime("%H:%M:%S") == "09:59:59"
        assert voucher_claim(campaign_id=campaign.pk, member=member).outcome == "not_open"
    with time_machine.travel(dt.datetime(2026, 11, 20, 10, 0, 0, tzinfo=SHANGHAI), tick=False):
        result = voucher_claim(campaign_id=campaign.pk, member=member)
    assert result.outcome == "claimed"
    assert result.voucher.claim_month == "2026-11"


def test_the_claim_month_is_the_month_in_shanghai(backend, member):
    opens = dt.datetime(2026, 11, 20, 10, 0, tzinfo=SHANGHAI)
    campaign = new_campaign(claim_opens_at=opens, claim_closes_at=dt.datetime(2026, 12, 5, tzinfo=SHANGHAI))
    # 30 November 16:30 UTC is already 1 December in Shanghai.
    with time_machine.travel(dt.datetime(2026, 11, 30, 16, 30, tzinfo=dt.UTC), tick=False):
        result = voucher_claim(campaign_id=campaign.pk, member=member)
    assert result.voucher.claim_month == "2026-12"


def test_it_answers_closed_after_the_window(backend, member):
    now = timezone.now()
    campaign = new_campaign(claim_opens_at=now - dt.timedelta(days=3), claim_closes_at=now - dt.timedelta(seconds=1))
    assert voucher_claim(campaign_id=campaign.pk, member=member).outcome == "closed"


@pytest.mark.parametrize(
    ("state", "outcome"),
    [(Campaign.State.DRAFT, "not_open"), (Campaign.State.CLOSED, "closed"), (Campaign.State.SETTLED, "closed")],
)
def test_it_refuses_a_campaign_not_in_an_open_state(backend, member, state, outcome):
    campaign = new_campaign(state=state)
    assert voucher_claim(campaign_id=campaign.pk, member=member).outcome == outcome
    assert not Voucher.objects.exists()


def test_a_draw_campaign_cannot_be_claimed(backend, member):
    campaign = new_campaign(distribution="draw")
    result = voucher_claim(campaign_id=campaign.pk, member=member)
    assert result.outcome == "not_open"
    assert "抽签" in result.message  # the message (Chinese by default) points to the draw
    assert not Voucher.objects.exists()


def test_it_rate_limits_a_member(backend, settings, member):
    settings.VOUCHER_CLAIM_RATE_PER_MEMBER = "2/m"
    campaign = new_campaign(limit_per_member=5)
    outcomes = [voucher_claim(campaign_id=campaign.pk, member=member).outcome for _i in range(3)]
    assert outcomes == ["claimed", "claimed", "rate_limited"]
    assert Voucher.objects.count() == 2


def test_it_rate_limits_an_address(backend, settings, member, other_member):
    settings.VOUCHER_CLAIM_RATE_PER_IP = "1/m"
    campaign = new_campaign()
    assert voucher_claim(campaign_id=campaign.pk, member=member, ip="10.0.0.9").outcome == "claimed"
    assert voucher_claim(campaign_id=campaign.pk, member=other_member, ip="10.0.0.9").outcome == "rate_limited"
    assert voucher_claim(campaign_id=campaign.pk, member=other_member, ip="10.0.0.10").outcome == "claimed"


def test_an_unknown_campaign_is_not_open(backend, member):
    assert voucher_claim(campaign_id=999999, member=member).outcome == "not_open"


def test_the_stock_hint_follows_claims(backend, member, other_member):
    campaign = new_campaign(stock=3)
    assert campaign_stock_hint(campaign.pk) == 3
    voucher_claim(campaign_id=campaign.pk, member=member)
    cache.delete(claim_facts.stock_hint_key(campaign.pk))  # the database hint is cached a few seconds
    assert campaign_stock_hint(campaign.pk) == 2
    assert campaign_stock_hint(999999) is None


def test_reconciliation_reports_a_consistent_campaign(backend, member):
    campaign = new_campaign(stock=3)
    voucher_claim(campaign_id=campaign.pk, member=member)
    report = reconcile_campaign(campaign_id=campaign.pk)
    assert report["remaining"] == 2 and report["vouchers"] == 1
    assert report["differences"] == []


# --- the Redis path only ---------------------------------------------------------------------------


@pytest.fixture
def redis_path(settings, uses_redis):
    settings.VOUCHER_CLAIM_BACKEND = "redis"


def test_a_failed_insert_gives_the_stock_back_to_redis(redis_path, member):
    campaign = new_campaign(stock=2)
    with mock.patch.object(Voucher.objects, "create", side_effect=OperationalError("database down")):
        with pytest.raises(ServiceError) as exc:
            voucher_claim(campaign_id=campaign.pk, member=member)
    assert exc.value.code == "claim_failed"
    assert redis_stock.snapshot(campaign.pk) == {"stock": 2, "members": {}, "sold_out": False}
    campaign.refresh_from_db()
    assert campaign.remaining == 2
    assert voucher_claim(campaign_id=campaign.pk, member=member).outcome == "claimed"


def test_redis_is_loaded_from_the_vouchers_written_when_the_campaign_row_lags(redis_path, member, other_member):
    # On the Redis path a claim writes its voucher but not the campaign row (remaining_sync follows).
    campaign = new_campaign(stock=2)
    for owner in (member, other_member):
        Voucher.objects.create(campaign=campaign, member=owner, seq=1, code=f"TEST{owner.pk:06d}",
                               claimed_at=timezone.now(), claim_month="2026-11",
                               expires_at=timezone.now() + dt.timedelta(days=30))  # fmt: skip
    assert Campaign.objects.get(pk=campaign.pk).remaining == 2  # the row has not caught up
    redis_stock.client().flushdb()  # Redis lost the campaign: the next claim loads it again
    third = MemberFactory(user=UserFactory(), union=member.union)
    assert voucher_claim(campaign_id=campaign.pk, member=third).outcome == "sold_out"
    assert redis_stock.snapshot(campaign.pk)["stock"] == 0
    assert Voucher.objects.filter(campaign=campaign).count() == 2


def test_the_campaign_row_follows_the_redis_path_and_never_goes_back_up(redis_path, member, other_member):
    campaign = new_campaign(stock=200)
    voucher_claim(campaign_id=campaign.pk, member=member)  # 199 left: not a multiple of 50, not the last 50
    assert Campaign.objects.get(pk=campaign.pk).remaining == 200
    remaining_sync(campaign.pk)
    assert Campaign.objects.get(pk=campaign.pk).remaining == 199
    Campaign.objects.filter(pk=campaign.pk).update(remaining=150)  # a lower figure is never raised
    remaining_sync(campaign.pk)
    assert Campaign.objects.get(pk=campaign.pk).remaining == 150


def test_remaining_sync_counts_the_vouchers_written_on_any_database(db, settings, member, other_member):
    # Only the campaign row and the voucher count: no Redis call, so it runs on SQLite too.
    settings.VOUCHER_CLAIM_BACKEND = "redis"
    campaign = Campaign.objects.create(
        name="sync", face_value=Decimal("100"), threshold=Decimal("1000"), total_stock=2, remaining=2,
        budget=Decimal("200"), limit_per_member=1, state="open", claim_opens_at=timezone.now(),
        claim_closes_at=timezone.now() + dt.timedelta(days=1), valid_days=30,
    )  # fmt: skip
    for n, owner in enumerate((member, other_member), start=1):
        Voucher.objects.create(campaign=campaign, member=owner, seq=1, code=f"SYNC{owner.pk:06d}",
                               claimed_at=timezone.now(), claim_month="2026-11",
                               expires_at=timezone.now() + dt.timedelta(days=30))  # fmt: skip
        remaining_sync(campaign.pk)
        campaign.refresh_from_db()
        assert campaign.remaining == 2 - n
    assert campaign.state == Campaign.State.SOLD_OUT


def test_lost_redis_counts_never_give_a_second_voucher_for_one_claim(redis_path, member):
    campaign = new_campaign(stock=5, limit_per_member=2)
    voucher_claim(campaign_id=campaign.pk, member=member)
    redis_stock.set_member_count(campaign_id=campaign.pk, member_id=member.pk, count=0)  # Redis forgot
    assert voucher_claim(campaign_id=campaign.pk, member=member).outcome == "claimed"  # seq 2, after one retry
    assert voucher_claim(campaign_id=campaign.pk, member=member).outcome == "limit_reached"
    assert sorted(Voucher.objects.values_list("seq", flat=True)) == [1, 2]
    assert redis_stock.snapshot(campaign.pk)["stock"] == 3


def test_a_campaign_not_yet_loaded_into_redis_is_loaded_by_the_first_claim(redis_path, member, other_member):
    campaign = new_campaign(stock=2)
    voucher_claim(campaign_id=campaign.pk, member=member)
    redis_stock.client().flushdb()
    assert voucher_claim(campaign_id=campaign.pk, member=member).outcome == "limit_reached"
    assert voucher_claim(campaign_id=campaign.pk, member=other_member).outcome == "claimed"
    assert redis_stock.snapshot(campaign.pk)["sold_out"] is True


def test_the_reconcile_command_rebuilds_redis_after_a_flush(redis_path, member, other_member, capsys):
    campaign = new_campaign(stock=3)
    voucher_claim(campaign_id=campaign.pk, member=member)
    redis_stock.client().flushdb()
    call_command("vouchers_reconcile", "--campaign", str(campaign.pk))
    out = capsys.readouterr().out
    assert "stock: redis None, database 2" in out
    assert redis_stock.snapshot(campaign.pk) == {"stock": 2, "members": {member.pk: 1}, "sold_out": False}
    assert voucher_claim(campaign_id=campaign.pk, member=member).outcome == "limit_reached"
    assert voucher_claim(campaign_id=campaign.pk, member=other_member).outcome == "claimed"


def test_facts_cached_again_between_a_change_and_its_commit_are_dropped_after_it(
    member, django_capture_on_commit_callbacks
):
    from django.core.cache import cache

    campaign = new_campaign()
    stale = claim_facts.campaign_facts(campaign.pk)
    stale_member = Member.objects.select_related("union").get(pk=member.pk)
    with django_capture_on_commit_callbacks(execute=True):
        campaign.state = Campaign.State.CLOSED
        campaign.save()
        member.status = Member.Status.SUSPENDED
        member.save()
        # Claims on other connections, between the saves and COMMIT, read the old rows again.
        cache.set(claim_facts._facts_key(campaign.pk), stale, 300)
        claim_facts.claimant_remember(member.user, stale_member)
    claim_facts._facts_seen.clear()  # this process's own memo of the facts lasts 2 s
    assert claim_facts.campaign_facts(campaign.pk)["state"] == Campaign.State.CLOSED
    assert claim_facts.claimant_for_user(member.user).status == Member.Status.SUSPENDED


def _others(n: int) -> list[Member]:
    return [MemberFactory(user=UserFactory(), union=Member.objects.first().union) for _ in range(n)]


def test_redis_restarted_from_an_older_snapshot_does_not_oversell(redis_path, settings, member):
    settings.VOUCHER_CLAIM_RATE_PER_MEMBER = settings.VOUCHER_CLAIM_RATE_PER_IP = "100000/m"
    members = [member, *_others(5)]
    campaign = new_campaign(stock=3)
    snapshot = redis_stock.snapshot(campaign.pk)  # what an RDB/AOF file holds: the whole stock
    for m in members[:2]:
        assert voucher_claim(campaign_id=campaign.pk, member=m).outcome == "claimed"
    # Redis comes back from that snapshot: it would hand the first two places out again.
    redis_stock.load(campaign_id=campaign.pk, stock=snapshot["stock"], member_counts=snapshot["members"], force=True)
    outcomes = [voucher_claim(campaign_id=campaign.pk, member=m).outcome for m in members[2:]]
    assert outcomes == ["claimed", "sold_out", "sold_out", "sold_out"]
    slots = sorted(Voucher.objects.filter(campaign=campaign).values_list("slot", flat=True))
    assert slots == [1, 2, 3]


def test_a_claim_in_flight_across_a_redis_flush_does_not_oversell(redis_path, settings, member):
    settings.VOUCHER_CLAIM_RATE_PER_MEMBER = settings.VOUCHER_CLAIM_RATE_PER_IP = "100000/m"
    others = _others(4)
    campaign = new_campaign(stock=3)
    # The first claim has run its script (place 1) and is about to write its voucher...
    outcome, seq, left, slot = redis_stock.take(campaign_id=campaign.pk, member_id=member.pk, limit=1)
    assert (outcome, left, slot) == ("claimed", 2, 1)
    redis_stock.client().delete(*redis_stock.keys(campaign.pk))  # ...when Redis loses the campaign
    outcomes = [voucher_claim(campaign_id=campaign.pk, member=m).outcome for m in others]
    assert outcomes == ["claimed", "claimed", "claimed", "sold_out"]
    # ...and its voucher comes too late: place 1 is taken, the database refuses it.
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        claims._voucher_write(
            campaign_id=campaign.pk,
            member_id=member.pk,
            seq=seq,
            facts=claim_facts.campaign_facts(campaign.pk),
            now=timezone.now(),
            slot=slot,
        )
    assert Voucher.objects.filter(campaign=campaign).count() == 3


def test_two_vouchers_cannot_hold_one_place_in_the_stock(member):
    from django.db import IntegrityError, transaction

    campaign = new_campaign(stock=3)
    other = _others(1)[0]
    facts = claim_facts.campaign_facts(campaign.pk)
    claims._voucher_write(campaign_id=campaign.pk, member_id=member.pk, seq=1, facts=facts, now=timezone.now(), slot=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        claims._voucher_write(
            campaign_id=campaign.pk, member_id=other.pk, seq=1, facts=facts, now=timezone.now(), slot=1
        )


def test_a_claim_whose_write_failed_gives_its_place_back_and_later_claims_go_on(
    redis_path, uses_postgres, settings, transactional_db, monkeypatch
):
    """A's claim takes place 1; meanwhile B claims (place 2) and commits; then A's INSERT fails and
    A gives its stock back. Later claims must take place 1 again, not collide with B for ever."""
    import threading

    from django.db import OperationalError

    settings.VOUCHER_CLAIM_RATE_PER_MEMBER = settings.VOUCHER_CLAIM_RATE_PER_IP = "100000/m"
    a, b, *rest = [MemberFactory(user=UserFactory()) for _ in range(6)]
    campaign = new_campaign(stock=100)
    real_write = claims._voucher_write
    first = [True]

    def write(**kwargs):
        if first[0]:
            first[0] = False

            def claim_b():
                try:
                    assert voucher_claim(campaign_id=campaign.pk, member=b).outcome == "claimed"
                finally:
                    connection.close()

            thread = threading.Thread(target=claim_b)
            thread.start()
            thread.join()
            raise OperationalError("connection reset (simulated)")
        return real_write(**kwargs)

    monkeypatch.setattr(claims, "_voucher_write", write)
    with pytest.raises(ServiceError):
        voucher_claim(campaign_id=campaign.pk, member=a)
    outcomes = [voucher_claim(campaign_id=campaign.pk, member=m).outcome for m in [*rest, a]]
    assert outcomes == ["claimed"] * 5
    slots = sorted(Voucher.objects.filter(campaign=campaign).values_list("slot", flat=True))
    assert slots == [1, 2, 3, 4, 5, 6]
