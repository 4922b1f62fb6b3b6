import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from core.errors import ServiceError
from core.parsing import credit_check_char, id_check_char, validate_credit_code
from members.validators import mask_id_number, parse_id_number, validate_mobile

TODAY = dt.date(2026, 11, 29)


# The example in GB 11643-1999's appendix, and widely published valid numbers.
@pytest.mark.parametrize(
    ("number", "birth", "gender"),
    [
        ("11010519491231002X", dt.date(1949, 12, 31), "F"),
        ("330502199001011236", dt.date(1990, 1, 1), "M"),
    ],
)
def test_it_accepts_published_valid_id_numbers(number, birth, gender):
    info = parse_id_number(number, today=TODAY, min_age=16)
    assert (info.birth_date, info.gender) == (birth, gender)


def test_check_character_matches_the_standards_worked_example():
    # GB 11643-1999 appendix: 44052418800101001 → check character 4 (born 1880, so not a member).
    assert id_check_char("44052418800101001") == "4"


def test_it_accepts_a_lower_case_x():
    assert parse_id_number("11010519491231002x", today=TODAY).number == "11010519491231002X"


@pytest.mark.parametrize(
    ("number", "code"),
    [
        ("110105194912310021", "id_check"),  # wrong check character
        ("11010519491231002", "id_format"),  # 17 characters
        ("1101051949123100X2", "id_format"),  # X not last
        ("990105194912310025", "id_region"),  # no province 99
        ("110105194902300027", "id_birth_date"),  # 30 February
        ("110105203001010013", "id_birth_date"),  # born in the future
    ],
)
def test_it_rejects_invalid_id_numbers_with_a_reason(number, code):
    with pytest.raises(ServiceError) as exc:
        parse_id_number(number, today=TODAY)
    assert exc.value.code == code


def test_it_rejects_workers_under_sixteen():
    # Born 2011-01-01: 15 years old on 2026-11-29.
    first17 = "33050220110101123"
    with pytest.raises(ServiceError) as exc:
        parse_id_number(first17 + id_check_char(first17), today=TODAY)
    assert exc.value.code == "id_age"


def test_masking_keeps_only_region_and_last_four():
    assert mask_id_number("11010519491231002X") == "110105********002X"


@pytest.mark.parametrize(
    "code",
    ["91350100M000100Y43", "91110000802100433B", "91330000142916567N", "91440300708461136T"],
)
def test_it_accepts_published_credit_codes(code):
    assert credit_check_char(code[:17]) == code[17]  # GB 32100-2015's check character
    assert validate_credit_code(code) is None
    assert validate_credit_code(f" {code.lower()} ") is None  # as typed: spaces and lower case


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("91350100M000100Y44", "credit_check"),
        ("91350100M000100Y4", "credit_format"),
        ("91350100I000100Y43", "credit_format"),
    ],
)
def test_it_rejects_bad_credit_codes(code, reason):
    with pytest.raises(ValidationError) as exc:
        validate_credit_code(code)
    assert exc.value.code == reason


@pytest.mark.parametrize("mobile", ["12900000000", "1390000000", "139000000001", "23900000000", ""])
def test_it_rejects_bad_mobiles(mobile):
    with pytest.raises(ValidationError):
        validate_mobile(mobile)
