"""The whole joining story on a phone: station link → application with SMS code → pending
timeline → a grassroots union's staff approves in the admin → the worker's e-card with its QR."""

import re

import pytest

from members.models import MembershipApplication
from tests.browser.helpers import login_code_from_outbox, shot, wait_until
from tests.factories import id_number

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MOBILE = "13812345678"


def test_a_new_worker_joins_through_a_station_and_gets_an_e_card(new_phone, live_server, tree, staff):
    worker = new_phone()
    worker.goto(f"/join/s/{tree.station.code}/")
    assert worker.locator("#station-banner").inner_text().startswith(tree.station.name)

    # The union picker narrows down as the worker types.
    worker.fill("#union-search", "丝绸")
    wait_until(worker, "document.querySelectorAll('#id_union option[value]:not([value=\"\"])').length === 1")
    assert worker.locator("#id_union").input_value() == str(tree.g1.pk)

    number = id_number()
    worker.fill("#id_name", "陈静")
    worker.fill("#id_id_number", number)
    worker.fill("#id_mobile", MOBILE)
    worker.fill("#id_employer_name", "湖州丝绸有限公司")
    worker.select_option("#id_employment_form", "delivery_rider")
    worker.click("#code-btn")
    worker.wait_for_selector("#code-result .code-msg_ok")
    assert worker.locator("#code-btn").is_disabled()  # counting down before a resend
    worker.fill("#id_sms_code", login_code_from_outbox(MOBILE))
    worker.check("#id_privacy_consent")
    shot(worker, "join-filled")
    worker.click("#join-submit")

    worker.wait_for_url(re.compile(r"/m/application/$"))
    timeline = worker.locator("#application")
    assert timeline.get_attribute("data-status") == "pending"
    assert worker.locator("#step-review").is_visible()
    page_text = worker.content()
    assert number not in page_text and (number[:6] + "********" + number[14:]) in page_text
    assert tree.station.name in page_text
    shot(worker, "timeline-pending")

    application = MembershipApplication.objects.get()
    assert application.station == tree.station and application.channel == "station"

    # The grassroots union's staff member approves in the admin, with a password.
    admin = new_phone(viewport={"width": 1280, "height": 900}, is_mobile=False, has_touch=False, user_agent=None)
    admin.goto("/admin/login/?next=/admin/")
    admin.fill("#id_username", staff.username)
    admin.fill("#id_password", "correct-horse-42")
    admin.click("input[type=submit], button[type=submit]")
    admin.wait_for_url(re.compile(r"/admin/$"))
    admin.goto("/admin/members/membershipapplication/")
    admin.check(f'input.action-select[value="{application.pk}"]')
    admin.select_option("select[name=action]", "approve")
    admin.click("button[name=index], input[name=index]")
    admin.wait_for_load_state()
    application.refresh_from_db()
    assert application.status == MembershipApplication.Status.APPROVED, admin.content()[:2000]

    # The worker reloads and sees the e-membership card with its QR code.
    worker.goto("/m/card/")
    card = worker.locator("#ecard")
    assert card.locator(".ecard__qr svg").count() == 1
    assert worker.locator("#member-no").inner_text() == application.member.member_no
    box = card.locator(".ecard__qr svg").bounding_box()
    assert box["width"] >= 150 and box["height"] >= 150
    assert number not in worker.content()
    shot(worker, "card")
