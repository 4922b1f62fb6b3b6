"""Hardship demo data for `manage.py seed_demo` (see `core.seed`).

- `hardship.setup`: the four partner agencies, the default screening rules, the settings row, the
  local minimum living standards, and the hardship staff groups given to the demo staff.
- `hardship.demo`: a few pushes of the demo city's last two months, run through the cycle, with a
  case or two, so that the admin is not empty.
- `hardship.jiangshan` (only with `--scenario jiangshan`): a county union like 江山市总工会 with
  about 15,000 members and a year (2025) of monthly pushes from 民政局, 人社局, 医保局 and 残联
  (2,000+ records), sent through the real ingestion path and run through the monthly cycle month by
  month on a travelling clock, while the county's staff work the worklist: they confirm the
  households they visit (about 27 files built), dismiss the others with a note, assess, file, pay
  aid (maker–checker), pay the warmth roster (about 445 people × 716 CNY before the Spring
  Festival) and refer cases to the agencies (12 benefits granted). The figures land near the
  county's published year: 2,000+ records, 27 files, about 526 regular warmth recipients and
  about 707,500 CNY paid. Every number is drawn from `ctx.rng(...)`: the same seed, the same county.
"""

import datetime as dt
from bisect import bisect
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import accumulate
from zoneinfo import ZoneInfo

from django.contrib.auth.models import Group, Permission
from django.db import connection, transaction
from django.utils import timezone

from core.models import Agency
from core.seed import SeedContext, seed_step
from hardship.models import (
    AccessLog,
    Aid,
    Candidate,
    Case,
    CaseDocument,
    CaseEvent,
    CycleRun,
    DataPush,
    HardshipSettings,
    LocalStandard,
    PushRow,
    Referral,
    WarmthBatch,
    WarmthRosterEntry,
)
from members.idgen import make_credit_code, make_id_number
from members.models import Enterprise, Member, Union, User
from members.seed import data
from members.seed.generate import EnterpriseSpec, MemberSpec, Tree, UnionSpec
from members.seed.load import insert_members, insert_tree

TZ = ZoneInfo("Asia/Shanghai")
D = Decimal

AGENCIES = (("mca", "民政局"), ("hrss", "人社局"), ("nhsa", "医保局"), ("cdpf", "残联"))
HARDSHIP_GROUP = "帮扶工作人员"
SUPERVISOR_GROUP = "帮扶主管"
# What hardship staff do in the admin; supervisors may also list every case and read the access log.
STAFF_CODENAMES = (
    "view_case", "add_case", "change_case", "view_candidate", "change_candidate", "view_aid", "change_aid",
    "view_datapush", "view_warmthbatch", "add_warmthbatch", "change_warmthbatch",
    "view_warmthrosterentry", "view_referral", "view_cyclerun", "view_screeningrule", "view_localstandard",
    "view_casedocument", "view_caseevent",
)  # fmt: skip
SUPERVISOR_CODENAMES = (
    "list_all_cases", "view_accesslog", "change_cyclerun", "change_screeningrule", "add_localstandard",
    "change_localstandard", "view_hardshipsettings",
)  # fmt: skip
# The settings row (the maker–checker threshold among them) is the whole city's: city-level staff only
# (the admin also refuses anyone outside the city federation's own union).
CITY_SETTINGS_GROUP = "帮扶市级设置"
CITY_SETTINGS_CODENAMES = ("view_hardshipsettings", "change_hardshipsettings", "change_second_approval")
DEMO_CITY_SETTINGS_STAFF = ("city",)
# Uploading a file on an agency's behalf: city-level staff only (hardship.selectors.can_upload_agency_data).
CITY_UPLOAD_GROUP = "帮扶数据代传"
CITY_UPLOAD_CODENAMES = ("view_datapush", "add_datapush", "upload_agency_data")
# Demo staff of the members app (members.seed.demo.DemoStaff) who get the hardship groups.
DEMO_HARDSHIP_STAFF = {"city": True, "wuxing": True, "g-g0001": False}  # username: supervisor?
DEMO_BATCH_PREFIX = "demo-"
STANDARDS = {2025: D("1245.00"), 2026: D("1310.00")}  # 低保标准, CNY a month


def _t(year: int, month: int, day: int, hour: int = 10, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=TZ)


# --- Setup ------------------------------------------------------------------------------------


def hardship_basics() -> None:
    """Agencies, default rules and the settings row (idempotent)."""
    from hardship.screening import rules_ensure_defaults

    for code, name in AGENCIES:
        Agency.objects.get_or_create(code=code, defaults={"name": name})
    rules_ensure_defaults()
    HardshipSettings.get()


def hardship_groups() -> tuple[Group, Group]:
    staff, _ = Group.objects.get_or_create(name=HARDSHIP_GROUP)
    staff.permissions.set(Permission.objects.filter(content_type__app_label="hardship", codename__in=STAFF_CODENAMES))
    supervisor, _ = Group.objects.get_or_create(name=SUPERVISOR_GROUP)
    supervisor.permissions.set(
        Permission.objects.filter(content_type__app_label="hardship", codename__in=SUPERVISOR_CODENAMES)
    )
    return staff, supervisor


def hardship_city_settings_group() -> Group:
    group, _ = Group.objects.get_or_create(name=CITY_SETTINGS_GROUP)
    group.permissions.set(
        Permission.objects.filter(content_type__app_label="hardship", codename__in=CITY_SETTINGS_CODENAMES)
    )
    return group


def hardship_city_upload_group() -> Group:
    group, _ = Group.objects.get_or_create(name=CITY_UPLOAD_GROUP)
    group.permissions.set(
        Permission.objects.filter(content_type__app_label="hardship", codename__in=CITY_UPLOAD_CODENAMES)
    )
    return group


def local_standards(union: Union) -> None:
    for year, amount in STANDARDS.items():
        LocalStandard.objects.get_or_create(union=union, year=year, defaults={"monthly_amount": amount})


def _city_districts():
    return Union.objects.filter(kind=Union.Kind.DISTRICT, parent__isnull=False)


def _setup_done(ctx: SeedContext | None = None) -> bool:
    return (
        Group.objects.filter(name=HARDSHIP_GROUP).exists()
        and Agency.objects.filter(code="cdpf").exists()
        and (LocalStandard.objects.filter(union__in=_city_districts()).exists() or not _city_districts().exists())
    )


def _reset_setup(ctx: SeedContext) -> None:
    LocalStandard.objects.filter(union__in=_city_districts()).delete()


@seed_step("hardship.setup", order=300, done=_setup_done, reset=_reset_setup)
def seed_setup(ctx: SeedContext) -> None:
    """Agencies, rules, settings, local standards of the demo city's districts, and staff groups."""
    with transaction.atomic():
        hardship_basics()
        staff_group, supervisor_group = hardship_groups()
        for union in _city_districts():
            local_standards(union)
        for user in User.objects.filter(username__in=DEMO_HARDSHIP_STAFF):
            user.groups.add(staff_group)
            if DEMO_HARDSHIP_STAFF[user.username]:
                user.groups.add(supervisor_group)
            if user.username in DEMO_CITY_SETTINGS_STAFF:
                user.groups.add(hardship_city_settings_group(), hardship_city_upload_group())
    ctx.log(f"Hardship staff groups given to {', '.join(DEMO_HARDSHIP_STAFF)}.")


# --- Pushes through the real path -------------------------------------------------------------


def push_rows(*, agency: Agency, kind: str, period: str, batch_id: str, rows: list[dict]):
    """Send one push as an agency does (JSON, one page) through `hardship.ingest.push_receive_json`."""
    from hardship.ingest import push_receive_json
    from hardship.pushformats import rows_sha256

    sha256, count = rows_sha256([rows])
    manifest = {"kind": kind, "period": period, "batch_id": batch_id, "row_count": count, "sha256": sha256}
    return push_receive_json(agency=agency, manifest=manifest, rows=rows)


def row(id_number: str, source_key: str, **payload) -> dict:
    return {"id_number": id_number, "source_key": source_key, **payload}


def money(value) -> str:
    return f"{D(value).quantize(D('0.01'))}"


# --- The demo city: a few pushes so the admin is not empty -------------------------------------


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
    run for both, and what 吴兴区's staff did with the worklist: two cases, one filed with aid."""
    from hardship import services
    from hardship.cycle import cycle_run

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
        opened.append(services.case_open(head=cand.member, candidate=cand, actor=staff, note="电话联系，已上门走访"))
    other = Candidate.objects.filter(state="open", union__path__startswith="HZ/WX/", rule__kind="low_income").first()
    if other is not None:
        services.candidate_dismiss(candidate=other, actor=staff, note="已纳入常态化送温暖名单，暂不建档")
    if opened:
        case = opened[0]
        services.case_transition(case=case, to_state="contacted", actor=staff, note="已上门走访")
        services.case_assess(
            case=case, actor=staff, household_size=3, annual_income="60000", medical_expenditure="120000",
            schooling_expenditure="8000", sudden_accident=True, health_notes="住院治疗", year=standard_year,
        )  # fmt: skip
        services.case_transition(case=case, to_state="filed", actor=staff)
        services.aid_create(
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


# --- The Jiangshan scenario ---------------------------------------------------------------------

JS_CODE = "JS"
JS_NAME = "江山市总工会"
JS_REGION = "330881"
JS_COUNTY_MEMBERS = 15_000  # the county's real-name members; smaller runs scale the records with it
JS_MEMBERS = JS_COUNTY_MEMBERS
JS_YEAR = 2025
JS_TOWNS = (
    "虎山街道", "双塔街道", "清湖街道", "上余镇", "四都镇", "贺村镇", "峡口镇", "凤林镇", "新塘边镇", "坛石镇",
    "大桥镇", "石门镇",
)  # fmt: skip
JS_TRADES = ("木门", "消防器材", "蜂产品", "水泥制品", "轴承", "输配电设备", "竹木制品", "纺织", "食品", "物流")
JS_STAFF = (("js-admin", "江山市总工会帮扶干部"), ("js-check", "江山市总工会复核干部"))
JS_MOBILE_PREFIX = "165"  # never used by the demo city's generator: no clash with its members
ILLNESSES = ("住院", "门诊慢病", "恶性肿瘤", "尿毒症透析", "脑卒中", "心脏病", "肝衰竭", "骨折")
DISABILITY_TYPES = ("肢体", "视力", "听力", "言语", "智力", "精神", "多重")
AID_BODIES = (
    ("mca", "民政局", "临时救助", "living"),
    ("mca", "民政局", "医疗救助", "illness"),
    ("cdpf", "残联", "残疾人生活补助", "living"),
    ("hrss", "人社局", "就业援助", "training"),
    ("mca", "民政局", "教育救助", "schooling"),
)
DISMISS_NOTES = {
    "low_income": "已纳入常态化送温暖名单，民政已保障，暂不建档",
    "medical_oop_12m": "医保报销后自付可承受，家庭收入稳定",
    "work_injury_grade": "工伤待遇已落实，家庭无明显困难",
    "disability_grade": "残联已帮扶，家庭收入稳定",
    "other_aid": "其他部门已救助，暂无需工会帮扶",
}
# Warmth before the Spring Festival: 716 CNY each (445 people received 318,600 CNY in 2025).
SPRING_AMOUNT = D("716.00")
YEAR_PAID_TARGET = D("707500.00")


@dataclass
class Household:
    """A household the county's staff visit and file (or withdraw) after screening finds it."""

    member: int  # index into the county's members
    trigger: str  # the rule kind whose candidate staff confirm
    month: int  # the month the evidence arrives
    size: int
    income: Decimal
    medical: Decimal
    schooling: Decimal
    accident: bool
    health: str
    filed: bool = True
    aid: list[tuple[int, str, Decimal, str]] = field(default_factory=list)  # month, fund line, amount, purpose
    referral: tuple[str, str, bool, Decimal | None] | None = None  # benefit, agency, granted, amount
    referral_month: int = 1  # not before this month


@dataclass
class Plan:
    members: list[MemberSpec]
    tree: Tree
    pushes: dict[int, list[tuple[str, str, list[dict]]]]  # month -> [(agency, kind, rows)]
    households: list[Household]


def _town_unions(rng, towns) -> tuple[list[UnionSpec], list[EnterpriseSpec], list[tuple[str, float, list[int]]]]:
    unions = [UnionSpec(JS_CODE, JS_NAME, "district", None, "江山市鹿溪南路1号", None)]
    enterprises: list[EnterpriseSpec] = []
    member_unions: list[tuple[str, float, list[int]]] = []
    names: set[str] = set()
    n = 0
    for i, town in enumerate(towns):
        scode = f"JS-S{i + 1:02d}"
        unions.append(UnionSpec(scode, f"{town}总工会", "street", JS_CODE, f"江山市{town}", None))
        for _k in range(rng.randint(3, 5)):
            n += 1
            while True:
                name = f"江山{rng.choice(data.BRANDS)}{rng.choice(JS_TRADES)}有限公司"
                if name not in names:
                    break
            names.add(name)
            gcode = f"JSG{n:03d}"
            size = rng.randint(40, 900)
            enterprises.append(
                EnterpriseSpec(name, make_credit_code(rng, region=JS_REGION), gcode, f"江山市{town}", "制造", size)
            )
            unions.append(UnionSpec(gcode, f"{name}工会", "grassroots", scode, f"江山市{town}", None))
            member_unions.append((gcode, float(size), [len(enterprises) - 1]))
        jcode = f"JSJ{i + 1:02d}"
        unions.append(UnionSpec(jcode, f"{town}小微企业联合工会", "joint", scode, f"江山市{town}", None))
        firms = []
        for _k in range(rng.randint(4, 8)):
            while True:
                name = f"江山{rng.choice(data.BRANDS)}{rng.choice(JS_TRADES)}有限公司"
                if name not in names:
                    break
            names.add(name)
            enterprises.append(
                EnterpriseSpec(name, make_credit_code(rng, region=JS_REGION), jcode, f"江山市{town}", "服务", 20)
            )
            firms.append(len(enterprises) - 1)
        member_unions.append((jcode, 160.0, firms))
    return unions, enterprises, member_unions


def _person(rng, seen: set[str], *, female=None, birth=None) -> tuple[str, str, str, dt.date]:
    """(name, id number, gender, birth) of a Jiangshan resident."""
    family = [f for f, _w in data.FAMILY_NAMES]
    cum = list(accumulate(w for _f, w in data.FAMILY_NAMES))
    female = rng.random() < 0.45 if female is None else female
    if birth is None:
        birth = dt.date(1965, 1, 1) + dt.timedelta(days=rng.randrange(0, 365 * 40))
    while True:
        number = make_id_number(rng, birth=birth, region=JS_REGION, female=female)
        if number not in seen:
            break
    seen.add(number)
    pool = data.GIVEN_FEMALE if female else data.GIVEN_MALE
    given = rng.choice(pool) if rng.random() < 0.35 else rng.choice(pool) + rng.choice(pool)
    name = family[bisect(cum, rng.random() * cum[-1])] + given
    return name, number, "F" if female else "M", birth


def jiangshan_plan(ctx: SeedContext, *, members: int = JS_MEMBERS, scale: float = 1.0) -> Plan:
    """The county, its members, a year of pushes and the households staff file: pure, from the seed."""
    rng = ctx.rng("hardship.jiangshan")
    unions, enterprises, member_unions = _town_unions(rng, JS_TOWNS)
    tree = Tree(unions, enterprises, [], [])
    seen: set[str] = set()
    weights = list(accumulate(w for _c, w, _f in member_unions))
    specs: list[MemberSpec] = []
    for i in range(members):
        if i == 0:  # the newspaper's example (an invented name for him)
            name, number, gender, birth = _person(rng, seen, female=False, birth=dt.date(1972, 8, 14))
            name = "周建新"
        else:
            name, number, gender, birth = _person(rng, seen)
        u = member_unions[bisect(weights, rng.random() * weights[-1])]
        joined = dt.date(2024, 3, 1) + dt.timedelta(days=rng.randrange(0, 300))
        specs.append(
            MemberSpec(
                name=name,
                id_number=number,
                gender=gender,
                birth_date=birth,
                mobile=f"{JS_MOBILE_PREFIX}{i:08d}",
                union=u[0],
                employer=rng.choice(u[2]),
                employment_form="employee",
                join_channel="import",
                station=None,
                joined_on=joined,
                status="active",
                consented_at=dt.datetime(joined.year, joined.month, joined.day, 9, 0, tzinfo=TZ),
                mutual_aid_at=None,
            )
        )

    def s(n: float) -> int:
        return max(1, round(n * scale))

    pool = list(range(1, members))
    rng.shuffle(pool)
    take = iter(pool)

    def person_of(index: int) -> tuple[str, str]:
        return specs[index].id_number, specs[index].name

    def outsider() -> tuple[str, str]:
        name, number, _g, _b = _person(rng, seen)
        return number, name

    pushes: dict[int, list[tuple[str, str, list[dict]]]] = {m: [] for m in range(1, 13)}
    households: list[Household] = []

    # 民政局: the low-income list in January (445 members among 635 people), then its changes.
    low_members = [next(take) for _ in range(s(445))]
    li_rows = []
    for k, idx in enumerate(low_members):
        num, name = person_of(idx)
        li_rows.append(
            row(num, f"li-{num[-8:]}", list="dibao" if k % 5 < 3 else "dibian",
                start_date=f"{rng.randint(2016, 2024)}-{rng.randint(1, 12):02d}-01", status="active", name=name)
        )  # fmt: skip
    for _ in range(s(190)):
        num, name = outsider()
        li_rows.append(
            row(num, f"li-{num[-8:]}", list="dibao", start_date=f"{rng.randint(2016, 2024)}-06-01", status="active",
                name=name)
        )  # fmt: skip
    pushes[1].append(("mca", "low_income", li_rows))
    on_list = list(low_members)
    for month in range(2, 13):
        rows = []
        for _ in range(s(7)):  # members joining the list
            idx = next(take)
            on_list.append(idx)
            num, name = person_of(idx)
            rows.append(row(num, f"li-{num[-8:]}", list="dibian", start_date=f"{JS_YEAR}-{month:02d}-01",
                            status="active", name=name))  # fmt: skip
        for _ in range(s(4)):
            num, name = outsider()
            rows.append(row(num, f"li-{num[-8:]}", list="dibao", start_date=f"{JS_YEAR}-{month:02d}-01",
                            status="active", name=name))  # fmt: skip
        for _ in range(s(2)):  # leaving the list
            idx = on_list.pop(rng.randrange(len(on_list)))
            num, name = person_of(idx)
            rows.append(row(num, f"li-{num[-8:]}", list="dibao", start_date="2020-01-01", status="ended", name=name))
        pushes[month].append(("mca", "low_income", rows))

    # 医保局: reimbursements every month, mostly small; a few households with crushing costs.
    zhou = [
        (3, "186420.30", "121173.20", "65247.10"),
        (4, "152884.91", "101932.10", "50952.81"),
        (5, "100000.25", "62015.49", "37984.76"),
    ]  # 439,305.46 in all, 154,184.67 out of pocket
    big: dict[int, list[tuple[int, Decimal]]] = {}
    big_members = [next(take) for _ in range(13)]
    for k, idx in enumerate(big_members):
        start = 1 + (k * 11) // 13
        costs = [(start, D(rng.randint(90_000, 200_000))), (min(12, start + 1), D(rng.randint(30_000, 100_000)))]
        big[idx] = costs
    regular = [next(take) for _ in range(s(260))]
    for month in range(1, 13):
        rows = []
        for n in range(s(66)):
            if rng.random() < 0.62:
                num, name = person_of(rng.choice(regular))
            else:
                num, name = outsider()
            total = D(rng.randint(300, 12_000)) + D(rng.randint(0, 99)) / 100
            reimbursed = (total * D(rng.choice(["0.55", "0.62", "0.70", "0.78"]))).quantize(D("0.01"))
            rows.append(
                row(num, f"md-{month:02d}-{n}", total_cost=money(total), reimbursed=money(reimbursed),
                    out_of_pocket=money(total - reimbursed), illness_category=rng.choice(ILLNESSES), name=name)
            )  # fmt: skip
        for idx, costs in big.items():
            for m, total in costs:
                if m == month:
                    num, name = person_of(idx)
                    reimbursed = (total * D("0.58")).quantize(D("0.01"))
                    rows.append(
                        row(num, f"md-{month:02d}-b{idx}", total_cost=money(total), reimbursed=money(reimbursed),
                            out_of_pocket=money(total - reimbursed), illness_category=rng.choice(ILLNESSES[2:]),
                            name=name)
                    )  # fmt: skip
        for m, total, reimbursed, oop in zhou:
            if m == month:
                num, name = person_of(0)
                rows.append(row(num, f"md-{month:02d}-zhou", total_cost=total, reimbursed=reimbursed,
                                out_of_pocket=oop, illness_category="肝衰竭", name=name))  # fmt: skip
        pushes[month].append(("nhsa", "medical", rows))

    # 人社局: work-injury lists; a few grades 1-4.
    severe_injury = [next(take) for _ in range(5)]
    for month in range(1, 13):
        rows = []
        for n in range(s(11)):
            if rng.random() < 0.6:
                num, name = person_of(next(take))
            else:
                num, name = outsider()
            rows.append(row(num, f"wi-{month:02d}-{n}", injury_date=f"{JS_YEAR - 1}-{rng.randint(1, 12):02d}-10",
                            grade=rng.randint(5, 10), name=name))  # fmt: skip
        if month in (2, 4, 6, 8, 10):
            idx = severe_injury[(month - 2) // 2]
            num, name = person_of(idx)
            rows.append(row(num, f"wi-{month:02d}-s", injury_date=f"{JS_YEAR}-{month - 1:02d}-12",
                            grade=rng.choice([2, 3, 4]), name=name))  # fmt: skip
        pushes[month].append(("hrss", "work_injury", rows))

    # 残联: the disability list in January, then newcomers; grades 1-2 are screened.
    severe_disability = [next(take) for _ in range(8)]
    ds_people = [next(take) for _ in range(s(40))]
    rows = []
    for idx in ds_people:
        num, name = person_of(idx)
        rows.append(row(num, f"ds-{num[-8:]}", type=rng.choice(DISABILITY_TYPES), grade=rng.choice([3, 4]), name=name))
    for _ in range(s(20)):
        num, name = outsider()
        rows.append(row(num, f"ds-{num[-8:]}", type=rng.choice(DISABILITY_TYPES), grade=rng.randint(1, 4), name=name))
    pushes[1].append(("cdpf", "disability", rows))
    for month in range(2, 13):
        rows = []
        for _ in range(s(14)):
            num, name = person_of(next(take)) if rng.random() < 0.6 else outsider()
            rows.append(row(num, f"ds-{num[-8:]}", type=rng.choice(DISABILITY_TYPES), grade=rng.choice([3, 4]),
                            name=name))  # fmt: skip
        if month <= 9:
            idx = severe_disability[month - 2]
            num, name = person_of(idx)
            rows.append(row(num, f"ds-{num[-8:]}", type=rng.choice(DISABILITY_TYPES[:3]), grade=rng.choice([1, 2]),
                            name=name))  # fmt: skip
        if month == 4:
            num, name = person_of(0)
            rows.append(row(num, f"ds-{num[-8:]}", type="肢体", grade=4, name=name))
        pushes[month].append(("cdpf", "disability", rows))

    # Aid already given by the agencies (临时救助 …): it raises candidates and feeds the double-aid check.
    for month in range(1, 13):
        by_agency: dict[str, list[dict]] = {}
        for n in range(s(8)):
            code, body, purpose, line = rng.choice(AID_BODIES)
            num, name = person_of(rng.choice(regular + on_list[:50])) if rng.random() < 0.6 else outsider()
            by_agency.setdefault(code, []).append(
                row(num, f"ag-{month:02d}-{n}", body=body, purpose=purpose, fund_line=line,
                    amount=money(rng.choice([500, 800, 1000, 1500, 2000, 3000])), date=f"{JS_YEAR}-{month:02d}-0{rng.randint(1, 2)}",
                    name=name)
            )  # fmt: skip
        for code, rows in sorted(by_agency.items()):
            pushes[month].append((code, "aid_given", rows))

    # The households staff visit and file: 周建新, nine other medical cases, four work injuries, five
    # severe disabilities, eight low-income households; two medical cases turn out not to need a file.
    households.append(
        Household(0, "medical_oop_12m", 3, 3, D("60000"), D("154184.67"), D("0"), True, "肝衰竭，肢体四级残疾",
                  aid=[(5, "illness", D("27000.00"), "大病救助")],
                  referral=("disability_insurance", "cdpf", True, D("15000.00")), referral_month=5)
    )  # fmt: skip
    for k, idx in enumerate(big_members[:11]):
        start = big[idx][0][0]
        cost = sum(c for _m, c in big[idx]) * D("0.42")
        filed = k not in (3, 8)
        size = rng.randint(2, 5)
        income = D(rng.randint(30, 90) * 1000) if filed else D("260000")
        aid = [(min(12, start + 1), "illness", D(rng.choice([8000, 10000, 12000, 15000])), "大病救助")] if filed else []
        households.append(Household(idx, "medical_oop_12m", start, size, income, cost.quantize(D("0.01")), D("0"),
                                    True, "重病住院", filed=filed, aid=aid))  # fmt: skip
    for k, idx in enumerate(severe_injury[:4]):
        month = 2 + 2 * k
        households.append(
            Household(idx, "work_injury_grade", month, rng.randint(3, 4), D(rng.randint(24, 40) * 1000), D("6000"),
                      D("4000"), True, "工伤致残", aid=[(month, "living", D("6000.00"), "生活救助")],
                      referral=("work_injury_compensation", "hrss", True, D(rng.choice([36000, 42000, 58000]))))
        )  # fmt: skip
    for k, idx in enumerate(severe_disability[:5]):
        month = 2 + k
        households.append(
            Household(idx, "disability_grade", month, rng.randint(2, 4), D(rng.randint(20, 36) * 1000), D("3000"),
                      D("0"), False, "重度残疾", aid=[(month, "living", D("4000.00"), "生活救助")],
                      referral=("disability_insurance", "cdpf", k < 3, D("6000.00") if k < 3 else None))
        )  # fmt: skip
    for k, idx in enumerate(low_members[:8]):
        month = 1 if k < 4 else 2
        school = D("12000") if k % 2 == 0 else D("0")
        aid = [(month, "living", D("3000.00"), "生活救助")]
        if school:
            aid.append((9, "schooling", D("4000.00"), "助学"))
        households.append(
            Household(idx, "low_income", month, rng.randint(3, 5), D(rng.randint(18, 30) * 1000), D("2000"), school,
                      False, "", aid=aid,
                      referral=("low_income_status", "mca", k < 4, D("0.00") if k < 4 else None) if k < 5 else None)
        )  # fmt: skip
    return Plan(members=specs, tree=tree, pushes=pushes, households=households)


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
    import time_machine

    from hardship import reports

    scale = members / JS_COUNTY_MEMBERS if scale is None else scale
    plan = jiangshan_plan(ctx, members=members, scale=scale)
    with time_machine.travel(_t(JS_YEAR - 1, 12, 20), tick=False):
        county, staff, checker = _jiangshan_county(ctx, plan)
    sim = _Year(ctx, plan, county, staff, checker)
    for month in range(1, 13):
        sim.month(month)
    figures = reports.period_figures(user=staff, period=str(JS_YEAR))
    return figures


def _jiangshan_county(ctx: SeedContext, plan: Plan):
    from members.seed.demo import DEMO_PASSWORD

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
        import time_machine

        return time_machine.travel(_t(JS_YEAR, month, day, hour), tick=False)

    def month(self, month: int) -> None:
        from hardship.cycle import cycle_run

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
        from hardship import services

        with self.at(month, 10):
            open_ = list(
                Candidate.objects.filter(state="open", union__path__startswith=f"{JS_CODE}/")
                .select_related("rule", "member")
                .order_by("pk")
            )
            for k, cand in enumerate(open_):
                planned = self.households.get(cand.member_id)
                if planned is not None and planned.trigger == cand.rule.kind and cand.member_id not in self.cases:
                    case = services.case_open(
                        head=cand.member, candidate=cand, actor=self.staff, note="电话联系，约定上门走访"
                    )
                    self.cases[cand.member_id] = case
                elif month < 12 or k % 2 == 0:
                    note = DISMISS_NOTES.get(cand.rule.kind, "经核实暂不需要帮扶")
                    services.candidate_dismiss(candidate=cand, actor=self.staff, note=note)

    def work_cases(self, month: int) -> None:
        """Cases opened this month are visited, assessed and filed (or withdrawn); filed ones get
        their aid when it is due (maker and checker) and are referred to the agencies."""
        from hardship import services

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
                    aid = services.aid_create(
                        case=case, actor=self.staff, fund_line=line, amount=amount, purpose=purpose,
                        paid_on=dt.date(JS_YEAR, month, 20), double_aid_acknowledged=True,
                    )  # fmt: skip
                if aid.state == Aid.State.PENDING_APPROVAL:
                    with self.at(month, 22):
                        services.aid_approve(aid=aid, actor=self.checker, double_aid_acknowledged=True)
            if h.referral and member_pk not in self.referred and month >= h.referral_month:
                self.referred.add(member_pk)
                benefit, code, granted, amount = h.referral
                with self.at(month, 21):
                    referral = services.referral_send(
                        case=case, agency=self.agencies[code], benefit=benefit, actor=self.staff, note="协助申请"
                    )
                self.referrals.append((min(12, month + 1), referral, (code, granted, amount)))

    def file(self, month: int, case: Case, h: Household) -> None:
        from hardship import services

        with self.at(month, 12):
            services.case_transition(case=case, to_state="contacted", actor=self.staff, note="已上门走访")
        with self.at(month, 15):
            services.case_assess(
                case=case, actor=self.staff, household_size=h.size, annual_income=h.income,
                medical_expenditure=h.medical, schooling_expenditure=h.schooling, sudden_accident=h.accident,
                health_notes=h.health, year=JS_YEAR,
            )  # fmt: skip
        with self.at(month, 18):
            case.refresh_from_db()
            if h.filed and case.category != Case.Category.NONE:
                services.case_transition(case=case, to_state="filed", actor=self.staff, note="建档")
            else:
                services.case_transition(
                    case=case, to_state="withdrawn", actor=self.staff, note="家庭收入较高，不予建档"
                )

    def answer_referrals(self, month: int) -> None:
        """The agencies answer the referrals of the month before (through their API in real life)."""
        from hardship import services

        waiting = []
        for answer_month, referral, (code, granted, amount) in self.referrals:
            if answer_month > month:
                waiting.append((answer_month, referral, (code, granted, amount)))
                continue
            with self.at(month, 8):
                services.referral_answer(
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
        from hardship import services

        with self.at(month, 20):
            batch = services.warmth_batch_create(
                union=self.county,
                period=f"{JS_YEAR}-{month:02d}",
                amount_per_person=amount,
                actor=self.staff,
                name=name,
            )
        with self.at(month, 22):
            services.warmth_batch_approve(batch=batch, actor=self.checker)
        self.ctx.log(f"  {name}: {batch.recipients} people × {amount} = {batch.total} CNY")
