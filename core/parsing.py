r"""The one parser of each kind of value people and agencies type: a period, an amount of money, a
resident ID number and a unified social credit code. Every app reads them through these.

Each parser takes what was typed (or a cell of a file, or a JSON value), returns the value in its
one canonical form, and refuses anything else with ``core.errors.ServiceError`` and a stable code:

- ``period_parse``: ``2025-03`` (a month) or ``2025-Q1`` (a quarter), and ``2025`` (a year) where
  the caller asks for years; years 2000 to 2099. Code ``bad_period``.
- ``money_parse``: CNY as a ``Decimal`` with two decimals. Codes ``bad_amount`` (not an amount, more
  than two decimals, an exponent, NaN, over 9,999,999,999.99, or zero where refused) and
  ``negative_amount``.
- ``id_number_parse``: an 18-character resident ID number (GB 11643). Codes ``id_format``,
  ``id_region``, ``id_birth_date``, ``id_check`` (the codes the API documents).
- ``credit_code_parse``: a unified social credit code (GB 32100). Codes ``credit_format``,
  ``credit_check``.
- ``int_parse``: a whole number, 0 or more (an id or a year in a query, a grade in a push), within
  the caller's bounds. Code ``bad_number``.
- ``date_parse``: a day, ``2024-03-01``, ``2024/3/1``, ``2024.3.1``, ``2024年3月1日`` or
  ``20240301``. Code ``bad_date``.

``MOBILE_RE`` is the one pattern of a mainland mobile number.

Digits typed fullwidth (Chinese input methods, agencies' spreadsheets) are read as ASCII by every
parser; no other digit is (⑥, ⁶, Ⅹ, ², or another script's ٣, which ``str.isdigit``, ``\d`` and
``int()`` would accept, or accept and then fail on). The check characters are computed by
python-stdnum (``stdnum.cn.ric``, ``stdnum.cn.uscc``); the formats are the portal's own, because
stdnum's ``validate`` asks for more than the portal checks (the county, against its own table for
the birth year: it refuses 330502199001011236 and fails on a county it does not know) or allows
less than GB 32100 (registering authorities N and Y).
"""

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import total_ordering

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from stdnum.cn import ric, uscc

from core.errors import ServiceError

# --- Digits ---------------------------------------------------------------------------------------

# Fullwidth digits and Latin letters (Chinese input methods, agencies' spreadsheets) and their ASCII.
# Nothing else: NFKC would also read ⑥, ⁶ or Ⅹ as a digit or an X, which no one types for a number.
FULLWIDTH_TO_ASCII = str.maketrans(
    {chr(code): chr(code - 0xFEE0) for start, end in ((0xFF10, 0xFF19), (0xFF21, 0xFF3A), (0xFF41, 0xFF5A))
     for code in range(start, end + 1)}
)  # fmt: skip


def normalize_digits(value) -> str:
    """Typed or pasted identifiers as ASCII: fullwidth digits and letters become 0-9, A-Z and a-z
    (and only those: circled, superscript or Roman numerals stay what they are, and are refused
    by the parsers), and the ends are stripped."""
    text = "" if value is None else str(value)
    return (text if text.isascii() else text.translate(FULLWIDTH_TO_ASCII)).strip()


# --- Mobile numbers -------------------------------------------------------------------------------

# A mainland mobile number: 11 digits, 13 to 19 first (as typed: callers read fullwidth digits with
# `normalize_digits` first where people type them). The one copy: the validators of the models and
# forms, the SMS sender and the admin's identity search all match this.
MOBILE_RE = re.compile(r"1[3-9][0-9]{9}")


# --- Whole numbers -------------------------------------------------------------------------------

INT_RE = re.compile(r"[0-9]+")
INT_MAX_DIGITS = 18  # past a 64-bit key; int() of a long enough text is a ValueError of its own


def int_parse(value, *, minimum: int | None = None, maximum: int | None = None, label=None) -> int:
    """A whole number, 0 or more: an int (not a bool), or text of ASCII or fullwidth digits with
    the ends stripped (``"12"``, ``"１２"``), at most 18 of them besides leading zeros. ServiceError
    ``bad_number`` for anything else (``"²"``, ``"①"``, ``"٣"``, ``"-1"``, ``"1.0"``, ``""``) or
    a number outside [`minimum`, `maximum`]. ``label`` names the field in the message."""
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    else:
        text = normalize_digits(value) if isinstance(value, str) else ""
        if not INT_RE.fullmatch(text) or len(text.lstrip("0")) > INT_MAX_DIGITS:
            raise _int_refused(minimum, maximum, label)
        number = int(text)
    if (minimum is not None and number < minimum) or (maximum is not None and number > maximum):
        raise _int_refused(minimum, maximum, label)
    return number


def _int_refused(minimum, maximum, label) -> ServiceError:
    if minimum is not None and maximum is not None:
        message = _("Enter a whole number from %(minimum)d to %(maximum)d.") % {"minimum": minimum, "maximum": maximum}
    elif minimum is not None:
        message = _("Enter a whole number of at least %(minimum)d.") % {"minimum": minimum}
    elif maximum is not None:
        message = _("Enter a whole number of at most %(maximum)d.") % {"maximum": maximum}
    else:
        message = _("Enter a whole number.")
    if label:
        message = _("%(field)s: %(message)s") % {"field": label, "message": message}
    return ServiceError("bad_number", message)


# --- Days -----------------------------------------------------------------------------------------

DATE_RES = (
    re.compile(r"([0-9]{4})\s*[-/.年]\s*([0-9]{1,2})\s*[-/.月]\s*([0-9]{1,2})\s*日?"),
    re.compile(r"([0-9]{4})([0-9]{2})([0-9]{2})"),
)


def date_parse(value) -> dt.date:
    """A day: a date (a datetime: its date), or text ``2024-03-01``, ``2024/3/1``, ``2024.3.1``,
    ``2024年3月1日`` (spaces allowed around the separators) or ``20240301``, in ASCII or fullwidth
    digits. ServiceError ``bad_date`` for anything else or a day that does not exist
    (``2024-02-30``); how far back or ahead a day may be is the caller's rule."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = normalize_digits(value)
    for pattern in DATE_RES:
        match = pattern.fullmatch(text)
        if match:
            try:
                return dt.date(int(match[1]), int(match[2]), int(match[3]))
            except ValueError:
                break
    raise ServiceError("bad_date", _("Enter a date such as 2024-03-01."))


# --- Periods --------------------------------------------------------------------------------------

# [0-9], not \d: \d also matches other scripts' digits, which int() accepts.
PERIOD_RE = re.compile(r"(20[0-9][0-9])(?:-(?:(0[1-9]|1[0-2])|Q([1-4])))?")


@total_ordering
@dataclass(frozen=True, eq=True)
class Period:
    """A month (``month`` set), a quarter (``quarter`` set) or a whole year (neither).

    ``str()`` is the canonical form (``2025-03``, ``2025-Q1``, ``2025``), the one stored. Periods
    sort by their last month, a month before the quarter or year that ends with it."""

    year: int
    month: int | None = None
    quarter: int | None = None

    def __post_init__(self):
        if not 1 <= self.year <= 9999 or (self.month is not None and self.quarter is not None):
            raise ValueError(f"not a period: {self!r}")
        if self.month is not None and not 1 <= self.month <= 12:
            raise ValueError(f"not a month: {self.month}")
        if self.quarter is not None and not 1 <= self.quarter <= 4:
            raise ValueError(f"not a quarter: {self.quarter}")

    @classmethod
    def of(cls, day: dt.date) -> "Period":
        """The month of a day (of a datetime: of its date as it is, so pass local times)."""
        return cls(day.year, month=day.month)

    @property
    def kind(self) -> str:
        return "month" if self.month is not None else "quarter" if self.quarter is not None else "year"

    @property
    def first_month(self) -> "Period":
        if self.month is not None:
            return self
        return Period(self.year, month=(self.quarter - 1) * 3 + 1 if self.quarter else 1)

    @property
    def last_month(self) -> "Period":
        if self.month is not None:
            return self
        return Period(self.year, month=self.quarter * 3 if self.quarter else 12)

    def months(self) -> tuple["Period", ...]:
        """The months of the period, in order (a month: itself)."""
        first, last = self.first_month.month, self.last_month.month
        return tuple(Period(self.year, month=m) for m in range(first, last + 1))

    def quarter_of(self) -> "Period":
        """The quarter a month is in (a quarter: itself)."""
        if self.kind == "year":
            raise ValueError("a year is in no quarter")
        return self if self.quarter else Period(self.year, quarter=(self.month - 1) // 3 + 1)

    def shift(self, months: int) -> "Period":
        """The month `months` later (earlier when negative); only for a month."""
        if self.month is None:
            raise ValueError("only a month shifts")
        n = self.year * 12 + self.month - 1 + months
        return Period(n // 12, month=n % 12 + 1)

    @property
    def first_day(self) -> dt.date:
        return dt.date(self.year, self.first_month.month, 1)

    @property
    def day_after(self) -> dt.date:
        """The first day after the period."""
        after = self.last_month.shift(1)
        return dt.date(after.year, after.month, 1)

    def bounds(self) -> tuple[dt.datetime, dt.datetime]:
        """[start, end) of the period in the portal's time zone (Asia/Shanghai)."""
        tz = timezone.get_current_timezone()
        return (
            dt.datetime.combine(self.first_day, dt.time.min, tzinfo=tz),
            dt.datetime.combine(self.day_after, dt.time.min, tzinfo=tz),
        )

    def _key(self) -> tuple[int, int, int]:
        return (self.year, self.last_month.month, {"month": 0, "quarter": 1, "year": 2}[self.kind])

    def __lt__(self, other):
        if not isinstance(other, Period):
            return NotImplemented
        return self._key() < other._key()

    def __str__(self) -> str:
        if self.month is not None:
            return f"{self.year:04d}-{self.month:02d}"
        if self.quarter is not None:
            return f"{self.year:04d}-Q{self.quarter}"
        return f"{self.year:04d}"


def period_parse(text, *, quarters: bool = True, years: bool = False) -> Period:
    """A month ``2025-03``, a quarter ``2025-Q1`` (unless ``quarters=False``) or a year ``2025``
    (only with ``years=True``), years 2000 to 2099; fullwidth digits and a lowercase q are read
    too, and the ends stripped. ServiceError ``bad_period`` otherwise (``2025-3``, ``2025/03``,
    ``2025-13``, ``2025-Q5``)."""
    match = PERIOD_RE.fullmatch(normalize_digits(text).upper())
    if match and match[2]:
        return Period(int(match[1]), month=int(match[2]))
    if match and match[3] and quarters:
        return Period(int(match[1]), quarter=int(match[3]))
    if match and not match[2] and not match[3] and years:
        return Period(int(match[1]))
    if years:
        message = _("Give a month as YYYY-MM or a year as YYYY.")
    elif quarters:
        message = _("A period is a month (2025-03) or a quarter (2025-Q1).")
    else:
        message = _("Give a month as YYYY-MM, e.g. 2026-11.")
    raise ServiceError("bad_period", message)


def month_parse(text) -> Period:
    """A month ``2025-03`` alone (see `period_parse`)."""
    return period_parse(text, quarters=False)


# --- Money ----------------------------------------------------------------------------------------

# Up to 10 whole digits (9,999,999,999.99 at most, the columns' 12 digits), at most two decimals,
# thousands separators only in threes. No sign, exponent, leading or trailing point.
MONEY_RE = re.compile(r"([0-9]{1,10}|[0-9]{1,3}(?:,[0-9]{3}){1,3})(?:\.([0-9]{1,2}))?")
MONEY_CANONICAL_RE = re.compile(r"(?:0|[1-9][0-9]{0,9})\.[0-9][0-9]")  # already as stored: "1234.50"
CENT = Decimal("0.01")
MAX_MONEY = Decimal("9999999999.99")


def _money_refused(code: str, label) -> ServiceError:
    if code == "negative_amount":
        message = _("An amount cannot be negative.")
    elif label:
        message = _("%(field)s is not an amount of money.") % {"field": label}
    else:
        message = _("Enter an amount such as 1234.56 (at most two decimals).")
    return ServiceError(code, message)


def money_text(value, *, allow_zero: bool = True, label=None) -> str:
    """`money_parse` as its canonical text, ``"1234.50"`` (for JSON payloads; fast for text that is
    already canonical, as most of an agency's cells are)."""
    if value.__class__ is str and MONEY_CANONICAL_RE.fullmatch(value):
        text = value
    else:
        text = _money_text(value, label)
    if not allow_zero and text == "0.00":
        if label:
            raise ServiceError("bad_amount", _("%(field)s must be more than zero.") % {"field": label})
        raise ServiceError("bad_amount", _("The amount must be more than zero."))
    return text


def _money_text(value, label) -> str:
    if isinstance(value, bool) or value is None:
        raise _money_refused("bad_amount", label)
    if isinstance(value, float):
        return _float_money(value, label)
    if isinstance(value, Decimal):  # already a number (a form's DecimalField): judged by its value
        try:
            cents = value.quantize(CENT)
        except InvalidOperation:  # NaN, Infinity, or more digits than a Decimal holds
            raise _money_refused("bad_amount", label) from None
        if cents != value:
            raise _money_refused("bad_amount", label)
        text = format(cents, "f")
    else:
        text = str(value).strip()
    negative = text.startswith("-")
    match = MONEY_RE.fullmatch(text[1:] if negative else text)
    if not match:
        raise _money_refused("bad_amount", label)
    whole = int(match[1].replace(",", ""))
    cents = (match[2] or "").ljust(2, "0")
    if whole > 9_999_999_999:
        raise _money_refused("bad_amount", label)
    if negative and (whole or cents != "00"):
        raise _money_refused("negative_amount", label)
    return f"{whole}.{cents}"


def _float_money(value: float, label) -> str:
    """A float from a spreadsheet or JSON: to cents when within a millionth of them (0.1 + 0.2 is
    0.30000000000000004, an XLSX formula's 154184.67000000004); refused otherwise."""
    if value != value or value in (float("inf"), float("-inf")):
        raise _money_refused("bad_amount", label)
    if value < 0 and value <= -0.005:
        raise _money_refused("negative_amount", label)
    try:
        cents = Decimal(repr(value)).quantize(CENT)
    except InvalidOperation:
        raise _money_refused("bad_amount", label) from None
    if abs(value - float(cents)) > 1e-6 or abs(cents) > MAX_MONEY:
        raise _money_refused("bad_amount", label)
    return format(abs(cents), "f")


def money_parse(value, *, allow_zero: bool = True, label=None) -> Decimal:
    """An amount of CNY as a Decimal with two decimals, from text (a form, a CSV cell, JSON), a
    number or a Decimal.

    Text: up to ten whole digits (thousands separators only in threes: ``1,234.50``), at most two
    decimals; no sign, exponent (``1e3``), NaN or Infinity. A float is taken to the cent when it is
    within a millionth of it. Negative amounts are refused (``negative_amount``; a negative zero
    is zero), and zero too with ``allow_zero=False`` (``bad_amount``). ``label`` names the field in
    the message."""
    return Decimal(money_text(value, allow_zero=allow_zero, label=label))


# --- Resident ID numbers (GB 11643) -----------------------------------------------------------

ID_NUMBER_RE = re.compile(r"[0-9]{17}[0-9X]")
# Province-level codes (first two digits) in use under GB/T 2260, plus 71/81/82.
ID_PROVINCES = frozenset(
    "11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 50 51 52 53 54 61 62 63 64 65 71 81 82".split()
)


def id_number_normalize(value) -> str:
    """What was typed, as the parser reads it: ASCII digits, capital X, no spaces at the ends."""
    return normalize_digits(value).upper()


def id_check_char(first17: str) -> str:
    """The check character of the first 17 digits (demo data and tests make numbers with it)."""
    return ric.calc_check_digit(first17 + "0")


def id_number_parse(text, *, today: dt.date | None = None) -> str:
    """An 18-character resident ID number in its one form (ASCII digits, capital X).

    Refused with ServiceError, checked in this order: ``id_format`` (not 17 digits and a digit or
    X), ``id_region`` (no such province), ``id_birth_date`` (not a real date, before 1900 or after
    `today`), ``id_check`` (the check character is wrong)."""
    number = id_number_normalize(text)
    if not ID_NUMBER_RE.fullmatch(number):
        raise ServiceError("id_format", _("An ID number has 18 characters: 17 digits and a digit or X."))
    if number[:2] not in ID_PROVINCES:
        raise ServiceError("id_region", _("The ID number's region code does not exist."))
    try:
        birth = id_number_birth_date(number)
    except ValueError:
        birth = None
    if birth is None or birth.year < 1900 or birth > (today or timezone.localdate()):
        raise ServiceError("id_birth_date", _("The ID number's birth date is not a real date."))
    if ric.calc_check_digit(number) != number[17]:
        raise ServiceError("id_check", _("The ID number's check character is wrong."))
    return number


def id_number_birth_date(number: str) -> dt.date:
    """The birth date of a number `id_number_parse` accepted (ValueError for one it refuses as
    id_birth_date). Not stdnum's ``get_birth_date``, which cleans the number again on each call:
    seven times slower, and an agency's push checks a million numbers."""
    return dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))


def id_number_gender(number: str) -> str:
    """``M`` or ``F``, from the 17th digit of a number `id_number_parse` accepted."""
    return "M" if int(number[16]) % 2 else "F"


# --- Unified social credit codes (GB 32100) ---------------------------------------------------

CREDIT_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # no I, O, Z, S, V


def credit_check_char(first17: str) -> str:
    return uscc.calc_check_digit(first17)


def credit_code_parse(text) -> str:
    """A unified social credit code in its one form (capitals, ASCII). ServiceError
    ``credit_format`` (not 18 of the code's characters, or a region part that is not six digits)
    or ``credit_check``."""
    code = normalize_digits(text).upper()
    if len(code) != 18 or any(c not in CREDIT_CHARS for c in code):
        raise ServiceError(
            "credit_format",
            _("A unified social credit code has 18 characters from digits and capital letters except I, O, Z, S, V."),
        )
    if not code[2:8].isdigit():
        raise ServiceError("credit_format", _("The credit code's region part must be six digits."))
    if credit_check_char(code) != code[17]:
        raise ServiceError("credit_check", _("The credit code's check character is wrong."))
    return code


def validate_credit_code(value) -> None:
    """`credit_code_parse` as a Django validator (model fields). The field stores what it is given,
    so a code typed with fullwidth characters is refused here (forms store `credit_code_parse`'s
    answer); a lowercase one, as before, is not."""
    try:
        code = credit_code_parse(value)
    except ServiceError as exc:
        raise ValidationError(exc.message, code=exc.code) from None
    if code != str(value).strip().upper():
        raise ValidationError(
            _("A unified social credit code has 18 characters from digits and capital letters except I, O, Z, S, V."),
            code="credit_format",
        )
