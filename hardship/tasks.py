"""Celery tasks of the hardship app: doors that take ids or JSON and call one service."""

from celery import shared_task
from django.conf import settings

from hardship.periods import previous_month

# A province-sized month (a million medical rows) takes minutes; the hard limit leaves room
# for the soft one to mark the step failed first.
CYCLE_SOFT_TIME_LIMIT = 2 * 3600
CYCLE_TIME_LIMIT = CYCLE_SOFT_TIME_LIMIT + 300


@shared_task(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=CYCLE_SOFT_TIME_LIMIT,
    time_limit=CYCLE_TIME_LIMIT,
    max_retries=24,
)
def run_cycle(self, period: str | None = None, restart: bool = False) -> dict:
    """Run (or resume) the monthly hardship cycle of `period`; without one, the previous month's
    (Celery beat, see unionportal/celery.py).

    The cycle is idempotent and commits step by step, so the message is acknowledged only after
    the run: a worker lost in the middle gets it redelivered, and the cycle resumes at the step
    that was interrupted. A cycle another worker is busy with is retried once its claim could have
    gone stale, and so is a run that stopped because pushes of its period are still pending.
    """
    # A task imports its service in its body (HackSoft): the service module queues this task.
    from hardship.cycle.run import cycle_run
    from hardship.cycle.steps import PushesPending

    period = period or previous_month()
    try:
        run = cycle_run(period=period, restart=restart)
    except PushesPending:  # the run failed at its ingest step: try again once the pushes may be in
        if self.request.is_eager:
            raise
        raise self.retry(countdown=max(5, settings.HARDSHIP_CYCLE_STALE_SECONDS)) from None
    if run.skipped == "busy" and not self.request.is_eager:
        raise self.retry(countdown=max(5, settings.HARDSHIP_CYCLE_STALE_SECONDS))
    return {"period": run.period, "state": run.state, "skipped": run.skipped}


# A million-row push takes minutes; each chunk commits on its own, so a rerun resumes.
INGEST_SOFT_TIME_LIMIT = 2 * 3600
INGEST_TIME_LIMIT = INGEST_SOFT_TIME_LIMIT + 300


@shared_task(
    acks_late=True, reject_on_worker_lost=True, soft_time_limit=INGEST_SOFT_TIME_LIMIT, time_limit=INGEST_TIME_LIMIT
)
def ingest_push(push_id: int) -> dict:
    """Ingest a large push stored for later (queued on commit by hardship.ingest). Idempotent:
    redelivered after a lost worker, it goes on after the last chunk stored."""
    from hardship.ingest.stored import push_ingest  # in the body (HackSoft): ingest.receive queues this task

    push = push_ingest(push_id=push_id)
    return {"id": push.pk, "state": push.state}
