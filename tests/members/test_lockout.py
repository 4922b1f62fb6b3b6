"""Staff password logins lock out after repeated failures (django-axes, AXES_FAILURE_LIMIT)."""

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
