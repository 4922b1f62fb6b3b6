"""The history of vouchers' configuration rows: templates, campaigns, merchants (and who may redeem
for them) and the settings keep every version with old and new values and who changed them."""

import datetime as dt

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from tests.admin_forms import form_data
from tests.factories import StaffFactory, UserFactory
from tests.vouchers.factories import CampaignTemplateFactory, MerchantFactory
from vouchers.models import Campaign, Merchant, MerchantStaff, VoucherSettings

pytestmark = pytest.mark.django_db

ADMIN = "/admin/vouchers/"


def change(record) -> dict:
    delta = record.diff_against(record.prev_record)
    return {c.field: (c.old, c.new) for c in delta.changes}


@pytest.fixture
def voucher_staff(tree):
    user = StaffFactory(username="voucherstaff", union=tree.city)
    user.user_permissions.add(*Permission.objects.filter(content_type__app_label="vouchers"))
    return user


def test_a_templates_accepted_merchants_are_one_version_with_old_and_new_and_who(client, voucher_staff):
    shop, other = MerchantFactory(name="老沈家面馆"), MerchantFactory(name="数码港")
    template = CampaignTemplateFactory()
    template.accepted_merchants.set([shop])
    before = template.history.count()
    client.force_login(voucher_staff)
    url = f"{ADMIN}campaigntemplate/{template.pk}/change/"
    resp = client.post(url, form_data(client.get(url), accepted_merchants=[other.pk], face_value="50"))
    assert resp.status_code == 302
    assert template.history.count() == before + 1  # the row and its merchants: one version
    latest = template.history.latest()
    assert latest.history_user == voucher_staff
    delta = change(latest)
    assert delta["face_value"][1] == 50
    old, new = delta["accepted_merchants"]
    assert [row["merchant"] for row in old] == [shop.pk]
    assert [row["merchant"] for row in new] == [other.pk]


def test_changing_a_merchant_records_old_and_new_values_and_who(client, voucher_staff):
    shop = MerchantFactory(address="湖州市吴兴区红旗路1号")
    client.force_login(voucher_staff)
    url = f"{ADMIN}merchant/{shop.pk}/change/"
    resp = client.post(url, form_data(client.get(url), address="湖州市吴兴区人民路8号"))
    assert resp.status_code == 302
    latest = shop.history.latest()
    assert latest.history_user == voucher_staff
    assert change(latest) == {"address": ("湖州市吴兴区红旗路1号", "湖州市吴兴区人民路8号")}
    assert client.get(f"{ADMIN}merchant/{shop.pk}/history/").status_code == 200


def test_giving_a_login_a_merchants_redemption_page_is_recorded_with_who(client, voucher_staff):
    shop = MerchantFactory()
    cashier = UserFactory(username="shen", mobile="13700000050")
    client.force_login(voucher_staff)
    url = f"{ADMIN}merchant/{shop.pk}/change/"
    data = form_data(client.get(url))
    data.update({"staff-TOTAL_FORMS": "1", "staff-0-mobile": cashier.mobile})  # cashiers are added by mobile
    resp = client.post(url, data)
    assert resp.status_code == 302, resp.context and resp.context["errors"]
    link = MerchantStaff.objects.get(merchant=shop)
    record = link.history.get()
    assert (record.history_type, record.user_id, record.history_user) == ("+", cashier.pk, voucher_staff)


def test_a_draft_campaigns_rules_are_recorded_but_not_its_stock_left(client, voucher_staff):
    opens = (timezone.now() + dt.timedelta(days=3)).replace(microsecond=0)
    campaign = Campaign.objects.create(
        name="工惠日", face_value=100, total_stock=10, remaining=10, budget=1000,
        claim_opens_at=opens, claim_closes_at=opens + dt.timedelta(days=1),
    )  # fmt: skip
    client.force_login(voucher_staff)
    url = f"{ADMIN}campaign/{campaign.pk}/change/"
    resp = client.post(url, form_data(client.get(url), total_stock="20", budget="2000"))
    assert resp.status_code == 302
    latest = campaign.history.latest()
    assert latest.history_user == voucher_staff
    assert change(latest) == {"total_stock": (10, 20), "budget": (1000, 2000)}
    assert not hasattr(latest, "remaining")


def test_changing_the_voucher_settings_records_old_and_new_values_and_who(client, voucher_staff):
    row = VoucherSettings.get()
    client.force_login(voucher_staff)
    resp = client.post(f"{ADMIN}vouchersettings/{row.pk}/change/", {"refund_window_hours": "48"})
    assert resp.status_code == 302
    latest = row.history.latest()
    assert latest.history_user == voucher_staff
    assert change(latest) == {"refund_window_hours": (72, 48)}


def test_staff_without_the_vouchers_permissions_cannot_see_a_merchants_history(client, staff):
    shop = MerchantFactory()
    version = Merchant.history.filter(id=shop.pk).latest().history_id
    client.force_login(staff)
    assert client.get(f"{ADMIN}merchant/{shop.pk}/history/").status_code == 403
    assert client.get(f"{ADMIN}merchant/{shop.pk}/history/{version}/").status_code == 403
