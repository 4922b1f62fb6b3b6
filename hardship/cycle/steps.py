"""The six steps of the monthly cycle: ingest → match → screen → roster → notify → publish."""

import logging
import time
from collections import defaultdict

from billiard.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import DatabaseError
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from core.errors import ServiceError
from core.models import Agency
from core.parsing import period_parse
from hardship.cycle.notify import notify_new_candidates
from hardship.cycle.runner import CycleClaimLost, CycleRunner
from hardship.ingest.stored import push_ingest
from hardship.models import CycleRun, DataPush
from hardship.periods import period_months, period_of_month
from hardship.screening.candidates import screen
from hardship.screening.matching import match_rows
from hardship.screening.roster import roster_refresh
from hardship.screening.rules import rules_ensure_defaults
from hardship.selectors.outbound import outbound_people

log = logging.getLogger(__name__)


class PushesPending(ServiceError):
    """Pushes of the period are still waiting for ingestion: the cycle must not screen without
    them. The ingest step fails (its run too); the Celery task retries later."""


def _ingest_wait_seconds() -> int:
    return int(getattr(settings, "HARDSHIP_CYCLE_INGEST_WAIT_SECONDS", 3600))


def _ingest_poll_seconds() -> float:
    return float(getattr(settings, "HARDSHIP_CYCLE_INGEST_POLL_SECONDS", 2))


def _step_ingest(runner: CycleRunner) -> dict:
    """Ingest every push waiting for it (any period: a late push still counts in later windows).

    A push another worker is ingesting (its Celery task) is waited for, with heartbeats, and
    taken over if that worker dies; a long push beats between its chunks. One push that fails
    unexpectedly does not hold up the others, but the step is done only when no push of the
    cycle's own period is left pending (else `PushesPending`: the run fails, to be retried).
    """
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


def _step_match(runner: CycleRunner) -> dict:
    runner.tick()
    return match_rows(period=runner.period)


def _step_screen(runner: CycleRunner) -> dict:
    rules_ensure_defaults()
    return screen(period=runner.period, tick=runner.tick)


def _step_roster(runner: CycleRunner) -> dict:
    runner.tick()
    return roster_refresh(year=period_parse(runner.period).year)


def _step_notify(runner: CycleRunner) -> dict:
    new_by_union = runner.steps.get("screen", {}).get("figures", {}).get("new_by_union", {})
    return notify_new_candidates(period=runner.period, new_by_union={int(k): v for k, v in new_by_union.items()})


def _step_publish(runner: CycleRunner) -> dict:
    runner.tick()
    CycleRun.objects.filter(pk=runner.run.pk, worker=runner.token).update(published_at=timezone.now())
    agencies = Agency.objects.filter(is_active=True).order_by("code")
    return {"people_by_agency": {a.code: outbound_people(agency=a, period=runner.period).count() for a in agencies}}


STEPS = {
    "ingest": _step_ingest,
    "match": _step_match,
    "screen": _step_screen,
    "roster": _step_roster,
    "notify": _step_notify,
    "publish": _step_publish,
}
