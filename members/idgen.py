"""Valid identifiers for demo data and tests (never real people's)."""

import datetime as dt
import random

from core.parsing import CREDIT_CHARS, credit_check_char, id_check_char

HUZHOU_REGIONS = ("330502", "330503", "330521", "330522", "330523")  # 吴兴 南浔 德清 长兴 安吉


def make_id_number(rng: random.Random, *, birth: dt.date | None = None, region: str | None = None, female=None) -> str:
    region = region or rng.choice(HUZHOU_REGIONS)
    if birth is None:
        birth = dt.date(1965, 1, 1) + dt.timedelta(days=rng.randrange(0, 365 * 40))
    seq = rng.randrange(0, 100)
    sex = rng.randrange(0, 10)
    if female is not None:
        sex = (sex // 2) * 2 + (0 if female else 1)
    first17 = f"{region}{birth:%Y%m%d}{seq:02d}{sex}"
    return first17 + id_check_char(first17)


def make_credit_code(rng: random.Random, *, region: str = "330502") -> str:
    org = "".join(rng.choice(CREDIT_CHARS) for _ in range(9))
    first17 = f"91{region}{org}"
    return first17 + credit_check_char(first17)


def make_mobile(rng: random.Random) -> str:
    return rng.choice("3456789") and f"1{rng.choice('3578')}{rng.randrange(0, 10**9):09d}"
