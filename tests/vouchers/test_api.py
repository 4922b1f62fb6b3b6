"""The merchants' vouchers API: access, redemption, idempotency, check and refund."""

import io
from decimal import Decimal

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from core.errors import ServiceError
from core.models import ApiKey
from core.services import api_key_create
from vouchers.models import Redemption, RedemptionItem, Voucher
from vouchers.services.merchants import merchant_api_key_create

URL = "/api/v1/vouchers/redemptions"


def _client(key: str | None = None) -> APIClient:
    client = APIClient()
    if key:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


@pytest.fixture
def food_key(food_merchant):
    return merchant_api_key_create(merchant=food_merchant, actor=None)[1]


@pytest.fixture
def digital_key(digital_merchant):
    return merchant_api_key_create(merchant=digital_merchant, actor=None)[1]


@pytest.fixture
def three(stack_campaign, member, voucher_factory):
    return [voucher_factory(stack_campaign, member) for _i in range(3)]


def _redeem(key, codes, amount="2350.00", ref="POS-1", idem="idem-1"):
    headers = {"HTTP_IDEMPOTENCY_KEY": idem} if idem else {}
    body = {"codes": codes, "order_amount": amount, "order_ref": ref}
    return _client(key).post(URL, body, format="json", **headers)


def assert_nothing_redeemed(vouchers):
    assert not Redemption.objects.exists()
    assert {v.state for v in Voucher.objects.filter(pk__in=[v.pk for v in vouchers])} == {"claimed"}


def test_it_redeems_two_of_three_vouchers_on_2350(food_key, three):
    resp = _redeem(food_key, [v.code for v in three])
    assert resp.status_code == 201, resp.json()
    body = resp.json()
    assert body["discount"] == "200.00" and body["payable"] == "2150.00"
    assert body["used_codes"] == [three[0].code, three[1].code]
    assert Voucher.objects.filter(state="used").count() == 2


def test_the_same_key_answers_the_first_result_and_uses_nothing_twice(food_key, three):
    first = _redeem(food_key, [three[0].code], amount="1000")
    again = _redeem(food_key, [three[0].code], amount="1000")
    assert again.status_code == 201 and again.json() == first.json()
    assert Redemption.objects.count() == 1 and RedemptionItem.objects.count() == 1
    other = _redeem(food_key, [three[0].code], amount="1100")
    assert other.status_code == 409 and other.json()["error"]["code"] == "idempotency_conflict"


def test_it_requires_an_idempotency_key(food_key, three):
    resp = _redeem(food_key, [three[0].code], idem="")
    assert resp.status_code == 400 and resp.json()["error"]["code"] == "idempotency_key_required"
    assert_nothing_redeemed(three)


@pytest.mark.parametrize("ref", ["", "   "])
def test_the_api_refuses_an_order_without_a_reference(food_key, three, ref):
    resp = _redeem(food_key, [three[0].code], ref=ref)
    assert resp.status_code == 400 and "order_ref" in str(resp.json()["error"])
    assert_nothing_redeemed(three)


def test_the_same_order_ref_twice_is_409(food_key, three):
    assert _redeem(food_key, [three[0].code], amount="1000", idem="a").status_code == 201
    resp = _redeem(food_key, [three[1].code], amount="1000", idem="b")
    assert resp.status_code == 409 and resp.json()["error"]["code"] == "duplicate_order"


@pytest.mark.parametrize(
    ("amount", "status", "code"),
    [("999.99", 400, "below_threshold"), ("abc", 400, "invalid")],
)
def test_it_refuses_bad_orders_with_stable_codes(food_key, three, amount, status, code):
    resp = _redeem(food_key, [three[0].code], amount=amount)
    assert resp.status_code == status and resp.json()["error"]["code"] == code
    assert_nothing_redeemed(three)


def test_a_used_voucher_is_409_and_an_unknown_one_400(food_key, three):
    _redeem(food_key, [three[0].code], amount="1000", ref="x", idem="x")
    resp = _redeem(food_key, [three[0].code], amount="1000", ref="y", idem="y")
    assert resp.status_code == 409 and resp.json()["error"]["code"] == "voucher_used"
    resp = _redeem(food_key, ["ACDEFGHJKM"], amount="1000", ref="z", idem="z")
    assert resp.status_code == 400 and resp.json()["error"]["code"] == "voucher_not_found"


def test_another_categorys_merchant_is_refused(digital_key, three):
    resp = _redeem(digital_key, [three[0].code], amount="1000")
    assert resp.status_code == 400 and resp.json()["error"]["code"] == "not_accepted_here"
    assert_nothing_redeemed(three)


# --- Access -------------------------------------------------------------------------------------------


def test_no_key_is_401(three):
    resp = _redeem(None, [three[0].code])
    assert resp.status_code == 401 and resp.json()["error"]["code"] == "not_authenticated"
    assert _client().get(f"/api/v1/vouchers/{three[0].code}").status_code == 401


def test_a_merchant_key_cannot_be_given_an_agency_scope(food_merchant):
    with pytest.raises(ServiceError) as err:
        merchant_api_key_create(merchant=food_merchant, actor=None, scopes=["members:verify"])
    assert err.value.code == "scope_not_for_holder"


def test_an_agency_key_is_403_and_cannot_be_given_the_scope(agency, agency_key, three):
    resp = _redeem(agency_key, [three[0].code])
    assert resp.status_code == 403 and resp.json()["error"]["code"] == "missing_scope"
    with pytest.raises(ServiceError) as err:
        api_key_create(agency=agency, scopes=["vouchers:redeem"])
    assert err.value.code == "scope_not_for_holder"
    assert not Redemption.objects.exists()


def test_a_suspended_merchants_key_is_refused(food_merchant, food_key, three):
    food_merchant.state = "suspended"
    food_merchant.save()
    resp = _redeem(food_key, [three[0].code])
    assert resp.status_code == 401 and resp.json()["error"]["code"] == "revoked_key"
    assert not Redemption.objects.exists()


def test_a_staff_session_is_refused(client, staff, three):
    # a complete redemption a merchant's key would have had accepted: only the session is wrong
    client.force_login(staff)
    body = {"codes": [three[0].code], "order_amount": "2350.00", "order_ref": "POS-1"}
    resp = client.post(URL, body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="idem-1")
    assert resp.status_code == 401 and resp.json()["error"]["code"] == "not_authenticated"
    assert not Redemption.objects.exists()
    assert Voucher.objects.get(pk=three[0].pk).state == "claimed"


# --- Check ------------------------------------------------------------------------------------------


def test_check_tells_another_merchant_only_whether_it_is_usable_there(food_key, digital_key, three, member):
    code = three[0].code
    body = _client(food_key).get(f"/api/v1/vouchers/{code.lower()}").json()
    assert body["usable_here"] is True and body["masked_name"] == "周**"
    other = _client(digital_key).get(f"/api/v1/vouchers/{code}")
    assert other.status_code == 200
    body = other.json()
    assert body["usable_here"] is False and body["reason"] == "not_accepted_here"
    text = other.content.decode()
    assert member.name not in text and member.mobile not in text and member.member_no not in text
    assert _client(food_key).get("/api/v1/vouchers/ACDEFGHJKM").status_code == 404


# --- Refund -------------------------------------------------------------------------------------------


def test_a_full_refund_restores_the_vouchers(food_key, three):
    red = _redeem(food_key, [v.code for v in three]).json()
    resp = _client(food_key).post(
        f"{URL}/{red['id']}/refund", {"amount": "2350.00"}, format="json", HTTP_IDEMPOTENCY_KEY="refund-1"
    )
    assert resp.status_code == 201
    assert resp.json()["full"] is True and resp.json()["vouchers_restored"] is True
    assert Voucher.objects.filter(state="claimed").count() == 3


def test_a_refund_over_the_order_is_409(food_key, three):
    red = _redeem(food_key, [three[0].code], amount="1000").json()
    resp = _client(food_key).post(
        f"{URL}/{red['id']}/refund", {"amount": "1000.01"}, format="json", HTTP_IDEMPOTENCY_KEY="refund-1"
    )
    assert resp.status_code == 409 and resp.json()["error"]["code"] == "refund_too_large"


def test_another_merchants_redemption_is_404_for_refund(food_key, digital_key, three):
    red = _redeem(food_key, [three[0].code], amount="1000").json()
    resp = _client(digital_key).post(
        f"{URL}/{red['id']}/refund", {"amount": "1000"}, format="json", HTTP_IDEMPOTENCY_KEY="refund-1"
    )
    assert resp.status_code == 404
    assert Voucher.objects.get(pk=three[0].pk).state == "used"
    assert not Redemption.objects.get(pk=red["id"]).refunds.exists()


# --- The key command --------------------------------------------------------------------------------


def test_create_merchant_api_key_issues_a_merchant_key_that_works(food_merchant, three):
    out = io.StringIO()
    call_command("create_merchant_api_key", food_merchant.credit_code, stdout=out)
    key = out.getvalue().strip().splitlines()[-1]
    stored = ApiKey.objects.get(merchant_link__merchant=food_merchant)
    assert stored.agency is None and stored.scopes == ["vouchers:redeem"]
    assert _redeem(key, [three[0].code], amount="1000").status_code == 201
    assert Redemption.objects.get().discount == Decimal("100.00")


def test_create_merchant_api_key_refuses_an_unknown_or_unapproved_merchant(food_merchant):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("create_merchant_api_key", "91330502DD272HD1TD")
    food_merchant.state = "applied"
    food_merchant.save()
    with pytest.raises(CommandError):
        call_command("create_merchant_api_key", food_merchant.credit_code)
    assert not ApiKey.objects.exists()


def test_a_full_refund_after_the_month_was_paid_answers_kept_used_with_a_notice(food_key, three, food_merchant):
    from django.utils import timezone

    from vouchers.models import Settlement

    red = _redeem(food_key, [three[0].code], amount="1000").json()
    month = timezone.localdate().strftime("%Y-%m")
    Settlement.objects.create(
        merchant=food_merchant, month=month, vouchers=1, amount=Decimal("100"), paid_at=timezone.now()
    )
    resp = _client(food_key).post(
        f"{URL}/{red['id']}/refund", {"amount": "1000"}, format="json", HTTP_IDEMPOTENCY_KEY="refund-1"
    )
    assert resp.status_code == 201
    body = resp.json()
    assert body["full"] is True and body["vouchers_restored"] is False
    assert body["vouchers"] == "kept_used" and body["redemption_state"] == "refunded"
    assert "已向商户结算付款" in body["notice"]  # in Chinese, the default language
    assert Voucher.objects.get(pk=three[0].pk).state == "used"


def _refund(key, redemption_id, amount, idem="refund-1"):
    headers = {"HTTP_IDEMPOTENCY_KEY": idem} if idem else {}
    return _client(key).post(f"{URL}/{redemption_id}/refund", {"amount": amount}, format="json", **headers)


def test_a_refund_without_an_idempotency_key_is_refused(food_key, three):
    red = _redeem(food_key, [three[0].code], amount="1000").json()
    resp = _refund(food_key, red["id"], "1000", idem=None)
    assert resp.status_code == 400 and resp.json()["error"]["code"] == "idempotency_key_required"
    assert not Redemption.objects.get(pk=red["id"]).refunds.exists()


def test_a_retried_refund_is_recorded_once_and_a_changed_body_is_409(food_key, digital_key, three):
    red = _redeem(food_key, [three[0].code], amount="1000").json()
    first = _refund(food_key, red["id"], "500")
    again = _refund(food_key, red["id"], "500")  # a network retry
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert first.json()["full"] is False and first.json()["redemption_state"] == "partial"
    assert Redemption.objects.get(pk=red["id"]).refunds.count() == 1
    assert Voucher.objects.get(pk=three[0].pk).state == "used"
    other = _refund(food_key, red["id"], "400")
    assert other.status_code == 409 and other.json()["error"]["code"] == "idempotency_conflict"
    # The outsider's key cannot replay (nor see) the merchant's refund.
    assert _refund(digital_key, red["id"], "500").status_code == 404
    # A second refund with its own key is a new refund: the order is now fully refunded.
    rest = _refund(food_key, red["id"], "500", idem="refund-2")
    assert rest.status_code == 201 and rest.json()["full"] is True and rest.json()["vouchers"] == "restored"
    assert Redemption.objects.get(pk=red["id"]).refunds.count() == 2


@pytest.mark.parametrize(
    ("amount", "field_code"), [("1e3", "bad_amount"), ("-5", "negative_amount"), ("0", "bad_amount")]
)
def test_it_refuses_an_order_amount_with_the_parsers_field_code(food_key, three, amount, field_code):
    resp = _redeem(food_key, [three[0].code], amount=amount)
    error = resp.json()["error"]
    assert resp.status_code == 400 and error["code"] == "invalid"
    assert error["fields"]["order_amount"][0]["code"] == field_code
    assert_nothing_redeemed(three)


def test_it_reads_an_order_amount_with_thousands_separators(food_key, three):
    resp = _redeem(food_key, [v.code for v in three], amount="2,350.00")
    assert resp.status_code == 201, resp.json()
    assert resp.json()["order_amount"] == "2350.00"
