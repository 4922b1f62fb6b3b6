"""Claiming a period's run (one conditional UPDATE: one runner at a time, a stale claim taken
over) and keeping it alive with heartbeats while its steps run."""

import datetime as dt
import logging
import os
import socket
import time
import uuid

from django.conf import settings
from django.db import DatabaseError, IntegrityError, connection, connections, transaction
from django.db.models import F, Q
from django.utils import timezone

from hardship.models import CycleRun

log = logging.getLogger(__name__)


class CycleClaimLost(Exception):
    """Another worker took the run over (this one was silent too long): stop, roll the step back."""


def stale_seconds() -> int:
    return int(getattr(settings, "HARDSHIP_CYCLE_STALE_SECONDS", 600))


def _test_delay() -> float:
    value = getattr(settings, "HARDSHIP_CYCLE_TEST_DELAY", None) or os.environ.get("HARDSHIP_CYCLE_TEST_DELAY")
    return float(value or 0)


class CycleRunner:
    """The holder of a claimed run: records steps and keeps the claim alive."""

    def __init__(self, run: CycleRun, token: str):
        self.run = run
        self.token = token
        self.period = run.period
        self.steps: dict = dict(run.steps or {})
        self._beat_every = max(1.0, stale_seconds() / 5)
        self._last_beat = time.monotonic()
        self._side = None

    # Records of the run, always conditional on the claim still being ours.
    def save(self, **fields) -> None:
        n = CycleRun.objects.filter(pk=self.run.pk, worker=self.token).update(
            steps=self.steps, heartbeat_at=timezone.now(), **fields
        )
        if n != 1:
            raise CycleClaimLost(self.period)

    def mark(self, step: str, **info) -> None:
        self.steps[step] = {**self.steps.get(step, {}), **info}
        self.save()

    def tick(self) -> None:
        """Called between chunks: the test delay, and a heartbeat now and then."""
        delay = _test_delay()
        if delay:
            time.sleep(delay)
        if time.monotonic() - self._last_beat >= self._beat_every:
            self._heartbeat()

    def _heartbeat(self) -> None:
        self._last_beat = time.monotonic()
        if connection.vendor != "postgresql":
            return  # SQLite has one writer at a time: no concurrent workers to hold off
        try:
            if self._side is None:
                self._side = connections.create_connection("default")
                with self._side.cursor() as cur:
                    cur.execute("SET lock_timeout = '2s'")
            with self._side.cursor() as cur:
                cur.execute(
                    f"UPDATE {CycleRun._meta.db_table} SET heartbeat_at = %s WHERE id = %s AND worker = %s",  # noqa: S608
                    [timezone.now(), self.run.pk, self.token],
                )
        except DatabaseError:
            log.warning("hardship cycle %s: heartbeat failed", self.period, exc_info=True)

    def close(self) -> None:
        if self._side is not None:
            self._side.close()
            self._side = None


def run_for(period: str) -> CycleRun:
    try:
        with transaction.atomic():
            return CycleRun.objects.get_or_create(period=period)[0]
    except IntegrityError:  # created at the same moment by another worker
        return CycleRun.objects.get(period=period)


def run_claim(period: str, *, restart: bool, token: str) -> CycleRun | None:
    """Take the run with one conditional UPDATE; None when it is done or another worker has it."""
    run = run_for(period)
    now = timezone.now()
    S = CycleRun.State
    claimable = (
        Q(state__in=[S.QUEUED, S.FAILED])
        | Q(state=S.RUNNING, heartbeat_at__isnull=True)
        | Q(state=S.RUNNING, heartbeat_at__lt=now - dt.timedelta(seconds=stale_seconds()))
    )
    if restart:
        claimable |= Q(state=S.DONE)
    fields = {"state": S.RUNNING, "worker": token, "heartbeat_at": now, "started_at": now, "finished_at": None}
    if restart:
        fields["steps"] = {}
    if CycleRun.objects.filter(pk=run.pk).filter(claimable).update(runs=F("runs") + 1, **fields) != 1:
        return None
    run.refresh_from_db()
    return run


def runner_token() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"[:100]
