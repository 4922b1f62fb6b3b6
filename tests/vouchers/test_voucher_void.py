"""A claimed voucher can be cancelled by voucher staff, with a reason, audited: it is then refused
at the merchant. Vouchers could be issued but never taken back (same class as the merchant keys)."""

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.models import Permission

from core.models import AuditEntry
from tests.factories import StaffFactory
from vouchers.models import Voucher
from vouchers.services import redemption as rd

pytestmark = pytest.mark.django_db


@pytest.fixture
def voucher_staff(tree):
    user = StaffFactory(username="voucherstaff", union=tree.city)
    user.user_permissions.add(*Permission.objects.filter(content_type__app_label="vouchers"))
    return user


def void(client, vouchers, **extra):
    data = {"action": "void", ACTION_CHECKBOX_NAME: [v.pk for v in vouchers], **extra}
    return client.post("/admin/vouchers/voucher/", data)


def test_it_cancels_a_claimed_voucher_with_a_reason_and_the_merchant_refuses_it(
    client, voucher_staff, stack_campaign, member, voucher_factory, food_merchant
):
    voucher = voucher_factory(stack_campaign, member)
    client.force_login(voucher_staff)
    asked = void(client, [voucher])
    assert asked.status_code == 200 and 'name="reason"' in asked.content.decode()
    voucher.refresh_from_db()
    assert voucher.state == "claimed"  # nothing without a reason

    void(client, [voucher], apply="1", reason="重复领取")

    voucher.refresh_from_db()
    assert voucher.state == "void"
    entry = AuditEntry.objects.get(action="vouchers.voucher.voided", object_id=str(voucher.pk))
    assert entry.actor == voucher_staff and entry.new["reason"] == "重复领取"
    with pytest.raises(rd.ServiceError) as err:
        rd.redemption_quote(merchant=food_merchant, codes=[voucher.code], order_amount="1200")
    assert err.value.code == "voucher_void"


def test_a_used_voucher_is_not_cancelled(client, voucher_staff, stack_campaign, member, voucher_factory):
    voucher = voucher_factory(stack_campaign, member, state="used")
    client.force_login(voucher_staff)
    void(client, [voucher], apply="1", reason="x")
    assert Voucher.objects.get(pk=voucher.pk).state == "used"
    assert not AuditEntry.objects.filter(action="vouchers.voucher.voided").exists()


def test_the_outsider_cannot_cancel(client, other_staff, stack_campaign, member, voucher_factory):
    voucher = voucher_factory(stack_campaign, member)
    client.force_login(other_staff)
    assert void(client, [voucher], apply="1", reason="x").status_code == 403
    assert Voucher.objects.get(pk=voucher.pk).state == "claimed"
