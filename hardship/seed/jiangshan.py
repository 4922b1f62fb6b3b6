"""`hardship.jiangshan` (`seed_demo --scenario jiangshan`): the county built from its plan and its
year run month by month on a travelling clock, while its staff work the worklist."""

import datetime as dt
from decimal import Decimal

import time_machine
from django.db import connection, transaction

from core.models import Agency
from core.seed import SeedContext, seed_step
from hardship import reports
from hardship.cycle.run import cycle_run
from hardship.models import Aid, Candidate, Case, LocalStandard, WarmthBatch, WarmthRosterEntry
from hardship.seed.demo import delete_hardship_data
from hardship.seed.jiangshan_plan import (
    DISMISS_NOTES,
    JS_CODE,
    JS_COUNTY_MEMBERS,
    JS_MEMBERS,
    JS_STAFF,
    JS_YEAR,
    SPRING_AMOUNT,
    YEAR_PAID_TARGET,
    Household,
    Plan,
    jiangshan_plan,
)
from hardship.seed.pushes import push_rows
from hardship.seed.setup import TZ, D, hardship_basics, hardship_groups, local_standards
from hardship.services.aid import aid_approve, aid_create
from hardship.services.assessment import case_assess
from hardship.services.cases import candidate_dismiss, case_open, case_transition
from hardship.services.referrals import referral_answer, referral_send
from hardship.services.warmth import warmth_batch_approve, warmth_batch_create
from members.models import Enterprise, Member, Union, User
from members.seed.demo import DEMO_PASSWORD
from members.seed.load import insert_members, insert_tree


def shanghai_time(year: int, month: int, day: int, hour: int = 10, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=TZ)


def _jiangshan_done(ctx: SeedContext) -> bool:
    return getattr(ctx, "scenario", "") != "jiangshan" or Union.objects.filter(code=JS_CODE).exists()


def _reset_jiangshan(ctx: SeedContext) -> None:
    prefix = f"{JS_CODE}/"
    if not Union.objects.filter(code=JS_CODE).exists():
        return
    delete_hardship_data()
    with transaction.atomic():
        User.objects.filter(union__path__startswith=prefix).update(union=None)
        LocalStandard.objects.filter(union__path__startswith=prefix).delete()
        members = Member.objects.filter(union__path__startswith=prefix)
        members._raw_delete(members.db)
        Enterprise.objects.filter(union__path__startswith=prefix).delete()
        for kinds in (Union.MEMBER_KINDS, ("street",), ("district",)):
            Union.objects.filter(path__startswith=prefix, kind__in=kinds).delete()
    ctx.log("Deleted the Jiangshan county.")


@seed_step("hardship.jiangshan", order=320, done=_jiangshan_done, reset=_reset_jiangshan)
def seed_jiangshan(ctx: SeedContext) -> None:
    """`seed_demo --scenario jiangshan`: the county and its year (see the module doc)."""
    figures = jiangshan_build(ctx, members=JS_MEMBERS)
    for line in figures_lines(figures):
        ctx.log(line)


def figures_lines(f: dict) -> list[str]:
    return [
        f"Jiangshan {JS_YEAR}: {f['received_total']} records received, {f['matched_total']} matched to members,",
        f"  {f['candidates_total']} candidates ({f['candidates']['confirmed']} confirmed, "
        f"{f['candidates']['dismissed']} dismissed, {f['candidates']['open']} open), {f['cases']['filed']} files built,",
        f"  warmth roster {f['warmth']['roster']}, {f['warmth']['recipients']} warmth recipients "
        f"({f['warmth']['amount']} CNY), aid paid {f['aid_total']['amount']} CNY in all,",
        f"  referrals {f['referrals']['total']} ({f['referrals']['granted']} granted).",
    ]


def jiangshan_build(ctx: SeedContext, *, members: int = JS_MEMBERS, scale: float | None = None) -> dict:
    """Build the county and run its year; return the year's report figures for its staff."""
    scale = members / JS_COUNTY_MEMBERS if scale is None else scale
    plan = jiangshan_plan(ctx, members=members, scale=scale)
    with time_machine.travel(shanghai_time(JS_YEAR - 1, 12, 20), tick=False):
        county, staff, checker = _jiangshan_county(ctx, plan)
    sim = _Year(ctx, plan, county, staff, checker)
    for month in range(1, 13):
        sim.month(month)
    figures = reports.period_figures(user=staff, period=str(JS_YEAR))
    return figures


def _jiangshan_county(ctx: SeedContext, plan: Plan):
    with transaction.atomic():
        ids = insert_tree(plan.tree)
        insert_members(plan.members, total=len(plan.members), ids=ids, progress=ctx.progress)
        county = Union.objects.get(code=JS_CODE)
        hardship_basics()
        local_standards(county)
        staff_group, supervisor_group = hardship_groups()
        users = []
        for username, display in JS_STAFF:
            user, created = User.objects.get_or_create(username=username, defaults={"first_name": display})
            if created:
                user.set_password(DEMO_PASSWORD)
            user.is_staff, user.union = True, county
            user.save()
            user.groups.add(staff_group, supervisor_group)
            users.append(User.objects.get(pk=user.pk))
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute(f"ANALYZE {Member._meta.db_table}")
    ctx.log(f"Created the Jiangshan county: {len(plan.members)} members, staff {', '.join(u for u, _d in JS_STAFF)}.")
    return county, users[0], users[1]


class _Year:
    """The county's year, month by month, each action at its own time on a travelling clock."""

    def __init__(self, ctx, plan: Plan, county: Union, staff, checker):
        self.ctx, self.plan, self.county, self.staff, self.checker = ctx, plan, county, staff, checker
        # The county's members by their index in the plan (members get consecutive ids in plan order).
        pks = list(
            Member.objects.filter(union__path__startswith=f"{JS_CODE}/").order_by("pk").values_list("pk", flat=True)
        )
        self.member_pk: dict[int, int] = dict(enumerate(pks))
        self.households = {self.member_pk[h.member]: h for h in plan.households}
        self.cases: dict[int, Case] = {}  # member pk -> case
        self.agencies = {a.code: a for a in Agency.objects.all()}
        self.referrals: list[tuple[int, object, tuple]] = []  # (answer month, referral, plan)
        self.paid: set[tuple[int, int]] = set()  # (member pk, index of the planned aid)
        self.referred: set[int] = set()

    def at(self, month: int, day: int, hour: int = 10):
        return time_machine.travel(shanghai_time(JS_YEAR, month, day, hour), tick=False)

    def month(self, month: int) -> None:
        period = f"{JS_YEAR}-{month:02d}"
        with self.at(month, 3):
            for code, kind, rows in self.plan.pushes[month]:
                push_rows(
                    agency=self.agencies[code], kind=kind, period=period, batch_id=f"js-{kind}-{period}", rows=rows
                )
        with self.at(month, 5, 2):
            run = cycle_run(period=period)
        self.ctx.log(f"  {period}: cycle {run.state}, {len(self.plan.pushes[month])} pushes")
        self.answer_referrals(month)
        self.review(month)
        self.work_cases(month)
        if month == 1:
            self.warmth(month, SPRING_AMOUNT, f"{JS_YEAR}年春节送温暖")
        if month == 9:
            self.warmth(month, self.autumn_amount(), f"{JS_YEAR}年中秋送温暖")

    def review(self, month: int) -> None:
        """Staff go through the open candidates: confirm the households they visit, dismiss the rest
        with a note; in December half of them wait for the next year."""
        with self.at(month, 10):
            open_ = list(
                Candidate.objects.filter(state="open", union__path__startswith=f"{JS_CODE}/")
                .select_related("rule", "member")
                .order_by("pk")
            )
            for k, cand in enumerate(open_):
                planned = self.households.get(cand.member_id)
                if planned is not None and planned.trigger == cand.rule.kind and cand.member_id not in self.cases:
                    case = case_open(head=cand.member, candidate=cand, actor=self.staff, note="电话联系，约定上门走访")
                    self.cases[cand.member_id] = case
                elif month < 12 or k % 2 == 0:
                    note = DISMISS_NOTES.get(cand.rule.kind, "经核实暂不需要帮扶")
                    candidate_dismiss(candidate=cand, actor=self.staff, note=note)

    def work_cases(self, month: int) -> None:
        """Cases opened this month are visited, assessed and filed (or withdrawn); filed ones get
        their aid when it is due (maker and checker) and are referred to the agencies."""
        for member_pk, case in self.cases.items():
            h = self.households[member_pk]
            if case.state == Case.State.CANDIDATE:
                self.file(month, case, h)
            case.refresh_from_db()
            if case.state not in (Case.State.FILED, Case.State.RECEIVING_AID):
                continue
            for k, (due, line, amount, purpose) in enumerate(h.aid):
                if due > month or (member_pk, k) in self.paid:
                    continue
                self.paid.add((member_pk, k))
                with self.at(month, 20):
                    aid = aid_create(
                        case=case, actor=self.staff, fund_line=line, amount=amount, purpose=purpose,
                        paid_on=dt.date(JS_YEAR, month, 20), double_aid_acknowledged=True,
                    )  # fmt: skip
                if aid.state == Aid.State.PENDING_APPROVAL:
                    with self.at(month, 22):
                        aid_approve(aid=aid, actor=self.checker, double_aid_acknowledged=True)
            if h.referral and member_pk not in self.referred and month >= h.referral_month:
                self.referred.add(member_pk)
                benefit, code, granted, amount = h.referral
                with self.at(month, 21):
                    referral = referral_send(
                        case=case, agency=self.agencies[code], benefit=benefit, actor=self.staff, note="协助申请"
                    )
                self.referrals.append((min(12, month + 1), referral, (code, granted, amount)))

    def file(self, month: int, case: Case, h: Household) -> None:
        with self.at(month, 12):
            case_transition(case=case, to_state="contacted", actor=self.staff, note="已上门走访")
        with self.at(month, 15):
            case_assess(
                case=case, actor=self.staff, household_size=h.size, annual_income=h.income,
                medical_expenditure=h.medical, schooling_expenditure=h.schooling, sudden_accident=h.accident,
                health_notes=h.health, year=JS_YEAR,
            )  # fmt: skip
        with self.at(month, 18):
            case.refresh_from_db()
            if h.filed and case.category != Case.Category.NONE:
                case_transition(case=case, to_state="filed", actor=self.staff, note="建档")
            else:
                case_transition(case=case, to_state="withdrawn", actor=self.staff, note="家庭收入较高，不予建档")

    def answer_referrals(self, month: int) -> None:
        """The agencies answer the referrals of the month before (through their API in real life)."""
        waiting = []
        for answer_month, referral, (code, granted, amount) in self.referrals:
            if answer_month > month:
                waiting.append((answer_month, referral, (code, granted, amount)))
                continue
            with self.at(month, 8):
                referral_answer(
                    referral=referral, agency=self.agencies[code], granted=granted,
                    amount=amount if granted else None, note="已办理" if granted else "不符合条件",
                )  # fmt: skip
        self.referrals = waiting

    def autumn_amount(self) -> Decimal:
        """The Mid-Autumn warmth per person that brings the year's payments near the county's
        707,500 CNY (scaled with a smaller county): the target less what was paid to the roster
        before and all the aid planned under the files."""
        warmth = sum(WarmthBatch.objects.filter(union=self.county).values_list("total", flat=True), D("0"))
        planned = sum((amount for h in self.households.values() if h.filed for _m, _l, amount, _p in h.aid), D("0"))
        roster = WarmthRosterEntry.objects.filter(
            union__path__startswith=f"{JS_CODE}/", year=JS_YEAR, is_active=True
        ).count()
        scale = D(str(min(1.0, len(self.plan.members) / JS_COUNTY_MEMBERS)))
        left = YEAR_PAID_TARGET * scale - warmth - planned
        if not roster:
            return D("300.00")
        return max(D("100.00"), (left / roster).quantize(D("1")))

    def warmth(self, month: int, amount: Decimal, name: str) -> None:
        with self.at(month, 20):
            batch = warmth_batch_create(
                union=self.county,
                period=f"{JS_YEAR}-{month:02d}",
                amount_per_person=amount,
                actor=self.staff,
                name=name,
            )
        with self.at(month, 22):
            warmth_batch_approve(batch=batch, actor=self.checker)
        self.ctx.log(f"  {name}: {batch.recipients} people × {amount} = {batch.total} CNY")
