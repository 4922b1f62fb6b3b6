"""Figures for staff: per campaign (claimed, used, 核销率, face value used, order value driven,
杠杆率, budget left), by merchant category and by union, and their XLSX export.

Every figure is a grouped query; the union roll-up is done in Python over the paths
(as `members.selectors.participation_rates` does). A voucher use counts while it is live
(not reversed by a full refund).
"""

from collections import defaultdict
from decimal import Decimal

from django.db.models import Count, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from core import xlsx
from core.parsing import Period, month_parse
from members import selectors as member_selectors
from vouchers.models import Campaign, MerchantCategory, RedemptionItem, Voucher

ZERO = Decimal("0.00")


def _campaigns(*, month: str | None, campaign) -> list[Campaign]:
    qs = Campaign.objects.all()
    if campaign is not None:
        qs = qs.filter(pk=getattr(campaign, "pk", campaign))
    if month:
        start, end = month_parse(month).bounds()
        qs = qs.filter(claim_opens_at__gte=start, claim_opens_at__lt=end)
    return list(qs.order_by("claim_opens_at", "pk"))


def redemption_rate(part, whole) -> float | None:
    return round(part / whole * 100, 2) if whole else None


def leverage(order_value: Decimal, face_used: Decimal) -> float | None:
    return round(float(order_value / face_used), 2) if face_used else None


def _order_values(items, key: str) -> dict:
    """Sum each redemption's order amount once per group `key`, over live voucher uses."""
    totals: dict = defaultdict(lambda: ZERO)
    for group, _rid, amount in items.values_list(key, "redemption_id", "redemption__order_amount").distinct():
        totals[group] += amount
    return totals


def campaign_figures(*, month: str | None = None, campaign=None) -> list[dict]:
    """One row per campaign whose claim window opens in `month` ("2026-11"; all months if None)."""
    campaigns = _campaigns(month=month, campaign=campaign)
    ids = [c.pk for c in campaigns]
    counts = defaultdict(dict)
    for cid, state, n in (
        Voucher.objects.filter(campaign__in=ids).values("campaign_id", "state").annotate(n=Count("id"))
        .values_list("campaign_id", "state", "n")
    ):  # fmt: skip
        counts[cid][state] = n
    live = RedemptionItem.objects.filter(reversed_at__isnull=True, voucher__campaign__in=ids)
    face = dict(
        live.values("voucher__campaign_id").annotate(s=Sum("discount")).values_list("voucher__campaign_id", "s")
    )
    orders = _order_values(live, "voucher__campaign_id")
    rows = []
    for c in campaigns:
        by_state = counts.get(c.pk, {})
        claimed = sum(by_state.values())
        used = by_state.get(Voucher.State.USED, 0)
        face_used = face.get(c.pk) or ZERO
        order_value = orders.get(c.pk, ZERO)
        rows.append(
            {
                "campaign": c,
                "campaign_id": c.pk,
                "name": c.name,
                "month": str(Period.of(timezone.localtime(c.claim_opens_at))),
                "state": c.state,
                "state_label": c.get_state_display(),
                "total_stock": c.total_stock,
                "claimed": claimed,
                "used": used,
                "expired": by_state.get(Voucher.State.EXPIRED, 0),
                "redemption_rate": redemption_rate(used, claimed),
                "face_value_used": face_used,
                "order_value": order_value,
                "leverage": leverage(order_value, face_used),
                "budget": c.budget,
                "budget_left": c.budget - face_used,
            }
        )
    return rows


def category_figures(*, month: str | None = None, campaign=None) -> list[dict]:
    """Per merchant category: vouchers used (live), face value used, order value driven, leverage."""
    ids = [c.pk for c in _campaigns(month=month, campaign=campaign)]
    live = RedemptionItem.objects.filter(reversed_at__isnull=True, voucher__campaign__in=ids)
    key = "redemption__merchant__category"
    sums = {
        k: (n, s) for k, n, s in live.values(key).annotate(n=Count("id"), s=Sum("discount")).values_list(key, "n", "s")
    }
    orders = _order_values(live, key)
    labels = dict(MerchantCategory.choices)
    rows = []
    for cat, (n, s) in sorted(sums.items(), key=lambda kv: -kv[1][1]):
        rows.append(
            {
                "category": cat,
                "label": str(labels.get(cat, cat)),
                "used": n,
                "face_value_used": s,
                "order_value": orders.get(cat, ZERO),
                "leverage": leverage(orders.get(cat, ZERO), s),
            }
        )
    return rows


def _depth(union) -> int:
    """0 for the city ("1/"), 1 for a district ("1/2/"), and so on."""
    return union.path.count("/") - 1


def union_figures(*, user, month: str | None = None, campaign=None, max_depth: int = 1) -> list[dict]:
    """Per union the user may see, down to `max_depth` levels below the user's own union (0 that union,
    1 the unions right under it; for city staff the city and its districts): claimed, used, rate, face
    value used and order value of its members and of the unions under it. ``depth`` is relative to
    the user's union."""
    ids = [c.pk for c in _campaigns(month=month, campaign=campaign)]
    visible = list(member_selectors.unions_visible_to(user).only("id", "name", "path"))
    root_depth = min((_depth(u) for u in visible), default=0)
    unions = [u for u in visible if _depth(u) - root_depth <= max_depth]
    by_path = {u.path: u for u in unions}
    vouchers = Voucher.objects.filter(campaign__in=ids).values("member__union__path")
    claimed = dict(vouchers.annotate(n=Count("id")).values_list("member__union__path", "n"))
    used = dict(
        vouchers.annotate(n=Count("id", filter=Q(state=Voucher.State.USED))).values_list("member__union__path", "n")
    )
    live = RedemptionItem.objects.filter(reversed_at__isnull=True, voucher__campaign__in=ids)
    key = "redemption__member__union__path"
    face = dict(live.values(key).annotate(s=Sum("discount")).values_list(key, "s"))
    orders = _order_values(live, key)
    totals = {p: {"claimed": 0, "used": 0, "face": ZERO, "orders": ZERO} for p in by_path}
    for source, field in ((claimed, "claimed"), (used, "used"), (face, "face"), (orders, "orders")):
        for path, value in source.items():
            for anc in member_selectors.ancestor_paths(path, by_path):
                totals[anc][field] += value
    rows = []
    for u in unions:
        t = totals[u.path]
        rows.append(
            {
                "union": u,
                "name": u.name,
                "depth": _depth(u) - root_depth,
                "claimed": t["claimed"],
                "used": t["used"],
                "redemption_rate": redemption_rate(t["used"], t["claimed"]),
                "face_value_used": t["face"],
                "order_value": t["orders"],
                "leverage": leverage(t["orders"], t["face"]),
            }
        )
    return rows


def figures_totals(rows: list[dict]) -> dict:
    """The totals over campaign figures (``campaign_figures``): claimed, used, face value used,
    order value driven, and the redemption rate and leverage of those sums (not an average of the
    campaigns' own rates)."""
    totals = {
        "claimed": sum(r["claimed"] for r in rows),
        "used": sum(r["used"] for r in rows),
        "face": sum((r["face_value_used"] for r in rows), ZERO),
        "orders": sum((r["order_value"] for r in rows), ZERO),
    }
    totals["rate"] = redemption_rate(totals["used"], totals["claimed"])
    totals["leverage"] = leverage(totals["orders"], totals["face"])
    return totals


def figures_export_xlsx(*, user, month: str | None = None) -> bytes:
    """The three tables of the figures page as one workbook (no personal data in it)."""

    wb = xlsx.workbook()
    ws = wb.active
    ws.title = _("Campaigns")[:31]
    xlsx.append(ws,
        [
            _("Campaign"), _("Month"), _("State"), _("Total stock"), _("Claimed"), _("Used"), _("Expired"),
            _("Redemption rate (%)"), _("Face value used (CNY)"), _("Order value driven (CNY)"), _("Leverage"),
            _("Budget (CNY)"), _("Budget left (CNY)"),
        ]
    )  # fmt: skip
    for r in campaign_figures(month=month):
        xlsx.append(ws,
            [
                r["name"], r["month"], r["state_label"], r["total_stock"], r["claimed"], r["used"], r["expired"],
                r["redemption_rate"], r["face_value_used"], r["order_value"], r["leverage"], r["budget"],
                r["budget_left"],
            ]
        )  # fmt: skip
    ws2 = wb.create_sheet(_("By merchant category")[:31])
    xlsx.append(
        ws2, [_("Category"), _("Used"), _("Face value used (CNY)"), _("Order value driven (CNY)"), _("Leverage")]
    )
    for r in category_figures(month=month):
        xlsx.append(ws2, [r["label"], r["used"], r["face_value_used"], r["order_value"], r["leverage"]])
    ws3 = wb.create_sheet(_("By union")[:31])
    xlsx.append(ws3,
        [
            _("Union"), _("Claimed"), _("Used"), _("Redemption rate (%)"), _("Face value used (CNY)"),
            _("Order value driven (CNY)"), _("Leverage"),
        ]
    )  # fmt: skip
    for r in union_figures(user=user, month=month):
        xlsx.append(ws3,
            [
                "  " * r["depth"] + r["name"], r["claimed"], r["used"], r["redemption_rate"], r["face_value_used"],
                r["order_value"], r["leverage"],
            ]
        )  # fmt: skip
    for sheet in wb.worksheets:
        for cell in sheet[1]:
            cell.font = xlsx.Font(bold=True)
    content = xlsx.to_bytes(wb)
    return content
