"""Merchants' API keys: vouchers owns the link (MerchantApiKey) and the rule that a merchant's key
works only while the merchant is approved; core's key knows no merchant. The data migration moves
the links of existing keys (and back)."""

import io

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import RequestFactory
from rest_framework import exceptions

from core.api_auth import ApiKeyAuthentication
from core.errors import ServiceError
from core.models import ApiKey, AuditEntry
from core.services import api_key_create
from vouchers.models import MerchantApiKey
from vouchers.selectors import merchant_key_usable, merchant_of_key
from vouchers.services.merchants import merchant_api_key_create, merchant_approve, merchant_suspend


def authenticate(secret: str) -> ApiKey:
    return ApiKeyAuthentication().authenticate(RequestFactory().get("/", HTTP_AUTHORIZATION=f"Bearer {secret}"))[1]


def test_a_merchants_key_is_linked_to_it_and_audited_with_it(food_merchant, staff):
    key, _secret = merchant_api_key_create(merchant=food_merchant, actor=staff, name="收银台")
    assert MerchantApiKey.objects.get(key=key).merchant == food_merchant
    assert key.agency is None and key.scopes == ["vouchers:redeem"]
    entry = AuditEntry.objects.get(action="core.api_key.created", object_id=str(key.pk))
    assert entry.actor == staff and entry.new["merchant"] == food_merchant.pk


def test_a_merchants_key_stops_while_it_is_suspended_and_works_again_once_approved(food_merchant, staff):
    key, secret = merchant_api_key_create(merchant=food_merchant, actor=staff)
    assert merchant_of_key(authenticate(secret)) == food_merchant
    merchant_suspend(merchant=food_merchant, actor=staff, reason="可疑核销")
    with pytest.raises(exceptions.AuthenticationFailed) as err:
        authenticate(secret)
    assert err.value.get_codes() == "revoked_key"
    merchant_approve(merchant=food_merchant, actor=staff)
    assert authenticate(secret) == key


def test_an_agencys_key_has_no_merchant_and_is_not_vouchers_to_judge(agency):
    key, secret = api_key_create(agency=agency, scopes=["members:verify"])
    assert merchant_of_key(key) is None and merchant_key_usable(key)
    assert authenticate(secret) == key


def test_no_key_is_given_to_a_merchant_not_yet_approved(food_merchant, staff):
    food_merchant.state = "applied"
    food_merchant.save()
    with pytest.raises(ServiceError) as err:
        merchant_api_key_create(merchant=food_merchant, actor=staff)
    assert err.value.code == "merchant_not_approved"
    assert not ApiKey.objects.exists()


def test_the_merchant_command_refuses_a_scope_no_app_registered(food_merchant):
    with pytest.raises(CommandError) as err:
        call_command("create_merchant_api_key", food_merchant.credit_code, "--scopes", "vouchers:redeam")
    assert "vouchers:redeam" in str(err.value)
    assert not ApiKey.objects.exists()


def test_the_merchant_command_refuses_an_agency_scope(food_merchant):
    with pytest.raises(CommandError, match="商户的密钥不能带有权限范围：members:verify"):
        call_command("create_merchant_api_key", food_merchant.credit_code, "--scopes", "vouchers:redeem,members:verify")
    assert not ApiKey.objects.exists()


def test_the_service_refuses_a_merchant_key_that_would_look_up_membership(food_merchant, staff):
    with pytest.raises(ServiceError) as err:
        merchant_api_key_create(merchant=food_merchant, actor=staff, scopes=["members:verify"])
    assert err.value.code == "scope_not_for_holder"
    assert not ApiKey.objects.exists() and not MerchantApiKey.objects.exists()


def legacy_key(*, scopes, merchant=None, agency=None) -> str:
    """A key written as it could be before scopes were checked against the holder."""
    full, key_id, secret = ApiKey.new_secret()
    key = ApiKey.objects.create(agency=agency, key_id=key_id, key_hash=ApiKey.digest(secret), scopes=scopes)
    if merchant is not None:
        MerchantApiKey.objects.create(key=key, merchant=merchant)
    return full


@pytest.mark.parametrize("scopes", [["members:verify"], ["vouchers:redeem", "hardship:push"]])
def test_an_existing_merchant_key_with_an_agency_scope_cannot_be_used(client, food_merchant, scopes):
    secret = legacy_key(scopes=scopes, merchant=food_merchant)
    with pytest.raises(exceptions.AuthenticationFailed) as err:
        authenticate(secret)
    assert err.value.get_codes() == "revoked_key"
    resp = client.post(
        "/api/v1/members/verify",
        {"id_number": "110101199003074514"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {secret}",
    )
    assert resp.status_code == 401 and resp.json()["error"]["code"] == "revoked_key"


def test_an_existing_agency_key_with_a_merchant_scope_cannot_be_used(agency):
    with pytest.raises(exceptions.AuthenticationFailed):
        authenticate(legacy_key(scopes=["members:verify", "vouchers:redeem"], agency=agency))


def test_an_existing_key_of_no_holder_cannot_be_used(db):
    with pytest.raises(exceptions.AuthenticationFailed):
        authenticate(legacy_key(scopes=["vouchers:redeem"]))


def test_the_merchant_command_prints_a_key_alone_on_its_last_line(food_merchant):
    out = io.StringIO()
    call_command("create_merchant_api_key", food_merchant.credit_code.lower(), "--name", "POS", stdout=out)
    secret = out.getvalue().strip().splitlines()[-1]
    assert merchant_of_key(authenticate(secret)) == food_merchant


@pytest.mark.django_db(transaction=True)  # pytest-django runs these last: the flush after it is harmless
def test_the_migration_moves_each_merchants_key_into_a_link_and_back():
    before = [("vouchers", "0007_voucher_slot"), ("core", "0004_apikey_merchant")]  # ApiKey.merchant exists
    after = [("vouchers", "0008_merchantapikey"), ("core", "0005_remove_apikey_merchant")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    Merchant, OldKey = old.get_model("vouchers", "Merchant"), old.get_model("core", "ApiKey")
    shop = Merchant.objects.create(
        name="数码港", category="digital", address="湖州市吴兴区红旗路2号", credit_code="913305023BJ1XG6123",
        contact_name="钱", contact_mobile="13700000002", state="approved",
    )  # fmt: skip
    shop_key = OldKey.objects.create(merchant=shop, key_id="a1", key_hash="x", scopes=["vouchers:redeem"])
    agency_key = OldKey.objects.create(key_id="b2", key_hash="y", scopes=["members:verify"])

    executor = MigrationExecutor(connection)
    executor.migrate(after)
    new = executor.loader.project_state(after).apps
    links = new.get_model("vouchers", "MerchantApiKey").objects.values_list("key_id", "merchant_id")
    assert list(links) == [(shop_key.pk, shop.pk)]
    assert "merchant" not in {f.name for f in new.get_model("core", "ApiKey")._meta.get_fields()}

    executor = MigrationExecutor(connection)
    executor.migrate(before)
    back = executor.loader.project_state(before).apps.get_model("core", "ApiKey")
    assert dict(back.objects.values_list("pk", "merchant_id")) == {shop_key.pk: shop.pk, agency_key.pk: None}

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


def test_the_merchant_command_finds_a_credit_code_typed_fullwidth(food_merchant):
    fullwidth = "".join(chr(ord(c) + 0xFEE0) for c in food_merchant.credit_code)  # ９１３３…
    out = io.StringIO()
    call_command("create_merchant_api_key", fullwidth, stdout=out)
    assert merchant_of_key(authenticate(out.getvalue().strip().splitlines()[-1])) == food_merchant


def test_the_merchant_command_refuses_a_credit_code_with_a_wrong_check_character(food_merchant):
    wrong = food_merchant.credit_code[:17] + ("0" if food_merchant.credit_code[17] != "0" else "1")
    with pytest.raises(CommandError) as err:
        call_command("create_merchant_api_key", wrong)
    assert "校验" in str(err.value)
    assert not ApiKey.objects.exists()
