"""Staff sessions last a working day (STAFF_SESSION_COOKIE_AGE), workers' sessions 30 days
(SESSION_COOKIE_AGE) (review finding 12)."""

import datetime as dt
import re

import pytest
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


@pytest.mark.parametrize("role", [{"is_staff": True}, {"is_staff": True, "is_superuser": True}])
def test_a_staff_session_lasts_a_working_day(staff, role):
    user = UserFactory(username="officer", **role)
    client = Client()
    resp = client.post("/admin/login/", {"username": "officer", "password": "correct-horse-42", "next": "/admin/"})
    assert resp.status_code == 302 and client.session["_auth_user_id"] == str(user.pk)
    assert _session_lasts(client, resp) == dt.timedelta(seconds=settings.STAFF_SESSION_COOKIE_AGE)
    assert settings.STAFF_SESSION_COOKIE_AGE < settings.SESSION_COOKIE_AGE


def test_the_staff_session_length_is_a_setting(staff, settings):
    settings.STAFF_SESSION_COOKIE_AGE = 3600
    client = Client()
    resp = client.post("/admin/login/", {"username": staff.username, "password": "correct-horse-42"})
    assert _session_lasts(client, resp) == dt.timedelta(hours=1)


def test_a_worker_session_still_lasts_thirty_days(member, django_capture_on_commit_callbacks):
    client = Client()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("members:login-code"), {"mobile": member.mobile}, HTTP_HX_REQUEST="true")
    code = re.search(r"\b(\d{6})\b", sms.outbox[-1]["text"]).group(1)
    resp = client.post(reverse("members:login"), {"mobile": member.mobile, "sms_code": code})
    assert resp.status_code == 302 and client.session["_auth_user_id"] == str(member.user.pk)
    assert _session_lasts(client, resp) == dt.timedelta(days=30)
