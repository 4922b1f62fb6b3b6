from celery import shared_task
from django.db import IntegrityError, transaction
from django.utils import timezone

from core.models import Notification
from core.sms import send_sms


@shared_task(acks_late=True, time_limit=60, soft_time_limit=50)
def deliver_notification(recipient_id: int, payload: dict, dedupe_key: str = "") -> int | None:
    """Put a notification in the inbox and, if asked and the recipient has a mobile, send an SMS.

    Idempotent: a retried delivery with the same dedupe key creates nothing new and sends no
    second SMS.
    """
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.filter(pk=recipient_id).first()
    if user is None:
        return None
    try:
        with transaction.atomic():
            note = Notification.objects.create(
                recipient=user,
                kind=payload["kind"],
                title=payload["title"][:200],
                body=payload.get("body", ""),
                link=payload.get("link", ""),
                dedupe_key=dedupe_key or None,
            )
    except IntegrityError:
        note = Notification.objects.get(dedupe_key=dedupe_key)
    if payload.get("sms") and getattr(user, "mobile", None) and note.sms_sent_at is None:
        # Claim the SMS with a conditional update so two deliveries never both send it.
        claimed = Notification.objects.filter(pk=note.pk, sms_sent_at__isnull=True).update(sms_sent_at=timezone.now())
        if claimed == 1:
            send_sms(user.mobile, f"{note.title} {note.body}".strip())
    return note.pk
