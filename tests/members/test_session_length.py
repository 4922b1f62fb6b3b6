"""Staff sessions end after 30 minutes idle and 12 hours in all (ASVS level 2, core.staff_sessions);
workers' sessions last 30 days (SESSION_COOKIE_AGE)."""

import datetime as dt
import re
from urllib.parse import parse_qs

import pytest
import time_machine
from django.conf import settings
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from core import sms
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _session_lasts(client, resp) -> dt.timedelta:
    """How long the login's session lasts: its cookie and its stored expiry agree."""
    cookie = resp.cookies[settings.SESSION_COOKIE_NAME]
    stored = Session.objects.get(session_key=client.session.session_key).expire_date - timezone.now()
    assert abs(stored.total_seconds() - int(cookie["max-age"])) < 60
    return dt.timedelta(seconds=int(cookie["max-age"]))


def _staff_login(username="officer", **role):
    UserFactory(username=username, **role)
    client = Client()
    resp = client.post("/admin/login/", {"username": username, "password": "correct-horse-42", "next": "/admin/"})
    assert resp.status_code == 302 and "_auth_user_id" in client.session
    return client, resp


@pytest.mark.parametrize("role", [{"is_staff": True}, {"is_staff": True, "is_superuser": True}])
def test_a_staff_session_lasts_thirty_idle_minutes(staff, role):
    client, resp = _staff_login(**role)
    # The store keeps it 10 minutes longer, so that the portal ends it and can say why.
    assert _session_lasts(client, resp) == dt.timedelta(minutes=40)
    assert settings.STAFF_SESSION_IDLE_SECONDS < settings.SESSION_COOKIE_AGE


def test_it_signs_staff_out_after_thirty_minutes_without_a_request(staff):
    with time_machine.travel(timezone.now(), tick=False) as clock:
        client, _ = _staff_login(is_staff=True)
        clock.shift(dt.timedelta(minutes=29))
        assert client.get("/admin/").status_code == 200
        clock.shift(dt.timedelta(minutes=29))  # 58 minutes after login, 29 after the last request
        assert client.get("/admin/").status_code == 200
        clock.shift(dt.timedelta(minutes=31))
        resp = client.get("/admin/members/member/?q=1")
    assert resp.status_code == 302
    login, query = resp["Location"].split("?")
    assert login == "/admin/login/" and parse_qs(query) == {"next": ["/admin/members/member/?q=1"]}
    assert "_auth_user_id" not in client.session
    page = client.get(resp["Location"])
    assert "30 分钟" in page.content.decode()


def test_it_signs_a_busy_staff_member_out_after_twelve_hours(staff):
    with time_machine.travel(timezone.now(), tick=False) as clock:
        client, resp = _staff_login(is_staff=True)
        for _ in range(12 * 4 - 1):  # a request every 15 minutes, all day
            clock.shift(dt.timedelta(minutes=15))
            assert client.get("/admin/").status_code == 200
        clock.shift(dt.timedelta(minutes=15))
        resp = client.get("/admin/")
    assert resp.status_code == 302 and resp["Location"].startswith("/admin/login/")
    assert "_auth_user_id" not in client.session


def test_the_staff_session_limits_are_settings(staff, settings):
    settings.STAFF_SESSION_IDLE_SECONDS = 600
    client, resp = _staff_login(is_staff=True)
    assert _session_lasts(client, resp) == dt.timedelta(minutes=20)


def test_a_worker_session_still_lasts_thirty_days(member, django_capture_on_commit_callbacks):
    client = Client()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("members:login-code"), {"mobile": member.mobile}, HTTP_HX_REQUEST="true")
    code = re.search(r"\b(\d{6})\b", sms.outbox[-1]["text"]).group(1)
    resp = client.post(reverse("members:login"), {"mobile": member.mobile, "sms_code": code})
    assert resp.status_code == 302 and client.session["_auth_user_id"] == str(member.user.pk)
    assert _session_lasts(client, resp) == dt.timedelta(days=30)
    with time_machine.travel(timezone.now() + dt.timedelta(hours=13)):
        assert client.get(reverse("members:home")).status_code == 200
        assert client.session["_auth_user_id"] == str(member.user.pk)
