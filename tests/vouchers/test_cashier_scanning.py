"""The cashier's scanning: a voucher's QR code holds the merchant page's address with its code, so
any camera opens the page with the code filled in (after the login); codes typed in fullwidth,
with spaces or dashes are read by one function (page, camera and API); with several codes the
refusal names the one that failed; the cashier's home links to redemption."""

import re
from decimal import Decimal
from urllib.parse import quote

import pytest
from django.urls import reverse

from tests.factories import UserFactory
from vouchers import views as voucher_views
from vouchers.models import MerchantStaff, Redemption, Voucher
from vouchers.services import redemption as rd
from vouchers.services.merchants import merchant_api_key_create

FULLWIDTH = {ord(c): ord(c) + 0xFEE0 for c in "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"}


def fullwidth(text: str) -> str:
    return text.translate(FULLWIDTH)


@pytest.fixture
def cashier(food_merchant):
    user = UserFactory(username="cashier", mobile="13700000011")
    MerchantStaff.objects.create(user=user, merchant=food_merchant)
    return user


@pytest.fixture
def vouchers(stack_campaign, member, voucher_factory):
    return [voucher_factory(stack_campaign, member) for _i in range(3)]


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("ACDEFGHJKM", "ACDEFGHJKM"),
        ("acdef-ghjkm", "ACDEFGHJKM"),
        (" ACDEF GHJKM ", "ACDEFGHJKM"),
        (fullwidth("ACDEFghjkm"), "ACDEFGHJKM"),
        (fullwidth("ACDEF") + "\u3000" + fullwidth("GHJKM"), "ACDEFGHJKM"),
        ("券码：ACDEFGHJKM", "ACDEFGHJKM"),
        ("https://hz.example.cn/vouchers/merchant/?code=ACDEFGHJKM", "ACDEFGHJKM"),
        ("http://127.0.0.1:8000/vouchers/merchant/?code=acdef+ghjkm", "ACDEFGHJKM"),
        ("", ""),
    ],
)
def test_it_reads_a_code_however_it_was_typed_or_scanned(typed, code):
    assert rd.code_from_input(typed) == code


def test_it_reads_several_codes_from_one_box():
    assert rd.codes_from_input("ACDEF GHJKM") == ["ACDEFGHJKM"]  # one code typed in groups
    assert rd.codes_from_input("ACDEFGHJKM CDEFGHJKMN") == ["ACDEFGHJKM", "CDEFGHJKMN"]
    assert rd.codes_from_input(f"{fullwidth('ACDEFGHJKM')}，cdefg-hjkmn\n\n  DEFGHJKMNP ") == [
        "ACDEFGHJKM", "CDEFGHJKMN", "DEFGHJKMNP",
    ]  # fmt: skip
    url = "https://hz.example.cn/vouchers/merchant/?code=ACDEFGHJKM"
    assert rd.codes_from_input(f"{url} CDEFGHJKMN") == ["ACDEFGHJKM", "CDEFGHJKMN"]


def test_the_voucher_qr_holds_the_merchant_page_address_with_its_code(client, member, vouchers, monkeypatch, settings):
    settings.SITE_URL = "https://hz.example.cn/"
    seen = []
    real = voucher_views.posters.qr_svg
    monkeypatch.setattr(voucher_views.posters, "qr_svg", lambda data, **kw: seen.append(data) or real(data, **kw))
    client.force_login(member.user)
    page = client.get(reverse("vouchers:voucher", args=[vouchers[0].code]))
    assert page.status_code == 200 and "<svg" in page.content.decode()
    assert seen == [f"https://hz.example.cn/vouchers/merchant/?code={vouchers[0].code}"]


def test_a_qr_address_opened_logged_out_goes_through_the_login_and_back_with_the_code(client, cashier, vouchers):
    address = f"/vouchers/merchant/?code={vouchers[0].code}"
    first = client.get(address)
    assert first.status_code == 302
    assert first["Location"] == f"/m/login/?next={quote(address, safe='/')}"
    client.force_login(cashier)
    page = client.get(address).content.decode()
    textarea = re.search(r"<textarea[^>]*>(.*?)</textarea>", page, re.S).group(1).strip()
    assert textarea == vouchers[0].code
    assert 'id="scanned"' in page and vouchers[0].code in page


def test_a_code_opened_in_fullwidth_is_filled_in_as_read(client, cashier, vouchers):
    client.force_login(cashier)
    page = client.get(reverse("vouchers:merchant"), {"code": fullwidth(vouchers[0].code.lower())}).content.decode()
    assert re.search(r"<textarea[^>]*>\s*" + vouchers[0].code, page)


def test_a_fullwidth_code_redeems_on_the_page(client, cashier, vouchers):
    client.force_login(cashier)
    typed = fullwidth(vouchers[0].code[:5]) + " " + vouchers[0].code[5:].lower()
    quote_page = client.post(reverse("vouchers:merchant-quote"), {"codes": typed, "order_amount": "1200"})
    assert "confirm-form" in quote_page.content.decode()
    data = dict(
        re.findall(
            r'name="(codes|order_amount|order_ref|idempotency_key)" value="([^"]*)"', quote_page.content.decode()
        )
    )
    client.post(reverse("vouchers:merchant-redeem"), data)
    assert Voucher.objects.get(pk=vouchers[0].pk).state == "used"


def test_with_several_codes_the_refusal_names_the_one_that_failed(client, cashier, vouchers):
    client.force_login(cashier)
    bad = "CDEFGHJKMN"
    page = client.post(
        reverse("vouchers:merchant-quote"), {"codes": f"{vouchers[0].code}\n{bad}", "order_amount": "2400"}
    ).content.decode()
    assert f"券码 {bad}：券码不存在。" in page
    assert not Redemption.objects.exists()


def test_the_api_reads_a_fullwidth_code_and_names_the_failed_one(client, food_merchant, vouchers, staff):
    _key, secret = merchant_api_key_create(merchant=food_merchant, actor=staff)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
    checked = client.get(f"/api/v1/vouchers/{quote(fullwidth(vouchers[0].code))}", **auth)
    assert checked.status_code == 200 and checked.json()["code"] == vouchers[0].code
    Voucher.objects.filter(pk=vouchers[1].pk).update(state="used")
    answer = client.post(
        "/api/v1/vouchers/redemptions",
        {"codes": [vouchers[0].code, vouchers[1].code], "order_amount": "2400.00", "order_ref": "O-9"},
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="k-1",
        HTTP_ACCEPT_LANGUAGE="zh-hans",
        **auth,
    )
    assert answer.status_code == 409 and answer.json()["error"]["code"] == "voucher_used"
    assert vouchers[1].code in answer.json()["error"]["message"]


def test_a_single_code_refusal_stays_as_it_was(client, cashier, vouchers):
    client.force_login(cashier)
    Voucher.objects.filter(pk=vouchers[0].pk).update(state="used")
    page = client.post(
        reverse("vouchers:merchant-quote"), {"codes": vouchers[0].code, "order_amount": Decimal("1200")}
    ).content.decode()
    assert "该消费券已使用。" in page
    assert f"券码 {vouchers[0].code}" not in page


def test_the_cashiers_home_links_to_redemption_and_a_workers_does_not(client, cashier, member):
    client.force_login(cashier)
    page = client.get("/").content.decode()
    assert 'id="merchant-link"' in page and reverse("vouchers:merchant") in page
    client.force_login(member.user)
    assert 'id="merchant-link"' not in client.get("/").content.decode()
