"""Draw campaigns: registration during the window, a draw anyone can re-run from its seed."""

import datetime as dt

import pytest
from django.utils import timezone

from core.errors import ServiceError
from core.models import AuditEntry
from members.models import Member
from tests.vouchers.test_claims import new_campaign, new_member
from vouchers.models import Campaign, DrawEntry, Voucher
from vouchers.services.draws import draw_register, draw_run, draw_winners


def _close(campaign: Campaign) -> Campaign:
    Campaign.objects.filter(pk=campaign.pk).update(claim_closes_at=timezone.now() - dt.timedelta(seconds=1))
    campaign.refresh_from_db()
    return campaign


@pytest.fixture
def entrants(tree):
    return [new_member(tree.g1) for _i in range(7)]


def test_a_member_registers_once(member):
    campaign = new_campaign(distribution="draw")
    first = draw_register(campaign=campaign, member=member)
    again = draw_register(campaign=campaign, member=member)
    assert first == again
    assert DrawEntry.objects.filter(campaign=campaign).count() == 1


def test_it_refuses_registration_from_an_outsider(tree, member, other_member):
    campaign = new_campaign(distribution="draw", eligible_union=tree.wx)
    with pytest.raises(ServiceError) as exc:
        draw_register(campaign=campaign, member=other_member)
    assert exc.value.code == "not_eligible"
    member.status = Member.Status.SUSPENDED
    member.save()
    with pytest.raises(ServiceError):
        draw_register(campaign=campaign, member=member)
    assert not DrawEntry.objects.exists()


def test_it_refuses_registration_outside_the_window(member):
    campaign = new_campaign(distribution="draw", claim_opens_at=timezone.now() + dt.timedelta(hours=1))
    with pytest.raises(ServiceError) as exc:
        draw_register(campaign=campaign, member=member)
    assert exc.value.code == "not_open"
    closed = _close(new_campaign(name="closed", distribution="draw"))
    with pytest.raises(ServiceError) as exc:
        draw_register(campaign=closed, member=member)
    assert exc.value.code == "closed"


def test_it_refuses_registration_for_a_draw_closed_by_staff_before_its_window_as_closed(member):
    # Registration used to call a closed campaign "not opened yet" before its opening time; it now
    # follows the claim's window rule (vouchers.services.claims.claim_window): closed is closed.
    campaign = new_campaign(distribution="draw", claim_opens_at=timezone.now() + dt.timedelta(hours=1))
    Campaign.objects.filter(pk=campaign.pk).update(state=Campaign.State.CLOSED)
    campaign.refresh_from_db()
    with pytest.raises(ServiceError) as exc:
        draw_register(campaign=campaign, member=member)
    assert exc.value.code == "closed"
    assert not DrawEntry.objects.exists()


def test_it_refuses_a_first_come_campaign(member):
    with pytest.raises(ServiceError) as exc:
        draw_register(campaign=new_campaign(), member=member)
    assert exc.value.code == "not_draw"


def test_the_draw_waits_for_the_window_to_close(city_staff, member):
    campaign = new_campaign(distribution="draw")
    draw_register(campaign=campaign, member=member)
    with pytest.raises(ServiceError) as exc:
        draw_run(campaign=campaign, actor=city_staff)
    assert exc.value.code == "too_early"


def test_the_draw_gives_vouchers_to_winners_and_records_its_seed(city_staff, entrants):
    campaign = new_campaign(distribution="draw", stock=3)
    for m in entrants:
        draw_register(campaign=campaign, member=m)
    campaign = _close(campaign)
    result = draw_run(campaign=campaign, actor=city_staff)
    campaign.refresh_from_db()
    assert len(campaign.draw_seed) == 32 and campaign.drawn_at
    assert result["seed"] == campaign.draw_seed
    winners = set(result["winners"])
    assert len(winners) == 3
    assert set(Voucher.objects.filter(campaign=campaign).values_list("member_id", flat=True)) == winners
    assert set(DrawEntry.objects.filter(campaign=campaign, won=True).values_list("member_id", flat=True)) == winners
    assert DrawEntry.objects.filter(campaign=campaign, won=False).count() == 4
    assert campaign.remaining == 0
    entry = AuditEntry.objects.get(action="vouchers.campaign.drawn")
    assert entry.new["seed"] == campaign.draw_seed
    with pytest.raises(ServiceError) as exc:
        draw_run(campaign=campaign, actor=city_staff)
    assert exc.value.code == "already_drawn"
    assert Voucher.objects.filter(campaign=campaign).count() == 3


def test_anyone_can_rerun_the_draw_from_the_recorded_seed(city_staff, entrants):
    campaign = new_campaign(distribution="draw", stock=3)
    for m in entrants:
        draw_register(campaign=campaign, member=m)
    result = draw_run(campaign=_close(campaign), actor=city_staff)
    campaign.refresh_from_db()
    ids = AuditEntry.objects.get(action="vouchers.campaign.drawn").new["eligible"]
    assert ids == sorted(DrawEntry.objects.filter(campaign=campaign).values_list("member_id", flat=True))
    assert draw_winners(ids, 3, campaign.draw_seed) == result["winners"]
    # The documented algorithm, by hand.
    import random

    assert random.Random(campaign.draw_seed).sample(sorted(ids), 3) == result["winners"]


def test_the_same_seed_draws_the_same_winners(city_staff, entrants):
    results = []
    for name in ("A", "B"):
        campaign = new_campaign(name=name, distribution="draw", stock=2)
        for m in entrants:
            draw_register(campaign=campaign, member=m)
        results.append(draw_run(campaign=_close(campaign), actor=city_staff, seed="published-seed-2026-11"))
    assert results[0]["winners"] == results[1]["winners"]
    assert results[0]["seed"] == "published-seed-2026-11"


def test_fewer_entrants_than_stock_all_win_and_are_told(city_staff, entrants, django_capture_on_commit_callbacks):
    from core.models import Notification

    campaign = new_campaign(distribution="draw", stock=10)
    for m in entrants[:2]:
        draw_register(campaign=campaign, member=m)
    campaign = _close(campaign)
    with django_capture_on_commit_callbacks(execute=True):
        result = draw_run(campaign=campaign, actor=city_staff)
    assert len(result["winners"]) == 2
    campaign.refresh_from_db()
    assert campaign.remaining == 8
    assert Notification.objects.filter(kind="vouchers.draw.won").count() == 2


def test_the_draw_leaves_out_entrants_who_are_no_longer_eligible(city_staff, tree, entrants):
    campaign = new_campaign(distribution="draw", stock=3, eligible_union=tree.wx, limit_per_member_month=1)
    for m in entrants[:5]:
        draw_register(campaign=campaign, member=m)
    lapsed, moved, at_limit = entrants[0], entrants[1], entrants[2]
    lapsed.status = Member.Status.SUSPENDED
    lapsed.save()
    moved.union = tree.g2  # out of 吴兴区
    moved.save()
    # A voucher of another campaign with a monthly limit, claimed this month: the monthly limit (1) is reached.
    other = new_campaign(name="other", limit_per_member_month=2)
    now = timezone.now()
    Voucher.objects.create(
        campaign=other, member=at_limit, code="ACDEF44444", claim_month=timezone.localtime(now).strftime("%Y-%m"),
        expires_at=now + dt.timedelta(days=30),
    )  # fmt: skip
    result = draw_run(campaign=_close(campaign), actor=city_staff, seed="s")
    eligible = sorted(m.pk for m in entrants[3:5])
    assert sorted(result["winners"]) == eligible and result["vouchers"] == 2
    assert set(Voucher.objects.filter(campaign=campaign).values_list("member_id", flat=True)) == set(eligible)
    assert set(DrawEntry.objects.filter(campaign=campaign, won=False).values_list("member_id", flat=True)) == {
        lapsed.pk, moved.pk, at_limit.pk,
    }  # fmt: skip
    entry = AuditEntry.objects.get(action="vouchers.campaign.drawn")
    assert entry.new["eligible"] == eligible and entry.new["entries"] == 5
    assert draw_winners(entry.new["eligible"], 3, "s") == result["winners"]
    campaign.refresh_from_db()
    assert campaign.remaining == 1


def test_the_draw_tells_members_in_chinese_whatever_the_staff_members_language(
    city_staff, entrants, django_capture_on_commit_callbacks
):
    from django.utils import translation

    from core.models import Notification

    campaign = new_campaign(distribution="draw", stock=1)
    for m in entrants[:2]:
        draw_register(campaign=campaign, member=m)
    campaign = _close(campaign)
    with translation.override("en"), django_capture_on_commit_callbacks(execute=True):
        draw_run(campaign=campaign, actor=city_staff)
    won = Notification.objects.get(kind="vouchers.draw.won")
    lost = Notification.objects.get(kind="vouchers.draw.lost")
    assert won.title.startswith("恭喜") or "中签" in won.title, won.title
    assert "You" not in won.title and "Sorry" not in lost.body
