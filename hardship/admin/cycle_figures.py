"""The monthly cycle's steps and figures in the reader's language: step names, step states, figure
names, and the codes the figures are grouped by (agencies, push kinds and states, rules, unions,
roster sources) shown by their names, never as raw codes."""

from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from core.models import Agency
from hardship.models import CycleRun, DataPush, PushKind, ScreeningRule, WarmthRosterEntry
from members.models import Union

STEP_LABELS = {
    "ingest": _("Ingest the pushes"),
    "match": _("Match rows to members"),
    "screen": _("Screen for candidates"),
    "roster": _("Refresh the warmth roster"),
    "notify": _("Notify staff"),
    "publish": _("Publish the outbound data"),
}

FIGURE_LABELS = {
    "pushes": _("pushes"),
    "accepted": _("rows accepted"),
    "rejected": _("rows rejected"),
    "errors": _("errors"),
    "states": _("pushes by state"),
    "period": _("period"),
    "newly_matched": _("newly matched"),
    "rows": _("rows"),
    "matched": _("matched"),
    "unmatched": _("not matched"),
    "by_agency_kind": _("by agency and kind"),
    "rules": _("by rule"),
    "kind": _("kind"),
    "hits": _("hits"),
    "new": _("new candidates"),
    "refreshed": _("candidates refreshed"),
    "case_notes": _("evidence noted on open cases"),
    "seen": _("seen before"),
    "new_by_union": _("new candidates by union"),
    "year": _("year"),
    "eligible": _("eligible"),
    "added": _("added"),
    "reactivated": _("reactivated"),
    "updated": _("updated"),
    "deactivated": _("deactivated"),
    "active": _("active"),
    "by_source": _("by source"),
    "unions": _("unions notified"),
    "recipients": _("staff notified"),
    "without_staff": _("unions without hardship staff"),
    "cases_by_agency": _("cases shared, by agency"),
}
HIDDEN_FIGURES = {"rule"}  # a rule's id: the group already shows its name


def step_label(name: str) -> str:
    return str(STEP_LABELS.get(name, name))


def step_state_label(state) -> str:
    if state in CycleRun.State.values:
        return str(CycleRun.State(state).label)
    return "-" if not state else str(state)


class CycleNames:
    """The names behind the codes of one or more runs' figures: three small queries per page."""

    def __init__(self, runs_steps: list[dict]):
        union_ids: set[int] = set()
        for steps in runs_steps:
            figures = ((steps or {}).get("screen") or {}).get("figures") or {}
            for key in figures.get("new_by_union") or {}:
                if str(key).isdigit():
                    union_ids.add(int(key))
        self.agencies = dict(Agency.objects.values_list("code", "name"))
        self.rules = {str(pk): name for pk, name in ScreeningRule.objects.values_list("pk", "name")}
        self.unions = (
            {str(pk): name for pk, name in Union.objects.filter(pk__in=union_ids).values_list("pk", "name")}
            if union_ids
            else {}
        )
        self.push_kinds = {k: str(v) for k, v in PushKind.choices}
        self.push_states = {k: str(v) for k, v in DataPush.State.choices}
        self.sources = {k: str(v) for k, v in WarmthRosterEntry.Source.choices}
        self.rule_kinds = {k: str(v) for k, v in ScreeningRule.Kind.choices}

    def agency_kind(self, key: str) -> str:
        code, _sep, kind = str(key).partition("/")
        return f"{self.agencies.get(code, code)} · {self.push_kinds.get(kind, kind)}"

    def group_key(self, group: str, key) -> str:
        key = str(key)
        if group == "by_agency_kind":
            return self.agency_kind(key)
        if group == "cases_by_agency":
            return self.agencies.get(key, key)
        if group == "rules":
            return self.rules.get(key, key)
        if group == "new_by_union":
            return self.unions.get(key, key)
        if group == "states":
            return self.push_states.get(key, key)
        if group == "by_source":
            return self.sources.get(key, key)
        return str(FIGURE_LABELS.get(key, key))

    def value(self, key: str, value) -> str:
        if key == "kind":
            return self.rule_kinds.get(str(value), self.push_kinds.get(str(value), str(value)))
        return value


def figures_labelled_html(figures: dict, names: CycleNames, group: str = "", depth: int = 0):
    """A step's figures as a readable nested list (numbers first, then the groups), every name and
    code in the reader's language."""
    if not isinstance(figures, dict) or not figures:
        return "-"

    def label(key):
        return names.group_key(group, key) if group else str(FIGURE_LABELS.get(key, key))

    items = [(k, v) for k, v in figures.items() if k not in HIDDEN_FIGURES]
    scalars = [(label(k), names.value(k, v)) for k, v in items if not isinstance(v, dict | list)]
    groups = [(k, v) for k, v in items if isinstance(v, dict) and depth < 2 and v]
    parts = format_html_join(", ", "{}: <b>{}</b>", scalars)
    if not groups:
        return parts
    nested = format_html_join(
        "",
        "<li>{}: {}</li>",
        ((label(k), figures_labelled_html(v, names, group=k if not group else "", depth=depth + 1)) for k, v in groups),
    )
    return format_html("{}<ul style='margin:0'>{}</ul>", parts, nested)
