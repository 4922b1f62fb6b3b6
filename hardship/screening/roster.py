"""The warmth roster (常态化送温暖) of a year, rebuilt from open cases, confirmed candidates and the
low-income lists."""

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q
from django.utils import translation
from django.utils.translation import gettext as _

from hardship.models import Candidate, Case, PushKind, PushRow, ScreeningRule, WarmthRosterEntry
from hardship.periods import period_sort_key
from hardship.screening.facts import id_batches, stream_rows
from members.models import Member


def _low_income_members(year: int) -> dict[int, str]:
    """Members whose latest low-income row of the year is active: {member id: list}."""
    latest: dict[int, tuple] = {}
    qs = PushRow.objects.filter(
        kind=PushKind.LOW_INCOME, is_current=True, member__isnull=False, period__startswith=f"{year:04d}-"
    )
    for row_id, member_id, row_period, payload in stream_rows(qs, ("id", "member_id", "period", "payload"), None):
        key = (period_sort_key(row_period), row_id)
        if member_id not in latest or key > latest[member_id][0]:
            latest[member_id] = (key, payload or {})
    return {m: p.get("list", "") for m, (_k, p) in latest.items() if p.get("status") == "active"}


def roster_refresh(*, year: int) -> dict:
    """Rebuild the year's warmth roster (idempotent).

    Eligible active members, first source wins:
    1. heads of open cases whose latest assessment says in hardship (source `case`); the head of
       an open case never assessed or assessed as not in hardship is not taken from any source;
    2. members with a confirmed candidate of a rule that `adds_to_warmth_roster`, of that year's
       periods or confirmed in that year (source `screening`);
    3. members whose latest low-income row of the year is active, when an active low-income rule
       `adds_to_warmth_roster` (source `screening`): civil affairs already recognised their hardship,
       so no confirmation is waited for.
    Entries no longer eligible are deactivated, never deleted (some have been paid); eligible
    ones come back active.
    """
    with translation.override(settings.LANGUAGE_CODE):
        eligible: dict[int, tuple[str, str]] = {}
        # An open case decides for its head: on the roster only when its latest assessment (or the
        # override of it) says in hardship; never assessed, or assessed as not in hardship, keeps
        # the head off, whatever screening found (the case was opened to check exactly that).
        undecided: set[int] = set()
        open_cases = Case.objects.filter(state__in=Case.OPEN_STATES).values_list("head_id", "case_no", "category")
        for member_id, case_no, category in open_cases:
            if category not in Case.IN_HARDSHIP_CATEGORIES:
                undecided.add(member_id)
                continue
            eligible[member_id] = (
                WarmthRosterEntry.Source.CASE,
                _("Open case %(case_no)s") % {"case_no": case_no or ""},
            )
        confirmed = (
            Candidate.objects.filter(state=Candidate.State.CONFIRMED, rule__adds_to_warmth_roster=True)
            .filter(Q(period__startswith=f"{year:04d}-") | Q(decided_at__year=year))
            .values_list("member_id", "rule__name")
            .order_by("member_id", "pk")
        )
        for member_id, rule_name in confirmed:
            eligible.setdefault(
                member_id, (WarmthRosterEntry.Source.SCREENING, _("Screening: %(rule)s") % {"rule": rule_name})
            )
        if ScreeningRule.objects.filter(
            kind=ScreeningRule.Kind.LOW_INCOME, is_active=True, adds_to_warmth_roster=True
        ).exists():
            labels = {"dibao": _("Minimum living allowance (dibao)"), "dibian": _("Marginal low income (dibian)")}
            for member_id, list_name in _low_income_members(year).items():
                reason = _("On the low-income list: %(list)s") % {"list": labels.get(list_name, list_name)}
                eligible.setdefault(member_id, (WarmthRosterEntry.Source.SCREENING, reason))
        reasons = {m: (s, str(r)[:200]) for m, (s, r) in eligible.items() if m not in undecided}

    figures = {"year": year, "eligible": 0, "added": 0, "reactivated": 0, "updated": 0, "deactivated": 0}
    with transaction.atomic():
        unions: dict[int, int] = {}
        for batch in id_batches(sorted(reasons)):
            unions.update(
                Member.objects.filter(pk__in=batch, status=Member.Status.ACTIVE).values_list("pk", "union_id")
            )
        figures["eligible"] = len(unions)
        existing = {e.member_id: e for e in WarmthRosterEntry.objects.select_for_update().filter(year=year)}
        to_add, to_update = [], []
        for member_id, union_id in sorted(unions.items()):
            source, reason = reasons[member_id]
            entry = existing.get(member_id)
            if entry is None:
                to_add.append(
                    WarmthRosterEntry(member_id=member_id, union_id=union_id, year=year, source=source, reason=reason)
                )
                continue
            if not entry.is_active:
                figures["reactivated"] += 1
            elif (entry.source, entry.reason, entry.union_id) == (source, reason, union_id):
                continue
            else:
                figures["updated"] += 1
            entry.is_active, entry.source, entry.reason, entry.union_id = True, source, reason, union_id
            to_update.append(entry)
        gone = [e.pk for m, e in existing.items() if e.is_active and m not in unions]
        WarmthRosterEntry.objects.bulk_create(to_add, batch_size=500)
        WarmthRosterEntry.objects.bulk_update(to_update, ["is_active", "source", "reason", "union"], batch_size=500)
        for batch in id_batches(gone):
            WarmthRosterEntry.objects.filter(pk__in=batch).update(is_active=False)
        figures["added"] = len(to_add)
        figures["deactivated"] = len(gone)
        figures["active"] = WarmthRosterEntry.objects.filter(year=year, is_active=True).count()
        figures["by_source"] = dict(
            WarmthRosterEntry.objects.filter(year=year, is_active=True)
            .values("source")
            .annotate(n=Count("id"))
            .values_list("source", "n")
        )
    return figures
