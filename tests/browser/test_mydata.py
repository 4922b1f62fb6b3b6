"""我的数据 on a phone (390×844, WeChat's browser): the member opens it from the Me page, sees their
own data with the ID number masked, and downloads it whole."""

import json

import pytest

from tests.browser.helpers import page_width, shot
from tests.browser.test_pages import log_in
from tests.vouchers.factories import CampaignFactory, VoucherFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_member_opens_my_data_and_downloads_it(phone, live_server, member):
    VoucherFactory(campaign=CampaignFactory(name="工惠日 满1000减100"), member=member)
    log_in(phone, live_server, member.user)
    phone.goto("/m/me/")
    phone.click("#me-mydata")
    phone.wait_for_selector("#mydata-membership")
    text = phone.inner_text("main") if phone.query_selector("main") else phone.inner_text("body")
    assert member.id_masked in text and member.id_number not in text
    assert "工惠日 满1000减100" in text
    assert page_width(phone) <= 390
    shot(phone, "mydata")
    with phone.expect_download() as info:
        phone.click("#mydata-download")
    download = info.value
    data = json.loads(open(download.path(), encoding="utf-8").read())
    assert data["sections"]["membership"]["member"]["id_number"] == member.id_number
    assert data["sections"]["vouchers"]["vouchers"][0]["campaign"] == "工惠日 满1000减100"
