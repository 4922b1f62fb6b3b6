"""The claim's stock kept in step with the database: loading it into Redis before the rush
(``campaign_prepare``), following the vouchers written on the Redis path (``remaining_sync``),
and rebuilding Redis from the database (``reconcile_campaign``, after a Redis restart or flush).
The database is the source of truth.
"""

from django.db.models import Case, Count, F, Q, Value, When
from django.db.models.functions import Greatest

from vouchers.models import Campaign, Distribution, Voucher
from vouchers.services import redis_stock
from vouchers.services.claim_facts import redis_stock_in_use, sold_out_reset

CLAIMABLE_STATES = (Campaign.State.SCHEDULED, Campaign.State.OPEN)

# On the Redis path a claim writes its voucher row but not the campaign's row: one row lock taken by
# every claim of the rush would serialise them all (measured: 146 claims/s, half the time waiting
# for that lock). `Campaign.remaining` follows instead, from the vouchers written: every
# REMAINING_SYNC_EVERY claims, after each of the last REMAINING_SYNC_EVERY, every minute
# (campaigns_tick) and in reconcile_campaign.
REMAINING_SYNC_EVERY = 50


def remaining_sync(campaign_id: int) -> None:
    """Campaign.remaining := total stock − vouchers written (and sold out at 0), for a first-come
    campaign whose stock is kept in Redis. Only ever lowered: vouchers never give stock back, and
    a statement that counted before it waited for the row lock must not raise what a later count
    wrote. Not for the database path, whose conditional UPDATE keeps the row exact."""
    if not redis_stock_in_use():
        return
    written = Voucher.objects.filter(campaign_id=campaign_id).count()
    left = Greatest(F("total_stock") - written, Value(0))
    Campaign.objects.filter(pk=campaign_id, distribution=Distribution.FIRST_COME, remaining__gt=left).update(
        remaining=left,
        state=Case(
            When(Q(total_stock__lte=written) & Q(state__in=CLAIMABLE_STATES), then=Value(Campaign.State.SOLD_OUT)),
            default=F("state"),
        ),
    )


def stock_reload(campaign_id: int) -> None:
    """Redis stock, per-member counts and places := what the vouchers written leave (force)."""
    counts = _member_counts(campaign_id)
    total = Campaign.objects.filter(pk=campaign_id).values_list("total_stock", flat=True).get()
    redis_stock.load(
        campaign_id=campaign_id,
        stock=max(total - sum(counts.values()), 0),
        member_counts=counts,
        slots=_slots(campaign_id),
        force=True,
    )


def _slots(campaign_id: int) -> list[int]:
    """The places in the stock the vouchers written hold (Redis path; the database path has none)."""
    return list(Voucher.objects.filter(campaign_id=campaign_id, slot__isnull=False).values_list("slot", flat=True))


def _member_counts(campaign_id: int) -> dict[int, int]:
    rows = Voucher.objects.filter(campaign_id=campaign_id).values("member_id").annotate(n=Count("id"))
    return {row["member_id"]: row["n"] for row in rows}


def campaign_prepare(*, campaign: Campaign) -> None:
    """Get a campaign ready for the rush: facts refreshed and, with Redis, stock and per-member
    counts loaded from the database (kept if already loaded). Called when it is scheduled or opened."""
    sold_out_reset(campaign.pk, sold_out=campaign.remaining <= 0)
    if not redis_stock_in_use() or campaign.distribution == Distribution.DRAW:
        return
    remaining, total = Campaign.objects.filter(pk=campaign.pk).values_list("remaining", "total_stock").get()
    counts = _member_counts(campaign.pk)
    # The row may lag the vouchers written (remaining_sync): never load more than the vouchers leave.
    stock = max(min(remaining, total - sum(counts.values())), 0)
    redis_stock.load(campaign_id=campaign.pk, stock=stock, member_counts=counts, slots=_slots(campaign.pk))


def reconcile_campaign(*, campaign_id: int) -> dict:
    """Rebuild Redis (and the local sold-out flag) from the database and report what differed.

    Run it when no claim is in flight for the campaign (after a Redis restart or flush)."""
    remaining_sync(campaign_id)  # the row follows the vouchers written (Redis path)
    campaign = Campaign.objects.get(pk=campaign_id)
    counts = _member_counts(campaign_id)
    report = {
        "campaign": campaign_id,
        "remaining": campaign.remaining,
        "vouchers": sum(counts.values()),
        "redis": False,
        "differences": [],
    }
    sold_out_reset(campaign_id, sold_out=campaign.remaining <= 0)
    if campaign.total_stock - campaign.remaining != report["vouchers"]:
        report["differences"].append(
            f"database: total_stock - remaining = {campaign.total_stock - campaign.remaining}, "
            f"vouchers = {report['vouchers']}"
        )
    if not redis_stock_in_use():
        return report
    report["redis"] = True
    before = redis_stock.snapshot(campaign_id)
    if before["stock"] != campaign.remaining:
        report["differences"].append(f"stock: redis {before['stock']}, database {campaign.remaining}")
    if before["sold_out"] != (campaign.remaining <= 0):
        report["differences"].append(f"sold-out flag: redis {before['sold_out']}, database {campaign.remaining <= 0}")
    wrong = {m for m in set(before["members"]) | set(counts) if before["members"].get(m, 0) != counts.get(m, 0)}
    if wrong:
        report["differences"].append(f"member counts differ for {len(wrong)} members")
    report["members_fixed"] = len(wrong)
    redis_stock.load(
        campaign_id=campaign_id,
        stock=campaign.remaining,
        member_counts=counts,
        slots=_slots(campaign_id),
        force=True,
    )
    return report
