"""Fraud signals for staff (listed, never acted on automatically). Each is one SQL aggregation.

- ``member_burst``: one member redeeming at least ``VOUCHER_FRAUD_MEMBER_BURST`` vouchers at one
  merchant within one hour (a sliding hour starting at each of their redemptions since ``since``).
- ``merchant_rate``: a merchant's live voucher uses today (Asia/Shanghai) at least 3× its daily
  average over the previous 30 days, and at least 20.
- ``threshold_hugging``: at least 5 orders at one merchant since ``since`` whose amount is within
  5% above the threshold of the vouchers used (n vouchers: n × threshold ≤ order ≤ 1.05 × that).
  Staff look at the last week: ``since = now - 7 days``.
"""

import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.db.models import (
    Count,
    DateTimeField,
    DecimalField,
    ExpressionWrapper,
    F,
    IntegerField,
    Max,
    OuterRef,
    Subquery,
)
from django.utils import timezone
from django.utils.translation import gettext as _

from members.models import Member
from vouchers.models import Merchant, Redemption, RedemptionItem

BURST_WINDOW = dt.timedelta(hours=1)
RATE_FACTOR = 3
RATE_MIN = 20
RATE_DAYS = 30
HUGGING_MARGIN = Decimal("1.05")
HUGGING_MIN = 5


def _burst_min() -> int:
    return getattr(settings, "VOUCHER_FRAUD_MEMBER_BURST", 5)


def _live_items():
    return RedemptionItem.objects.filter(reversed_at__isnull=True)


def _member_bursts(since: dt.datetime) -> list[dict]:
    n = _burst_min()
    in_window = (
        _live_items()
        .filter(
            redemption__merchant=OuterRef("merchant"),
            redemption__member=OuterRef("member"),
            redemption__created_at__gte=OuterRef("created_at"),
            redemption__created_at__lt=ExpressionWrapper(
                OuterRef("created_at") + BURST_WINDOW, output_field=DateTimeField()
            ),
        )
        .order_by()
        .values("redemption__merchant")
        .annotate(c=Count("pk"))
        .values("c")
    )
    rows = (
        Redemption.objects.filter(created_at__gte=since)
        .annotate(burst=Subquery(in_window, output_field=IntegerField()))
        .filter(burst__gte=n)
        .order_by()
        .values("merchant", "member")
        .annotate(count=Max("burst"))
    )
    rows = list(rows)
    merchants = Merchant.objects.in_bulk({r["merchant"] for r in rows})
    members = Member.objects.only("name").in_bulk({r["member"] for r in rows})
    return [
        {
            "kind": "member_burst",
            "merchant": merchants[r["merchant"]],
            "member": members[r["member"]].masked_name,
            "count": r["count"],
            "detail": _("%(count)d vouchers of one member within one hour.") % {"count": r["count"]},
        }
        for r in rows
    ]


def _merchant_rates(now: dt.datetime) -> list[dict]:
    today = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    history_start = today - dt.timedelta(days=RATE_DAYS)
    today_rows = dict(
        _live_items()
        .filter(redemption__created_at__gte=today, redemption__created_at__lte=now)
        .order_by()
        .values_list("redemption__merchant")
        .annotate(c=Count("pk"))
        .filter(c__gte=RATE_MIN)
    )
    if not today_rows:
        return []
    history = dict(
        _live_items()
        .filter(
            redemption__merchant__in=list(today_rows),
            redemption__created_at__gte=history_start,
            redemption__created_at__lt=today,
        )
        .order_by()
        .values_list("redemption__merchant")
        .annotate(c=Count("pk"))
    )
    merchants = Merchant.objects.in_bulk(list(today_rows))
    signals = []
    for merchant_id, count in today_rows.items():
        average = Decimal(history.get(merchant_id, 0)) / RATE_DAYS
        if count >= RATE_FACTOR * average:
            signals.append(
                {
                    "kind": "merchant_rate",
                    "merchant": merchants[merchant_id],
                    "member": "",
                    "count": count,
                    "detail": _("%(count)d vouchers today against %(average)s a day over the last 30 days.")
                    % {"count": count, "average": f"{average:.1f}"},
                }
            )
    return signals


def _threshold_hugging(since: dt.datetime) -> list[dict]:
    live = _live_items().filter(redemption=OuterRef("pk")).order_by()
    used = live.values("redemption").annotate(c=Count("pk")).values("c")
    threshold = live.values("voucher__campaign__threshold")[:1]
    rows = (
        Redemption.objects.filter(created_at__gte=since)
        .annotate(
            n=Subquery(used, output_field=IntegerField()),
            t=Subquery(threshold, output_field=DecimalField(max_digits=12, decimal_places=2)),
        )
        .filter(n__gt=0, t__gt=0)
        .annotate(floor=ExpressionWrapper(F("n") * F("t"), output_field=DecimalField(max_digits=14, decimal_places=2)))
        .filter(order_amount__gte=F("floor"), order_amount__lte=F("floor") * HUGGING_MARGIN)
        .order_by()
        .values("merchant")
        .annotate(count=Count("pk"))
        .filter(count__gte=HUGGING_MIN)
    )
    rows = list(rows)
    merchants = Merchant.objects.in_bulk({r["merchant"] for r in rows})
    return [
        {
            "kind": "threshold_hugging",
            "merchant": merchants[r["merchant"]],
            "member": "",
            "count": r["count"],
            "detail": _("%(count)d orders just over the voucher threshold (within 5%%).") % {"count": r["count"]},
        }
        for r in rows
    ]


def fraud_signals(*, since: dt.datetime, now: dt.datetime | None = None) -> list[dict]:
    """Every signal since `since` (merchant_rate: today), as {kind, merchant, member, count, detail}."""
    now = now or timezone.now()
    return _member_bursts(since) + _merchant_rates(now) + _threshold_hugging(since)
