"""The claim button on a phone when things go wrong: a 502 from the proxy, no network, a refused
CSRF token and an ended session each show a message in Chinese (js/htmx-errors.js), and the ended
session comes back to the campaign after login (core.htmx.HtmxLoginRedirectMiddleware)."""

import re
from urllib.parse import urlsplit

import pytest

from tests.browser.helpers import login_code_from_outbox, shot
from tests.browser.test_vouchers import log_in
from tests.vouchers.factories import CampaignFactory
from vouchers.models import Voucher

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PROXY_502 = (
    "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center></body></html>"
)


@pytest.fixture
def on_campaign(phone, live_server, member):
    campaign = CampaignFactory()
    log_in(phone, live_server, member.user)
    phone.goto(f"/vouchers/{campaign.pk}/")
    assert phone.locator("#claim-btn").is_enabled()
    return campaign


def _message(phone) -> str:
    note = phone.locator("#claim-box .htmx-error[role=alert]")
    note.wait_for()
    return note.inner_text()


def test_it_says_the_server_failed_when_the_claim_answers_502(phone, on_campaign):
    phone.route("**/claim/", lambda route: route.fulfill(status=502, body=PROXY_502, content_type="text/html"))
    phone.click("#claim-btn")
    assert "服务器繁忙或出现故障" in _message(phone)
    assert phone.locator("#claim-btn").is_enabled()  # the worker can try again
    shot(phone, "claim-502")
    # Trying again clears the message.
    phone.unroute("**/claim/")
    phone.click("#claim-btn")
    phone.wait_for_selector('#claim-box[data-outcome="claimed"]')
    assert phone.locator(".htmx-error").count() == 0


def test_it_says_the_network_failed_when_the_claim_never_arrives(phone, on_campaign):
    phone.route("**/claim/", lambda route: route.abort("internetdisconnected"))
    phone.click("#claim-btn")
    assert "网络连接失败" in _message(phone)
    assert phone.locator("#claim-btn").is_enabled()
    assert not Voucher.objects.exists()
    shot(phone, "claim-offline")


def test_it_says_the_page_expired_and_offers_a_reload_when_the_csrf_token_is_refused(phone, live_server, on_campaign):
    host = urlsplit(live_server.url).hostname
    phone.context.add_cookies([{"name": "csrftoken", "value": "x" * 32, "domain": host, "path": "/"}])
    phone.click("#claim-btn")
    assert "请刷新页面后再试" in _message(phone)
    assert not Voucher.objects.exists()
    shot(phone, "claim-csrf")
    phone.click("#claim-box .htmx-error button")  # 刷新页面: a fresh token
    phone.wait_for_load_state()
    phone.click("#claim-btn")
    phone.wait_for_selector('#claim-box[data-outcome="claimed"]')


def test_an_ended_session_goes_to_login_and_comes_back_to_the_campaign(phone, member, on_campaign):
    phone.context.clear_cookies(name="sessionid")
    phone.click("#claim-btn")
    phone.wait_for_url(re.compile(r"/m/login/\?next="))
    assert urlsplit(phone.url).query == f"next=%2Fvouchers%2F{on_campaign.pk}%2F"
    assert phone.locator("#campaign").count() == 0  # a whole login page, not one inside the campaign
    phone.fill("#id_mobile", member.mobile)
    phone.click("#code-btn")
    phone.wait_for_selector("#code-result .code-msg_ok")
    phone.fill("#id_sms_code", login_code_from_outbox(member.mobile))
    phone.click("#login-submit")
    phone.wait_for_url(re.compile(rf"/vouchers/{on_campaign.pk}/$"))
    phone.click("#claim-btn")
    phone.wait_for_selector('#claim-box[data-outcome="claimed"]')
    assert Voucher.objects.get().member == member
