"""Hardship demo data: the default demo fills the admin; `--scenario jiangshan` builds a county whose
year, run through ingestion and the monthly cycle, lands near the county's published figures."""

from collections import Counter
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command

from hardship import reports, seed
from hardship.models import Aid, Candidate, Case, CycleRun, DataPush, PushRow, Referral, WarmthBatch
from members.models import Member, Union, User
from members.seed.registry import SeedContext

D = Decimal


def run_seed(*args) -> str:
    out = StringIO()
    call_command("seed_demo", "--members", "300", "--no-progress", *args, stdout=out)
    return out.getvalue()


def hardship_counts() -> dict:
    return {m.__name__: m.objects.count() for m in (DataPush, PushRow, Candidate, Case, Aid, CycleRun)}


# --- The default demo -------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_default_demo_has_pushes_a_cycle_and_cases_and_runs_once():
    run_seed()
    first = hardship_counts()

    assert first["DataPush"] == 10 and first["PushRow"] > 40
    assert set(CycleRun.objects.values_list("state", flat=True)) == {"done"}
    assert first["Candidate"] > 0 and first["Case"] >= 1
    assert Aid.objects.filter(case__isnull=False).exists()
    wuxing = User.objects.get(username="wuxing")
    assert wuxing.has_perm("hardship.view_case") and wuxing.has_perm("hardship.list_all_cases")
    assert not User.objects.get(username="g-g0001").has_perm("hardship.list_all_cases")
    assert not Union.objects.filter(code=seed.JS_CODE).exists()  # the scenario only when asked for

    assert "demo data already present" in run_seed()
    assert hardship_counts() == first


@pytest.mark.django_db
def test_a_reset_removes_the_hardship_data_before_the_members():
    run_seed()
    run_seed("--reset")

    assert DataPush.objects.filter(batch_id__startswith=seed.DEMO_BATCH_PREFIX).count() == 10
    assert Member.objects.count() == 300


# --- The Jiangshan plan (pure) ----------------------------------------------------------------


def test_the_jiangshan_plan_is_deterministic_and_of_the_countys_size():
    ctx = SeedContext(seed=1, progress=False)
    plan = seed.jiangshan_plan(ctx)
    again = seed.jiangshan_plan(SeedContext(seed=1, progress=False))

    assert [m.id_number for m in plan.members[:50]] == [m.id_number for m in again.members[:50]]
    assert plan.pushes[3] == again.pushes[3]
    kinds = Counter()
    for pushes in plan.pushes.values():
        for _agency, kind, rows in pushes:
            kinds[kind] += len(rows)
    assert sum(kinds.values()) >= 2000
    assert set(kinds) == {"low_income", "medical", "work_injury", "disability", "aid_given"}
    assert len(plan.members) == seed.JS_MEMBERS
    assert len({m.id_number for m in plan.members}) == seed.JS_MEMBERS
    assert all(m.id_number.startswith(seed.JS_REGION) for m in plan.members)


def test_the_newspapers_example_adds_up():
    plan = seed.jiangshan_plan(SeedContext(seed=1, progress=False), members=400, scale=0.05)
    zhou = plan.members[0]
    rows = [
        r
        for pushes in plan.pushes.values()
        for _a, kind, rs in pushes
        if kind == "medical"
        for r in rs
        if r["id_number"] == zhou.id_number
    ]
    assert zhou.name == "周建新"
    assert sum(D(r["total_cost"]) for r in rows) == D("439305.46")
    assert sum(D(r["out_of_pocket"]) for r in rows) == D("154184.67")
    assert all(D(r["total_cost"]) == D(r["reimbursed"]) + D(r["out_of_pocket"]) for r in rows)
    household = plan.households[0]
    assert household.aid == [(5, "illness", D("27000.00"), "大病救助")]
    assert household.referral == ("disability_insurance", "cdpf", True, D("15000.00"))


# --- The Jiangshan year, through ingestion and the cycle -------------------------------------------


@pytest.mark.django_db
def test_the_jiangshan_scenario_lands_near_the_countys_year(monkeypatch):
    """A fifth of the county (3,000 members): records and the warmth roster scale with it; the 27
    files, their aid and the 12 referrals granted do not."""
    monkeypatch.setattr(seed, "JS_MEMBERS", 3000)
    out = run_seed("--scenario", "jiangshan")
    staff = User.objects.get(username="js-admin")
    f = reports.period_figures(user=staff, period="2025")

    assert "Jiangshan 2025:" in out

    assert 380 <= f["received_total"] <= 480
    assert f["matched_total"] >= f["received_total"] * 0.45
    assert f["cases"]["filed"] == 27
    assert f["referrals"]["granted"] == 12
    assert CycleRun.objects.filter(period__startswith="2025-", state="done").count() == 12
    spring = WarmthBatch.objects.get(period="2025-01")
    assert spring.recipients == 89 and spring.total == D("716.00") * 89 and spring.state == "approved"
    assert 90 <= f["warmth"]["roster"] <= 125
    assert f["warmth"]["recipients"] >= spring.recipients
    assert f["candidates"]["confirmed"] == 29 and f["candidates"]["open"] > 0
    # About 707,500 CNY for the whole county: a fifth of it here, within 10 %.
    assert abs(f["aid_total"]["amount"] - D("141500")) <= D("14150")

    zhou = Member.objects.get(union__path__startswith="JS/", name="周建新")
    case = Case.objects.get(head=zhou)
    assert case.state == "receiving_aid" and case.category == "deep"
    assert case.medical_expenditure == "154184.67"
    assert Aid.objects.get(case=case).amount == D("27000.00")
    referral = Referral.objects.get(case=case)
    assert (referral.agency.code, referral.state, referral.amount) == ("cdpf", "granted", D("15000.00"))

    march = reports.period_figures(user=staff, period="2025-03")
    assert march["received_total"] > 0 and march["funnel"][0]["value"] >= march["funnel"][1]["value"]
