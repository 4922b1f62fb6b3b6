"""Staff notifications in the admin: the unread count, marking one read or all read (POST with
a CSRF token), each person only their own."""

import pytest
from django.test import Client
from django.urls import reverse

from core.models import Notification
from core.selectors import notifications_unread_count
from tests.factories import StaffFactory, UserFactory


def note(user, title="新的入会申请"):
    return Notification.objects.create(recipient=user, kind="members.application", title=title, link="/admin/")


@pytest.fixture
def notes(staff, other_staff):
    return [note(staff), note(staff, "待复核的帮扶"), note(other_staff, "南浔的通知")]


def test_it_shows_the_unread_count_on_the_list(client, staff, notes):
    client.force_login(staff)
    page = client.get(reverse("admin:core_notification_changelist")).content.decode()
    assert "将全部 2 条未读通知标为已读" in page


def test_marking_one_read_lowers_the_unread_count(client, staff, notes):
    client.force_login(staff)
    response = client.post(reverse("admin:core_notification_read", args=[notes[0].pk]))
    assert response.status_code == 302
    notes[0].refresh_from_db()
    assert notes[0].read_at is not None
    assert notifications_unread_count(user=staff) == 1


def test_marking_all_read_leaves_none_unread_and_others_untouched(client, staff, other_staff, notes):
    client.force_login(staff)
    assert client.post(reverse("admin:core_notification_read_all")).status_code == 302
    assert notifications_unread_count(user=staff) == 0
    assert notifications_unread_count(user=other_staff) == 1


def test_it_refuses_to_mark_another_persons_notification(client, staff, notes):
    client.force_login(staff)
    response = client.post(reverse("admin:core_notification_read", args=[notes[2].pk]))
    assert response.status_code == 404
    notes[2].refresh_from_db()
    assert notes[2].read_at is None


def test_a_superuser_marks_only_their_own_even_when_selecting_others(client, notes, other_staff):
    root = UserFactory(username="root", is_staff=True, is_superuser=True)
    mine = note(root)
    client.force_login(root)
    client.post(
        reverse("admin:core_notification_changelist"),
        {"action": "mark_read", "_selected_action": [mine.pk, notes[2].pk]},
    )
    mine.refresh_from_db()
    notes[2].refresh_from_db()
    assert mine.read_at is not None and notes[2].read_at is None
    assert client.post(reverse("admin:core_notification_read", args=[notes[2].pk])).status_code == 404


def test_marking_read_needs_a_post_with_its_csrf_token(staff, notes):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(staff)
    url = reverse("admin:core_notification_read", args=[notes[0].pk])
    assert browser.get(url).status_code == 405
    assert browser.post(url).status_code == 403  # no token
    assert browser.post(reverse("admin:core_notification_read_all")).status_code == 403
    assert notifications_unread_count(user=staff) == 2


def test_the_notification_page_offers_mark_read_to_its_recipient_only(client, staff, notes):
    client.force_login(staff)
    page = client.get(reverse("admin:core_notification_change", args=[notes[0].pk])).content.decode()
    assert reverse("admin:core_notification_read", args=[notes[0].pk]) in page
    assert client.get(reverse("admin:core_notification_change", args=[notes[2].pk])).status_code in (302, 403, 404)


def test_a_worker_cannot_mark_read_in_the_admin(client, member):
    mine = note(member.user)
    client.force_login(member.user)
    response = client.post(reverse("admin:core_notification_read", args=[mine.pk]))
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    mine.refresh_from_db()
    assert mine.read_at is None


def test_an_outsider_staff_without_permissions_marks_their_own(client, tree):
    outsider = StaffFactory(username="noperm2", union=tree.g2)
    outsider.user_permissions.clear()
    mine = note(outsider)
    client.force_login(outsider)
    assert client.post(reverse("admin:core_notification_read", args=[mine.pk])).status_code == 302
    assert notifications_unread_count(user=outsider) == 0
