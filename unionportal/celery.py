"""The Celery app. Without REDIS_URL tasks run eagerly (see settings)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "unionportal.settings")

app = Celery("unionportal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# One beat schedule for the whole portal; each entry says why it runs.
app.conf.beat_schedule = {
    # Forget SMS login codes that expired more than a day ago (they are single-use and short-lived).
    "members-purge-sms-codes": {
        "task": "members.tasks.purge_expired_sms_codes",
        "schedule": 3600.0,
    },
}


@app.on_after_configure.connect
def _schedules_from_settings(sender, **kwargs):
    """Beat entries whose timing comes from Django settings (read once they are loaded)."""
    from celery.schedules import crontab
    from django.conf import settings

    # The hardship monthly cycle (ingest agencies' pushes → match → screen → warmth roster → notify
    # staff → publish outbound data) for the previous month: by default on the 5th at 02:00
    # Asia/Shanghai, after the agencies' monthly pushes (HARDSHIP_CYCLE_CRONTAB_DAY / _HOUR).
    sender.conf.beat_schedule["hardship-monthly-cycle"] = {
        "task": "hardship.tasks.run_cycle",
        "schedule": crontab(
            minute=0, hour=settings.HARDSHIP_CYCLE_CRONTAB_HOUR, day_of_month=settings.HARDSHIP_CYCLE_CRONTAB_DAY
        ),
    }
    # Union benefit day (工惠日): on the 20th from 00:05 Asia/Shanghai (Celery's timezone), every hour,
    # create and schedule the month's voucher campaigns from the active templates. Idempotent per
    # template and month: the later runs catch up a run missed (beat down) or stopped halfway.
    sender.conf.beat_schedule["vouchers-campaigns-from-templates"] = {
        "task": "vouchers.tasks.campaigns_from_templates",
        "schedule": crontab(day_of_month=20, minute=5),
    }
    # Every minute: show campaigns whose claim window began as open, and close those whose window ended.
    sender.conf.beat_schedule["vouchers-campaigns-tick"] = {
        "task": "vouchers.tasks.campaigns_tick",
        "schedule": 60.0,
    }
    # Daily at 00:30: claimed vouchers past their expiry become expired.
    sender.conf.beat_schedule["vouchers-expire"] = {
        "task": "vouchers.tasks.vouchers_expire",
        "schedule": crontab(hour=0, minute=30),
    }
