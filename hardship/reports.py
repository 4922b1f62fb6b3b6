"""Hardship reports: the figures of a period (a month "2025-03" or a year "2025") in a staff
member's scope, a 12-month trend, and their XLSX export.

Every figure is aggregated by the database (COUNT/SUM … GROUP BY): nothing here walks the rows
of the big tables in Python. The number of queries does not depend on the number of rows.

Records received are the agencies' rows of the period, whoever they concern (pushes are not
bound to a union); rows pushed for a quarter (2025-Q1) count in the report and the trend of the
quarter's last month (2025-03), the month whose cycle screens them, and in the year. Every
other figure is limited to the user's union subtree, or to the chosen union within it.
"""

from decimal import Decimal

from django.db.models import Count, DecimalField, Q, Sum, Value
from django.db.models.functions import Coalesce, TruncMonth
from django.utils import timezone
from django.utils.translation import gettext as _

from core import parsing, xlsx
from core.errors import ErrorKind, ServiceError
from core.models import Agency
from core.parsing import Period
from hardship import periods
from hardship.models import Aid, Candidate, Case, FundLine, PushKind, PushRow, Referral, WarmthRosterEntry
from hardship.selectors.access import is_hardship_staff
from hardship.services.access import access_log
from members import selectors as member_selectors
from members.models import Union

PAID_STATES = (Aid.State.APPROVED, Aid.State.PAID)
ZERO = Value(Decimal("0"), output_field=DecimalField(max_digits=14, decimal_places=2))


# --- Periods and scope ------------------------------------------------------------------------


def report_period(period) -> Period:
    """The period of a report: a month "2025-03" or a year "2025" (`core.parsing.period_parse`;
    ServiceError ``bad_period`` otherwise)."""
    return parsing.period_parse(period, quarters=False, years=True)


def _period_q(field: str, period: Period) -> Q:
    """Rows whose period column (a month, or a quarter "2025-Q1") falls in `period`.

    A quarter's rows count in the report of the quarter's last month (2025-Q1 in 2025-03), the
    month whose cycle screens and publishes them (`periods.period_aliases`), and in its year."""
    if period.kind == "year":
        return Q(**{f"{field}__startswith": f"{period.year}-"})
    return Q(**{f"{field}__in": periods.period_of_month(str(period))})


def _time_q(field: str, period: Period) -> Q:
    since, until = period.bounds()
    return Q(**{f"{field}__gte": since, f"{field}__lt": until})


def _prefix(user, union=None) -> str | None:
    """The union path the figures cover: '' for everything, None for nothing."""
    if not is_hardship_staff(user):
        return None
    prefix = member_selectors.scope_prefix(user)
    if prefix is None:
        return None
    if union is not None:
        if not union.path.startswith(prefix):
            raise ServiceError("report_scope", _("That union is outside your scope."))
        return union.path
    return prefix


def _in(field: str, prefix: str) -> Q:
    return Q(**{f"{field}__path__startswith": prefix}) if prefix else Q()


def report_unions(user):
    """The unions a user may narrow a report to: their own and the non-grassroots unions under it."""
    if not is_hardship_staff(user):
        return Union.objects.none()
    qs = member_selectors.unions_visible_to(user)
    keep = Q(parent__isnull=True) | ~Q(kind__in=Union.MEMBER_KINDS)
    if user.union_id:
        keep |= Q(pk=user.union_id)
    return qs.filter(keep).only("id", "name", "path", "kind").order_by("path")


# --- Figures ----------------------------------------------------------------------------------


def _money(value) -> Decimal:
    return (value or Decimal("0")).quantize(Decimal("0.01"))


def _received(period: Period, scope: str, empty: bool) -> list[dict]:
    """Records received and matched, by agency and kind (one query)."""
    rows_q = Q(is_current=True) & _period_q("period", period)
    matched_q = Q(member__isnull=False) & _in("member__union", scope)
    received = []
    if not empty:
        agencies = dict(Agency.objects.values_list("pk", "name"))
        codes = dict(Agency.objects.values_list("pk", "code"))
        kinds = dict(PushKind.choices)
        for row in (
            PushRow.objects.filter(rows_q)
            .values("agency_id", "kind")
            .annotate(rows=Count("id"), matched=Count("id", filter=matched_q))
            .order_by("agency_id", "kind")
        ):
            received.append(
                {
                    "agency": codes.get(row["agency_id"], ""),
                    "agency_name": agencies.get(row["agency_id"], ""),
                    "kind": row["kind"],
                    "kind_label": str(kinds.get(row["kind"], row["kind"])),
                    "rows": row["rows"],
                    "matched": row["matched"],
                }
            )
    return received


def _candidates(period: Period, scope: str, empty: bool) -> dict:
    """Candidates of the period by state (one query)."""
    nothing = Q(pk__in=[])
    cand_q = nothing if empty else _period_q("period", period) & _in("union", scope)
    candidates = {state: 0 for state in Candidate.State.values}
    for row in Candidate.objects.filter(cand_q).values("state").annotate(n=Count("id")).order_by():
        candidates[row["state"]] = row["n"]
    return candidates


def _cases(period: Period, scope: str, empty: bool) -> dict:
    """Case files built in the period, and the cases open now (one query)."""
    nothing = Q(pk__in=[])
    case_scope = nothing if empty else _in("union", scope)
    cases = Case.objects.filter(case_scope).aggregate(
        filed=Count("id", filter=_time_q("filed_at", period)),
        opened=Count("id", filter=_time_q("opened_at", period)),
        open_now=Count("id", filter=Q(state__in=Case.OPEN_STATES)),
        review_overdue=Count("id", filter=Q(state__in=Case.OPEN_STATES, review_due__lt=timezone.localdate())),
    )
    return cases


def _aid(period: Period, scope: str, empty: bool) -> tuple[list[dict], dict, dict, int]:
    """Aid paid by fund line (one query); warmth is one of the lines."""
    nothing = Q(pk__in=[])
    aid_q = nothing if empty else Q(state__in=PAID_STATES) & _period_q("period", period) & _in("union", scope)
    by_line = {
        row["fund_line"]: row
        for row in Aid.objects.filter(aid_q)
        .values("fund_line")
        .annotate(payments=Count("id"), people=Count("member", distinct=True), amount=Coalesce(Sum("amount"), ZERO))
        .order_by()
    }
    aid = [
        {
            "fund_line": line,
            "label": str(label),
            "payments": by_line.get(line, {}).get("payments", 0),
            "people": by_line.get(line, {}).get("people", 0),
            "amount": _money(by_line.get(line, {}).get("amount")),
        }
        for line, label in FundLine.choices
    ]
    aid_totals = Aid.objects.filter(aid_q).aggregate(
        people=Count("member", distinct=True),
        cases=Count("case", distinct=True),
        amount=Coalesce(Sum("amount"), ZERO),
    )
    warmth = by_line.get(FundLine.WARMTH, {})
    roster = (
        0 if empty else WarmthRosterEntry.objects.filter(_in("union", scope), year=period.year, is_active=True).count()
    )
    return aid, aid_totals, warmth, roster


def _referrals(period: Period, scope: str, empty: bool) -> tuple[dict, dict, Decimal]:
    """Referrals sent in the period, by benefit and outcome (one query)."""
    nothing = Q(pk__in=[])
    ref_q = nothing if empty else _time_q("sent_at", period) & _in("case__union", scope)
    referrals = {state: 0 for state in Referral.State.values}
    by_benefit = {b: {state: 0 for state in Referral.State.values} for b in Referral.Benefit.values}
    granted_amount = Decimal("0")
    for row in (
        Referral.objects.filter(ref_q)
        .values("benefit", "state")
        .annotate(n=Count("id"), amount=Coalesce(Sum("amount"), ZERO))
        .order_by()
    ):
        referrals[row["state"]] += row["n"]
        by_benefit.setdefault(row["benefit"], {s: 0 for s in Referral.State.values})[row["state"]] = row["n"]
        if row["state"] == Referral.State.GRANTED:
            granted_amount += row["amount"]
    return referrals, by_benefit, granted_amount


def period_figures(*, user, period: str, union=None) -> dict:
    """Every figure of the report for `period` in the user's scope (or `union` within it)."""
    period = report_period(period)
    prefix = _prefix(user, union)
    empty = prefix is None
    scope = prefix or ""

    received = _received(period, scope, empty)
    candidates = _candidates(period, scope, empty)
    cases = _cases(period, scope, empty)
    aid, aid_totals, warmth, roster = _aid(period, scope, empty)
    referrals, by_benefit, granted_amount = _referrals(period, scope, empty)
    benefit_labels = dict(Referral.Benefit.choices)

    total_received = sum(r["rows"] for r in received)
    total_matched = sum(r["matched"] for r in received)
    total_candidates = sum(candidates.values())
    return {
        "period": str(period),
        "union": union,
        "received": received,
        "received_total": total_received,
        "matched_total": total_matched,
        "candidates": candidates,
        "candidates_total": total_candidates,
        "cases": cases,
        "aid": aid,
        "aid_total": {
            "people": aid_totals["people"],
            "cases": aid_totals["cases"],
            "amount": _money(aid_totals["amount"]),
        },
        "warmth": {
            "roster": roster,
            "recipients": warmth.get("people", 0),
            "amount": _money(warmth.get("amount")),
        },
        "referrals": {
            **referrals,
            "total": sum(referrals.values()),
            "granted_amount": _money(granted_amount),
            "by_benefit": [
                {"benefit": b, "label": str(benefit_labels.get(b, b)), **counts} for b, counts in by_benefit.items()
            ],
        },
        "funnel": [
            {"stage": "received", "label": _("Records received"), "value": total_received},
            {"stage": "matched", "label": _("Matched to members"), "value": total_matched},
            {"stage": "candidates", "label": _("Candidates"), "value": total_candidates},
            {"stage": "confirmed", "label": _("Confirmed"), "value": candidates[Candidate.State.CONFIRMED]},
            {"stage": "filed", "label": _("Files built"), "value": cases["filed"]},
            {"stage": "aided", "label": _("Cases aided"), "value": aid_totals["cases"]},
        ],
    }


def trend(*, user, months: int = 12, end: str | None = None, union=None) -> list[dict]:
    """Month by month up to `end` (a month "YYYY-MM"; default this month): records received,
    matched, candidates, files built, aid paid (CNY) and warmth recipients."""
    months = max(1, min(int(months), 36))
    last = report_period(end).last_month if end else Period.of(timezone.localdate())
    first = last.shift(1 - months)
    labels = [str(first.shift(n)) for n in range(months)]
    series = {
        m: {
            "month": m,
            "received": 0,
            "matched": 0,
            "candidates": 0,
            "filed": 0,
            "aid": Decimal("0"),
            "warmth_people": 0,
        }
        for m in labels
    }
    prefix = _prefix(user, union)
    if prefix is None:
        return list(series.values())

    # A quarter's rows count in its last month, as in `_period_q`.
    month_of = {alias: m for m in labels for alias in periods.period_of_month(m)}
    for row in (
        PushRow.objects.filter(is_current=True, period__in=list(month_of))
        .values("period")
        .annotate(rows=Count("id"), matched=Count("id", filter=Q(member__isnull=False) & _in("member__union", prefix)))
        .order_by()
    ):
        series[month_of[row["period"]]]["received"] += row["rows"]
        series[month_of[row["period"]]]["matched"] += row["matched"]
    for row in (
        Candidate.objects.filter(_in("union", prefix), period__in=labels)
        .values("period")
        .annotate(n=Count("id"))
        .order_by()
    ):
        series[row["period"]]["candidates"] = row["n"]
    tz = timezone.get_current_timezone()
    since, stop = first.bounds()[0], last.bounds()[1]
    for row in (
        Case.objects.filter(_in("union", prefix), filed_at__gte=since, filed_at__lt=stop)
        .annotate(month=TruncMonth("filed_at", tzinfo=tz))
        .values("month")
        .annotate(n=Count("id"))
        .order_by()
    ):
        key = str(Period.of(row["month"]))
        if key in series:
            series[key]["filed"] = row["n"]
    for row in (
        Aid.objects.filter(_in("union", prefix), state__in=PAID_STATES, period__in=labels)
        .values("period")
        .annotate(
            amount=Coalesce(Sum("amount"), ZERO),
            warmth=Count("member", distinct=True, filter=Q(fund_line=FundLine.WARMTH)),
        )
        .order_by()
    ):
        series[row["period"]]["aid"] = _money(row["amount"])
        series[row["period"]]["warmth_people"] = row["warmth"]
    return list(series.values())


# --- Export -----------------------------------------------------------------------------------


def report_export_xlsx(*, user, period: str, union=None) -> bytes:
    """The report's figures and trend as an XLSX workbook; the export is written to the access log.

    Most of its length is the list of the summary's rows and the sheets' headers, read top to
    bottom as the workbook is."""
    if not is_hardship_staff(user):
        raise ServiceError("forbidden", _("You cannot export hardship reports."), kind=ErrorKind.FORBIDDEN)
    period = str(report_period(period))
    figures = period_figures(user=user, period=period, union=union)
    months = trend(user=user, end=period, union=union)
    bold = xlsx.Font(bold=True)
    wb = xlsx.workbook()

    def sheet(ws, title, header, rows):
        ws.title = title[:31]
        xlsx.append(ws, header)
        for cell in ws[1]:
            cell.font = bold
        for row in rows:
            xlsx.append(ws, row)
        for col in ws.columns:
            width = max(len(str(c.value or "")) for c in col)
            ws.column_dimensions[col[0].column_letter].width = min(max(10, width * 1.6), 50)

    scope_name = union.name if union is not None else (user.union.name if user.union_id else _("All unions"))
    sheet(
        wb.active,
        _("Summary"),
        [_("Figure"), _("Value")],
        [
            (_("Period"), period),
            (_("Union"), scope_name),
            (_("Records received"), figures["received_total"]),
            (_("Matched to members"), figures["matched_total"]),
            (_("Candidates"), figures["candidates_total"]),
            (_("Candidates confirmed"), figures["candidates"][Candidate.State.CONFIRMED]),
            (_("Candidates dismissed"), figures["candidates"][Candidate.State.DISMISSED]),
            (_("Candidates open"), figures["candidates"][Candidate.State.OPEN]),
            (_("Files built"), figures["cases"]["filed"]),
            (_("Open cases"), figures["cases"]["open_now"]),
            (_("People aided"), figures["aid_total"]["people"]),
            (_("Aid paid (CNY)"), float(figures["aid_total"]["amount"])),
            (_("Warmth roster"), figures["warmth"]["roster"]),
            (_("Warmth recipients"), figures["warmth"]["recipients"]),
            (_("Warmth paid (CNY)"), float(figures["warmth"]["amount"])),
            (_("Referrals sent"), figures["referrals"]["total"]),
            (_("Referrals granted"), figures["referrals"]["granted"]),
            (_("Referrals refused"), figures["referrals"]["refused"]),
            (_("Amount granted by agencies (CNY)"), float(figures["referrals"]["granted_amount"])),
        ],
    )
    sheet(
        wb.create_sheet(),
        _("Records received"),
        [_("Agency"), _("Kind"), _("Rows"), _("Matched to members")],
        [(r["agency_name"], r["kind_label"], r["rows"], r["matched"]) for r in figures["received"]],
    )
    sheet(
        wb.create_sheet(),
        _("Aid by fund line"),
        [_("Fund line"), _("Payments"), _("People"), _("Amount (CNY)")],
        [(a["label"], a["payments"], a["people"], float(a["amount"])) for a in figures["aid"]],
    )
    sheet(
        wb.create_sheet(),
        _("Referrals"),
        [_("Benefit"), _("Sent"), _("Granted"), _("Refused")],
        [(b["label"], b["sent"], b["granted"], b["refused"]) for b in figures["referrals"]["by_benefit"]],
    )
    sheet(
        wb.create_sheet(),
        _("Trend"),
        [
            _("Month"),
            _("Records received"),
            _("Matched to members"),
            _("Candidates"),
            _("Files built"),
            _("Aid paid (CNY)"),
        ],
        [(m["month"], m["received"], m["matched"], m["candidates"], m["filed"], float(m["aid"])) for m in months],
    )
    content = xlsx.to_bytes(wb)
    access_log(user=user, action="export", case=None, detail=f"report {period} {union.code if union else ''}".strip())
    return content
