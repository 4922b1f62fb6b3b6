"""Serializer fields every app's API shares: each reads its input through `core.parsing`, so an
API accepts and refuses exactly what the pages and the services do, with the parser's codes."""

from decimal import Decimal

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.errors import ServiceError
from core.parsing import CENT, MONEY_RE, money_parse

MONEY_SCHEMA = {
    "type": "string",
    "pattern": f"^{MONEY_RE.pattern}$",
    "example": "1234.50",
    "description": "CNY, at most two decimals; thousands separators in threes are read (`1,234.50`). "
    "Refused with the field code `bad_amount` (not an amount, an exponent, more than two decimals) "
    "or `negative_amount`.",
}


@extend_schema_field(MONEY_SCHEMA)
class MoneyField(serializers.Field):
    """An amount of CNY, read by `core.parsing.money_parse` (text, or a JSON number); refused with
    the parser's message and code (``bad_amount``, ``negative_amount``). ``allow_zero=False``
    refuses zero too. Answered as text with two decimals (``"1234.50"``)."""

    def __init__(self, *, allow_zero: bool = True, money_label=None, **kwargs):
        self.allow_zero = allow_zero
        self.money_label = money_label
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        try:
            return money_parse(data, allow_zero=self.allow_zero, label=self.money_label)
        except ServiceError as exc:
            raise serializers.ValidationError(exc.message, code=exc.code) from None

    def to_representation(self, value):
        return format(Decimal(value).quantize(CENT), "f")
