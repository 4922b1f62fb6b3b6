"""Celery tasks of the members app: doors that run a service (imported inside the task, as HackSoft
does: a service may import this module to queue a task). Idempotent."""

from celery import shared_task


@shared_task(time_limit=120, soft_time_limit=100)  # under the hard limit: the global soft limit (240 s) is above it
def purge_expired_sms_codes() -> int:
    """Delete login codes that expired more than a day ago; return how many."""
    from members.services.sms_login import sms_codes_purge_expired

    return sms_codes_purge_expired()
