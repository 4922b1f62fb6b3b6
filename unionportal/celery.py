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
