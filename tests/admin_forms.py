"""Post an admin change form as a browser would: its current values, with some changed."""

import datetime as dt

from django.forms import CheckboxInput, SplitDateTimeWidget
from django.utils import timezone


def form_data(response, **changes) -> dict:
    """The data the admin page in `response` would post unchanged, updated with `changes`
    (a many-to-many field takes a list of primary keys; a checkbox True or False)."""
    form = response.context["adminform"].form
    data = {}
    for name, field in form.fields.items():
        if field.disabled:
            continue
        value = changes.pop(name, form[name].value())
        if isinstance(field.widget, SplitDateTimeWidget):
            if isinstance(value, dt.datetime):
                value = timezone.localtime(value) if timezone.is_aware(value) else value
                data[f"{name}_0"], data[f"{name}_1"] = value.date().isoformat(), value.time().isoformat()
            continue
        if isinstance(field.widget, CheckboxInput):
            if value:
                data[name] = "on"
            continue
        if value is None:
            value = ""
        if isinstance(value, list | tuple):
            data[name] = [getattr(v, "pk", v) for v in value]
        else:
            data[name] = getattr(value, "pk", value)
    assert not changes, f"not fields of the form: {sorted(changes)}"
    # Inline formsets (e.g. a merchant's staff accounts): their management forms, no rows changed.
    for formset in response.context.get("inline_admin_formsets", []):
        fs = formset.formset
        data.update({f"{fs.prefix}-{k}": v for k, v in fs.management_form.initial.items()})
        for i, inline in enumerate(fs.forms):
            for name in inline.fields:
                value = inline[name].value()
                if value not in (None, False, ""):
                    data[f"{fs.prefix}-{i}-{name}"] = getattr(value, "pk", value)
    return data
