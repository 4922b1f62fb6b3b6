"""Queueing the cycle of a period from the admin: audited, the task queued once it commits."""

import datetime as dt

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import ErrorKind, ServiceError
from core.services import audit_log
from hardship.cycle.runner import run_for, stale_seconds
from hardship.models import CycleRun
from hardship.periods import period_not_future
from hardship.tasks import run_cycle
from members.services.scope import require_city_level


def cycle_start(*, period: str, actor, restart: bool = False) -> CycleRun:
    """Queue the cycle of `period` (admin door): audited; the task is queued once this commits.

    With `restart`, every step runs again (all are idempotent). Refused when another worker is
    running it now (`cycle_running`), or when it is done and `restart` is not asked for (`cycle_done`).
    """

    if not (getattr(actor, "is_staff", False) and actor.has_perm("hardship.change_cyclerun")):
        raise ServiceError("forbidden", _("You may not start the monthly hardship cycle."), kind=ErrorKind.FORBIDDEN)
    require_city_level(actor)  # the cycle screens and publishes for the whole city
    period = period_not_future(period)
    with transaction.atomic():
        run = CycleRun.objects.select_for_update().filter(pk=run_for(period).pk).get()
        fresh = run.heartbeat_at and run.heartbeat_at >= timezone.now() - dt.timedelta(seconds=stale_seconds())
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
