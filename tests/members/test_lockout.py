"""Staff password logins lock out after repeated failures (django-axes, AXES_FAILURE_LIMIT)."""

import datetime as dt
import re

import pytest
from django.conf import settings

LOGIN = "/admin/login/"


def attempt(client, username, password):
    return client.post(LOGIN, {"username": username, "password": password, "next": "/admin/"})


def logged_in(client) -> bool:
    return "_auth_user_id" in client.session


@pytest.mark.django_db
def test_five_wrong_passwords_lock_the_account(client, staff):
    assert settings.AXES_FAILURE_LIMIT == 5
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        resp = attempt(client, "g1staff", "wrong-password")
        assert resp.status_code == 200  # the login form again
    resp = attempt(client, "g1staff", "wrong-password")
    assert resp.status_code == 429
    # now even the right password is refused, with the lock-out page
    resp = attempt(client, "g1staff", "correct-horse-42")
    assert resp.status_code == 429
    assert "admin/locked_out.html" in [t.name for t in resp.templates]
    assert 'id="locked-out"' in resp.content.decode()
    assert not logged_in(client)
    assert client.get("/admin/members/member/").status_code == 302  # still sent to the login page


@pytest.mark.django_db
def test_fewer_failures_do_not_lock_and_another_account_is_not_locked(client, staff, district_staff):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        attempt(client, "g1staff", "wrong-password")
    resp = attempt(client, "g1staff", "correct-horse-42")
    assert resp.status_code == 302
    assert logged_in(client)
    client.logout()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        attempt(client, "g1staff", "wrong-password")
    resp = attempt(client, "wxstaff", "correct-horse-42")
    assert resp.status_code == 302
    assert logged_in(client)


# --- What axes keeps of a failed login ------------------------------------------------------------

# Fields of the worker forms that carry nothing personal.
NOT_PERSONAL = {"union", "employment_form", "privacy_consent"}


def _join_with_a_wrong_code(client, tree, number, django_capture_on_commit_callbacks):
    from django.urls import reverse

    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("members:login-code"), {"mobile": "13800000042"}, HTTP_HX_REQUEST="true")
    return client.post(
        reverse("members:join") + "?mobile=13800000042",
        {
            "name": "陈静",
            "id_number": number,
            "mobile": "13800000042",
            "sms_code": "000000",
            "union": tree.g1.pk,
            "employer_name": "湖州丝绸有限公司",
            "employment_form": "employee",
            "privacy_consent": "on",
        },
    )


@pytest.mark.django_db
def test_a_failed_join_or_sms_login_is_not_counted_by_axes(client, tree, django_capture_on_commit_callbacks):
    """The worker's SMS login has its own limits (members.services.sms_login); axes, which keeps
    the request's data and locks with the admin's page, never sees it."""
    from axes.models import AccessAttempt

    from tests.factories import id_number

    resp = _join_with_a_wrong_code(client, tree, id_number(), django_capture_on_commit_callbacks)
    assert resp.status_code == 200
    for _ in range(settings.AXES_FAILURE_LIMIT + 1):
        client.post("/m/login/", {"mobile": "13800000042", "sms_code": "000000"})
    assert AccessAttempt.objects.count() == 0
    # Django's error reports still mask the personal fields.
    assert {"name", "id_number", "mobile", "sms_code"} <= set(resp.wsgi_request.sensitive_post_parameters)


def test_every_personal_field_of_the_worker_login_forms_is_masked_by_axes():
    from members.forms import ApplicationForm, LoginForm

    fields = set(ApplicationForm.base_fields) | set(LoginForm.base_fields)
    assert fields - NOT_PERSONAL <= set(settings.AXES_SENSITIVE_PARAMETERS)


@pytest.mark.django_db
def test_the_migration_blanks_the_form_data_axes_already_stored(db):
    import importlib

    from axes.models import AccessAttempt
    from django.apps import apps
    from django.utils import timezone

    AccessAttempt.objects.create(
        username="13800000042", ip_address="10.0.0.1", user_agent="", http_accept="", path_info="/join/",
        attempt_time=timezone.now(), failures_since_start=1, get_data="mobile=13800000042",
        post_data="name=陈静\nid_number=33050319930124031X",
    )  # fmt: skip
    migration = importlib.import_module("members.migrations.0004_blank_axes_post_data")
    migration.blank_stored_form_data(apps, None)
    attempt = AccessAttempt.objects.get()
    assert (attempt.post_data, attempt.get_data) == ("", "")
    assert attempt.failures_since_start == 1  # the count itself is kept


# --- Who gets locked out: the client behind the proxy, per number and address ----------------------

ATTACKER = {"HTTP_X_FORWARDED_FOR": "203.0.113.9", "REMOTE_ADDR": "10.0.0.2"}  # both through the proxy
VICTIM = {"HTTP_X_FORWARDED_FOR": "198.51.100.7", "REMOTE_ADDR": "10.0.0.2"}


def _send_code(client, mobile, capture, **extra):
    from django.urls import reverse

    with capture(execute=True):
        client.post(reverse("members:login-code"), {"mobile": mobile}, HTTP_HX_REQUEST="true", **extra)
    from core import sms

    return re.search(r"\b(\d{6})\b", [m["text"] for m in sms.outbox if m["mobile"] == mobile][-1]).group(1)


def _sms_login(client, mobile, code, **extra):
    return client.post("/m/login/", {"mobile": mobile, "sms_code": code}, **extra)


@pytest.fixture
def behind_one_proxy(settings):
    settings.TRUSTED_PROXY_COUNT = 1


@pytest.mark.django_db
def test_a_stranger_behind_the_same_proxy_cannot_lock_a_worker_out(
    behind_one_proxy, member, django_capture_on_commit_callbacks
):
    from django.test import Client

    from members.models import SmsCode

    attacker, victim = Client(**ATTACKER), Client(**VICTIM)
    _send_code(victim, member.mobile, django_capture_on_commit_callbacks)
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _sms_login(attacker, member.mobile, "000000")
    assert _sms_login(attacker, member.mobile, "000000").status_code == 200  # the code is spent, nothing locked
    SmsCode.objects.update(created_at=SmsCode.objects.first().created_at - dt.timedelta(minutes=2))
    code = _send_code(victim, member.mobile, django_capture_on_commit_callbacks)
    resp = _sms_login(victim, member.mobile, code)
    assert resp.status_code == 302
    assert victim.session["_auth_user_id"] == str(member.user.pk)


@pytest.mark.django_db
def test_wrong_codes_are_not_counted_when_no_code_was_sent(member, django_capture_on_commit_callbacks):
    from axes.models import AccessAttempt
    from django.test import Client

    attacker = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT * 2):
        resp = _sms_login(attacker, member.mobile, "000000")
        assert resp.status_code == 200  # "the code is wrong or has expired"
    assert AccessAttempt.objects.count() == 0
    victim = Client()  # the same address
    code = _send_code(victim, member.mobile, django_capture_on_commit_callbacks)
    assert _sms_login(victim, member.mobile, code).status_code == 302


@pytest.mark.django_db
def test_the_day_s_wrong_codes_show_the_worker_site_s_lock_out_page_with_the_wait(
    settings, member, django_capture_on_commit_callbacks
):
    from django.test import Client

    settings.SMS_RESEND_SECONDS = 0
    worker = Client()
    for _ in range(settings.SMS_CODE_FAILURES_PER_DAY // settings.SMS_CODE_MAX_ATTEMPTS):
        _send_code(worker, member.mobile, django_capture_on_commit_callbacks)
        for _ in range(settings.SMS_CODE_MAX_ATTEMPTS):
            resp = _sms_login(worker, member.mobile, "000000")
    assert resp.status_code == 429
    html = resp.content.decode()
    assert 'id="locked-out"' in html and "登录已暂停" in html
    assert re.search(r"还需等待 \d+ 小时 \d+ 分钟", html)
    assert "Django" not in html and "/admin/" not in html
    assert "admin/locked_out.html" not in [t.name for t in resp.templates]


def test_an_axes_lock_out_outside_the_admin_shows_the_worker_site_s_page(rf, settings):
    from core.views import axes_lockout

    resp = axes_lockout(rf.post("/m/login/"), None, {"username": "13800000042"})
    assert resp.status_code == 429
    html = resp.content.decode()
    assert 'id="locked-out"' in html and "登录已暂停 30 分钟" in html and "/admin/" not in html
    admin = axes_lockout(rf.post("/admin/login/"), None, {"username": "g1staff"})
    assert admin.status_code == 429 and 'id="locked-out"' in admin.content.decode()
    assert 'id="site-name"' in admin.content.decode()  # the admin's own page (admin/base_site.html)


@pytest.mark.django_db
def test_a_staff_lock_out_holds_only_at_the_attackers_address(behind_one_proxy, staff):
    from django.test import Client

    attacker, owner = Client(**ATTACKER), Client(**VICTIM)
    for _ in range(settings.AXES_FAILURE_LIMIT):
        attempt(attacker, "g1staff", "wrong-password")
    assert attempt(attacker, "g1staff", "correct-horse-42").status_code == 429
    assert attempt(owner, "g1staff", "correct-horse-42").status_code == 302
    assert logged_in(owner)
