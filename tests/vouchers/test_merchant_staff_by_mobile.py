"""The page a refused cashier sees says "ask the union to add your mobile number to your shop's
staff": the merchant admin adds a cashier by mobile number (the login is made if the number never
logged in), audited; the cashier then logs in by SMS and redeems. A staff account's number and a
cashier of another shop are refused beside the field."""

import re

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from core import sms
from core.models import AuditEntry
from tests.factories import StaffFactory, UserFactory
from tests.vouchers.factories import MerchantFactory
from vouchers.models import MerchantStaff

pytestmark = pytest.mark.django_db


@pytest.fixture
def voucher_staff(tree):
    user = StaffFactory(username="voucherstaff", union=tree.city)
    user.user_permissions.add(*Permission.objects.filter(content_type__app_label="vouchers"))
    return user


def form_data(shop, mobile) -> dict:
    return {
        "name": shop.name, "category": shop.category, "address": shop.address, "credit_code": shop.credit_code,
        "contact_name": shop.contact_name, "contact_mobile": shop.contact_mobile,
        "created_at_0": "2026-11-01", "created_at_1": "10:00:00",
        "staff-TOTAL_FORMS": "1", "staff-INITIAL_FORMS": "0", "staff-MIN_NUM_FORMS": "0", "staff-MAX_NUM_FORMS": "1000",
        "staff-0-mobile": mobile,
        "api_key_links-TOTAL_FORMS": "0", "api_key_links-INITIAL_FORMS": "0",
        "api_key_links-MIN_NUM_FORMS": "0", "api_key_links-MAX_NUM_FORMS": "1000",
    }  # fmt: skip


def test_the_refused_page_says_to_ask_for_the_mobile_number(client, db):
    user = UserFactory(mobile="13700000099")
    client.force_login(user)
    page = client.get(reverse("vouchers:merchant"))
    assert page.status_code == 403 and "手机号" in page.content.decode()


def test_staff_add_a_cashier_by_mobile_who_then_logs_in_by_sms(
    client, voucher_staff, django_capture_on_commit_callbacks
):
    shop = MerchantFactory(name="太湖电器")
    client.force_login(voucher_staff)
    response = client.post(f"/admin/vouchers/merchant/{shop.pk}/change/", form_data(shop, "１３７００００００９９"))
    assert response.status_code == 302, response.context and response.context["inline_admin_formsets"]
    staff = MerchantStaff.objects.get(merchant=shop)
    assert staff.user.mobile == "13700000099" and not staff.user.has_usable_password()
    assert AuditEntry.objects.filter(action="vouchers.merchant_staff.added", actor=voucher_staff).exists()
    page = client.get(f"/admin/vouchers/merchant/{shop.pk}/change/").content.decode()
    assert "137****0099" in page

    client.logout()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("members:login-code"), {"mobile": "13700000099"}, HTTP_HX_REQUEST="true")
    code = re.search(r"\b(\d{6})\b", sms.outbox[-1]["text"]).group(1)
    client.post(reverse("members:login"), {"mobile": "13700000099", "sms_code": code})
    assert client.get(reverse("vouchers:merchant")).status_code == 200


def test_a_staff_accounts_number_and_another_shops_cashier_are_refused(client, voucher_staff):
    shop = MerchantFactory(name="太湖电器")
    other = MerchantFactory(name="数码港")
    MerchantStaff.objects.create(user=UserFactory(mobile="13700000098"), merchant=other)
    StaffFactory(username="clerk", mobile="13700000097")
    client.force_login(voucher_staff)
    for mobile, message in (("13700000098", "数码港"), ("13700000097", "工作人员"), ("1234", "11")):
        response = client.post(f"/admin/vouchers/merchant/{shop.pk}/change/", form_data(shop, mobile))
        assert response.status_code == 200
        assert message in str(response.context["inline_admin_formsets"][0].formset.errors)
    assert not MerchantStaff.objects.filter(merchant=shop).exists()
