"""The worker's voucher pages: campaigns, countdown, the claim button's answers, my vouchers, the QR."""

import datetime as dt
import re

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.factories import UserFactory
from vouchers.models import Redemption, RedemptionItem, Voucher
from vouchers.services import ClaimResult, campaign_prepare

DISABLED = re.compile(r"\sdisabled(?=[\s>])")


def _client(user=None) -> Client:
    """Pages are asserted in English, the source language."""
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    if user is not None:
        client.force_login(user)
    return client


@pytest.fixture
def member_client(member):
    return _client(member.user)


def test_the_list_shows_only_campaigns_the_member_is_eligible_for(member_client, campaign_factory, tree):
    now = timezone.now()
    everyone = campaign_factory(name="全市 满1000减100")
    district = campaign_factory(name="吴兴区专享", eligible_union=tree.wx, state="scheduled",
                                claim_opens_at=now + dt.timedelta(hours=2))  # fmt: skip
    campaign_factory(name="南浔区专享", eligible_union=tree.nx)
    campaign_factory(name="骑手专享", eligible_forms=["delivery_rider"])
    campaign_factory(name="草稿活动", state="draft")
    campaign_factory(name="已结束", state="closed")
    campaign_factory(name="窗口已过", claim_opens_at=now - dt.timedelta(days=3), claim_closes_at=now)

    response = member_client.get("/vouchers/")

    assert response.status_code == 200
    shown = [int(pk) for pk in re.findall(r'data-campaign="(\d+)"', response.content.decode())]
    assert shown == [everyone.pk, district.pk]
    page = response.content.decode()
    assert "Spend 1000 CNY, get 100 CNY off (stackable)" in page
    assert "About 10 left" in page
    assert "南浔区专享" not in page and "骑手专享" not in page and "草稿活动" not in page


def test_the_list_page_needs_few_queries_however_many_campaigns(
    member_client, campaign_factory, django_assert_max_num_queries
):
    # Scheduling or opening a campaign prepares it for the rush (with Redis: loads its stock there).
    campaign_prepare(campaign=campaign_factory(name="活动"))
    with CaptureQueriesContext(connection) as one:
        member_client.get("/vouchers/")
    for i in range(12):
        campaign_prepare(campaign=campaign_factory(name=f"活动{i}"))
    with django_assert_max_num_queries(len(one)):
        response = member_client.get("/vouchers/")
    assert response.content.decode().count("data-campaign=") == 13
    assert len(one) <= 6  # session, user, member, campaigns (+ savepoints of the session)


def test_the_home_page_links_to_the_vouchers(member_client):
    assert 'href="/vouchers/"' in member_client.get("/").content.decode()


@pytest.mark.parametrize("path", ["/vouchers/", "/vouchers/mine/", "/vouchers/{pk}/", "/vouchers/v/{code}/"])
def test_anonymous_visitors_are_sent_to_log_in(campaign_factory, voucher_factory, member, path):
    campaign = campaign_factory()
    voucher = voucher_factory(campaign, member)
    response = _client().get(path.format(pk=campaign.pk, code=voucher.code))
    assert response.status_code == 302 and response["Location"].startswith("/m/login/")


@pytest.mark.parametrize("path", ["/vouchers/", "/vouchers/mine/", "/vouchers/{pk}/", "/vouchers/v/{code}/"])
def test_users_who_are_not_active_members_are_refused(campaign_factory, voucher_factory, member, other_staff, path):
    campaign = campaign_factory()
    voucher = voucher_factory(campaign, member)
    for user in (UserFactory(mobile="13800000009"), other_staff):
        response = _client(user).get(path.format(pk=campaign.pk, code=voucher.code))
        assert response.status_code == 302 and response["Location"] == "/m/application/"
    member.status = "suspended"
    member.save()
    response = _client(member.user).get(path.format(pk=campaign.pk, code=voucher.code))
    assert response.status_code == 302 and response["Location"] == "/m/application/"


def test_outsiders_cannot_claim(campaign_factory, other_staff):
    campaign = campaign_factory()
    assert _client().post(f"/vouchers/{campaign.pk}/claim/").status_code == 302
    response = _client(other_staff).post(f"/vouchers/{campaign.pk}/claim/", HTTP_HX_REQUEST="true")
    assert response.status_code == 403
    assert not Voucher.objects.exists()


def test_before_the_window_the_campaign_page_counts_down_with_the_server_clock(member_client, campaign_factory):
    opens = timezone.now() + dt.timedelta(hours=3)
    campaign = campaign_factory(state="scheduled", claim_opens_at=opens.replace(microsecond=0))
    page = member_client.get(f"/vouchers/{campaign.pk}/").content.decode()

    countdown = re.search(r'<div class="countdown"[^>]*>', page).group(0)
    opens_iso = re.search(r'data-opens="([^"]+)"', countdown).group(1)
    now_iso = re.search(r'data-now="([^"]+)"', countdown).group(1)
    assert dt.datetime.fromisoformat(opens_iso) == campaign.claim_opens_at
    assert abs(dt.datetime.fromisoformat(now_iso) - timezone.now()) < dt.timedelta(minutes=1)
    button = re.search(r'<button[^>]*id="claim-btn"[^>]*>', page, re.S).group(0)
    assert DISABLED.search(button) and "data-countdown-enable" in button
    assert f'hx-post="/vouchers/{campaign.pk}/claim/"' in button and 'hx-disabled-elt="this"' in button
    assert "/static/js/countdown.js" in page


def test_during_the_window_the_button_is_enabled_and_there_is_no_countdown(member_client, campaign_factory):
    campaign = campaign_factory()
    page = member_client.get(f"/vouchers/{campaign.pk}/").content.decode()
    button = re.search(r'<button[^>]*id="claim-btn"[^>]*>', page, re.S).group(0)
    assert not DISABLED.search(button) and 'id="countdown"' not in page


def test_a_sold_out_campaign_past_its_window_says_sold_out_on_its_page_as_its_claim_does(
    member_client, campaign_factory
):
    # The page used to decide the window itself and put "closed" before "sold out"; the claim says
    # "sold out" (a sold-out campaign stays sold out after its window). One rule now answers both.
    now = timezone.now()
    campaign = campaign_factory(
        state="sold_out", remaining=0, claim_opens_at=now - dt.timedelta(days=2), claim_closes_at=now
    )
    page = member_client.get(f"/vouchers/{campaign.pk}/").content.decode()
    claim = member_client.post(f"/vouchers/{campaign.pk}/claim/", HTTP_HX_REQUEST="true").content.decode()

    assert 'id="sold-out"' in page and 'id="closed"' not in page
    assert 'data-outcome="sold_out"' in claim


def test_a_campaign_is_closed_on_its_page_from_the_instant_its_window_closes(member_client, campaign_factory):
    closes = timezone.now().replace(microsecond=0) + dt.timedelta(minutes=5)
    campaign = campaign_factory(claim_closes_at=closes)
    with time_machine.travel(closes - dt.timedelta(microseconds=1), tick=False):
        open_page = member_client.get(f"/vouchers/{campaign.pk}/").content.decode()
    with time_machine.travel(closes, tick=False):
        closed_page = member_client.get(f"/vouchers/{campaign.pk}/").content.decode()
        claim = member_client.post(f"/vouchers/{campaign.pk}/claim/", HTTP_HX_REQUEST="true").content.decode()
    assert 'id="claim-btn"' in open_page and 'id="closed"' not in open_page
    assert 'id="closed"' in closed_page and 'data-outcome="closed"' in claim


def test_a_campaign_for_others_says_so_without_a_button(member_client, campaign_factory, tree):
    campaign = campaign_factory(eligible_union=tree.nx)
    page = member_client.get(f"/vouchers/{campaign.pk}/").content.decode()
    assert 'id="not-eligible"' in page and 'id="claim-btn"' not in page


def test_a_draft_campaign_is_not_found(member_client, campaign_factory):
    assert member_client.get(f"/vouchers/{campaign_factory(state='draft').pk}/").status_code == 404


def test_a_draw_campaign_offers_registration_instead_of_a_claim(member_client, campaign_factory):
    campaign = campaign_factory(distribution="draw")
    page = member_client.get(f"/vouchers/{campaign.pk}/").content.decode()
    assert f'hx-post="/vouchers/{campaign.pk}/register/"' in page and 'id="claim-btn"' not in page


# --- The claim endpoint's answers -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("outcome", "css", "button_again"),
    [
        ("sold_out", "notice_error", False),
        ("not_eligible", "notice_error", False),
        ("closed", "notice_error", False),
        ("not_open", "notice_warning", True),
        ("rate_limited", "notice_warning", True),
    ],
)
def test_the_claim_partial_shows_each_refusal(member_client, campaign_factory, monkeypatch, outcome, css, button_again):
    campaign = campaign_factory()
    calls = []

    def fake_claim(*, campaign_id, member, ip=""):
        calls.append((campaign_id, member.pk, ip))
        return ClaimResult(outcome=outcome, message=f"answer {outcome}")

    monkeypatch.setattr("vouchers.services.voucher_claim", fake_claim)
    response = member_client.post(f"/vouchers/{campaign.pk}/claim/", HTTP_HX_REQUEST="true", REMOTE_ADDR="10.1.2.3")

    assert response.status_code == 200
    html = response.content.decode()
    assert f'data-outcome="{outcome}"' in html and f"answer {outcome}" in html and css in html
    assert ('id="claim-btn"' in html) is button_again
    assert "<html" not in html  # a partial, not a page
    assert calls == [(campaign.pk, response.wsgi_request.user.member.pk, "10.1.2.3")]


def test_a_failed_claim_write_answers_with_a_message_not_an_error_page(member_client, campaign_factory, monkeypatch):
    from core.errors import ServiceError

    campaign = campaign_factory()

    def failing_claim(**kwargs):
        raise ServiceError("claim_failed", "write failed, nothing taken")

    monkeypatch.setattr("vouchers.services.voucher_claim", failing_claim)
    response = member_client.post(f"/vouchers/{campaign.pk}/claim/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-outcome="error"' in html and "write failed, nothing taken" in html
    assert 'id="claim-btn"' in html  # the member can try again


def test_claiming_gives_a_voucher_and_a_double_tap_gives_the_same_one(member_client, member, campaign_factory):
    campaign = campaign_factory()
    first = member_client.post(f"/vouchers/{campaign.pk}/claim/", HTTP_HX_REQUEST="true").content.decode()
    voucher = Voucher.objects.get()
    assert voucher.member == member and voucher.campaign == campaign
    assert 'data-outcome="claimed"' in first and f'href="/vouchers/v/{voucher.code}/"' in first

    again = member_client.post(f"/vouchers/{campaign.pk}/claim/", HTTP_HX_REQUEST="true").content.decode()
    assert 'data-outcome="limit_reached"' in again and f'href="/vouchers/v/{voucher.code}/"' in again
    assert Voucher.objects.count() == 1


def test_the_real_claim_answers_sold_out_not_open_and_not_eligible(member_client, campaign_factory, tree):
    sold_out = campaign_factory(remaining=0, state="sold_out")
    later = campaign_factory(state="scheduled", claim_opens_at=timezone.now() + dt.timedelta(minutes=5))
    others = campaign_factory(eligible_union=tree.nx)
    for campaign, outcome in ((sold_out, "sold_out"), (later, "not_open"), (others, "not_eligible")):
        html = member_client.post(f"/vouchers/{campaign.pk}/claim/", HTTP_HX_REQUEST="true").content.decode()
        assert f'data-outcome="{outcome}"' in html, outcome
    assert not Voucher.objects.exists()


def test_once_sold_out_the_flag_answers_without_the_session_user_or_database(
    member_client, campaign_factory, other_member
):
    campaign = campaign_factory(total_stock=1, remaining=1)
    campaign_prepare(campaign=campaign)
    _client(other_member.user).post(f"/vouchers/{campaign.pk}/claim/", HTTP_HX_REQUEST="true")  # the last one

    with CaptureQueriesContext(connection) as queries:
        html = member_client.post(f"/vouchers/{campaign.pk}/claim/", HTTP_HX_REQUEST="true").content.decode()
    assert 'data-outcome="sold_out"' in html
    assert len(queries) == 0  # not even the session or the user row
    assert Voucher.objects.filter(campaign=campaign).count() == 1


def test_a_campaign_whose_state_says_sold_out_is_also_answered_without_the_session(member_client, campaign_factory):
    # e.g. the row was marked sold out by another server: the first claim here learns it
    campaign = campaign_factory(remaining=0, state="sold_out")
    member_client.post(f"/vouchers/{campaign.pk}/claim/", HTTP_HX_REQUEST="true")
    with CaptureQueriesContext(connection) as queries:
        html = member_client.post(f"/vouchers/{campaign.pk}/claim/", HTTP_HX_REQUEST="true").content.decode()
    assert 'data-outcome="sold_out"' in html and len(queries) == 0


def test_once_known_sold_out_a_claim_is_answered_before_session_and_csrf_in_the_members_language(
    member_client, campaign_factory
):
    campaign = campaign_factory(remaining=0, state="sold_out")
    member_client.post(f"/vouchers/{campaign.pk}/claim/", HTTP_HX_REQUEST="true")  # this process learns it

    browser = Client(enforce_csrf_checks=True, HTTP_ACCEPT_LANGUAGE="zh-hans")  # no session, no CSRF token
    with CaptureQueriesContext(connection) as queries:
        response = browser.post(f"/vouchers/{campaign.pk}/claim/", HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200 and 'data-outcome="sold_out"' in html and "消费券已被领完" in html
    assert len(queries) == 0 and "sessionid" not in response.cookies
    assert "no-store" in response["Cache-Control"] and response["X-Frame-Options"] == "DENY"
    assert response["Content-Language"] == "zh-hans" and "Accept-Language" in response["Vary"]
    assert response["Content-Length"] == str(len(response.content))  # keep-alive clients need it


def test_a_claim_of_a_campaign_not_known_sold_out_still_needs_the_csrf_token(member, campaign_factory):
    campaign = campaign_factory()
    client = Client(enforce_csrf_checks=True, HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(member.user)
    assert client.post(f"/vouchers/{campaign.pk}/claim/", HTTP_HX_REQUEST="true").status_code == 403
    assert not Voucher.objects.exists()


def test_a_member_suspended_after_claiming_elsewhere_is_refused_at_once(member_client, member, campaign_factory):
    first, second = campaign_factory(), campaign_factory()
    html = member_client.post(f"/vouchers/{first.pk}/claim/", HTTP_HX_REQUEST="true").content.decode()
    assert 'data-outcome="claimed"' in html  # the member's facts are now cached

    member.status = member.Status.SUSPENDED
    member.save()
    response = member_client.post(f"/vouchers/{second.pk}/claim/", HTTP_HX_REQUEST="true")
    assert response.status_code == 403 and 'data-outcome="not_eligible"' in response.content.decode()
    assert not Voucher.objects.filter(campaign=second).exists()


def test_a_repeat_claim_reads_no_member_row(member_client, campaign_factory):
    campaign = campaign_factory(limit_per_member=2)
    member_client.post(f"/vouchers/{campaign.pk}/claim/", HTTP_HX_REQUEST="true")
    with CaptureQueriesContext(connection) as queries:
        html = member_client.post(f"/vouchers/{campaign.pk}/claim/", HTTP_HX_REQUEST="true").content.decode()
    assert 'data-outcome="claimed"' in html
    # (the database path locks the member's row by its id; nothing looks the member up by user)
    assert not [q for q in queries if '"members_member"."user_id"' in q["sql"]]


def test_the_claim_endpoint_only_takes_posts(member_client, campaign_factory):
    assert member_client.get(f"/vouchers/{campaign_factory().pk}/claim/").status_code == 405


# --- My vouchers and the voucher page ----------------------------------------------------------------


def test_my_vouchers_lists_mine_with_state_and_expiry_and_not_others(
    member_client, member, other_member, campaign_factory, voucher_factory
):
    campaign = campaign_factory(limit_per_member=3)
    mine = voucher_factory(campaign, member)
    used = voucher_factory(campaign, member, state="used")
    theirs = voucher_factory(campaign, other_member)
    page = member_client.get("/vouchers/mine/").content.decode()
    assert f'data-code="{mine.code}" data-state="claimed"' in page
    assert f'data-code="{used.code}" data-state="used"' in page
    assert theirs.code not in page
    assert timezone.localtime(mine.expires_at).strftime("%Y-%m-%d %H:%M") in page


def test_the_voucher_page_shows_a_qr_code_the_rule_and_the_refund_rule(
    member_client, member, campaign_factory, voucher_factory
):
    voucher = voucher_factory(campaign_factory(), member)
    page = member_client.get(f"/vouchers/v/{voucher.code}/").content.decode()
    qr = re.search(r'<div class="voucher__qr" id="voucher-qr">\s*<svg[^>]*>', page)
    assert qr and 'role="img"' in qr.group(0)
    assert "Spend 1000 CNY, get 100 CNY off (stackable)" in page
    assert "fully refunded within 72 hours, the voucher is restored; a partial refund does not" in page
    assert member.id_number not in page and member.name not in page


def test_a_used_voucher_says_when_and_where_and_has_no_qr(
    member_client, member, campaign_factory, voucher_factory, food_merchant
):
    used_at = timezone.now() - dt.timedelta(hours=1)
    voucher = voucher_factory(campaign_factory(), member, state="used", used_at=used_at)
    redemption = Redemption.objects.create(
        merchant=food_merchant, member=member, order_ref="A-1", order_amount=1200, discount=100, payable=1100
    )
    RedemptionItem.objects.create(redemption=redemption, voucher=voucher, discount=100)
    page = member_client.get(f"/vouchers/v/{voucher.code}/").content.decode()
    assert 'data-state="used"' in page and 'id="voucher-qr"' not in page
    assert food_merchant.name in page and timezone.localtime(used_at).strftime("%Y-%m-%d %H:%M") in page


def test_another_members_voucher_is_not_found(member_client, other_member, campaign_factory, voucher_factory):
    voucher = voucher_factory(campaign_factory(), other_member)
    assert member_client.get(f"/vouchers/v/{voucher.code}/").status_code == 404
    assert _client(other_member.user).get(f"/vouchers/v/{voucher.code}/").status_code == 200


# --- Draws (抽签) ------------------------------------------------------------------------------------------


def test_a_member_registers_for_a_draw_once(member_client, member, campaign_factory):
    from vouchers.models import DrawEntry

    campaign = campaign_factory(distribution="draw")
    for _tap in range(2):
        html = member_client.post(f"/vouchers/{campaign.pk}/register/", HTTP_HX_REQUEST="true").content.decode()
        assert 'data-ok="1"' in html
    assert list(DrawEntry.objects.values_list("campaign", "member")) == [(campaign.pk, member.pk)]
    page = member_client.get(f"/vouchers/{campaign.pk}/").content.decode()
    assert 'id="register-result"' in page and 'id="register-btn"' not in page


def test_registration_for_a_draw_of_others_or_before_its_window_is_refused(
    member_client, campaign_factory, tree, other_staff
):
    from vouchers.models import DrawEntry

    others = campaign_factory(distribution="draw", eligible_union=tree.nx)
    later = campaign_factory(distribution="draw", state="scheduled",
                             claim_opens_at=timezone.now() + dt.timedelta(hours=1))  # fmt: skip
    for campaign in (others, later):
        html = member_client.post(f"/vouchers/{campaign.pk}/register/", HTTP_HX_REQUEST="true").content.decode()
        assert 'data-ok="0"' in html
    assert _client(other_staff).post(f"/vouchers/{later.pk}/register/").status_code == 403
    assert not DrawEntry.objects.exists()
