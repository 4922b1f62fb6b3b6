"""Amounts of money staff enter (CNY): exact, with at most two decimals."""

from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _

from core.errors import ServiceError

CENT = Decimal("0.01")
MAX_MONEY = Decimal("9999999999.99")


def money_parse(value, *, field: str, allow_zero: bool = False) -> Decimal:
    """A CNY amount as an exact Decimal with at most two decimals (floats are read via str)."""
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value).strip().replace(",", ""))
    except (InvalidOperation, ValueError, TypeError):
        raise ServiceError("bad_amount", _("%(field)s is not an amount of money.") % {"field": field}) from None
    if not amount.is_finite() or amount != amount.quantize(CENT) or abs(amount) > MAX_MONEY:
        raise ServiceError("bad_amount", _("%(field)s is not an amount of money.") % {"field": field})
    if amount < 0 or (amount == 0 and not allow_zero):
        raise ServiceError("bad_amount", _("%(field)s must be more than zero.") % {"field": field})
    return amount.quantize(CENT)
