"""A real Celery worker on Redis delivers a notification queued after commit (PostgreSQL + Redis only)."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection, transaction

from core.models import Notification
from core.services import notification_send

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def celery_worker_process(uses_postgres, uses_redis, transactional_db):
    from unionportal.celery import app

    app.conf.task_always_eager = False
    db = settings.DATABASES["default"]
    env = {
        **os.environ,
        "DEBUG": "1",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{connection.settings_dict['NAME']}",
        "REDIS_URL": settings.REDIS_URL,
        "SMS_BACKEND": "core.sms.ConsoleSmsBackend",
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "unionportal", "worker", "--pool=solo", "--loglevel=WARNING",
         "--without-gossip", "--without-mingle", "--without-heartbeat"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    yield proc
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()


def test_a_real_worker_delivers_a_notification_sent_after_commit(celery_worker_process, member):
    with transaction.atomic():
        notification_send(recipient_ids=[member.user_id], kind="core.test", title="你好", dedupe_key="worker-test")
        assert not Notification.objects.exists()  # nothing before the commit
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not Notification.objects.filter(recipient=member.user).exists():
        assert celery_worker_process.poll() is None, celery_worker_process.stdout.read()
        time.sleep(0.25)
    note = Notification.objects.get(recipient=member.user)
    assert (note.kind, note.title, note.dedupe_key) == ("core.test", "你好", f"worker-test:{member.user_id}")
