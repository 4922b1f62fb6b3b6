"""The merchant's phone page: scan or type codes → quote → confirm → result."""

import re

import pytest
from django.urls import reverse

from core import sms
from tests.factories import UserFactory
from vouchers.models import MerchantStaff, Redemption, Voucher
from vouchers.services import redemption as rd


@pytest.fixture
def cashier(food_merchant):
    user = UserFactory(username="cashier", mobile="13700000011")
    MerchantStaff.objects.create(user=user, merchant=food_merchant)
    return user


@pytest.fixture
def vouchers(stack_campaign, member, voucher_factory):
    return [voucher_factory(stack_campaign, member) for _i in range(3)]


def _quote(client, codes, amount="2350", ref=""):
    return client.post(reverse("vouchers:merchant-quote"), {"codes": codes, "order_amount": amount, "order_ref": ref})


def _confirm_data(html: str) -> dict:
    return dict(re.findall(r'name="(codes|order_amount|order_ref|idempotency_key)" value="([^"]*)"', html))


def test_merchant_staff_log_in_by_sms_and_see_the_page(client, cashier, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("members:login-code"), {"mobile": cashier.mobile}, HTTP_HX_REQUEST="true")
    code = re.search(r"\b(\d{6})\b", sms.outbox[-1]["text"]).group(1)
    client.post(reverse("members:login"), {"mobile": cashier.mobile, "sms_code": code})
    resp = client.get(reverse("vouchers:merchant"))
    assert resp.status_code == 200
    assert "老沈家面馆" in resp.content.decode()


def test_it_sends_anonymous_visitors_to_log_in(client, db):
    resp = client.get(reverse("vouchers:merchant"))
    assert resp.status_code == 302 and "/m/login/" in resp["Location"]


def test_a_member_who_is_not_merchant_staff_is_refused(client, member, vouchers):
    client.force_login(member.user)
    assert client.get(reverse("vouchers:merchant")).status_code == 403
    assert _quote(client, vouchers[0].code).status_code == 403
    assert not Redemption.objects.exists()


def test_scan_quote_confirm_result(client, cashier, vouchers):
    client.force_login(cashier)
    token = rd.voucher_token(vouchers[0])
    typed = f"{token}\n{vouchers[1].code.lower()}, {vouchers[2].code}"
    resp = _quote(client, typed)
    html = resp.content.decode()
    assert resp.status_code == 200 and "confirm-form" in html
    assert "200.00" in html and "2150.00" in html
    assert not Voucher.objects.filter(state="used").exists()
    data = _confirm_data(html)
    done = client.post(reverse("vouchers:merchant-redeem"), data)
    assert done.status_code == 200 and "result-payable" in done.content.decode()
    # A double tap on "confirm" redeems once.
    again = client.post(reverse("vouchers:merchant-redeem"), data)
    assert again.status_code == 200
    assert Redemption.objects.count() == 1
    assert set(Voucher.objects.filter(state="used").values_list("code", flat=True)) == {
        vouchers[0].code,
        vouchers[1].code,
    }
    assert Redemption.objects.get().created_by == cashier


def test_it_shows_the_refusal(client, cashier, vouchers):
    client.force_login(cashier)
    resp = _quote(client, vouchers[0].code, amount="999")
    html = resp.content.decode()
    assert 'id="form-error"' in html and "1000" in html
    assert "confirm-form" not in html


def test_a_suspended_merchants_staff_cannot_redeem(client, cashier, food_merchant, vouchers):
    client.force_login(cashier)
    food_merchant.state = "suspended"
    food_merchant.save()
    resp = client.post(
        reverse("vouchers:merchant-redeem"),
        {"codes": vouchers[0].code, "order_amount": "1000", "order_ref": "x", "idempotency_key": "k"},
    )
    assert 'id="form-error"' in resp.content.decode()
    assert not Redemption.objects.exists()


def test_an_order_without_a_reference_is_numbered_by_the_redemption(client, cashier, vouchers):
    client.force_login(cashier)
    data = _confirm_data(_quote(client, vouchers[0].code, amount="1000").content.decode())
    done = client.post(reverse("vouchers:merchant-redeem"), data)
    again = client.post(reverse("vouchers:merchant-redeem"), data)  # a double tap
    ref = Redemption.objects.get().order_ref
    assert re.fullmatch(r"M\d{14}-[0-9a-f]{6}", ref)
    assert ref in done.content.decode() and ref in again.content.decode()


def test_it_refuses_an_idempotency_key_over_the_limit_instead_of_cutting_it(client, cashier, vouchers):
    client.force_login(cashier)
    data = _confirm_data(_quote(client, vouchers[0].code, amount="1000", ref="A-1").content.decode())
    data["idempotency_key"] = "k" * 101
    resp = client.post(reverse("vouchers:merchant-redeem"), data)
    html = resp.content.decode()
    assert 'id="form-error"' in html and "100" in html
    assert not Redemption.objects.exists()
    assert not Voucher.objects.filter(state="used").exists()
