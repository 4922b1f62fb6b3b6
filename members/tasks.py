import datetime as dt

from celery import shared_task
from django.utils import timezone

from members.models import SmsCode


@shared_task(time_limit=120)
def purge_expired_sms_codes() -> int:
    """Delete login codes that expired more than a day ago. Idempotent."""
    deleted, _ = SmsCode.objects.filter(expires_at__lt=timezone.now() - dt.timedelta(days=1)).delete()
    return deleted
