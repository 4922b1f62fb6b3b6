"""Reads of core: a person's inbox."""

import pytest

from core.models import Notification
from core.selectors import inbox_notifications
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_the_inbox_holds_ones_own_notifications_newest_first_up_to_its_size():
    me, someone = UserFactory(), UserFactory()
    for n in range(3):
        Notification.objects.create(recipient=me, kind="test", title=f"第{n}条")
    Notification.objects.create(recipient=someone, kind="test", title="别人的")
    assert [n.title for n in inbox_notifications(user=me)] == ["第2条", "第1条", "第0条"]
    assert [n.title for n in inbox_notifications(user=me, limit=2)] == ["第2条", "第1条"]
