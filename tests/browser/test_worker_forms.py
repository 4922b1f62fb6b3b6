"""Worker forms on a phone keep what was typed: after a form error (the ID number too), across a
switch of elder mode or language; the ID box has the numeric keypad and an X key."""

import re

import pytest

from members.models import MembershipApplication
from tests.browser.helpers import login_code_from_outbox, shot, wait_until
from tests.factories import id_number

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MOBILE = "13812345679"


def _fill_join(page, tree, number):
    page.goto("/join/")
    page.fill("#id_name", "陈静")
    page.fill("#id_id_number", number)
    page.fill("#union-search", "丝绸")
    wait_until(page, "document.querySelectorAll('#id_union option[value]:not([value=\"\"])').length === 1")
    page.fill("#id_employer_name", "湖州丝绸有限公司")
    page.select_option("#id_employment_form", "delivery_rider")


def test_a_missing_consent_tick_keeps_the_id_number_and_the_rest(phone, live_server, tree):
    number = id_number()
    _fill_join(phone, tree, number)
    phone.fill("#id_mobile", MOBILE)
    phone.click("#code-btn")
    phone.wait_for_selector("#code-result .code-msg_ok")
    phone.fill("#id_sms_code", login_code_from_outbox(MOBILE))
    response = None
    with phone.expect_response(lambda r: r.request.method == "POST" and r.url.endswith("/join/")) as answer:
        phone.click("#join-submit")  # the consent is not ticked
    response = answer.value
    assert "no-store" in response.headers["cache-control"]
    assert phone.locator(".consent_warn").is_visible()
    # Nothing typed is lost, the ID number included.
    assert phone.input_value("#id_id_number") == number
    assert phone.input_value("#id_name") == "陈静"
    assert phone.input_value("#id_mobile") == MOBILE
    assert phone.input_value("#id_employer_name") == "湖州丝绸有限公司"
    assert phone.input_value("#id_union") == str(tree.g1.pk)
    assert phone.input_value("#id_employment_form") == "delivery_rider"
    shot(phone, "join-consent-error")
    phone.check("#id_privacy_consent")
    phone.click("#join-submit")
    phone.wait_for_url(re.compile(r"/m/application/$"))
    assert MembershipApplication.objects.get().id_masked == number[:6] + "********" + number[14:]


def test_the_id_box_has_the_numeric_keypad_and_an_x_key(phone, live_server, tree):
    phone.goto("/join/")
    box = phone.locator("#id_id_number")
    assert box.get_attribute("inputmode") == "numeric"
    assert phone.locator("#id_mobile").get_attribute("inputmode") == "numeric"
    assert phone.locator("#id_sms_code").get_attribute("inputmode") == "numeric"
    box.fill("33050219900101123")
    phone.click("#id-x-key")
    assert box.input_value() == "33050219900101123X"
    phone.click("#id-x-key")  # a second tap does not add another
    assert box.input_value() == "33050219900101123X"
    assert phone.evaluate("document.activeElement.id") == "id_id_number"


@pytest.mark.parametrize("switch", ["#elder-toggle", "#lang-switch"])
def test_switching_elder_mode_or_language_keeps_the_half_filled_form(phone, live_server, tree, switch):
    number = id_number()
    _fill_join(phone, tree, number)
    phone.fill("#id_mobile", MOBILE)
    phone.check("#id_privacy_consent")
    with phone.expect_navigation():
        phone.click(switch)
    phone.wait_for_load_state()
    if switch == "#elder-toggle":
        assert phone.locator("body.elder").count() == 1
    else:
        assert phone.locator("html[lang=en]").count() == 1
    assert phone.input_value("#id_name") == "陈静"
    assert phone.input_value("#id_id_number") == number
    assert phone.input_value("#id_mobile") == MOBILE
    assert phone.input_value("#id_employer_name") == "湖州丝绸有限公司"
    assert phone.input_value("#id_union") == str(tree.g1.pk)
    assert phone.input_value("#id_employment_form") == "delivery_rider"
    assert phone.is_checked("#id_privacy_consent")
    # Kept only for that reload: nothing stays in the browser's storage.
    assert phone.evaluate("window.sessionStorage.length") == 0
    shot(phone, f"join-after-{switch[1:]}")


def test_the_inbox_tab_shows_the_unread_count(phone, live_server, member):
    from core.models import Notification
    from tests.browser.test_vouchers import log_in

    for i in range(3):
        Notification.objects.create(recipient=member.user, kind="x", title=f"消息{i}")
    log_in(phone, live_server, member.user)
    phone.goto("/")
    badge = phone.locator("#inbox-unread")
    assert badge.inner_text() == "3"
    assert "3 条未读消息" in phone.locator(".tabbar").inner_text()
    box = badge.bounding_box()
    assert box["x"] + box["width"] <= 390 and box["height"] >= 14
    shot(phone, "inbox-unread")
    phone.click(".tabbar a[href='/m/inbox/']")
    phone.wait_for_url("**/m/inbox/")
    assert phone.locator("#inbox-unread").count() == 0  # read once shown
