"""Matching pushed rows to members by the keyed blind index (rows of non-members stay unmatched:
counted, never actioned)."""

from django.db import connection, transaction
from django.db.models import Count

from hardship.models import PushRow
from hardship.periods import period_of_month, period_window
from members.models import Member


def match_rows(*, period: str | None = None) -> dict:
    """Bind current, unmatched rows to members by the blind index (one UPDATE … FROM).

    With a period, the rows screening for that period reads (its 12-month window) are matched,
    so rows of a worker who joined since are picked up; without, every unmatched row.
    The join is on `hardship_pushrow.id_index` (indexed) and the unique `members_member.id_index`.
    Figures: `newly_matched`, and per agency/kind `rows`, `matched`, `unmatched` for the period's
    own rows (all current rows without a period).
    """
    periods = period_window(period) if period else None
    qn = connection.ops.quote_name
    row_t, member_t = qn(PushRow._meta.db_table), qn(Member._meta.db_table)
    sql = (
        f"UPDATE {row_t} SET {qn('member_id')} = m.{qn('id')} FROM {member_t} m "  # noqa: S608 - names, not input
        f"WHERE {row_t}.{qn('id_index')} = m.{qn('id_index')} "
        f"AND {row_t}.{qn('member_id')} IS NULL AND {row_t}.{qn('is_current')} = %s"
    )
    params: list = [True]
    if periods:
        sql += f" AND {row_t}.{qn('period')} IN ({', '.join(['%s'] * len(periods))})"
        params += periods
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(sql, params)
        newly = max(cur.rowcount, 0)
    return {"period": period or "", "newly_matched": newly, **match_figures(period=period)}


def match_figures(*, period: str | None = None) -> dict:
    """Rows, matched and unmatched per agency and kind: the period's own current rows (or all)."""
    qs = PushRow.objects.filter(is_current=True)
    if period:
        qs = qs.filter(period__in=period_of_month(period))
    grouped = (
        qs.values("agency__code", "kind")
        .annotate(rows=Count("id"), matched=Count("member_id"))
        .order_by("agency__code", "kind")
    )
    by = {}
    totals = {"rows": 0, "matched": 0, "unmatched": 0}
    for g in grouped:
        rows, matched = g["rows"], g["matched"]
        by[f"{g['agency__code']}/{g['kind']}"] = {"rows": rows, "matched": matched, "unmatched": rows - matched}
        totals["rows"] += rows
        totals["matched"] += matched
        totals["unmatched"] += rows - matched
    return {**totals, "by_agency_kind": by}
