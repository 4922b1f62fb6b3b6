"""Form fields every app's pages share: each reads what people type through `core.parsing`, so a
page accepts and refuses exactly what the services and the APIs do."""

from django import forms

from core.errors import ServiceError
from core.parsing import money_parse


class MoneyField(forms.CharField):
    """An amount of CNY, read by `core.parsing.money_parse`: ``1234.5`` and ``1,234.50`` are read,
    ``1e3``, ``-5``, fullwidth or other scripts' digits are refused with the parser's message and
    code (``bad_amount``, ``negative_amount``). ``allow_zero=False`` refuses zero too. The cleaned
    value is a Decimal with two decimals (None when the field is optional and left empty)."""

    widget = forms.TextInput

    def __init__(self, *, allow_zero: bool = True, money_label=None, **kwargs):
        self.allow_zero = allow_zero
        self.money_label = money_label
        super().__init__(**kwargs)

    def widget_attrs(self, widget):
        attrs = super().widget_attrs(widget)
        return {"inputmode": "decimal", "autocomplete": "off", **attrs}

    def to_python(self, value):
        text = super().to_python(value)
        if text in self.empty_values:
            return None
        try:
            return money_parse(text, allow_zero=self.allow_zero, label=self.money_label)
        except ServiceError as exc:
            raise forms.ValidationError(exc.message, code=exc.code) from None
