"""A merchant's API keys in the merchant admin: listed (public id only, scopes, made, last used,
revoked and why) and revoked with a reason, audited; a revoked key answers 401 at once. Staff
without the voucher permissions are refused, and a key is revoked only through its own merchant."""

import pytest
from django.contrib.auth.models import Permission

from core.models import ApiKey, AuditEntry
from tests.factories import StaffFactory
from tests.vouchers.factories import MerchantFactory
from vouchers.models import MerchantApiKey
from vouchers.services.merchants import merchant_api_key_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def voucher_staff(tree):
    user = StaffFactory(username="voucherstaff", union=tree.city)
    user.user_permissions.add(*Permission.objects.filter(content_type__app_label="vouchers"))
    return user


@pytest.fixture
def viewer(tree):
    """Voucher staff who may only look at merchants."""
    user = StaffFactory(username="voucherviewer", union=tree.city)
    user.user_permissions.add(*Permission.objects.filter(content_type__app_label="vouchers", codename="view_merchant"))
    return user


@pytest.fixture
def shop(db):
    return MerchantFactory(name="太湖电器", category="appliances")


def check(client, secret, code="ACDEFGHJKM"):
    return client.get(f"/api/v1/vouchers/{code}", HTTP_AUTHORIZATION=f"Bearer {secret}")


def revoke_url(shop, link):
    return f"/admin/vouchers/merchant/{shop.pk}/keys/{link.pk}/revoke/"


def test_it_lists_a_merchants_keys_by_public_id_with_scopes_and_use(client, voucher_staff, shop):
    key, secret = merchant_api_key_create(merchant=shop, actor=voucher_staff, name="收银台1")
    old, _old_secret = merchant_api_key_create(merchant=shop, actor=voucher_staff, name="旧收银台")
    check(client, secret)  # marks it used
    client.force_login(voucher_staff)

    page = client.get(f"/admin/vouchers/merchant/{shop.pk}/change/").content.decode()

    assert f"upk_{key.key_id}_…" in page and f"upk_{old.key_id}_…" in page
    assert "收银台1" in page and "vouchers:redeem" in page
    assert secret.split("_", 2)[2] not in page  # never the secret
    assert page.count('href="/admin/vouchers/merchant/') >= 2 and "/revoke/" in page
    key.refresh_from_db()
    assert key.last_used_at is not None


def test_it_revokes_a_key_with_a_reason_audited_and_the_key_answers_401_at_once(client, voucher_staff, shop):
    key, secret = merchant_api_key_create(merchant=shop, actor=voucher_staff, name="收银台1")
    assert check(client, secret).status_code == 404  # works (no such voucher)
    link = MerchantApiKey.objects.get(key=key)
    client.force_login(voucher_staff)

    form = client.get(revoke_url(shop, link))
    assert form.status_code == 200 and 'name="reason"' in form.content.decode()
    refused = client.post(revoke_url(shop, link), {"reason": "  "})
    assert refused.status_code == 200 and "请填写吊销的原因" in refused.content.decode()
    key.refresh_from_db()
    assert key.revoked_at is None

    done = client.post(revoke_url(shop, link), {"reason": "收银台手机丢失"})

    assert done.status_code == 302 and done["Location"] == f"/admin/vouchers/merchant/{shop.pk}/change/"
    key.refresh_from_db()
    assert key.revoked_at is not None
    answer = check(client, secret)
    assert answer.status_code == 401 and answer.json()["error"]["code"] == "revoked_key"
    entry = AuditEntry.objects.get(action="core.api_key.revoked", object_id=str(key.pk))
    assert entry.actor == voucher_staff
    assert entry.new["reason"] == "收银台手机丢失" and entry.new["merchant"] == shop.pk
    page = client.get(f"/admin/vouchers/merchant/{shop.pk}/change/").content.decode()
    assert "收银台手机丢失" in page and revoke_url(shop, link) not in page


def test_it_refuses_to_revoke_a_key_twice(client, voucher_staff, shop):
    key, _secret = merchant_api_key_create(merchant=shop, actor=voucher_staff)
    link = MerchantApiKey.objects.get(key=key)
    client.force_login(voucher_staff)
    client.post(revoke_url(shop, link), {"reason": "泄露"})
    again = client.post(revoke_url(shop, link), {"reason": "再次"})
    assert again.status_code == 200 and "已经吊销" in again.content.decode()
    assert AuditEntry.objects.filter(action="core.api_key.revoked").count() == 1


def test_a_key_is_revoked_only_through_its_own_merchant(client, voucher_staff, shop):
    other = MerchantFactory(name="数码港", category="digital")
    key, _secret = merchant_api_key_create(merchant=other, actor=voucher_staff)
    link = MerchantApiKey.objects.get(key=key)
    client.force_login(voucher_staff)
    assert client.post(revoke_url(shop, link), {"reason": "错误"}).status_code == 404
    key.refresh_from_db()
    assert key.revoked_at is None


def test_the_outsider_and_a_viewer_cannot_revoke(client, other_staff, viewer, shop, voucher_staff):
    key, secret = merchant_api_key_create(merchant=shop, actor=voucher_staff)
    link = MerchantApiKey.objects.get(key=key)
    client.force_login(other_staff)
    assert client.get(f"/admin/vouchers/merchant/{shop.pk}/change/").status_code == 403
    assert client.post(revoke_url(shop, link), {"reason": "x"}).status_code == 403
    client.force_login(viewer)
    page = client.get(f"/admin/vouchers/merchant/{shop.pk}/change/").content.decode()
    assert f"upk_{key.key_id}_…" in page and "/revoke/" not in page  # sees the keys, no revoke link
    assert client.post(revoke_url(shop, link), {"reason": "x"}).status_code == 403
    key.refresh_from_db()
    assert key.revoked_at is None and check(client, secret).status_code == 404


def test_the_new_key_page_names_its_merchant(client, voucher_staff, shop):
    from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME

    client.force_login(voucher_staff)
    page = client.post(
        "/admin/vouchers/merchant/", {"action": "create_api_key", ACTION_CHECKBOX_NAME: [shop.pk]}
    ).content.decode()
    assert ApiKey.objects.filter(merchant_link__merchant=shop).exists()
    assert "商户：太湖电器" in page.replace(": ", "：")
