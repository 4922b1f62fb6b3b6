"""Validators for Chinese identifiers: resident ID numbers (GB 11643), unified social credit
codes (GB 32100) and mainland mobile numbers."""

import datetime as dt
import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"
# [0-9], not \d: \d also matches fullwidth and other scripts' digits, which int() accepts.
ID_NUMBER_RE = re.compile(r"[0-9]{17}[0-9X]")
# Province-level codes (first two digits) in use under GB/T 2260, plus 71/81/82.
PROVINCES = {
    11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46,
    50, 51, 52, 53, 54, 61, 62, 63, 64, 65, 71, 81, 82,
}  # fmt: skip
MIN_MEMBER_AGE = 16


@dataclass(frozen=True)
class IdNumberInfo:
    number: str
    birth_date: dt.date
    gender: str  # "M" or "F"


# Fullwidth digits and Latin letters (Chinese input methods, agencies' spreadsheets) and their ASCII.
# Nothing else: NFKC would also read ⑥, ⁶ or Ⅹ as a digit or an X, which no one types for a number.
FULLWIDTH_TO_ASCII = str.maketrans(
    {chr(code): chr(code - 0xFEE0) for start, end in ((0xFF10, 0xFF19), (0xFF21, 0xFF3A), (0xFF41, 0xFF5A))
     for code in range(start, end + 1)}
)  # fmt: skip


def normalize_digits(value) -> str:
    """Typed or pasted identifiers as ASCII: fullwidth digits and letters become 0-9, A-Z and a-z
    (and only those: circled, superscript or Roman numerals stay what they are, and are refused
    by the validators), and the ends are stripped.

    Input is normalised where it enters (forms, API serializers, the services behind them); the
    validators below accept ASCII alone, so one person or number never has two spellings."""
    text = "" if value is None else str(value)
    return (text if text.isascii() else text.translate(FULLWIDTH_TO_ASCII)).strip()


def normalize_id_number(value) -> str:
    return normalize_digits(value).upper()


def normalize_mobile(value) -> str:
    return normalize_digits(value)


def id_check_char(first17: str) -> str:
    return ID_CHECK[sum(int(c) * w for c, w in zip(first17, ID_WEIGHTS, strict=True)) % 11]


def parse_id_number(value: str, *, today: dt.date | None = None, min_age: int = MIN_MEMBER_AGE) -> IdNumberInfo:
    """Validate an 18-digit resident ID number and return what it encodes.

    Only ASCII digits (and X) are accepted; call `normalize_id_number` on input first.
    Raises ValidationError with a code: id_format, id_region, id_birth_date, id_check, id_age.
    """
    number = (value or "").strip().upper()
    if not ID_NUMBER_RE.fullmatch(number):
        raise ValidationError(_("An ID number has 18 characters: 17 digits and a digit or X."), code="id_format")
    if int(number[:2]) not in PROVINCES:
        raise ValidationError(_("The ID number's region code does not exist."), code="id_region")
    try:
        birth = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise ValidationError(_("The ID number's birth date is not a real date."), code="id_birth_date") from None
    today = today or timezone.localdate()
    if birth.year < 1900 or birth > today:
        raise ValidationError(_("The ID number's birth date is not a real date."), code="id_birth_date")
    if id_check_char(number[:17]) != number[17]:
        raise ValidationError(_("The ID number's check character is wrong."), code="id_check")
    age = today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))
    if age < min_age:
        raise ValidationError(_("Members must be at least %(age)d years old.") % {"age": min_age}, code="id_age")
    return IdNumberInfo(number=number, birth_date=birth, gender="M" if int(number[16]) % 2 else "F")


def validate_id_number(value: str) -> None:
    parse_id_number(value)


def mask_id_number(number: str) -> str:
    """330502199001011234 -> 330502********1234."""
    number = (number or "").strip().upper()
    if len(number) != 18:
        return "*" * len(number)
    return number[:6] + "*" * 8 + number[14:]


CREDIT_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def credit_check_char(first17: str) -> str:
    total = sum(CREDIT_CHARS.index(c) * w for c, w in zip(first17, CREDIT_WEIGHTS, strict=True))
    return CREDIT_CHARS[(31 - total % 31) % 31]


def validate_credit_code(value: str) -> None:
    """A unified social credit code (统一社会信用代码, GB 32100-2015)."""
    code = (value or "").strip().upper()
    if len(code) != 18 or any(c not in CREDIT_CHARS for c in code):
        raise ValidationError(
            _("A unified social credit code has 18 characters from digits and capital letters except I, O, Z, S, V."),
            code="credit_format",
        )
    if not code[2:8].isdigit():
        raise ValidationError(_("The credit code's region part must be six digits."), code="credit_format")
    if credit_check_char(code[:17]) != code[17]:
        raise ValidationError(_("The credit code's check character is wrong."), code="credit_check")


MOBILE_RE = re.compile(r"1[3-9][0-9]{9}")


def validate_mobile(value: str) -> None:
    if not MOBILE_RE.fullmatch((value or "").strip()):
        raise ValidationError(_("Enter an 11-digit mainland mobile number starting with 13–19."), code="mobile")
