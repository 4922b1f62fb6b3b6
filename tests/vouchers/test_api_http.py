"""One redemption over real HTTP: a live server, urllib and a merchant's real Bearer key."""

import json
import urllib.error
import urllib.request

import pytest

from vouchers.models import Voucher
from vouchers.services.merchants import merchant_api_key_create

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_redemption_over_http(live_server, food_merchant, stack_campaign, member, voucher_factory):
    key = merchant_api_key_create(merchant=food_merchant, actor=None)[1]
    vouchers = [voucher_factory(stack_campaign, member) for _i in range(3)]
    body = {"codes": [v.code for v in vouchers], "order_amount": "2350.00", "order_ref": "POS-42"}
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {key}", "Idempotency-Key": "h-1"}
    req = urllib.request.Request(  # noqa: S310 (the live server on 127.0.0.1)
        f"{live_server.url}/api/v1/vouchers/redemptions", data=json.dumps(body).encode(), headers=headers, method="POST"
    )
    with urllib.request.urlopen(req, timeout=10) as resp:  # noqa: S310
        assert resp.status == 201
        answer = json.loads(resp.read())
    assert answer["discount"] == "200.00" and answer["payable"] == "2150.00"
    assert len(answer["used_codes"]) == 2
    assert Voucher.objects.filter(state="used").count() == 2
    del headers["Authorization"]
    req = urllib.request.Request(  # noqa: S310
        f"{live_server.url}/api/v1/vouchers/redemptions", data=json.dumps(body).encode(), headers=headers, method="POST"
    )
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(req, timeout=10)  # noqa: S310
    assert err.value.code == 401
