"""Core's card on the admin's landing page: the staff member's unread notifications."""

from django.urls import reverse
from django.utils.translation import gettext

from core.dashboard import Waiting, waiting_register
from core.selectors import notifications_unread_count


def unread_notifications(user) -> Waiting:
    url = reverse("admin:core_notification_changelist") + "?read_at__isempty=1"
    return Waiting(gettext("Unread notifications"), notifications_unread_count(user=user), url)


def register() -> None:
    waiting_register("core.notifications", unread_notifications)
