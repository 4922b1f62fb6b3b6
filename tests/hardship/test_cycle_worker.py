"""The killed-worker rerun with a REAL Celery worker on PostgreSQL and Redis (skipped elsewhere).

The pool process running the cycle is SIGKILLed in the middle of the (slowed-down) screening
step. The worker replaces the lost process with a new one; as the task acknowledges late and
rejects its message when its worker is lost, the message is redelivered, the new process waits
for the dead claim to go stale, takes the run over, skips the steps already done, redoes the
interrupted one, and ends with the same figures as a clean run: nothing doubled, nothing lost.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from core.models import Notification
from hardship import cycle
from hardship.models import Candidate, CycleRun, PushRow, WarmthRosterEntry
from tests.factories import StaffFactory, id_number
from tests.hardship.conftest import grant_hardship

ROOT = Path(__file__).resolve().parents[2]
P = "2025-03"


def wait_for(predicate, proc, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        assert proc.poll() is None, proc.stdout.read()
        time.sleep(0.2)
    raise AssertionError(f"timed out; worker output so far:\n{_drain(proc)}")


def _drain(proc) -> str:
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.communicate(timeout=20)[0]
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.communicate()[0]


@pytest.fixture
def prefork_worker(uses_postgres, uses_redis, transactional_db):
    """A worker with one pool process, the cycle slowed down (1 s a chunk), claims stale after 3 s."""
    from unionportal.celery import app

    app.conf.task_always_eager = False
    app.control.purge()
    db = settings.DATABASES["default"]
    env = {
        **os.environ,
        "DEBUG": "1",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{connection.settings_dict['NAME']}",
        "REDIS_URL": settings.REDIS_URL,
        "SMS_BACKEND": "core.sms.ConsoleSmsBackend",
        "HARDSHIP_CYCLE_TEST_DELAY": "1",
        "HARDSHIP_CYCLE_STALE_SECONDS": "3",
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)

    def start():
        return subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "unionportal", "worker", "--pool=prefork", "--concurrency=1",
             "--loglevel=WARNING", "--without-gossip", "--without-mingle", "--without-heartbeat"],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip

    proc = start()
    yield proc
    if proc.poll() is None:
        _drain(proc)


def outcome(run: CycleRun) -> dict:
    return {
        "figures": {name: run.steps[name]["figures"] for name in CycleRun.STEPS},
        "candidates": sorted(Candidate.objects.values_list("member_id", "rule_id", "evidence_key", "state")),
        "notifications": sorted(Notification.objects.values_list("recipient_id", "dedupe_key")),
        "roster": sorted(WarmthRosterEntry.objects.values_list("member_id", "year", "is_active")),
        "matched": sorted(PushRow.objects.values_list("pk", "member_id")),
    }


def test_a_worker_killed_in_the_middle_of_a_step_loses_and_doubles_nothing(
    prefork_worker, member, other_member, tree, push_row
):
    from unionportal.celery import app

    push_row("medical", P, {"out_of_pocket": "60000.00"}, member=member)
    push_row("work_injury", P, {"injury_date": "2025-01-09", "grade": 3}, member=other_member)
    push_row("low_income", P, {"list": "dibao", "start_date": "2024-01-01", "status": "active"}, member=other_member)
    push_row("medical", P, {"out_of_pocket": "99000.00"}, id_number=id_number())
    grant_hardship(StaffFactory(username="g1hardship", union=tree.g1))
    grant_hardship(StaffFactory(username="g2hardship", union=tree.g2))

    # A clean run, in this process, for reference; then the same data back to its state before.
    app.conf.task_always_eager = True
    clean = outcome(cycle.cycle_run(period=P))
    app.conf.task_always_eager = False
    assert len(clean["candidates"]) == 3 and len(clean["notifications"]) == 2
    Candidate.objects.all().delete()
    Notification.objects.all().delete()
    WarmthRosterEntry.objects.all().delete()
    CycleRun.objects.all().delete()
    PushRow.objects.update(member=None)

    from hardship.tasks import run_cycle

    run_cycle.delay(P)
    # Kill the pool process running the task while it screens (its pid is in the claim).
    running = wait_for(
        lambda: CycleRun.objects.filter(period=P, steps__screen__state="running").first(), prefork_worker
    )
    assert running.steps["match"]["state"] == "done"
    pool_pid = int(running.worker.split(":")[1])
    assert pool_pid != prefork_worker.pid
    os.kill(pool_pid, signal.SIGKILL)

    done = wait_for(lambda: CycleRun.objects.filter(period=P, state="done").first(), prefork_worker)

    assert done.runs == 2  # claimed again after the kill
    assert done.steps["match"]["attempts"] == 1  # done before the kill: not run again
    assert done.steps["screen"]["attempts"] == 2  # interrupted: redone
    assert int(done.worker.split(":")[1]) != pool_pid
    # Notifications are delivered by the worker too, after the cycle's commit.
    wait_for(lambda: Notification.objects.count() >= len(clean["notifications"]), prefork_worker)
    assert outcome(done) == clean
