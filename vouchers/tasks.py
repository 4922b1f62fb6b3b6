"""Celery tasks of the vouchers app: doors that take JSON and call services (see the beat schedule
in unionportal/celery.py). Every task is idempotent, so a retry or a second worker does no harm.
Each imports its service inside its body (HackSoft): a service may import this module to queue a task."""

from celery import shared_task
from django.utils import timezone

from core.parsing import Period


@shared_task(time_limit=300, soft_time_limit=240)
def campaigns_from_templates(month: str | None = None) -> list[int]:
    """Create (and schedule) the month's campaigns from the active templates; default: this month
    in Asia/Shanghai. Idempotent thanks to the unique (template, month) constraint."""
    from vouchers import services

    month = month or str(Period.of(timezone.localdate()))
    return [c.pk for c in services.campaigns_from_templates(month=month)]


@shared_task(time_limit=50, soft_time_limit=40)
def campaigns_tick() -> dict:
    """Open campaigns whose window has begun, mark sold out ones and close those that ended."""
    from vouchers import services

    opened = services.campaign_open_due()
    return {"opened": opened, **services.campaign_close_due()}


@shared_task(time_limit=600, soft_time_limit=540)
def vouchers_expire() -> int:
    """Claimed vouchers past their expiry → expired (one UPDATE)."""
    from vouchers import services

    return services.vouchers_expire()


@shared_task(time_limit=300, soft_time_limit=240)
def campaign_announce(campaign_id: int) -> int:
    """Notify the members who consented to campaign SMS that a campaign opened (idempotent)."""
    from vouchers import services

    return services.campaign_announce(campaign_id=campaign_id)
