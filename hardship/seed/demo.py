"""`hardship.demo`: a few pushes of the demo city's last two months, run through the cycle, with a
case or two, so that the admin is not empty; and deleting every hardship row."""

import datetime as dt

from django.db import transaction
from django.utils import timezone

from core.models import Agency
from core.seed import SeedContext, seed_step
from hardship.cycle.run import cycle_run
from hardship.models import (
    AccessLog,
    Aid,
    Candidate,
    Case,
    CaseDocument,
    CaseEvent,
    CycleRun,
    DataPush,
    PushRow,
    Referral,
    WarmthBatch,
    WarmthRosterEntry,
)
from hardship.seed.pushes import money, push_rows, row
from hardship.seed.setup import AGENCIES, DEMO_BATCH_PREFIX, D
from hardship.services.aid import aid_create
from hardship.services.assessment import case_assess
from hardship.services.cases import candidate_dismiss, case_open, case_transition
from members.idgen import make_id_number
from members.models import Member, User


def _demo_members():
    return (
        Member.objects.filter(union__path__startswith="HZ/WX/", status=Member.Status.ACTIVE)
        .exclude(mobile="13800000000")
        .order_by("pk")
    )


def _demo_done(ctx: SeedContext | None = None) -> bool:
    if DataPush.objects.filter(batch_id__startswith=DEMO_BATCH_PREFIX).exists():
        return True
    return not _demo_members()[30:31].exists()  # the demo city is not there, or too small


def _months_before(today: dt.date, n: int) -> str:
    year, month = today.year, today.month - n
    while month < 1:
        year, month = year - 1, month + 12
    return f"{year:04d}-{month:02d}"


@seed_step("hardship.demo", order=310, done=_demo_done, reset=lambda ctx: delete_hardship_data(ctx))
def seed_demo_city(ctx: SeedContext) -> None:
    """Two months of pushes about members of 吴兴区 (and people who are not members), the cycle
    run for both, and what 吴兴区's staff did with the worklist: two cases, one filed with aid.

    One function: the pushes, the cycle and the staff's work form one story told in order from
    one random stream (the members picked are the ones the cases are opened for)."""
    rng = ctx.rng("hardship.demo")
    agencies = {a.code: a for a in Agency.objects.filter(code__in=[c for c, _n in AGENCIES])}
    members = list(_demo_members().values_list("pk", "id_number", "name")[:400])
    picked = rng.sample(members, 30)
    outsiders = [(None, make_id_number(rng, region="330502"), rng.choice("王李张刘陈") + "某") for _ in range(8)]
    today = timezone.localdate()
    periods = [_months_before(today, 2), _months_before(today, 1)]
    for n, period in enumerate(periods):
        year = int(period[:4])
        low = [
            row(num, f"li-{i}", list=rng.choice(["dibao", "dibian"]), start_date=f"{year - 1}-0{rng.randint(1, 9)}-01",
                status="active", name=name)
            for i, (_pk, num, name) in enumerate(picked[:8] + outsiders[:3])
        ]  # fmt: skip
        medical = []
        for i, (_pk, num, name) in enumerate(picked[8:22] + outsiders[3:6]):
            total = D(rng.randint(800, 9000)) + D(rng.randint(0, 99)) / 100
            if i < 2 and n == 1:
                total = D("186420.30") if i == 0 else D("98765.40")
            reimbursed = (total * D("0.62")).quantize(D("0.01"))
            medical.append(
                row(num, f"md-{period}-{i}", total_cost=money(total), reimbursed=money(reimbursed),
                    out_of_pocket=money(total - reimbursed), illness_category=rng.choice(["住院", "门诊慢病", "恶性肿瘤"]),
                    name=name)
            )  # fmt: skip
        injury = [
            row(num, f"wi-{i}", injury_date=f"{year - 1}-1{i % 3}-15", grade=[3, 7, 9, 10][i % 4], name=name)
            for i, (_pk, num, name) in enumerate(picked[22:26])
        ]
        disability = [
            row(num, f"ds-{i}", type=["肢体", "视力", "听力"][i % 3], grade=[2, 4, 3][i % 3], name=name)
            for i, (_pk, num, name) in enumerate(picked[26:29] + outsiders[6:7])
        ]
        aid_given = [
            row(picked[29][1], f"ag-{period}", body="民政局", purpose="临时救助", fund_line="living",
                amount="2000.00", date=f"{period}-08", name=picked[29][2])
        ]  # fmt: skip
        for code, kind, rows in (
            ("mca", "low_income", low),
            ("nhsa", "medical", medical),
            ("hrss", "work_injury", injury),
            ("cdpf", "disability", disability),
            ("mca", "aid_given", aid_given),
        ):
            push_rows(
                agency=agencies[code],
                kind=kind,
                period=period,
                batch_id=f"{DEMO_BATCH_PREFIX}{kind}-{period}",
                rows=rows,
            )
        cycle_run(period=period)
    staff = User.objects.filter(username="wuxing").first()
    if staff is None:
        return
    standard_year = today.year
    opened = []
    for cand in Candidate.objects.filter(state="open", union__path__startswith="HZ/WX/", rule__kind="medical_oop_12m")[
        :2
    ]:
        opened.append(case_open(head=cand.member, candidate=cand, actor=staff, note="电话联系，已上门走访"))
    other = Candidate.objects.filter(state="open", union__path__startswith="HZ/WX/", rule__kind="low_income").first()
    if other is not None:
        candidate_dismiss(candidate=other, actor=staff, note="已纳入常态化送温暖名单，暂不建档")
    if opened:
        case = opened[0]
        case_transition(case=case, to_state="contacted", actor=staff, note="已上门走访")
        case_assess(
            case=case, actor=staff, household_size=3, annual_income="60000", medical_expenditure="120000",
            schooling_expenditure="8000", sudden_accident=True, health_notes="住院治疗", year=standard_year,
        )  # fmt: skip
        case_transition(case=case, to_state="filed", actor=staff)
        aid_create(
            case=case, actor=staff, fund_line="illness", amount="3000.00", purpose="大病救助", paid_on=today,
            double_aid_acknowledged=True,
        )  # fmt: skip
    ctx.log(f"Hardship demo: pushes for {', '.join(periods)}, {len(opened)} cases opened by 吴兴区's staff.")


# --- Resetting --------------------------------------------------------------------------------


def delete_hardship_data(ctx: SeedContext | None = None) -> None:
    """Delete every hardship row (demo databases only): before members go, nothing may point at them."""
    with transaction.atomic():
        for model in (AccessLog, CaseEvent, CaseDocument, Referral):
            qs = model.objects.all()
            qs._raw_delete(qs.db)
        Aid.objects.all().delete()
        WarmthBatch.objects.all().delete()
        Case.objects.all().delete()
        Candidate.objects.all().delete()
        WarmthRosterEntry.objects.all().delete()
        rows = PushRow.objects.all()
        rows._raw_delete(rows.db)
        DataPush.objects.all().delete()
        CycleRun.objects.all().delete()
    if ctx is not None:
        ctx.log("Deleted the hardship data.")
