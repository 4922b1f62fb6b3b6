"""Worker forms on a phone keep what was typed: after a form error (the ID number too), across a
switch of elder mode or language; the ID box has the numeric keypad and an X key."""

import re

import pytest

from members.models import MembershipApplication
from tests.browser.helpers import login_code_from_outbox, shot
from tests.factories import id_number

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MOBILE = "13812345679"


def _fill_join(page, tree, number):
    page.goto("/join/")
    page.fill("#id_name", "陈静")
    page.fill("#id_id_number", number)
    page.fill("#union-search", "丝绸")
    page.wait_for_function("document.querySelectorAll('#id_union option[value]:not([value=\"\"])').length === 1")
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
