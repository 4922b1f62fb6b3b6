"""The monthly cycle (一月一推送): ingest → match → screen → roster → notify → publish.

`cycle_run(period=...)` runs the steps of one period and records each step's state and figures in
`CycleRun.steps`, for the admin to show. It is safe to run again and again:

- **One runner at a time.** A run is claimed with a conditional UPDATE: only a queued, failed or
  stale run (state `running` with no heartbeat for `HARDSHIP_CYCLE_STALE_SECONDS`) can be claimed;
  a run another worker is busy with is left alone (`run.skipped == "busy"`; the Celery task retries
  later). The runner shows life by a heartbeat between chunks (on PostgreSQL through a second
  connection, since the step's own transaction is not visible before it commits).
- **Steps commit one by one.** A step's work and its "done" record commit in one transaction
  (ingest commits per push, as each push is one unit); a worker killed in a step leaves that step
  `running` and its work rolled back. A rerun skips the steps already done and redoes that one.
  Every step is idempotent: rerunning a finished cycle with `restart=True` changes nothing (same
  candidates, no second notification: their dedupe key is per period and union).
- **Publishing.** The last step marks the period published: from then on the agencies read their
  outbound data for it (`GET /api/v1/hardship/outbound?period=…`, see `outbound_cases`).

The test-only hook `HARDSHIP_CYCLE_TEST_DELAY` (a setting or environment variable, seconds) slows
every chunk down so a test can kill a worker in the middle of a step.
"""

import datetime as dt
import logging
import os
import socket
import time
import uuid
from collections import defaultdict

from billiard.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import DatabaseError, IntegrityError, connection, connections, transaction
from django.db.models import F, Q
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from core.errors import ErrorKind, ServiceError
from core.models import Agency
from core.services import audit_log, notification_send
from hardship import screening
from hardship.models import CycleRun, DataPush
from hardship.periods import period_check, period_month, period_months, period_of_month
from hardship.selectors.outbound import outbound_cases
from hardship.selectors.staff import hardship_staff_for
from members.models import Union

log = logging.getLogger(__name__)


class CycleClaimLost(Exception):
    """Another worker took the run over (this one was silent too long): stop, roll the step back."""


def _stale_seconds() -> int:
    return int(getattr(settings, "HARDSHIP_CYCLE_STALE_SECONDS", 600))


def _test_delay() -> float:
    value = getattr(settings, "HARDSHIP_CYCLE_TEST_DELAY", None) or os.environ.get("HARDSHIP_CYCLE_TEST_DELAY")
    return float(value or 0)


class _Runner:
    """The holder of a claimed run: records steps and keeps the claim alive."""

    def __init__(self, run: CycleRun, token: str):
        self.run = run
        self.token = token
        self.period = run.period
        self.steps: dict = dict(run.steps or {})
        self._beat_every = max(1.0, _stale_seconds() / 5)
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


# --- Claiming -------------------------------------------------------------------------------------


def _run_for(period: str) -> CycleRun:
    try:
        with transaction.atomic():
            return CycleRun.objects.get_or_create(period=period)[0]
    except IntegrityError:  # created at the same moment by another worker
        return CycleRun.objects.get(period=period)


def _claim(period: str, *, restart: bool, token: str) -> CycleRun | None:
    """Take the run with one conditional UPDATE; None when it is done or another worker has it."""
    run = _run_for(period)
    now = timezone.now()
    S = CycleRun.State
    claimable = (
        Q(state__in=[S.QUEUED, S.FAILED])
        | Q(state=S.RUNNING, heartbeat_at__isnull=True)
        | Q(state=S.RUNNING, heartbeat_at__lt=now - dt.timedelta(seconds=_stale_seconds()))
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


def _token() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"[:100]


def cycle_run(*, period: str, restart: bool = False) -> CycleRun:
    """Run (or resume) the monthly cycle of `period`; see the module doc.

    Returns the run. When it is not run, `run.skipped` says why: "done" (finished before; pass
    `restart=True` to run every step again) or "busy" (another worker holds a fresh claim).
    A step that raises marks the step and the run `failed` and the exception propagates.
    """
    period = period_check(period)
    token = _token()
    run = _claim(period, restart=restart, token=token)
    if run is None:
        run = CycleRun.objects.get(period=period)
        run.skipped = "done" if run.state == CycleRun.State.DONE else "busy"
        return run
    runner = _Runner(run, token)
    try:
        for name in CycleRun.STEPS:
            if runner.steps.get(name, {}).get("state") == "done":
                continue
            _run_step(runner, name)
        runner.save(state=CycleRun.State.DONE, finished_at=timezone.now())
    finally:
        runner.close()
    run.refresh_from_db()
    run.skipped = None
    return run


def _run_step(runner: _Runner, name: str) -> None:
    attempt = runner.steps.get(name, {}).get("attempts", 0) + 1
    runner.mark(name, state="running", started_at=timezone.now().isoformat(), attempts=attempt, error="")
    started = time.monotonic()
    try:
        if name == "ingest":  # commits push by push
            figures = STEPS[name](runner)
            with transaction.atomic():
                runner.mark(name, state="done", figures=figures, seconds=round(time.monotonic() - started, 3))
        else:
            with transaction.atomic():
                figures = STEPS[name](runner)
                runner.mark(name, state="done", figures=figures, seconds=round(time.monotonic() - started, 3))
    except CycleClaimLost:
        raise
    except Exception as exc:
        log.exception("hardship cycle %s: step %s failed", runner.period, name)
        runner.steps[name].update(state="failed", error=f"{type(exc).__name__}: {exc}"[:300])
        try:
            runner.save(state=CycleRun.State.FAILED)
        except CycleClaimLost:
            pass
        raise


# --- The steps ------------------------------------------------------------------------------------


class PushesPending(ServiceError):
    """Pushes of the period are still waiting for ingestion: the cycle must not screen without
    them. The ingest step fails (its run too); the Celery task retries later."""


def _ingest_wait_seconds() -> int:
    return int(getattr(settings, "HARDSHIP_CYCLE_INGEST_WAIT_SECONDS", 3600))


def _ingest_poll_seconds() -> float:
    return float(getattr(settings, "HARDSHIP_CYCLE_INGEST_POLL_SECONDS", 2))


def _step_ingest(runner: _Runner) -> dict:
    """Ingest every push waiting for it (any period: a late push still counts in later windows).

    A push another worker is ingesting (its Celery task) is waited for, with heartbeats, and
    taken over if that worker dies; a long push beats between its chunks. One push that fails
    unexpectedly does not hold up the others, but the step is done only when no push of the
    cycle's own period is left pending (else `PushesPending`: the run fails, to be retried).
    """
    from hardship.ingest import push_ingest

    figures: dict = {"pushes": 0, "accepted": 0, "rejected": 0, "errors": 0, "states": defaultdict(int)}
    deadline = time.monotonic() + _ingest_wait_seconds()
    poll = _ingest_poll_seconds()
    current: list[int] = []

    def wait() -> None:
        runner.tick()
        if time.monotonic() > deadline:
            with translation.override(settings.LANGUAGE_CODE):
                raise PushesPending(
                    "pushes_pending",
                    _("Push %(id)d is still being ingested by another worker after %(seconds)d seconds.")
                    % {"id": current[-1], "seconds": _ingest_wait_seconds()},
                )
        time.sleep(poll)

    pending = DataPush.objects.filter(state=DataPush.State.PENDING).order_by("received_at", "pk")
    tried: set[int] = set()
    while ids := list(pending.exclude(pk__in=tried).values_list("pk", flat=True)):  # and pushes that came meanwhile
        for push_id in ids:
            tried.add(push_id)
            current.append(push_id)
            runner.tick()
            try:
                push = push_ingest(push_id=push_id, wait=wait, tick=runner.tick)
            except (SoftTimeLimitExceeded, CycleClaimLost, DatabaseError, PushesPending):
                raise
            except Exception:  # one bad push must not hold up the others: it stays pending
                log.exception("hardship cycle %s: push %s could not be ingested", runner.period, push_id)
                figures["errors"] += 1
                continue
            figures["pushes"] += 1
            figures["accepted"] += push.accepted
            figures["rejected"] += push.rejected
            figures["states"][push.state] += 1
    figures["states"] = dict(figures["states"])
    periods = {*period_of_month(runner.period), *period_months(runner.period)}
    left = list(
        DataPush.objects.filter(state=DataPush.State.PENDING, period__in=periods)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    if left:
        with translation.override(settings.LANGUAGE_CODE):
            raise PushesPending(
                "pushes_pending",
                _("Pushes of %(period)s are still waiting for ingestion (%(ids)s): screening waits for them.")
                % {"period": runner.period, "ids": ", ".join(map(str, left))},
            )
    return figures


def _step_match(runner: _Runner) -> dict:
    runner.tick()
    return screening.match_rows(period=runner.period)


def _step_screen(runner: _Runner) -> dict:
    screening.rules_ensure_defaults()
    return screening.screen(period=runner.period, tick=runner.tick)


def _step_roster(runner: _Runner) -> dict:
    runner.tick()
    return screening.roster_refresh(year=period_month(runner.period)[0])


def _step_notify(runner: _Runner) -> dict:
    new_by_union = runner.steps.get("screen", {}).get("figures", {}).get("new_by_union", {})
    return notify_new_candidates(period=runner.period, new_by_union={int(k): v for k, v in new_by_union.items()})


def _step_publish(runner: _Runner) -> dict:
    runner.tick()
    CycleRun.objects.filter(pk=runner.run.pk, worker=runner.token).update(published_at=timezone.now())
    agencies = Agency.objects.filter(is_active=True).order_by("code")
    return {"cases_by_agency": {a.code: outbound_cases(agency=a, period=runner.period).count() for a in agencies}}


STEPS = {
    "ingest": _step_ingest,
    "match": _step_match,
    "screen": _step_screen,
    "roster": _step_roster,
    "notify": _step_notify,
    "publish": _step_publish,
}


def _candidates_link(union_id: int) -> str:
    try:
        base = reverse("admin:hardship_candidate_changelist")
    except NoReverseMatch:
        return ""
    return f"{base}?state__exact=open&union__id__exact={union_id}"


def notify_new_candidates(*, period: str, new_by_union: dict[int, int]) -> dict:
    """One message per union with new candidates, to its responsible hardship staff, sent once the
    transaction commits. The dedupe key is per period and union: a rerun sends nothing twice."""
    staff = hardship_staff_for(u for u, n in new_by_union.items() if n)
    names = dict(Union.objects.filter(pk__in=list(staff)).values_list("pk", "name"))
    figures = {"unions": 0, "recipients": 0, "without_staff": 0}
    with translation.override(settings.LANGUAGE_CODE):
        for union_id, count in sorted(new_by_union.items()):
            if not count:
                continue
            recipients = staff.get(union_id)
            if not recipients:
                figures["without_staff"] += 1
                continue
            notification_send(
                recipient_ids=recipients,
                kind="hardship.candidates.new",
                title=_("New hardship candidates to review"),
                body=ngettext(
                    "Screening of %(period)s found %(count)d new candidate in %(union)s.",
                    "Screening of %(period)s found %(count)d new candidates in %(union)s.",
                    count,
                )
                % {"period": period, "count": count, "union": names.get(union_id, "")},
                link=_candidates_link(union_id),
                dedupe_key=f"hardship-cycle-{period}-union-{union_id}",
            )
            figures["unions"] += 1
            figures["recipients"] += len(recipients)
    return figures


# --- Starting it from the admin ------------------------------------------------------------------------


def cycle_start(*, period: str, actor, restart: bool = False) -> CycleRun:
    """Queue the cycle of `period` (admin door): audited; the task is queued once this commits.

    With `restart`, every step runs again (all are idempotent). Refused when another worker is
    running it now (`cycle_running`), or when it is done and `restart` is not asked for (`cycle_done`).
    """
    from hardship.tasks import run_cycle

    if not (getattr(actor, "is_staff", False) and actor.has_perm("hardship.change_cyclerun")):
        raise ServiceError("forbidden", _("You may not start the monthly hardship cycle."), kind=ErrorKind.FORBIDDEN)
    period = period_check(period)
    with transaction.atomic():
        run = CycleRun.objects.select_for_update().filter(pk=_run_for(period).pk).get()
        fresh = run.heartbeat_at and run.heartbeat_at >= timezone.now() - dt.timedelta(seconds=_stale_seconds())
        if run.state == CycleRun.State.RUNNING and fresh:
            raise ServiceError("cycle_running", _("The cycle of this period is running now."))
        if run.state == CycleRun.State.DONE and not restart:
            raise ServiceError("cycle_done", _("The cycle of this period is done; choose to run it again."))
        old_state = run.state
        # A stale running claim is left as it is: the task takes it over.
        if run.state != CycleRun.State.RUNNING:
            run.state = CycleRun.State.QUEUED
        if restart:
            run.steps = {}
        run.save(update_fields=["state", "steps"])
        audit_log(
            action="hardship.cycle.queued",
            obj=run,
            actor=actor,
            old={"state": old_state},
            new={"state": run.state, "restart": restart},
        )
        transaction.on_commit(lambda: run_cycle.delay(period))
    return run
