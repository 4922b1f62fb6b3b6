"""Reads of core (they write nothing): a person's inbox."""

from core.models import Notification

INBOX_SIZE = 50


def inbox_notifications(*, user, limit: int = INBOX_SIZE) -> list[Notification]:
    """The user's newest notifications first (read or not)."""
    return list(Notification.objects.filter(recipient=user).order_by("-created_at", "-id")[:limit])


def notifications_unread_count(*, user) -> int:
    """How many of the user's notifications are unread."""
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


def notification_of(*, user, pk: int) -> Notification | None:
    """The user's own notification `pk`, or None (another person's, or none)."""
    return Notification.objects.filter(recipient=user, pk=pk).first()


def inbox_unread_count(*, user) -> int:
    """How many of the user's notifications are unread (the inbox tab's badge)."""
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()
