"""The cashier on a phone: a voucher's QR address opened by any camera → the SMS login → the
merchant page with the code filled in → redeemed; a fullwidth code redeems; with two codes the
refusal names the bad one; the page's camera reader is served locally and a decoded QR code fed
to it fills the box. (A camera cannot be driven headless: the reader's callback is.)"""

import datetime as dt
import re
from decimal import Decimal
from urllib.parse import urlsplit

import pytest
from django.utils import timezone

from tests.browser.helpers import login_code_from_outbox, page_width, shot
from tests.factories import UserFactory
from vouchers.models import Campaign, Merchant, MerchantStaff, Voucher

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CASHIER_MOBILE = "13900000000"  # as the demo's cashier
FULLWIDTH = {ord(c): ord(c) + 0xFEE0 for c in "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"}


@pytest.fixture
def shop(db):
    return Merchant.objects.create(
        name="太湖电器（人民路店）", category="appliances", address="湖州市吴兴区人民路8号",
        credit_code="91330502MA2B3C4D5E", contact_name="李", contact_mobile="13700000000", state="approved",
    )  # fmt: skip


@pytest.fixture
def cashier(shop):
    user = UserFactory(username="merchant", mobile=CASHIER_MOBILE)
    MerchantStaff.objects.create(user=user, merchant=shop)
    return user


@pytest.fixture
def vouchers(member):
    now = timezone.now()
    campaign = Campaign.objects.create(
        name="工惠日满减券", face_value=Decimal("100"), threshold=Decimal("1000"), stackable=True, max_per_order=5,
        total_stock=100, remaining=97, budget=Decimal("10000"), limit_per_member=3, state="open",
        claim_opens_at=now - dt.timedelta(hours=1), claim_closes_at=now + dt.timedelta(days=3), valid_days=30,
        accepted_categories=["appliances"],
    )  # fmt: skip
    return [
        Voucher.objects.create(
            campaign=campaign,
            member=member,
            seq=i + 1,
            code=code,
            claim_month=now.strftime("%Y-%m"),
            expires_at=now + dt.timedelta(days=30),
        )  # fmt: skip
        for i, code in enumerate(["ACDEFGHJKM", "CDEFGHJKMN", "DEFGHJKMNP"])
    ]


def log_in_by_sms(page, mobile):
    """On the login page the cashier asks for a code and types it, as workers do."""
    page.fill("#id_mobile", mobile)
    page.click("#code-btn")
    page.wait_for_selector("#code-result .code-msg_ok")
    page.fill("#id_sms_code", login_code_from_outbox(mobile))
    page.click("#login-submit")


def quote_and_redeem(page, amount):
    page.fill("#id_order_amount", amount)
    page.click("#quote-submit")
    page.wait_for_selector("#confirm-form")
    page.click("#confirm-submit")
    page.wait_for_selector("#result")


def test_a_voucher_qr_opened_by_any_camera_logs_the_cashier_in_and_fills_the_code(
    phone, live_server, cashier, vouchers
):
    from django.test import RequestFactory

    from vouchers.views import redeem_address

    request = RequestFactory().get("/", HTTP_HOST=urlsplit(live_server.url).netloc)
    address = redeem_address(request, vouchers[0].code)  # what the voucher's QR code holds
    assert address.startswith(live_server.url)

    phone.goto(address)
    phone.wait_for_url(re.compile(r"/m/login/\?next="))
    log_in_by_sms(phone, CASHIER_MOBILE)

    phone.wait_for_url(re.compile(r"/vouchers/merchant/\?code=ACDEFGHJKM$"))
    assert phone.locator("#id_codes").input_value().strip() == "ACDEFGHJKM"
    assert phone.locator("#scanned").is_visible()
    assert page_width(phone) <= 390
    shot(phone, "cashier-code-filled")
    quote_and_redeem(phone, "1200")
    assert "ACDEFGHJKM" in phone.locator("#result-used").inner_text()
    assert Voucher.objects.get(code="ACDEFGHJKM").state == "used"

    phone.goto("/")
    phone.click("#merchant-link")  # the cashier's home links to redemption
    phone.wait_for_url(re.compile(r"/vouchers/merchant/$"))


def test_a_fullwidth_code_redeems_and_a_bad_one_of_two_is_named(new_phone, live_server, cashier, vouchers):
    from tests.browser.test_vouchers import log_in

    page = new_phone()
    log_in(page, live_server, cashier)
    page.goto("/vouchers/merchant/")
    page.fill("#id_codes", "CDEFG HJKMN\nCDEFGHJKMX")  # the second is no voucher
    page.fill("#id_order_amount", "2400")
    page.click("#quote-submit")
    page.wait_for_selector("#form-error")
    assert "CDEFGHJKMX" in page.locator("#form-error").inner_text()
    shot(page, "cashier-bad-code-named")

    page.fill("#id_codes", "ＣＤＥＦＧ　ＨＪＫＭＮ")  # typed on a Chinese keyboard in fullwidth
    quote_and_redeem(page, "1500")
    assert Voucher.objects.get(code="CDEFGHJKMN").state == "used"


def test_the_camera_reader_is_served_locally_and_a_decoded_qr_fills_the_box(new_phone, live_server, cashier, vouchers):
    from tests.browser.test_vouchers import log_in

    page = new_phone()
    requests, failed = [], []
    page.on("request", lambda r: requests.append(r.url))
    page.on("requestfailed", lambda r: failed.append(r.url))
    log_in(page, live_server, cashier)
    page.goto("/vouchers/merchant/")
    page.wait_for_function("window.portalScanner && window.portalScanner.loaded && !!window.QrScanner")
    host = urlsplit(live_server.url).netloc
    assert any(u.endswith("/static/vendor/qr-scanner/qr-scanner.umd.min.js") for u in requests)
    assert not [u for u in requests if urlsplit(u).scheme != "data" and urlsplit(u).netloc != host]
    assert not failed
    # The worker the reader falls back to (without the native detector) is served beside it.
    worker = page.request.get(f"{live_server.url}/static/vendor/qr-scanner/qr-scanner-worker.min.js")
    assert worker.ok

    assert page.locator("#scan-start").is_enabled()
    accepted = page.evaluate(
        "(t) => window.portalScanner.accept(t)", f"{live_server.url}/vouchers/merchant/?code=DEFGHJKMNP"
    )
    assert accepted
    page.evaluate("(t) => window.portalScanner.accept(t)", "ACDEFGHJKM")
    assert page.locator("#id_codes").input_value() == "DEFGHJKMNP\nACDEFGHJKM"
    assert page.locator("#scan-status").inner_text() == "已读取券码 ACDEFGHJKM。"
    shot(page, "cashier-scanned")

    # Headless there is no camera: the button says so instead of failing silently.
    page.click("#scan-start")
    page.wait_for_selector("#scan-status.notice_warning")
    assert "微信" in page.locator("#scan-status").inner_text()
    assert page.locator("#scanner").is_hidden()
    shot(page, "cashier-no-camera")
