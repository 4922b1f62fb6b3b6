"""A daily cap on wrong SMS codes per mobile number, over all its codes (review finding 11): 5 tries
per code and 5 codes an hour would otherwise let a guesser try 25 codes an hour, every hour."""

import datetime as dt
import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from core import sms
from core.errors import ServiceError
from members import services
from members.models import SmsCode

pytestmark = pytest.mark.django_db

MOBILE = "13600000000"


@pytest.fixture(autouse=True)
def _codes_on_demand(settings):
    settings.SMS_RESEND_SECONDS = 0
    settings.SMS_CODE_FAILURES_PER_DAY = 10


def _send(capture, mobile=MOBILE):
    with capture(execute=True):
        services.sms_code_send(mobile=mobile, ip="1.2.3.4")
    text = next(m["text"] for m in reversed(sms.outbox) if m["mobile"] == mobile)
    return re.search(r"\b(\d{6})\b", text).group(1)


def _wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


def _fail(capture, times: int, mobile=MOBILE) -> str:
    """`times` wrong codes for `mobile`, on a new code every 4 so that no code runs out of its own
    tries; returns the live code."""
    for i in range(times):
        if i % 4 == 0:
            code = _send(capture, mobile)
        assert not services.sms_code_check(mobile=mobile, code=_wrong(code))
    return code


def test_after_the_day_s_wrong_codes_even_the_right_code_is_refused(django_capture_on_commit_callbacks):
    code = _fail(django_capture_on_commit_callbacks, 10)
    live = SmsCode.objects.get(mobile=MOBILE, used_at__isnull=True)
    assert live.attempts == 2  # the code has tries left of its own
    assert not services.sms_code_check(mobile=MOBILE, code=code)
    live.refresh_from_db()
    assert (live.attempts, live.used_at) == (2, None)  # a refused try is not counted again


def test_no_code_is_sent_to_a_number_that_had_its_day_s_wrong_codes(django_capture_on_commit_callbacks):
    _fail(django_capture_on_commit_callbacks, 10)
    sent = len(sms.outbox)
    with pytest.raises(ServiceError) as exc:
        _send(django_capture_on_commit_callbacks)
    assert exc.value.code == "too_many_failures"
    assert len(sms.outbox) == sent


def test_under_the_cap_the_right_code_still_works(django_capture_on_commit_callbacks):
    code = _fail(django_capture_on_commit_callbacks, 9)
    assert services.sms_code_check(mobile=MOBILE, code=code)


def test_other_numbers_are_not_capped(django_capture_on_commit_callbacks):
    _fail(django_capture_on_commit_callbacks, 10)
    other = "13600000001"
    assert services.sms_code_check(mobile=other, code=_send(django_capture_on_commit_callbacks, other))


def test_yesterday_s_wrong_codes_do_not_count(django_capture_on_commit_callbacks):
    _fail(django_capture_on_commit_callbacks, 10)
    SmsCode.objects.update(created_at=SmsCode.objects.earliest("created_at").created_at - dt.timedelta(days=1))
    assert services.sms_code_check(mobile=MOBILE, code=_send(django_capture_on_commit_callbacks))


def test_the_cap_is_a_setting(settings, django_capture_on_commit_callbacks):
    settings.SMS_CODE_FAILURES_PER_DAY = 3
    code = _fail(django_capture_on_commit_callbacks, 3)
    assert not services.sms_code_check(mobile=MOBILE, code=code)


def _cap_message(language: str) -> str:
    with translation.override(language), pytest.raises(ServiceError) as exc:
        services.sms_code_failures_refuse(mobile=MOBILE)
    return exc.value.message


def test_the_login_page_tells_the_worker_why_and_does_not_log_in(django_capture_on_commit_callbacks):
    code = _fail(django_capture_on_commit_callbacks, 10)
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    resp = client.post(reverse("members:login"), {"mobile": MOBILE, "sms_code": code})
    # The worker site's lock-out page, not the admin's, saying how long to wait.
    assert resp.status_code == 429 and "_auth_user_id" not in client.session
    assert [t.name for t in resp.templates][0] == "locked_out.html"
    assert resp.context["message"] == _cap_message("en")
    assert re.search(r"paused until midnight: \d+ h \d+ min from now", resp.context["message"])
    assert "/admin/" not in resp.content.decode()
    asked = client.post(reverse("members:login-code"), {"mobile": MOBILE}, HTTP_HX_REQUEST="true")
    assert asked.context["code"] == "too_many_failures"


def test_the_join_form_tells_the_visitor_why(tree, django_capture_on_commit_callbacks):
    from members.models import MembershipApplication
    from tests.factories import id_number

    code = _fail(django_capture_on_commit_callbacks, 10)
    client = Client()  # Chinese, the default
    data = {
        "name": "陈静",
        "id_number": id_number(),
        "union": tree.g1.pk,
        "employer_name": "湖州丝绸有限公司",
        "employment_form": "delivery_rider",
        "privacy_consent": "on",
        "mobile": MOBILE,
        "sms_code": code,
    }
    resp = client.post(reverse("members:join"), data)
    assert resp.status_code == 200 and "_auth_user_id" not in client.session
    assert resp.context["form"].errors["sms_code"] == [_cap_message("zh-hans")]
    assert not MembershipApplication.objects.exists()
