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
  outbound data for it (`GET /api/v1/hardship/outbound?period=…`, see `outbound_people`).

The test-only hook `HARDSHIP_CYCLE_TEST_DELAY` (a setting or environment variable, seconds) slows
every chunk down so a test can kill a worker in the middle of a step.

- `run`: `cycle_run` and the recording of each step; `runner`: claiming a run and keeping it alive;
- `steps`: the six steps; `notify`: telling the responsible staff of new candidates;
- `start`: queueing a run from the admin.

The outbound data the agencies read once a period is published is in `hardship.selectors.outbound`.
"""

from hardship.cycle.notify import notify_new_candidates
from hardship.cycle.run import cycle_run
from hardship.cycle.runner import CycleClaimLost
from hardship.cycle.start import cycle_start
from hardship.cycle.steps import PushesPending

__all__ = [
    "CycleClaimLost",
    "PushesPending",
    "cycle_run",
    "cycle_start",
    "notify_new_candidates",
]
