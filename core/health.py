"""/healthz: ok (200) or not (503), for the load balancer.

The answer is public, so it names no component, version or error; which component failed (the
database, Redis) and the state of Celery go to the log.
"""

import logging

import redis
from django.conf import settings
from django.db import connection
from django.http import JsonResponse

from unionportal.celery import app

logger = logging.getLogger(__name__)


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
    state = {"database": _database(), "redis": _redis()}
    healthy = state["database"] == "ok" and state["redis"] in ("ok", "not configured")
    if not healthy:
        # Celery is not part of the verdict; its state helps whoever reads why the probe failed.
        state["celery"] = _celery()
        logger.error("healthz failed: %s", ", ".join(f"{name}={value}" for name, value in state.items()))
    response = JsonResponse({"status": "ok" if healthy else "error"}, status=200 if healthy else 503)
    response["Cache-Control"] = "no-store"
    return response
