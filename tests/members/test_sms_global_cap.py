"""A global cap on SMS login codes, beyond the limits per number and per address; the answer never
tells whether a number is a member's."""

import logging

import pytest
from django.urls import reverse
from django.utils import translation

from core import sms
from core.errors import ServiceError
from members.services import sms_code_send


def test_it_refuses_codes_past_the_hourly_cap_in_chinese_and_logs_a_security_event(db, settings, caplog):
    settings.SMS_GLOBAL_RATE_PER_HOUR = "3/h"
    for i in range(3):  # each from its own number and address: no other limit applies
        sms_code_send(mobile=f"1390000001{i}", ip=f"203.0.113.{i}")
    with caplog.at_level(logging.WARNING, logger="security"), pytest.raises(ServiceError) as err:
        sms_code_send(mobile="13900000019", ip="203.0.113.99")

    assert err.value.code == "sms_capacity"
    with translation.override("zh-hans"):
        assert "验证码" in str(err.value.message) or "短信" in str(err.value.message)
    assert any(
        "sms.global_cap_reached" in r.getMessage() and "13900000019" not in r.getMessage() for r in caplog.records
    )


def test_the_daily_cap_holds_too(db, settings):
    settings.SMS_GLOBAL_RATE_PER_DAY = "2/d"
    sms_code_send(mobile="13900000010", ip="203.0.113.1")
    sms_code_send(mobile="13900000011", ip="203.0.113.2")
    with pytest.raises(ServiceError) as err:
        sms_code_send(mobile="13900000012", ip="203.0.113.3")
    assert err.value.code == "sms_capacity"


def test_a_refusal_by_the_numbers_limit_does_not_use_up_the_cap(db, settings):
    settings.SMS_GLOBAL_RATE_PER_HOUR = "2/h"
    settings.SMS_RATE_PER_MOBILE = "1/h"
    settings.SMS_RESEND_SECONDS = 0
    sms_code_send(mobile="13900000010", ip="203.0.113.1")
    for _ in range(3):
        with pytest.raises(ServiceError):
            sms_code_send(mobile="13900000010", ip="203.0.113.1")
    sms_code_send(mobile="13900000011", ip="203.0.113.2")  # the second code of the hour


def test_the_login_page_shows_the_refusal_in_chinese(client, db, settings):
    settings.SMS_GLOBAL_RATE_PER_HOUR = "0/h"
    page = client.post(reverse("members:login-code"), {"mobile": "13900000010"}, HTTP_HX_REQUEST="true")
    assert page.status_code == 200 and "请稍后再试" in page.content.decode()
    assert sms.outbox == []


def test_a_member_and_a_stranger_get_the_same_answer(client, member, django_capture_on_commit_callbacks):
    answers = []
    for mobile in (member.mobile, "13700000077"):
        with django_capture_on_commit_callbacks(execute=True):
            page = client.post(reverse("members:login-code"), {"mobile": mobile}, HTTP_HX_REQUEST="true")
        answers.append(page.content.decode().replace(mobile[:3] + "****" + mobile[-4:], "MASKED"))
    assert answers[0] == answers[1] and len(sms.outbox) == 2
