"""Deterministic generators for the demo union tree and its members: pure functions of a seed.

Nothing here touches the database: `build_tree` and `iter_members` return plain tuples, and
`members.seed.load` writes them. The same seed always gives the same data.
"""

import datetime as dt
import random
from bisect import bisect
from itertools import accumulate
from typing import NamedTuple
from zoneinfo import ZoneInfo

from members.idgen import HUZHOU_REGIONS, make_credit_code, make_id_number
from members.seed import data

CITY_CODE = "HZ"
CITY_NAME = "湖州市总工会"
DEMO_GRASSROOTS_CODE = "G0001"  # the first enterprise union of 织里镇 (吴兴区)
DEMO_WORKER_MOBILE = "13800000000"
DEMO_WORKER_NAME = "王建国"
STATIONS_TOTAL = 506

# Members joined between the zone's opening and a year later; ages are 18–60 on REFERENCE_DATE.
JOIN_FROM = dt.date(2024, 3, 1)
JOIN_TO = dt.date(2025, 3, 31)
REFERENCE_DATE = JOIN_TO
MUTUAL_AID_YEAR = 2025
TZ = ZoneInfo("Asia/Shanghai")

MOBILE_PREFIXES = (
    "130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152", "153", "155",
    "156", "157", "158", "159", "166", "177", "180", "181", "182", "183", "185", "186", "187", "188",
    "189", "198", "199",
)  # fmt: skip


class UnionSpec(NamedTuple):
    code: str
    name: str
    kind: str
    parent: str | None
    address: str
    district: str | None


class EnterpriseSpec(NamedTuple):
    name: str
    credit_code: str
    union: str
    address: str
    industry: str
    size: int


class StationSpec(NamedTuple):
    code: str
    name: str
    union: str
    address: str
    hours: str
    latitude: str
    longitude: str


class MemberUnion(NamedTuple):
    """A union that holds members, with what decides who its members are."""

    code: str
    district: str
    weight: float
    employers: tuple[int, ...]  # indexes into Tree.enterprises
    forms: tuple[tuple[str, int], ...]  # employment forms and their weights
    new_form: bool


class Tree(NamedTuple):
    unions: list[UnionSpec]
    enterprises: list[EnterpriseSpec]
    stations: list[StationSpec]
    member_unions: list[MemberUnion]


class MemberSpec(NamedTuple):
    name: str
    id_number: str
    gender: str
    birth_date: dt.date
    mobile: str
    union: str
    employer: int | None  # index into Tree.enterprises
    employment_form: str
    join_channel: str
    station: str | None
    joined_on: dt.date
    status: str
    consented_at: dt.datetime
    mutual_aid_at: dt.datetime | None  # enrolment for MUTUAL_AID_YEAR, if any


GRASSROOTS_FORMS = (("employee", 90), ("part_time", 8), ("truck_driver", 1), ("other_new", 1))
SMALL_FIRM_FORMS = (("employee", 78), ("part_time", 18), ("other_new", 4))
# Share of all members in the joint unions of the new forms of employment.
NEW_FORM_SHARE = 0.11


class _TreeBuilder:
    def __init__(self, rng: random.Random):
        self.rng = rng
        self.unions: list[UnionSpec] = []
        self.enterprises: list[EnterpriseSpec] = []
        self.stations: list[StationSpec] = []
        self.member_unions: list[MemberUnion] = []
        self.names: set[str] = set()
        self.credit_codes: set[str] = set()
        self.grassroots_no = 0
        self.joint_no = 0

    def address(self, district: dict, street: str | None = None) -> str:
        street = street or self.rng.choice(district["streets"])
        return f"湖州市{district['name']}{street}{self.rng.choice(data.ROADS)}{self.rng.randint(1, 999)}号"

    def union(self, code, name, kind, parent, district, street=None) -> UnionSpec:
        addr = self.address(district, street) if district else "湖州市吴兴区人民路268号"
        spec = UnionSpec(code, name, kind, parent, addr, district["code"] if district else None)
        self.unions.append(spec)
        return spec

    def enterprise(self, district: dict, street: str, industry: str, union: str, size: int, trades=None) -> int:
        rng = self.rng
        trades = trades or data.TRADES[industry]
        while True:
            prefix = rng.choice(data.DISTRICT_PREFIX[district["code"]])
            name = f"{prefix}{rng.choice(data.BRANDS)}{rng.choice(trades)}有限公司"
            if name not in self.names:
                break
        while True:
            code = make_credit_code(rng, region=district["region"])
            if code not in self.credit_codes:
                break
        self.names.add(name)
        self.credit_codes.add(code)
        self.enterprises.append(EnterpriseSpec(name, code, union, self.address(district, street), industry, size))
        return len(self.enterprises) - 1

    def grassroots_code(self) -> str:
        self.grassroots_no += 1
        return f"G{self.grassroots_no:04d}"

    def joint_code(self) -> str:
        self.joint_no += 1
        return f"J{self.joint_no:03d}"

    def build(self) -> Tree:
        rng = self.rng
        self.union(CITY_CODE, CITY_NAME, "city", None, None)
        street_weights: list[tuple[dict, str, str, int]] = []  # district, street name, union code, firms
        transport: dict[str, str] = {}
        for d in data.DISTRICTS:
            dcode = d["code"]
            self.union(dcode, f"{d['name']}总工会", "district", CITY_CODE, d)
            industry_unions: dict[str, str] = {}
            industry_joint: dict[str, tuple[str, list[int]]] = {}
            for i, industry in enumerate((*d["industries"], "交通运输")):
                code = f"{dcode}-I{i + 1}"
                self.union(code, f"{d['name']}{industry}行业工会", "industry", dcode, d)
                industry_unions[industry] = code
            transport[dcode] = industry_unions["交通运输"]
            main_industry = d["industries"][0]
            for industry in d["industries"]:
                jcode = self.joint_code()
                self.union(jcode, f"{d['name']}{industry}行业联合工会", "joint", industry_unions[industry], d)
                industry_joint[industry] = (jcode, [])
            industries = (main_industry, "制造", "服务", d["industries"][1])
            industry_weights = (4, 3, 1, 1)
            for j, street in enumerate(d["streets"]):
                scode = f"{dcode}-S{j + 1:02d}"
                self.union(scode, f"{street}总工会", "street", dcode, d, street)
                n_large, n_small = rng.randint(8, 16), rng.randint(10, 22)
                for k in range(n_large):
                    industry = rng.choices(industries, industry_weights)[0]
                    size = min(6000, max(60, int(rng.lognormvariate(5.0, 0.9))))
                    gcode = self.grassroots_code()
                    parent = scode
                    if k > 0 and industry in industry_unions and rng.random() < 0.3:
                        parent = industry_unions[industry]
                    idx = self.enterprise(d, street, industry, gcode, size)
                    self.union(gcode, f"{self.enterprises[idx].name}工会", "grassroots", parent, d, street)
                    self.member_unions.append(MemberUnion(gcode, dcode, size, (idx,), GRASSROOTS_FORMS, False))
                jcode = self.joint_code()
                self.union(jcode, f"{street}小微企业联合工会", "joint", scode, d, street)
                street_firms: list[int] = []
                for _ in range(n_small):
                    industry = rng.choices(industries, industry_weights)[0]
                    size = rng.randint(5, 40)
                    if industry in industry_joint and rng.random() < 0.25:
                        target, firms = industry_joint[industry]
                    else:
                        target, firms = jcode, street_firms
                    firms.append(self.enterprise(d, street, industry, target, size))
                self.member_unions.append(self._joint(jcode, dcode, street_firms))
                street_weights.append((d, street, scode, n_large + n_small))
            for jcode, firms in industry_joint.values():
                if firms:
                    self.member_unions.append(self._joint(jcode, dcode, firms))
        self._new_form_unions(transport)
        self._stations(street_weights, transport)
        return Tree(self.unions, self.enterprises, self.stations, self.member_unions)

    def _joint(self, code: str, district: str, firms: list[int]) -> MemberUnion:
        weight = sum(self.enterprises[i].size for i in firms)
        return MemberUnion(code, district, weight, tuple(firms), SMALL_FIRM_FORMS, False)

    def _new_form_unions(self, transport: dict[str, str]) -> None:
        rng = self.rng
        others = sum(u.weight for u in self.member_unions)
        total = others * NEW_FORM_SHARE / (1 - NEW_FORM_SHARE)
        shares = []
        for d in data.DISTRICTS:
            for name, forms, trades in data.NEW_FORM_UNIONS:
                jcode = self.joint_code()
                self.union(jcode, f"{d['name']}{name}", "joint", transport[d["code"]], d)
                firms = tuple(
                    self.enterprise(d, rng.choice(d["streets"]), "交通运输", jcode, rng.randint(20, 300), trades)
                    for _ in range(rng.randint(3, 8))
                )
                shares.append((jcode, d["code"], rng.uniform(0.5, 1.5), firms, forms))
        scale = total / sum(s[2] for s in shares)
        for jcode, dcode, share, firms, forms in shares:
            self.member_unions.append(MemberUnion(jcode, dcode, share * scale, firms, forms, True))

    def _stations(self, streets: list[tuple[dict, str, str, int]], transport: dict[str, str]) -> None:
        rng = self.rng
        per_district: dict[str, int] = {}
        names: set[str] = set()
        centres = {}

        def add(d: dict, street: str, union: str, kind: str, place: str | None = None) -> None:
            if street not in centres:
                lat, lng = d["centre"]
                centres[street] = (lat + rng.gauss(0, 0.05), lng + rng.gauss(0, 0.06))
            place = place if place is not None else street + rng.choice(data.STATION_PLACES)
            name = f"{place}{kind}"
            n = 2
            while name in names:
                name, n = f"{place}{n}号{kind}", n + 1
            names.add(name)
            per_district[d["code"]] = per_district.get(d["code"], 0) + 1
            lat, lng = centres[street]
            lat = min(31.0, max(30.4, lat + rng.gauss(0, 0.012)))
            lng = min(120.5, max(119.2, lng + rng.gauss(0, 0.012)))
            self.stations.append(
                StationSpec(
                    code=f"{d['code'].lower()}-{per_district[d['code']]:03d}",
                    name=name,
                    union=union,
                    address=self.address(d, street),
                    hours=rng.choice(data.STATION_HOURS),
                    latitude=f"{lat:.6f}",
                    longitude=f"{lng:.6f}",
                )
            )

        fixed = 0
        for d in data.DISTRICTS:
            add(d, d["streets"][0], d["code"], "职工服务中心工会驿站", place=d["name"])
            for _ in range(4):
                add(d, rng.choice(d["streets"]), transport[d["code"]], "户外劳动者暖心驿站")
            fixed += 5
        # The rest go to the townships and streets in proportion to their enterprises (largest remainder).
        left = STATIONS_TOTAL - fixed
        total = sum(s[3] for s in streets)
        quotas = [left * s[3] / total for s in streets]
        counts = [int(q) for q in quotas]
        by_remainder = sorted(range(len(streets)), key=lambda i: (counts[i] - quotas[i], i))
        for i in by_remainder[: left - sum(counts)]:
            counts[i] += 1
        for (d, street, scode, _firms), count in zip(streets, counts, strict=True):
            for _ in range(count):
                add(d, street, scode, "工会驿站")


def build_tree(seed: int) -> Tree:
    """The demo city's union tree, enterprises and stations for `seed`."""
    return _TreeBuilder(random.Random(f"{seed}:members.tree")).build()


def _cum(pairs) -> tuple[tuple, list[float]]:
    values = tuple(p[0] for p in pairs)
    return values, list(accumulate(p[1] for p in pairs))


def iter_members(seed: int, count: int, tree: Tree):
    """Yield `count` MemberSpec for `seed`; the first one is the demo worker (mobile 13800000000).

    One function on purpose (about 85 lines): every field is drawn from one random stream in a fixed
    order, with its tables bound to locals for speed (680,000 members in minutes); split into
    helpers, the order of the draws would be easy to change and the demo data with it."""
    rng = random.Random(f"{seed}:members.members")
    random_ = rng.random
    family, family_cum = _cum(data.FAMILY_NAMES)
    unions = tree.member_unions
    union_cum = list(accumulate(u.weight for u in unions))
    union_total = union_cum[-1]
    forms_cum = {u.forms: _cum(u.forms) for u in unions}
    stations_by_district: dict[str, list[str]] = {}
    union_district = {u.code: u.district for u in tree.unions}
    for s in tree.stations:
        stations_by_district.setdefault(union_district[s.union], []).append(s.code)
    oldest = dt.date(REFERENCE_DATE.year - 60, REFERENCE_DATE.month, REFERENCE_DATE.day) + dt.timedelta(days=1)
    youngest = dt.date(REFERENCE_DATE.year - 18, REFERENCE_DATE.month, REFERENCE_DATE.day)
    age_span = (youngest - oldest).days
    join_span = (JOIN_TO - JOIN_FROM).days
    aid_from = dt.date(MUTUAL_AID_YEAR, 1, 2)
    seen_ids: set[str] = set()
    seen_mobiles: set[str] = {DEMO_WORKER_MOBILE}

    for i in range(count):
        if i == 0:
            yield _demo_worker(rng, tree, seen_ids)
            continue
        u = unions[bisect(union_cum, random_() * union_total)]
        female = random_() < (0.08 if u.new_form else 0.46)
        # Younger people in the new forms of employment.
        mode = 0.75 if u.new_form else 0.55
        while True:
            birth = oldest + dt.timedelta(days=int(rng.triangular(0, age_span, age_span * mode)))
            id_number = make_id_number(rng, birth=birth, region=_region(rng, u.district), female=female)
            if id_number not in seen_ids:
                break
        seen_ids.add(id_number)
        while True:
            mobile = f"{MOBILE_PREFIXES[int(random_() * len(MOBILE_PREFIXES))]}{rng.randrange(10**8):08d}"
            if mobile not in seen_mobiles:
                break
        seen_mobiles.add(mobile)
        surname = family[bisect(family_cum, random_() * family_cum[-1])]
        pool = data.GIVEN_FEMALE if female else data.GIVEN_MALE
        given = rng.choice(pool) if random_() < 0.35 else rng.choice(pool) + rng.choice(pool)
        forms, forms_c = forms_cum[u.forms]
        form = forms[bisect(forms_c, random_() * forms_c[-1])]
        employer = u.employers[int(random_() * len(u.employers))]
        if u.new_form and random_() < 0.25:
            employer = None  # crowd-sourced riders and drivers without an employer
        r = random_()
        station = None
        if u.new_form:
            channel = "station" if r < 0.5 else "online" if r < 0.9 else "import"
        else:
            channel = "import" if r < 0.35 else "online" if r < 0.7 else "station"
        if channel == "station":
            choices = stations_by_district[u.district]
            station = choices[int(random_() * len(choices))]
        if channel == "import":  # existing members, imported when the zone opened
            joined = JOIN_FROM + dt.timedelta(days=int(random_() * 31))
        else:
            joined = JOIN_FROM + dt.timedelta(days=int(random_() * (join_span + 1)))
        r = random_()
        status = "left" if r < 0.01 else "suspended" if r < 0.013 else "active"
        consented = dt.datetime(
            joined.year, joined.month, joined.day, 8 + int(random_() * 14), int(random_() * 60), tzinfo=TZ
        )
        aid = None
        if status == "active" and random_() < 0.995:
            day = max(joined, aid_from) + dt.timedelta(days=int(random_() * 45))
            aid = dt.datetime(day.year, day.month, day.day, 9 + int(random_() * 9), int(random_() * 60), tzinfo=TZ)
        yield MemberSpec(
            name=surname + given,
            id_number=id_number,
            gender="F" if female else "M",
            birth_date=birth,
            mobile=mobile,
            union=u.code,
            employer=employer,
            employment_form=form,
            join_channel=channel,
            station=station,
            joined_on=joined,
            status=status,
            consented_at=consented,
            mutual_aid_at=aid,
        )


_DISTRICT_REGION = {d["code"]: d["region"] for d in data.DISTRICTS}


def _region(rng: random.Random, district: str) -> str:
    """Mostly the district's own region code, sometimes another of the city's."""
    return _DISTRICT_REGION[district] if rng.random() < 0.7 else rng.choice(HUZHOU_REGIONS)


def _demo_worker(rng: random.Random, tree: Tree, seen_ids: set[str]) -> MemberSpec:
    enterprise = next(i for i, e in enumerate(tree.enterprises) if e.union == DEMO_GRASSROOTS_CODE)
    station = next(s.code for s in tree.stations if s.union == "WX-S01")
    birth = dt.date(1986, 6, 15)
    id_number = make_id_number(rng, birth=birth, region="330502", female=False)
    seen_ids.add(id_number)
    joined = dt.date(2024, 5, 20)
    return MemberSpec(
        name=DEMO_WORKER_NAME,
        id_number=id_number,
        gender="M",
        birth_date=birth,
        mobile=DEMO_WORKER_MOBILE,
        union=DEMO_GRASSROOTS_CODE,
        employer=enterprise,
        employment_form="employee",
        join_channel="station",
        station=station,
        joined_on=joined,
        status="active",
        consented_at=dt.datetime(2024, 5, 20, 10, 30, tzinfo=TZ),
        mutual_aid_at=dt.datetime(2025, 1, 6, 9, 15, tzinfo=TZ),
    )
