"""How the hardship admin shows amounts, evidence and a cycle step's figures (names and ID numbers
of evidence are never shown)."""

import contextlib
import datetime as dt
from contextvars import ContextVar
from decimal import Decimal

from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from core.models import Agency
from hardship.models import FundLine

MONEY_KEYS = ("amount", "total", "cost", "pocket", "reimbursed", "income", "expenditure", "threshold")
EVIDENCE_LABELS = {
    "rule": _("rule"),
    "kind": _("kind"),
    "agency": _("agency"),
    "period": _("period"),
    "periods": _("periods"),
    "amount": _("amount"),
    "total_cost": _("total medical cost"),
    "reimbursed": _("reimbursed"),
    "out_of_pocket": _("out of pocket"),
    "illness_category": _("illness category"),
    "grade": _("grade"),
    "type": _("type"),
    "list": _("list"),
    "status": _("status"),
    "start_date": _("start date"),
    "injury_date": _("injury date"),
    "body": _("body"),
    "purpose": _("purpose"),
    "fund_line": _("fund line"),
    "date": _("date"),
    "rows": _("rows"),
    "threshold": _("threshold"),
    "total": _("total"),
    "sources": _("sources"),
    "amounts": _("amounts"),
}
# Coded values of the agencies' rows, shown by their label (`hardship.pushformats` reads them).
EVIDENCE_VALUE_LABELS = {
    "list": {"dibao": _("Minimum living allowance (低保)"), "dibian": _("Marginal low income (低边)")},
    "status": {"active": _("receiving (在保)"), "ended": _("ended (退保)")},
    "type": {
        "physical": _("physical (肢体)"),
        "visual": _("visual (视力)"),
        "hearing": _("hearing (听力)"),
        "speech": _("speech (言语)"),
        "intellectual": _("intellectual (智力)"),
        "mental": _("mental (精神)"),
        "multiple": _("multiple (多重)"),
    },
    "fund_line": {**dict(FundLine.choices), "other": _("Other")},
}
# Keys whose values are agency codes: shown by the agency's name (see `agency_names`).
AGENCY_KEYS = ("agency", "sources")
_AGENCY_NAMES: ContextVar[dict | None] = ContextVar("hardship_agency_names", default=None)


@contextlib.contextmanager
def agency_names():
    """While a page renders, agency codes in evidence show as the agencies' names (one query)."""
    token = _AGENCY_NAMES.set(dict(Agency.objects.values_list("code", "name")))
    try:
        yield
    finally:
        _AGENCY_NAMES.reset(token)


def value_label(key: str, value) -> str:
    """A coded value by its label: a fund line, a low-income list, a status, a disability type, an
    agency (while `agency_names` is on); anything else as it is."""
    if key in AGENCY_KEYS:
        names = _AGENCY_NAMES.get() or {}
        return str(names.get(str(value), value))
    labels = EVIDENCE_VALUE_LABELS.get(key)
    if labels and str(value) in labels:
        return str(labels[str(value)])
    return str(value)


def fund_line_label(code) -> str:
    return value_label("fund_line", code)


# Never shown: names and ID numbers (the member's masked name is shown instead), row ids, hashes.
HIDDEN_EVIDENCE_KEYS = {"name", "id_number", "id_index", "row_ids", "member", "row", "facts"}


def cny(value) -> str:
    """154184.67 → "¥154,184.67"; anything that is not a number is shown as it is."""
    try:
        return f"¥{Decimal(str(value)):,.2f}"
    except (ArithmeticError, ValueError):
        return str(value)


def evidence_items(evidence) -> list[tuple[str, str]]:
    """Readable (label, value) pairs of a candidate's evidence or an evidence entry, amounts formatted.

    Names and ID numbers are never shown from evidence (the member's masked name is shown instead)."""
    if not isinstance(evidence, dict):
        return [("", str(evidence))] if evidence else []
    items = []
    for key, value in evidence.items():
        if key in HIDDEN_EVIDENCE_KEYS or value in (None, "", [], {}):
            continue
        label = str(EVIDENCE_LABELS.get(key, key.replace("_", " ")))
        if key == "rows" and isinstance(value, list):
            shown = str(len(value))
        elif isinstance(value, dict):
            shown = "; ".join(f"{k2}: {v2}" for k2, v2 in evidence_items(value))
        elif isinstance(value, list):
            shown = ", ".join(
                "(" + ", ".join(f"{k2} {v2}" for k2, v2 in evidence_items(v)) + ")"
                if isinstance(v, dict)
                else value_label(key, v)
                for v in value
            )
        elif any(word in key for word in MONEY_KEYS) and not isinstance(value, bool):
            shown = cny(value)
        else:
            shown = value_label(key, value)
        items.append((label, shown))
    return items


def evidence_text(evidence) -> str:
    return "; ".join(f"{label}: {value}" if label else value for label, value in evidence_items(evidence))


def local_time(iso) -> str:
    """An ISO timestamp of a step, in local time."""
    try:
        when = dt.datetime.fromisoformat(str(iso))
    except ValueError:
        return ""
    return timezone.localtime(when).strftime("%Y-%m-%d %H:%M:%S") if timezone.is_aware(when) else str(when)[:19]


def figures_html(figures: dict, depth: int = 0):
    """A step's figures as a readable nested list (numbers first, then the groups)."""
    if not isinstance(figures, dict) or not figures:
        return "-"
    scalars = [(k, v) for k, v in figures.items() if not isinstance(v, dict | list)]
    groups = [(k, v) for k, v in figures.items() if isinstance(v, dict) and depth < 2]
    parts = format_html_join(", ", "{}: <b>{}</b>", scalars)
    nested = format_html_join("", "<li>{}: {}</li>", ((k, figures_html(v, depth + 1)) for k, v in groups if v))
    return format_html("{}<ul style='margin:0'>{}</ul>", parts, nested) if groups else parts
