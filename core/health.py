"""/healthz: the state of the database, Redis and Celery."""

import redis
from django.conf import settings
from django.db import connection
from django.http import JsonResponse

from unionportal.celery import app


def _database() -> str:
    try:
        with connection.cursor() as cur:
            cur.execute("SELECT 1")
        return "ok"
    except Exception as exc:  # noqa: BLE001 - any failure is reported, not raised
        return f"error: {exc.__class__.__name__}"


def _redis() -> str:
    if not settings.REDIS_URL:
        return "not configured"
    try:
        redis.Redis.from_url(settings.REDIS_URL, socket_timeout=1).ping()
        return "ok"
    except Exception as exc:  # noqa: BLE001
        return f"error: {exc.__class__.__name__}"


def _celery() -> str:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return "eager"
    try:
        replies = app.control.ping(timeout=0.5)
    except Exception as exc:  # noqa: BLE001
        return f"error: {exc.__class__.__name__}"
    return f"ok ({len(replies)} workers)" if replies else "no workers"


def healthz(request):
    state = {"database": _database(), "redis": _redis(), "celery": _celery()}
    healthy = state["database"] == "ok" and state["redis"] in ("ok", "not configured")
    return JsonResponse({"status": "ok" if healthy else "error", **state}, status=200 if healthy else 503)
