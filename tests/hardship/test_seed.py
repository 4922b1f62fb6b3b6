"""Hardship demo data: the default demo fills the admin; `--scenario jiangshan` builds a county whose
year, run through ingestion and the monthly cycle, lands near the county's published figures."""

from collections import Counter
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command

from core.seed import SeedContext
from hardship import reports, seed
from hardship.models import Aid, Candidate, Case, CycleRun, DataPush, PushRow, Referral, WarmthBatch
from members.models import Member, Union, User

# The demo commands run only in development (core.seed.refuse_outside_development).
pytestmark = pytest.mark.usefixtures("development")

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
def test_the_jiangshan_scenario_lands_near_the_countys_year():
    """The whole county (15,000 members, about 10 s on SQLite) through ingestion and 12 monthly cycles."""
    out = run_seed("--scenario", "jiangshan")
    staff = User.objects.get(username="js-admin")
    f = reports.period_figures(user=staff, period="2025")

    assert "Jiangshan 2025:" in out
    assert Member.objects.filter(union__path__startswith="JS/").count() == seed.JS_COUNTY_MEMBERS
    assert 2000 <= f["received_total"] <= 2200  # "2,000+ records a year"
    assert 0.55 <= f["matched_total"] / f["received_total"] <= 0.75  # the others are not members
    assert CycleRun.objects.filter(period__startswith="2025-", state="done").count() == 12
    assert f["cases"]["filed"] == 27  # "27 hardship files built"
    assert f["candidates"]["confirmed"] == 29 and f["candidates"]["open"] > 0  # two were withdrawn
    spring = WarmthBatch.objects.get(period="2025-01", union__code=seed.JS_CODE)
    assert (spring.recipients, spring.total, spring.state) == (445, D("318620.00"), "approved")  # "445 … 318,600"
    assert 500 <= f["warmth"]["roster"] <= 550  # "526 regular recipients"
    assert 500 <= f["warmth"]["recipients"] <= 550
    assert abs(f["aid_total"]["amount"] - D("707500")) <= D("3000")  # "707,500 CNY paid"
    assert f["referrals"]["granted"] == 12  # "twelve workers … got the benefits"

    zhou = Member.objects.get(union__path__startswith="JS/", name="周建新")
    case = Case.objects.get(head=zhou)
    assert case.state == "receiving_aid" and case.category == "deep"
    assert case.medical_expenditure == "154184.67"
    assert Aid.objects.get(case=case).amount == D("27000.00")
    referral = Referral.objects.get(case=case)
    assert (referral.agency.code, referral.state, referral.amount) == ("cdpf", "granted", D("15000.00"))
    rows = PushRow.objects.filter(member=zhou, kind="medical")
    assert sum(D(r.payload["out_of_pocket"]) for r in rows) == D("154184.67")
    assert {r.payload["grade"] for r in PushRow.objects.filter(member=zhou, kind="disability")} == {4}

    march = reports.period_figures(user=staff, period="2025-03")
    assert [s["value"] for s in march["funnel"]] == sorted((s["value"] for s in march["funnel"]), reverse=True)
    outsider = User.objects.get(username="wuxing")  # 吴兴区's staff see nothing of the county
    assert reports.period_figures(user=outsider, period="2025")["cases"]["filed"] == 0


@pytest.mark.django_db
def test_a_smaller_county_scales_the_records_but_not_the_files():
    ctx = SeedContext(seed=1, progress=False, log=lambda msg: None, scenario="jiangshan")
    f = seed.jiangshan_build(ctx, members=3000)

    assert 380 <= f["received_total"] <= 480
    assert f["cases"]["filed"] == 27 and f["referrals"]["granted"] == 12
    assert WarmthBatch.objects.get(period="2025-01").recipients == 89
