"""The monthly cycle at its edges: a union without new candidates, a stale run queued again, a
step failing after another worker took the run over, a database error during ingestion."""

import datetime as dt
from unittest import mock

import pytest
from django.db import DatabaseError
from django.utils import timezone

from core.models import AuditEntry, Notification
from hardship import cycle
from hardship.models import Candidate, CycleRun, DataPush
from tests.hardship.conftest import grant_hardship
from tests.hardship.test_cycle import queued_push

P = "2025-03"


@pytest.fixture
def g1_and_g2_hardship(tree, staff):
    from tests.factories import StaffFactory

    return grant_hardship(staff), grant_hardship(StaffFactory(username="g2hardship", union=tree.g2))


def test_a_union_without_new_candidates_is_not_notified(tree, g1_and_g2_hardship, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        figures = cycle.notify_new_candidates(period=P, new_by_union={tree.g1.pk: 0, tree.g2.pk: 2})

    assert figures == {"unions": 1, "recipients": 1, "without_staff": 0}
    notes = Notification.objects.filter(kind="hardship.candidates.new")
    assert list(notes.values_list("recipient__username", flat=True)) == ["g2hardship"]
    assert f"union__id__exact={tree.g2.pk}" in notes.get().link


def test_a_stale_running_cycle_may_be_queued_again_and_is_left_for_the_task_to_take_over(
    tree, city_staff, settings, django_capture_on_commit_callbacks
):
    settings.HARDSHIP_CYCLE_STALE_SECONDS = 600
    starter = grant_hardship(city_staff, "change_cyclerun")
    stale = timezone.now() - dt.timedelta(seconds=601)
    CycleRun.objects.create(period=P, state="running", worker="dead:1", heartbeat_at=stale, steps={"match": {}})

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        run = cycle.cycle_start(period=P, actor=starter)

    assert len(callbacks) == 1
    assert (run.state, run.worker) == ("running", "dead:1")  # not "queued": the claim stays for the takeover
    assert run.steps == {"match": {}}
    assert AuditEntry.objects.filter(action="hardship.cycle.queued", actor=starter).count() == 1


def test_a_step_failing_after_the_run_was_taken_over_leaves_the_run_to_the_new_worker(member, push_row):
    push_row("medical", P, {"out_of_pocket": "60000.00"}, member=member)

    def taken_over_then_fails(runner):  # the ingest step commits as it goes: the takeover stays
        CycleRun.objects.filter(period=P).update(worker="someone-else")
        raise RuntimeError("ingestion broke")

    with (
        mock.patch.dict("hardship.cycle.steps.STEPS", {"ingest": taken_over_then_fails}),
        pytest.raises(RuntimeError, match="ingestion broke"),
    ):
        cycle.cycle_run(period=P)

    run = CycleRun.objects.get(period=P)
    assert (run.state, run.worker) == ("running", "someone-else")  # not marked failed by the loser
    assert Candidate.objects.count() == 0


def test_a_database_error_while_ingesting_stops_the_cycle_and_the_push_stays_pending(member, settings):
    push = queued_push(member, settings)

    with (
        mock.patch("hardship.cycle.steps.push_ingest", side_effect=DatabaseError("connection lost")),
        pytest.raises(DatabaseError),
    ):
        cycle.cycle_run(period=P)

    run = CycleRun.objects.get(period=P)
    assert run.state == "failed"
    assert run.steps["ingest"]["state"] == "failed" and "connection lost" in run.steps["ingest"]["error"]
    assert "screen" not in run.steps
    assert DataPush.objects.get(pk=push.pk).state == "pending"


# --- A typed period that has not begun (issue 10: typed periods without bounds that feed a rule) --------


@pytest.mark.parametrize("period", ["2031-06", "2027-01"])
def test_it_refuses_the_cycle_of_a_period_that_has_not_begun_in_the_service_the_run_and_the_admin(
    client, city_staff, period
):
    """A typed 2031-06 would refresh a warmth roster for 2031 and publish outbound data for it."""
    from core.errors import ServiceError

    user = grant_hardship(city_staff, "view_cyclerun", "change_cyclerun")  # the cycle is city-level
    today = dt.date(2026, 12, 7)
    with mock.patch("hardship.periods.timezone.localdate", return_value=today):
        with pytest.raises(ServiceError) as exc:
            cycle.cycle_start(period=period, actor=user)
        assert exc.value.code == "period_in_future" and "2026-12" in exc.value.message
        with pytest.raises(ServiceError) as exc:
            cycle.cycle_run(period=period)
        assert exc.value.code == "period_in_future"
        client.force_login(user)
        resp = client.post("/admin/hardship/cyclerun/run/", {"period": period})
        assert resp.status_code == 200 and f"{period} 尚未开始" in resp.content.decode()
        assert not CycleRun.objects.exists()
        assert not AuditEntry.objects.filter(action="hardship.cycle.queued").exists()
        # This month and the months before it run.
        assert cycle.cycle_start(period="2026-12", actor=user).period == "2026-12"
