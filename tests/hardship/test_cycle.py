"""The monthly cycle: steps recorded and committed one by one, claimed by one worker at a time,
idempotent (run twice → same result, one notification per union), resumable after a failure."""

import datetime as dt
import time
from io import StringIO
from unittest import mock

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from core.errors import ServiceError
from core.models import AuditEntry, Notification
from hardship import cycle, periods, screening
from hardship.cycle import run as cycle_run_module
from hardship.cycle import runner as cycle_runner
from hardship.models import Candidate, CycleRun, PushRow, WarmthRosterEntry
from tests.factories import id_number
from tests.hardship.conftest import grant_hardship

P = "2025-03"


@pytest.fixture
def month(member, other_member, push_row):
    """Rows of one month: a candidate in G1 (member) and one in G2 (other_member), a non-member."""
    push_row("medical", P, {"out_of_pocket": "60000.00"}, member=member)
    push_row("work_injury", P, {"injury_date": "2025-01-09", "grade": 3}, member=other_member)
    push_row("medical", P, {"out_of_pocket": "99000.00"}, id_number=id_number())


@pytest.fixture
def g1_hardship(staff):
    return grant_hardship(staff)


@pytest.fixture
def g2_hardship(tree):
    from tests.factories import StaffFactory

    return grant_hardship(StaffFactory(username="g2hardship", union=tree.g2))


def figures(run):
    return {name: info["figures"] for name, info in run.steps.items()}


def test_a_cycle_runs_every_step_and_records_its_figures(month, member, g1_hardship, g2_hardship):
    run = cycle.cycle_run(period=P)

    assert (run.state, run.runs, run.skipped) == ("done", 1, None)
    assert [run.steps[s]["state"] for s in CycleRun.STEPS] == ["done"] * 6
    assert run.steps["match"]["figures"]["by_agency_kind"]["nhsa/medical"] == {"rows": 2, "matched": 1, "unmatched": 1}
    assert run.steps["screen"]["figures"]["new"] == 2
    assert run.steps["roster"]["figures"]["year"] == 2025
    assert run.steps["notify"]["figures"] == {"unions": 2, "recipients": 2, "without_staff": 0}
    assert run.published_at is not None and run.finished_at is not None
    assert Candidate.objects.count() == 2
    assert PushRow.objects.filter(member__isnull=True).count() == 1


def test_running_twice_gives_the_same_result_and_one_notification_per_union(
    month, member, other_member, g1_hardship, g2_hardship, other_staff, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        first = cycle.cycle_run(period=P)
        again = cycle.cycle_run(period=P)
    assert again.skipped == "done" and again.runs == 1

    with django_capture_on_commit_callbacks(execute=True):
        rerun = cycle.cycle_run(period=P, restart=True)

    assert rerun.state == "done" and rerun.runs == 2
    assert Candidate.objects.count() == 2
    assert rerun.steps["screen"]["figures"]["new"] == 0
    assert rerun.steps["match"]["figures"]["by_agency_kind"] == first.steps["match"]["figures"]["by_agency_kind"]
    notes = Notification.objects.filter(kind="hardship.candidates.new")
    assert sorted(notes.values_list("recipient__username", flat=True)) == ["g1staff", "g2hardship"]
    assert not notes.filter(recipient=other_staff).exists()  # 南浔区 staff without the permission
    note = notes.get(recipient=g1_hardship)
    assert member.union.name in note.body and P in note.body
    assert note.dedupe_key == f"hardship-cycle-{P}-union-{member.union_id}:{g1_hardship.pk}"


def test_the_nearest_hardship_staff_up_the_tree_are_notified(
    month, member, district_staff, other_staff, city_staff, django_capture_on_commit_callbacks
):
    wx = grant_hardship(district_staff)
    grant_hardship(city_staff)
    with django_capture_on_commit_callbacks(execute=True):
        cycle.cycle_run(period=P)
    recipients = set(Notification.objects.values_list("recipient_id", flat=True))
    # G1 has no hardship staff: 吴兴区's are told; the city is not (it is further up), nor 南浔区's outsider.
    assert wx.pk in recipients and other_staff.pk not in recipients
    assert Notification.objects.filter(recipient=wx).count() == 1


def test_a_unions_hardship_staff_are_its_staff_with_the_permission_not_a_superuser_of_it(
    member, tree, open_case, case_staff, django_capture_on_commit_callbacks
):
    from hardship.selectors import case_staff_ids, hardship_staff_for
    from tests.factories import StaffFactory

    StaffFactory(username="g1root", union=tree.g1, is_superuser=True)
    StaffFactory(username="wxnoperm", union=tree.wx)  # staff without the hardship permission
    wx_hardship = grant_hardship(StaffFactory(username="wxhardship", union=tree.wx))
    case_staff.user_permissions.clear()  # G1's only hardship staff loses the permission

    # One rule for both: G1 has no hardship staff (a superuser is not one), so 吴兴区's are its.
    assert hardship_staff_for([tree.g1.pk]) == {tree.g1.pk: [wx_hardship.pk]}
    assert case_staff_ids(open_case) == [wx_hardship.pk, case_staff.pk]  # and whoever opened the case
    with django_capture_on_commit_callbacks(execute=True):
        cycle.notify_new_candidates(period=P, new_by_union={member.union_id: 1})
    sent = Notification.objects.filter(kind="hardship.candidates.new")
    assert list(sent.values_list("recipient__username", flat=True)) == ["wxhardship"]


def test_notifying_a_union_again_for_the_same_period_sends_nothing_new(
    member, g1_hardship, django_capture_on_commit_callbacks
):
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            cycle.notify_new_candidates(period=P, new_by_union={member.union_id: 3})
    assert Notification.objects.filter(recipient=g1_hardship).count() == 1
    with django_capture_on_commit_callbacks(execute=True):
        cycle.notify_new_candidates(period="2025-04", new_by_union={member.union_id: 1})
    assert Notification.objects.filter(recipient=g1_hardship).count() == 2


def test_a_failed_step_is_redone_on_the_next_run_with_nothing_lost_or_doubled(
    month, g1_hardship, g2_hardship, django_capture_on_commit_callbacks
):
    real = screening.screen_rule
    calls = []

    def flaky(rule, **kwargs):
        calls.append(rule.kind)
        if len(calls) == 3:  # halfway through the screening step
            raise RuntimeError("worker lost")
        return real(rule, **kwargs)

    with mock.patch("hardship.screening.candidates.screen_rule", side_effect=flaky), pytest.raises(RuntimeError):
        cycle.cycle_run(period=P)

    run = CycleRun.objects.get(period=P)
    assert run.state == "failed"
    assert (run.steps["ingest"]["state"], run.steps["match"]["state"]) == ("done", "done")
    assert run.steps["screen"]["state"] == "failed" and "worker lost" in run.steps["screen"]["error"]
    assert "roster" not in run.steps and "notify" not in run.steps
    assert Candidate.objects.count() == 0  # the step's work was rolled back
    assert not Notification.objects.exists()
    match_figures = run.steps["match"]["figures"]

    with django_capture_on_commit_callbacks(execute=True):
        run = cycle.cycle_run(period=P)

    assert run.state == "done" and run.runs == 2
    assert run.steps["match"]["figures"] == match_figures  # done before: not run again
    assert run.steps["screen"]["attempts"] == 2 and run.steps["screen"]["figures"]["new"] == 2
    assert Candidate.objects.count() == 2
    assert Notification.objects.filter(kind="hardship.candidates.new").count() == 2


def test_a_run_another_worker_is_busy_with_is_skipped_and_a_stale_one_taken_over(month, settings):
    settings.HARDSHIP_CYCLE_STALE_SECONDS = 600
    CycleRun.objects.create(period=P, state="running", worker="elsewhere:1", heartbeat_at=timezone.now(), runs=1)

    run = cycle.cycle_run(period=P)

    assert run.skipped == "busy" and run.worker == "elsewhere:1"
    assert Candidate.objects.count() == 0
    CycleRun.objects.filter(period=P).update(heartbeat_at=timezone.now() - dt.timedelta(seconds=601))

    run = cycle.cycle_run(period=P)

    assert (run.state, run.runs, run.skipped) == ("done", 2, None)
    assert run.worker != "elsewhere:1"
    assert Candidate.objects.count() == 2


def test_a_worker_whose_run_was_taken_over_rolls_its_step_back(month):
    real = screening.screen_rule

    def taken_over(rule, **kwargs):
        result = real(rule, **kwargs)
        CycleRun.objects.filter(period=P).update(worker="someone-else")
        return result

    with (
        mock.patch("hardship.screening.candidates.screen_rule", side_effect=taken_over),
        pytest.raises(cycle.CycleClaimLost),
    ):
        cycle.cycle_run(period=P)

    assert Candidate.objects.count() == 0  # rolled back


def test_the_ingest_step_ingests_every_pending_push(member, other_member, settings):
    from hardship.models import DataPush

    # two pushes of the month and a late one of the month before, all queued, none ingested yet
    march = queued_push(member, settings)
    march_too = queued_push(other_member, settings, batch_id="nhsa-2025-03-b")
    february = queued_push(member, settings, period="2025-02", batch_id="nhsa-2025-02")

    run = cycle.cycle_run(period=P)

    assert run.steps["ingest"]["figures"] == {
        "pushes": 3, "accepted": 3, "rejected": 0, "errors": 0, "states": {"ingested": 3}
    }  # fmt: skip
    states = dict(DataPush.objects.values_list("pk", "state"))
    assert states == {march.pk: "ingested", march_too.pk: "ingested", february.pk: "ingested"}
    assert PushRow.objects.filter(push__period=P).count() == 2
    assert sorted(Candidate.objects.values_list("member_id", flat=True)) == sorted([member.pk, other_member.pk])


def test_a_queued_push_is_ingested_matched_and_screened_by_the_cycle(member, settings):
    from hardship import ingest, pushformats
    from hardship.models import DataPush
    from tests.factories import AgencyFactory

    settings.HARDSHIP_PUSH_SYNC_MAX_ROWS = 0  # queued for the worker, which (in this test) never comes
    rows = [
        {"source_key": "YB-1", "id_number": member.id_number, "name": member.name, "total_cost": "439305.46",
         "reimbursed": "285120.79", "out_of_pocket": "154184.67", "illness_category": "肝衰竭"},
        {"source_key": "YB-2", "id_number": id_number(), "total_cost": "10", "reimbursed": "5", "out_of_pocket": "5"},
    ]  # fmt: skip
    sha, count = pushformats.rows_sha256([rows])
    manifest = {"kind": "medical", "period": P, "batch_id": "nhsa-2025-03", "row_count": count, "sha256": sha}
    push = ingest.push_receive_json(agency=AgencyFactory(code="nhsa", name="医保局"), manifest=manifest, rows=rows)
    assert push.state == DataPush.State.PENDING

    run = cycle.cycle_run(period=P)

    assert run.steps["ingest"]["figures"]["accepted"] == 2
    assert run.steps["match"]["figures"]["by_agency_kind"]["nhsa/medical"] == {"rows": 2, "matched": 1, "unmatched": 1}
    (cand,) = Candidate.objects.all()
    assert cand.member == member and cand.evidence["total"] == "154184.67"


def test_the_roster_step_adds_confirmed_candidates(month, member):
    first = cycle.cycle_run(period=P)
    assert first.steps["roster"]["figures"]["added"] == 0  # open candidates are not on the roster yet
    Candidate.objects.filter(member=member).update(state=Candidate.State.CONFIRMED)

    rerun = cycle.cycle_run(period=P, restart=True)

    assert rerun.steps["roster"]["figures"]["added"] == 1
    assert WarmthRosterEntry.objects.filter(member=member, year=2025, is_active=True, source="screening").exists()


# --- Doors: the command, the task, the beat entry, the admin's start -----------------------------


def test_the_command_runs_the_cycle_and_prints_each_steps_figures(month):
    out = StringIO()
    call_command("run_hardship_cycle", "--period", P, stdout=out)
    text = out.getvalue()
    assert f"Cycle {P}: done" in text
    for step in CycleRun.STEPS:
        assert f"  {step} " in text
    assert '"newly_matched": 2' in text

    out = StringIO()
    call_command("run_hardship_cycle", "--period", P, stdout=out)
    assert "already done" in out.getvalue()


def test_the_command_refuses_a_bad_period(db):
    with pytest.raises(CommandError):
        call_command("run_hardship_cycle", "--period", "2025-13", stdout=StringIO())


def test_the_task_acknowledges_late_and_runs_the_cycle(month):
    from hardship.tasks import run_cycle

    assert run_cycle.acks_late and run_cycle.reject_on_worker_lost
    assert run_cycle.time_limit and run_cycle.soft_time_limit < run_cycle.time_limit
    assert run_cycle.delay(P).get() == {"period": P, "state": "done", "skipped": None}


def test_the_task_without_a_period_runs_the_previous_month(db):
    from hardship.tasks import run_cycle

    assert run_cycle.delay().get()["period"] == periods.previous_month()


def test_beat_runs_the_cycle_monthly_on_the_configured_day():
    from unionportal.celery import app

    entry = app.conf.beat_schedule["hardship-monthly-cycle"]
    assert entry["task"] == "hardship.tasks.run_cycle"
    assert entry["schedule"].day_of_month == {5} and entry["schedule"].hour == {2} and entry["schedule"].minute == {0}


def test_staff_may_start_the_cycle_from_the_admin_audited_and_queued_on_commit(
    month, city_staff, django_capture_on_commit_callbacks
):
    starter = grant_hardship(city_staff, "change_cyclerun")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        run = cycle.cycle_start(period=P, actor=starter)
    assert run.state == "queued" and len(callbacks) == 1
    assert CycleRun.objects.get(period=P).state == "done"  # the task ran (eagerly) once committed
    assert AuditEntry.objects.filter(action="hardship.cycle.queued", actor=starter).exists()

    with pytest.raises(ServiceError) as err:
        cycle.cycle_start(period=P, actor=starter)
    assert err.value.code == "cycle_done"
    with django_capture_on_commit_callbacks(execute=True):
        cycle.cycle_start(period=P, actor=starter, restart=True)
    assert CycleRun.objects.get(period=P).runs == 2


def test_staff_without_the_permission_may_not_start_the_cycle(month, other_staff):
    with pytest.raises(ServiceError) as err:
        cycle.cycle_start(period=P, actor=grant_hardship(other_staff))
    assert err.value.code == "forbidden"
    assert not CycleRun.objects.exists()


def test_a_running_cycle_is_not_started_again(month, city_staff):
    starter = grant_hardship(city_staff, "change_cyclerun")
    CycleRun.objects.create(period=P, state="running", worker="w", heartbeat_at=timezone.now())
    with pytest.raises(ServiceError) as err:
        cycle.cycle_start(period=P, actor=starter)
    assert err.value.code == "cycle_running"


def test_the_command_reports_a_failure_that_came_before_the_run_existed(db, monkeypatch):
    from hardship.management.commands import run_hardship_cycle

    def broken(**kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(run_hardship_cycle, "cycle_run", broken)
    with pytest.raises(CommandError, match="The cycle of 2025-03 failed: RuntimeError: database went away"):
        call_command("run_hardship_cycle", "--period", "2025-03", stdout=StringIO())


# --- Pushes still being ingested -------------------------------------------------------------------


def queued_push(member, settings, *, period=P, batch_id="nhsa-2025-03", rows=None):
    """A medical push of `member` (out of pocket 154,184.67) stored for ingestion, not ingested."""
    from hardship import ingest, pushformats
    from tests.factories import AgencyFactory

    settings.HARDSHIP_PUSH_SYNC_MAX_ROWS = 0  # queued for the worker, which (in these tests) never comes
    rows = rows or [
        {"source_key": f"YB-{batch_id}", "id_number": member.id_number, "total_cost": "439305.46",
         "reimbursed": "285120.79", "out_of_pocket": "154184.67"},
    ]  # fmt: skip
    sha, count = pushformats.rows_sha256([rows])
    manifest = {"kind": "medical", "period": period, "batch_id": batch_id, "row_count": count, "sha256": sha}
    agency = AgencyFactory(code="nhsa", name="医保局")
    with mock.patch("hardship.ingest.receive._queue_ingest"):
        push = ingest.push_receive_json(agency=agency, manifest=manifest, rows=rows)
    assert push.state == "pending"
    return push


def test_the_cycle_does_not_screen_while_a_push_of_its_period_is_still_pending(member, settings):
    from hardship.ingest import stored as ingest_stored
    from hardship.models import DataPush

    push = queued_push(member, settings)
    real = ingest_stored.ingest_records

    def broken(*args, **kwargs):
        raise RuntimeError("storage unavailable")

    with (
        mock.patch.object(ingest_stored, "ingest_records", side_effect=broken),
        pytest.raises(cycle.PushesPending) as err,
    ):
        cycle.cycle_run(period=P)

    assert err.value.code == "pushes_pending" and str(push.pk) in err.value.message
    run = CycleRun.objects.get(period=P)
    assert run.state == "failed" and run.steps["ingest"]["state"] == "failed"
    assert "match" not in run.steps and not Candidate.objects.exists()
    assert DataPush.objects.get(pk=push.pk).state == "pending"

    with mock.patch.object(ingest_stored, "ingest_records", side_effect=real):
        run = cycle.cycle_run(period=P)  # the retry

    assert run.state == "done" and run.steps["ingest"]["attempts"] == 2
    assert Candidate.objects.get().member == member


def test_a_pending_push_of_another_period_does_not_hold_up_the_cycle(member, settings):
    from hardship.ingest import stored as ingest_stored

    queued_push(member, settings, period="2025-02", batch_id="nhsa-2025-02")

    with mock.patch.object(ingest_stored, "ingest_records", side_effect=RuntimeError("storage unavailable")):
        run = cycle.cycle_run(period=P)

    assert run.state == "done" and run.steps["ingest"]["figures"]["errors"] == 1


def test_the_cycle_beats_between_the_chunks_of_a_long_push(member, settings):
    settings.HARDSHIP_INGEST_CHUNK_ROWS = 1
    rows = [
        {"source_key": f"YB-{n}", "id_number": id_number(), "total_cost": "10", "reimbursed": "5", "out_of_pocket": "5"}
        for n in range(3)
    ]
    queued_push(member, settings, rows=rows)
    steps_at_tick = []
    real_tick = cycle_runner.CycleRunner.tick

    def tick(runner):
        steps_at_tick.append(runner.steps.get("ingest", {}).get("state"))
        real_tick(runner)

    with mock.patch.object(cycle_runner.CycleRunner, "tick", autospec=True, side_effect=tick):
        run = cycle.cycle_run(period=P)

    assert run.steps["ingest"]["figures"]["accepted"] == 3
    assert steps_at_tick.count("running") >= 4  # before the push, and after each of its 3 chunks


@pytest.mark.django_db(transaction=True)
def test_the_cycle_waits_for_a_push_another_worker_holds_and_takes_it_over(uses_postgres, member, settings):
    """Another worker's `ingest_push` task holds the push (its session lock) when the cycle
    starts; it dies a moment later. The cycle waits, beating, then ingests the push itself, and
    only then matches and screens."""
    import hashlib

    from django.db import connections

    from hardship.models import DataPush

    settings.HARDSHIP_CYCLE_INGEST_POLL_SECONDS = 0.05
    push = queued_push(member, settings)
    key = int.from_bytes(hashlib.sha256(f"hardship.push.ingest:{push.pk}".encode()).digest()[:8], "big", signed=True)
    other = connections.create_connection("default")
    with other.cursor() as cur:
        cur.execute("SELECT pg_advisory_lock(%s)", [key])
    waits = []
    real_sleep = time.sleep

    def sleep(seconds):
        waits.append(seconds)
        if len(waits) == 5:  # the other worker dies: its lock goes with its connection
            other.close()
        real_sleep(seconds)

    try:
        with mock.patch("hardship.cycle.steps.time.sleep", side_effect=sleep):
            run = cycle.cycle_run(period=P)
    finally:
        other.close()

    assert len(waits) >= 5
    assert DataPush.objects.get(pk=push.pk).state == "ingested"
    assert run.state == "done" and run.steps["ingest"]["figures"]["states"] == {"ingested": 1}
    assert Candidate.objects.get().member == member


@pytest.mark.django_db(transaction=True)
def test_the_cycle_gives_up_waiting_for_a_push_held_too_long(uses_postgres, member, settings):
    import hashlib

    from django.db import connections

    settings.HARDSHIP_CYCLE_INGEST_POLL_SECONDS = 0.01
    settings.HARDSHIP_CYCLE_INGEST_WAIT_SECONDS = 0
    push = queued_push(member, settings)
    key = int.from_bytes(hashlib.sha256(f"hardship.push.ingest:{push.pk}".encode()).digest()[:8], "big", signed=True)
    other = connections.create_connection("default")
    try:
        with other.cursor() as cur:
            cur.execute("SELECT pg_advisory_lock(%s)", [key])
        with pytest.raises(cycle.PushesPending):
            cycle.cycle_run(period=P)
    finally:
        other.close()
    run = CycleRun.objects.get(period=P)
    assert run.state == "failed" and "match" not in run.steps


def test_the_task_retries_a_run_stopped_by_pending_pushes(db, settings, monkeypatch):
    from celery.exceptions import Retry

    from hardship import tasks

    def stopped(**kwargs):
        raise cycle.PushesPending("pushes_pending", "waiting")

    monkeypatch.setattr(cycle_run_module, "cycle_run", stopped)  # where the task finds it when it runs
    settings.HARDSHIP_CYCLE_STALE_SECONDS = 120
    with mock.patch.object(tasks.run_cycle, "retry", side_effect=Retry()) as retry, pytest.raises(Retry):
        tasks.run_cycle.run(P)
    assert retry.call_args.kwargs["countdown"] == 120
