"""Celery tasks of core: doors that take ids or JSON and run a service (imported inside the task, as
the service imports this module to queue it)."""

from celery import shared_task


@shared_task(acks_late=True, time_limit=60, soft_time_limit=50)
def deliver_notification(recipient_id: int, payload: dict, dedupe_key: str = "") -> int | None:
    """Deliver one queued notification (inbox and, if asked, SMS); idempotent by its dedupe key."""
    from core.services import notification_deliver

    return notification_deliver(recipient_id=recipient_id, payload=payload, dedupe_key=dedupe_key)
