"""Running (or resuming) the monthly cycle of a period, step by step, each step's state and
figures recorded in `CycleRun.steps`."""

import logging
import time

from django.db import transaction
from django.utils import timezone

from hardship.cycle.runner import CycleClaimLost, CycleRunner, run_claim, runner_token
from hardship.cycle.steps import STEPS
from hardship.models import CycleRun
from hardship.periods import period_not_future

log = logging.getLogger(__name__)


def cycle_run(*, period: str, restart: bool = False) -> CycleRun:
    """Run (or resume) the monthly cycle of `period`; see the module doc.

    Returns the run. When it is not run, `run.skipped` says why: "done" (finished before; pass
    `restart=True` to run every step again) or "busy" (another worker holds a fresh claim).
    A step that raises marks the step and the run `failed` and the exception propagates.
    """
    period = period_not_future(period)
    token = runner_token()
    run = run_claim(period, restart=restart, token=token)
    if run is None:
        run = CycleRun.objects.get(period=period)
        run.skipped = "done" if run.state == CycleRun.State.DONE else "busy"
        return run
    runner = CycleRunner(run, token)
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


def _run_step(runner: CycleRunner, name: str) -> None:
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
