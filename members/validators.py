"""The members' own rules on identifiers: the age of a member from the ID number, the masked copy
of an ID number, and mainland mobile numbers. ID numbers and credit codes are read by
`core.parsing` (`id_number_parse`, `credit_code_parse`), as every app reads them."""

import datetime as dt
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.errors import ServiceError
from core.parsing import (
    MOBILE_RE,
    id_number_birth_date,
    id_number_gender,
    id_number_parse,
    normalize_digits,
    validate_credit_code,
)

# Imported from here by the migrations of members and vouchers (a field validator); it lives in
# core.parsing.
__all__ = ["validate_credit_code"]

MIN_MEMBER_AGE = 16


@dataclass(frozen=True)
class IdNumberInfo:
    number: str
    birth_date: dt.date
    gender: str  # "M" or "F"


def normalize_mobile(value) -> str:
    return normalize_digits(value)


def parse_id_number(value, *, today: dt.date | None = None, min_age: int = MIN_MEMBER_AGE) -> IdNumberInfo:
    """A person's ID number (`core.parsing.id_number_parse`: typed fullwidth is read too) and what
    it encodes, for a member at least `min_age` years old.

    Raises ServiceError with the parser's codes (id_format, id_region, id_birth_date, id_check) or
    id_age."""
    today = today or timezone.localdate()
    number = id_number_parse(value, today=today)
    birth = id_number_birth_date(number)
    age = today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))
    if age < min_age:
        raise ServiceError("id_age", _("Members must be at least %(age)d years old.") % {"age": min_age})
    return IdNumberInfo(number=number, birth_date=birth, gender=id_number_gender(number))


def mask_id_number(number: str) -> str:
    """330502199001011234 -> 330502********1234."""
    number = (number or "").strip().upper()
    if len(number) != 18:
        return "*" * len(number)
    return number[:6] + "*" * 8 + number[14:]


def validate_mobile(value: str) -> None:
    if not MOBILE_RE.fullmatch((value or "").strip()):
        raise ValidationError(
            gettext_lazy("Enter an 11-digit mainland mobile number starting with 13–19."), code="mobile"
        )
