"""Union benefit day on a phone: the countdown runs out → one tap claims a voucher → its QR code →
a merchant redeems it → the member reloads and sees it used."""

import datetime as dt
import re
from decimal import Decimal
from urllib.parse import urlsplit

import pytest
from django.utils import timezone

from tests.browser.helpers import page_width, shot, target_sizes, text_metrics, wait_until
from vouchers import services
from vouchers.models import Campaign, Merchant, Voucher
from vouchers.services.redemption import redemption_create

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_in(page, live_server, user):
    """Give the browser a session for `user` (the SMS login itself is tested in test_join_flow)."""
    from django.test import Client

    client = Client()
    client.force_login(user)
    host = urlsplit(live_server.url).hostname
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "domain": host, "path": "/"}]
    )


@pytest.fixture
def merchant(db):
    return Merchant.objects.create(
        name="老沈家面馆", category="food", address="湖州市吴兴区红旗路1号", credit_code="91330502AY4CL12THY",
        contact_name="沈", contact_mobile="13700000001", state="approved",
    )  # fmt: skip


def test_a_member_claims_a_voucher_when_the_countdown_ends_and_sees_it_used(
    phone, live_server, member, merchant, city_staff
):
    now = timezone.now()
    campaign = Campaign.objects.create(
        name="工惠日 满1000减100", face_value=Decimal("100"), threshold=Decimal("1000"), stackable=True,
        max_per_order=3, total_stock=5, remaining=0, budget=Decimal("500"), limit_per_member=1,
        claim_opens_at=now + dt.timedelta(seconds=6), claim_closes_at=now + dt.timedelta(days=3),
        valid_days=30, accepted_categories=["food"],
    )  # fmt: skip
    services.campaign_schedule(campaign=campaign, actor=city_staff)

    log_in(phone, live_server, member.user)
    phone.goto("/")
    phone.click("#vouchers-link")
    phone.wait_for_url(re.compile(r"/vouchers/$"))
    phone.click(f'[data-campaign="{campaign.pk}"] a')

    # Before the window: a countdown and a disabled button.
    phone.wait_for_url(re.compile(rf"/vouchers/{campaign.pk}/$"))
    assert phone.locator("#countdown").is_visible()
    assert phone.locator("#claim-btn").is_disabled()
    assert re.fullmatch(r"\d\d:\d\d:\d\d", phone.locator("#countdown-time").inner_text().strip())
    assert page_width(phone) <= 390
    shot(phone, "voucher-countdown")

    # Time passes: at the opening the countdown hides and the button is enabled.
    wait_until(phone, "!document.getElementById('claim-btn').disabled", timeout=20_000)
    assert phone.locator("#countdown").is_hidden()
    assert timezone.now() >= campaign.claim_opens_at

    phone.click("#claim-btn")
    phone.wait_for_selector('#claim-box[data-outcome="claimed"]')
    voucher = Voucher.objects.get()
    assert voucher.member == member
    shot(phone, "voucher-claimed")

    phone.click("#voucher-link")
    phone.wait_for_url(re.compile(rf"/vouchers/v/{voucher.code}/$"))
    qr = phone.locator("#voucher-qr svg")
    box = qr.bounding_box()
    assert box["width"] >= 150 and box["height"] >= 150
    assert phone.locator("#voucher").get_attribute("data-state") == "claimed"
    assert member.name not in phone.content()
    shot(phone, "voucher-qr")

    # The merchant redeems it against an order of 1,200 CNY.
    redemption = redemption_create(
        merchant=merchant, codes=[voucher.code], order_amount=Decimal("1200"), order_ref="SHEN-0001"
    )
    assert redemption.discount == Decimal("100")

    phone.reload()
    assert phone.locator("#voucher").get_attribute("data-state") == "used"
    assert phone.locator("#voucher-qr").count() == 0
    assert merchant.name in phone.locator("#used-where").inner_text()
    shot(phone, "voucher-used")

    phone.goto("/vouchers/mine/")
    assert phone.locator(f'[data-code="{voucher.code}"]').get_attribute("data-state") == "used"


@pytest.mark.parametrize("elder", [False, True], ids=["normal", "elder"])
def test_voucher_pages_fit_a_small_phone_load_nothing_elsewhere_and_stay_legible(
    new_phone, live_server, member, merchant, elder
):
    now = timezone.now()
    later = Campaign.objects.create(
        name="家电以旧换新补贴", kind="trade_in", face_value=Decimal("500"), threshold=Decimal("3000"),
        total_stock=100, remaining=100, budget=Decimal("50000"), state="scheduled",
        claim_opens_at=now + dt.timedelta(days=2), claim_closes_at=now + dt.timedelta(days=5),
        valid_days=30, accepted_categories=["appliances"],
    )  # fmt: skip
    draw = Campaign.objects.create(
        name="演唱会门票抽签", kind="tickets", face_value=Decimal("280"), total_stock=50, remaining=50,
        budget=Decimal("14000"), state="open", distribution="draw",
        claim_opens_at=now - dt.timedelta(hours=1), claim_closes_at=now + dt.timedelta(days=1),
        valid_until=(now + dt.timedelta(days=40)).date(), accepted_categories=["concerts"],
    )  # fmt: skip
    voucher = Voucher.objects.create(
        campaign=draw, member=member, code="ACDEFGHJKM", claim_month=now.strftime("%Y-%m"),
        expires_at=now + dt.timedelta(days=30),
    )  # fmt: skip
    page = new_phone(viewport={"width": 360, "height": 740})
    if elder:
        page.context.add_cookies([{"name": "elder", "value": "1", "url": live_server.url}])
    host = urlsplit(live_server.url).netloc
    requests = []
    page.on("request", lambda request: requests.append(request.url))
    log_in(page, live_server, member.user)
    for path in ["/vouchers/", f"/vouchers/{later.pk}/", f"/vouchers/{draw.pk}/", "/vouchers/mine/",
                 f"/vouchers/v/{voucher.code}/"]:  # fmt: skip
        page.goto(path)
        assert page_width(page) <= 360, path
        texts = text_metrics(page)
        assert texts, path
        assert not [t for t in texts if t["contrast"] < 4.5], path
        if elder:
            assert not [t for t in texts if t["fontSize"] < 18], path
            assert not [t for t in target_sizes(page) if t["height"] < 44], path
    shot(page, f"voucher-360-{'elder' if elder else 'normal'}")
    assert not [u for u in requests if urlsplit(u).scheme != "data" and urlsplit(u).netloc != host]
    assert any(u.endswith("/static/js/countdown.js") for u in requests)
