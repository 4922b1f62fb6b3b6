"""The Jiangshan county and its year (2025), drawn from the seed: its unions and members, the
agencies' monthly pushes and the households its staff visit and file. Pure: nothing is written."""

import datetime as dt
from bisect import bisect
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import accumulate

from core.seed import SeedContext
from hardship.seed.pushes import money, row
from hardship.seed.setup import TZ, D
from members.idgen import make_credit_code, make_id_number
from members.seed import data
from members.seed.generate import EnterpriseSpec, MemberSpec, Tree, UnionSpec

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
    """The county, its members, a year of pushes and the households staff file: pure, from the seed.

    One function, agency by agency, because every figure is drawn from one random stream in one
    order and the sections share their draws: members taken for the low-income list are not taken
    again for the medical bills, and the households filed are the members drawn above. Cut into
    functions, the stream, the pool of members and the scale would travel through all of them, and
    any change of order would give another county for the same seed."""
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
