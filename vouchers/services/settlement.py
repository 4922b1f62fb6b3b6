"""Settlement (结算): what the union owes each merchant for one month's redemptions.

A month's figures count the LIVE voucher uses (not reversed by a full refund) of the redemptions
made in that calendar month (Asia/Shanghai): the number of vouchers and the sum of their discounts.
A month is built and paid only once it has ended (``month_not_ended`` before).

``settlement_build`` can run again at any time (update_or_create). A PAID settlement is never
changed: redemptions or reversals of a paid month that arrive afterwards are NOT folded into it;
they are reported in the build's ``late`` list (merchant, vouchers, amount: the difference to what
was paid) for staff to handle by hand. A full refund of an order of a paid month does not reverse
its uses (``redemption_refund`` keeps the vouchers used), and a settlement whose figures changed
since its build cannot be marked paid, so a voucher is never paid for twice.
"""

from decimal import Decimal

from django.db import transaction
from django.db.models import Count, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import ServiceError
from core.parsing import Period, month_parse
from core.services import audit_log
from vouchers.models import Merchant, Redemption, RedemptionItem, Settlement


def _require_month_ended(month: Period) -> None:
    """A month is settled once it is over: a running month would miss its later redemptions."""
    end = month.bounds()[1]
    if timezone.now() < end:
        raise ServiceError(
            "month_not_ended",
            _("%(month)s has not ended yet: its settlements can be built and paid from %(date)s.")
            % {"month": month, "date": month.day_after.isoformat()},
        )


def month_figures(*, month: str, merchant_id: int | None = None) -> dict[int, dict]:
    """{merchant_id: {"vouchers", "amount"}} of the live voucher uses of the month (of one merchant if given).

    `month`: "2026-11" (`core.parsing.month_parse`; ServiceError ``bad_period`` otherwise)."""
    start, end = month_parse(month).bounds()
    items = RedemptionItem.objects.filter(
        reversed_at__isnull=True, redemption__created_at__gte=start, redemption__created_at__lt=end
    )
    if merchant_id is not None:
        items = items.filter(redemption__merchant_id=merchant_id)
    rows = items.values("redemption__merchant").annotate(vouchers=Count("pk"), amount=Sum("discount")).order_by()
    return {r["redemption__merchant"]: {"vouchers": r["vouchers"], "amount": r["amount"]} for r in rows}


def settlement_build(*, month: str, actor=None) -> dict:
    """Create or refresh every merchant's settlement of the month; paid ones stay as they are.

    Returns {"month", "settlements": [Settlement], "late": [{"merchant", "vouchers", "amount"}]}.
    Refused (``month_not_ended``) for a month that is still running.
    """
    period = month_parse(month)
    month, (start, end) = str(period), period.bounds()
    _require_month_ended(period)
    figures = month_figures(month=month)
    settlements, late = [], []
    with transaction.atomic():
        existing = {s.merchant_id: s for s in Settlement.objects.select_for_update().filter(month=month)}
        merchants = Merchant.objects.in_bulk(set(figures) | set(existing))
        for merchant_id in sorted(merchants, key=lambda pk: merchants[pk].name):
            merchant = merchants[merchant_id]
            fig = figures.get(merchant_id, {"vouchers": 0, "amount": Decimal("0")})
            current = existing.get(merchant_id)
            if current is not None and current.paid_at is not None:
                if (current.vouchers, current.amount) != (fig["vouchers"], fig["amount"]):
                    late.append(
                        {
                            "merchant": merchant,
                            "vouchers": fig["vouchers"] - current.vouchers,
                            "amount": fig["amount"] - current.amount,
                        }
                    )
                settlements.append(current)
                continue
            settlement, created = Settlement.objects.update_or_create(
                merchant=merchant, month=month, defaults={"vouchers": fig["vouchers"], "amount": fig["amount"]}
            )
            Redemption.objects.filter(merchant=merchant, created_at__gte=start, created_at__lt=end).exclude(
                settlement=settlement
            ).update(settlement=settlement)
            changed = current is None or (current.vouchers, current.amount) != (fig["vouchers"], fig["amount"])
            if changed:
                audit_log(
                    action="vouchers.settlement.built",
                    obj=settlement,
                    actor=actor,
                    old={} if created else {"vouchers": current.vouchers, "amount": current.amount},
                    new={"vouchers": settlement.vouchers, "amount": settlement.amount},
                )
            settlements.append(settlement)
    return {"month": month, "settlements": settlements, "late": late}


def settlement_mark_paid(*, settlement: Settlement, actor) -> Settlement:
    """Record that the merchant was paid the settlement's amount.

    Refused for a month that is still running (``month_not_ended``), and when the month's live figures differ from the settlement (a full refund reversed a use
    after the build): the month must be built again first, so the union never pays for a use that
    was reversed (and whose voucher may be used again).
    """
    now = timezone.now()
    with transaction.atomic():
        # Locked against a concurrent refund of the month (redemption_refund locks it too).
        current = Settlement.objects.select_for_update().get(pk=settlement.pk)
        if current.paid_at is not None:
            raise ServiceError("already_paid", _("This settlement has already been marked paid."))
        _require_month_ended(month_parse(current.month))
        live = month_figures(month=current.month, merchant_id=current.merchant_id).get(
            current.merchant_id, {"vouchers": 0, "amount": Decimal("0")}
        )
        if (current.vouchers, current.amount) != (live["vouchers"], live["amount"]):
            raise ServiceError(
                "settlement_outdated",
                _(
                    "The redemptions of %(month)s changed after this settlement was built; build the month again "
                    "and check it before marking it paid."
                )
                % {"month": current.month},
            )
        # A conditional UPDATE: two staff clicking at once record one payment.
        changed = Settlement.objects.filter(pk=settlement.pk, paid_at__isnull=True).update(paid_at=now, paid_by=actor)
        if not changed:
            raise ServiceError("already_paid", _("This settlement has already been marked paid."))
        settlement.refresh_from_db()
        audit_log(
            action="vouchers.settlement.paid",
            obj=settlement,
            actor=actor,
            new={"amount": settlement.amount, "vouchers": settlement.vouchers},
        )
    return settlement
