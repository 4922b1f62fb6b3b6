"""The claim (领券): one atomic step that never oversells and never gives a claim two vouchers.

Two paths behind ``voucher_claim``, chosen by ``settings.VOUCHER_CLAIM_BACKEND``
("auto": Redis when ``REDIS_URL`` is set; "db"; "redis"):

- Redis: one Lua script (``vouchers.services.redis_stock``) checks the sold-out flag and the member's count,
  takes one from the stock and numbers the member's claim; the voucher row is then written, with
  ``Campaign.remaining`` decremented by a conditional UPDATE in the same transaction, BEFORE the
  member is told "claimed". If the database refuses, Redis is given back what the script took.
- Database: the conditional ``UPDATE … SET remaining = remaining - 1 WHERE remaining > 0`` in the
  same transaction as the voucher row; the member's row is locked to number their claims.

The database is the source of truth; the unique constraint (campaign, member, seq) is the final
guard; ``vouchers.services.stock`` loads the stock into Redis and rebuilds it from the database.
What the claim reads without the database (the member's and the campaign's facts, the sold-out
flag) is in ``vouchers.services.claim_facts``.
"""

import datetime as dt
import logging
from dataclasses import dataclass

from django.conf import settings
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from core import ratelimit
from core.errors import ServiceError
from core.parsing import Period
from members.models import Member
from vouchers.models import Campaign, Distribution, Voucher
from vouchers.services import redis_stock
from vouchers.services.claim_facts import (
    Claimant,
    campaign_facts,
    campaign_facts_fresh,
    redis_stock_in_use,
    sold_out_flag,
    sold_out_mark,
    sold_out_remember,
    sold_out_seen,
)
from vouchers.services.redemption import new_voucher_code
from vouchers.services.stock import (
    CLAIMABLE_STATES,
    REMAINING_SYNC_EVERY,
    campaign_prepare,
    remaining_sync,
    stock_reload,
)

log = logging.getLogger(__name__)

OUTCOMES = ("claimed", "sold_out", "limit_reached", "not_eligible", "not_open", "closed", "rate_limited")


@dataclass
class ClaimResult:
    outcome: str
    voucher: Voucher | None = None
    message: str = ""


def _message(outcome: str) -> str:
    return {
        "claimed": _("Claimed. The voucher is in My vouchers."),
        "sold_out": _("Sorry, all vouchers have been claimed."),
        "limit_reached": _("You have already claimed as many of these vouchers as allowed."),
        "not_eligible": _("This campaign is not open to you."),
        "not_open": _("The claim has not opened yet."),
        "closed": _("The claim has closed."),
        "rate_limited": _("Too many attempts. Please wait a moment and try again."),
        "draw": _("This campaign is handed out by a draw: register for the draw instead."),
    }[outcome]


def _result(outcome: str, voucher: Voucher | None = None, message_key: str = "") -> ClaimResult:
    return ClaimResult(outcome=outcome, voucher=voucher, message=_message(message_key or outcome))


def member_is_eligible(member: "Member | Claimant", facts: dict) -> bool:
    """Active real-name members (a Member row is verified by ID), optionally of a union subtree
    and of some forms of employment."""
    if member is None or member.status != Member.Status.ACTIVE:
        return False
    union_path = member.union_path if isinstance(member, Claimant) else member.union.path
    if facts["union_path"] and not union_path.startswith(facts["union_path"]):
        return False
    if facts["forms"] and member.employment_form not in facts["forms"]:
        return False
    return True


def claim_window(*, state: str, opens_at: dt.datetime, closes_at: dt.datetime, now: dt.datetime) -> str:
    """Whether a campaign may be claimed (or registered for, a draw) at `now`: "" when its window
    is open, else "sold_out", "closed" or "not_open", in that order. A sold-out campaign stays sold
    out after its window; a closed or settled one is closed whatever the clock says.

    The one rule for the claim and for the campaign's page (its countdown and notices)."""
    if state == Campaign.State.SOLD_OUT:
        return "sold_out"
    if state in (Campaign.State.CLOSED, Campaign.State.SETTLED) or now >= closes_at:
        return "closed"
    if state not in CLAIMABLE_STATES or now < opens_at:
        return "not_open"
    return ""


def _expires_at(facts: dict, claimed_at: dt.datetime) -> dt.datetime:
    if facts["valid_until"]:
        end = dt.datetime.combine(facts["valid_until"], dt.time(23, 59, 59))
        return timezone.make_aware(end, timezone.get_default_timezone())
    return claimed_at + dt.timedelta(days=facts["valid_days"] or 30)


def _existing_voucher(campaign_id: int, member_id: int) -> Voucher | None:
    return Voucher.objects.filter(campaign_id=campaign_id, member_id=member_id).order_by("-seq").first()


def _month_limited_vouchers(month: str):
    """The vouchers claimed in `month` that count towards a monthly limit."""
    return Voucher.objects.filter(claim_month=month, campaign__limit_per_member_month__isnull=False)


def _month_count(member_id: int, month: str) -> int:
    """Vouchers the member claimed this month in campaigns with a monthly limit."""
    return _month_limited_vouchers(month).filter(member_id=member_id).count()


# --- the durable write, shared by both paths and by draws ------------------------------------------


class DbSoldOut(Exception):
    pass


def _take_db_stock(campaign_id: int) -> int:
    """Take one from Campaign.remaining with a conditional UPDATE; return what is left.

    Raises DbSoldOut when the database has none left. Marks the campaign sold out at 0."""
    table = Campaign._meta.db_table
    with connection.cursor() as cur:
        cur.execute(
            f"UPDATE {table} SET remaining = remaining - 1, "  # noqa: S608 - table name from the model
            "state = CASE WHEN remaining = 1 AND state IN (%s, %s) THEN %s ELSE state END "
            "WHERE id = %s AND remaining > 0 RETURNING remaining",
            [Campaign.State.SCHEDULED, Campaign.State.OPEN, Campaign.State.SOLD_OUT, campaign_id],
        )
        row = cur.fetchone()
    if row is None:
        raise DbSoldOut
    return row[0]


def voucher_insert(*, campaign_id: int, member_id: int, seq: int, facts: dict, now: dt.datetime) -> tuple[Voucher, int]:
    """Take one from the database stock and write the voucher; call inside a transaction.

    Returns the voucher and the stock left. Raises DbSoldOut or IntegrityError."""
    left = _take_db_stock(campaign_id)
    return _voucher_write(campaign_id=campaign_id, member_id=member_id, seq=seq, facts=facts, now=now), left


def _voucher_write(
    *, campaign_id: int, member_id: int, seq: int, facts: dict, now: dt.datetime, slot: int | None = None
) -> Voucher:
    """The voucher row alone (the Redis path, whose stock was taken by the script)."""
    return Voucher.objects.create(
        campaign_id=campaign_id,
        member_id=member_id,
        seq=seq,
        slot=slot,
        code=new_voucher_code(),
        claimed_at=now,
        claim_month=str(Period.of(timezone.localtime(now))),
        expires_at=_expires_at(facts, now),
    )


# --- the claim -----------------------------------------------------------------------------------


def sold_out_result() -> ClaimResult:
    return _result("sold_out")


def voucher_claim(*, campaign_id: int, member: "Member | Claimant", ip: str = "") -> ClaimResult:
    """Claim one voucher of a first-come campaign for a member. Safe to call twice (double tap)."""
    result = _voucher_claim(campaign_id, member, ip)
    if result.outcome == "sold_out":  # however it was learnt: the flag, the script, the campaign's state
        sold_out_remember(campaign_id)
    return result


def _voucher_claim(campaign_id: int, member: "Member | Claimant", ip: str) -> ClaimResult:
    use_redis = redis_stock_in_use()
    # Once sold out, the flag answers: no database, no campaign facts, no rate-limit counters
    # (the flag costs less than the counters it would protect). On the Redis path the claim
    # script reads the flag itself, so only this process's memo of it is consulted here.
    if sold_out_flag(campaign_id) or (not use_redis and sold_out_seen(campaign_id)):
        return _result("sold_out")
    limits = [(f"vclaim:m:{member.pk}", getattr(settings, "VOUCHER_CLAIM_RATE_PER_MEMBER", "30/m"))]
    if ip:
        limits.append((f"vclaim:ip:{ip}", getattr(settings, "VOUCHER_CLAIM_RATE_PER_IP", "300/m")))
    # On the Redis path the claim script counts the limits in its own round trip.
    if not use_redis and not ratelimit.hit_all(limits):
        return _result("rate_limited")
    facts = campaign_facts(campaign_id)
    if facts is None:
        return _result("not_open")
    if facts["distribution"] == Distribution.DRAW:
        return _result("not_open", message_key="draw")
    if not member_is_eligible(member, facts):
        return _result("not_eligible")
    now = timezone.now()
    window = claim_window(state=facts["state"], opens_at=facts["opens_at"], closes_at=facts["closes_at"], now=now)
    if window:
        return _result(window)
    if use_redis:
        return _claim_redis(facts, member, now, rate_limits=ratelimit.redis_counters(limits))
    return _claim_db(facts, member, now)


def _month_limit_reached(facts: dict, member_id: int, now: dt.datetime) -> bool:
    """Inside the transaction, with the member's row locked."""
    limit = facts["limit_per_member_month"]
    if not limit:
        return False
    return _month_count(member_id, str(Period.of(timezone.localtime(now)))) >= limit


def members_at_month_limit(facts: dict, member_ids, now: dt.datetime) -> set[int]:
    """Those of `member_ids` (ids or a subquery) who may claim no more vouchers of this campaign this month."""
    limit = facts["limit_per_member_month"]
    if not limit:
        return set()
    counts = (
        _month_limited_vouchers(str(Period.of(timezone.localtime(now))))
        .filter(member_id__in=member_ids)
        .values("member_id")
        .annotate(n=Count("pk"))
        .filter(n__gte=limit)
        .order_by()
    )
    return {row["member_id"] for row in counts}


def _lock_member(member_id: int) -> None:
    """Serialise one member's concurrent claims (cheap: one row per member)."""
    list(Member.objects.select_for_update().filter(pk=member_id).values_list("pk", flat=True))


def _claim_db(facts: dict, member, now: dt.datetime) -> ClaimResult:
    cid = facts["id"]
    with transaction.atomic():
        _lock_member(member.pk)
        last = _existing_voucher(cid, member.pk)
        count = Voucher.objects.filter(campaign_id=cid, member_id=member.pk).count() if last else 0
        if count >= facts["limit_per_member"]:
            return _result("limit_reached", last)
        if _month_limit_reached(facts, member.pk, now):
            return _result("limit_reached", last)
        try:
            voucher, left = voucher_insert(
                campaign_id=cid, member_id=member.pk, seq=(last.seq + 1 if last else 1), facts=facts, now=now
            )
        except DbSoldOut:
            sold_out_mark(cid)
            return _result("sold_out")
    if left == 0:
        sold_out_mark(cid)
    return _result("claimed", voucher)


class _SlotTaken(Exception):
    """Redis handed out a place in the stock that cannot be right (see Voucher.slot)."""


def _claim_redis(facts: dict, member, now: dt.datetime, retry: bool = True, rate_limits=()) -> ClaimResult:
    cid = facts["id"]
    month_limited = bool(facts["limit_per_member_month"])
    taken, slot = False, 0
    try:
        with transaction.atomic():
            if month_limited:
                _lock_member(member.pk)
                if _month_limit_reached(facts, member.pk, now):
                    return _result("limit_reached", _existing_voucher(cid, member.pk))
            take = {"campaign_id": cid, "member_id": member.pk, "limit": facts["limit_per_member"]}
            outcome, seq, left, slot = redis_stock.take(**take, rate_limits=rate_limits)
            if outcome == "unprepared":
                campaign_prepare(campaign=Campaign.objects.get(pk=cid))
                outcome, seq, left, slot = redis_stock.take(**take, rate_limits=rate_limits)
            if outcome == "rate_limited":
                return _result("rate_limited")
            if outcome == "sold_out":
                sold_out_remember(cid)
                return _result("sold_out")
            if outcome == "limit_reached":
                return _result("limit_reached", _existing_voucher(cid, member.pk))
            if outcome != "claimed":
                raise ServiceError("claim_failed", _("The claim could not be saved. Please try again."))
            taken = True
            if not 1 <= slot <= facts["total_stock"]:  # Redis cannot be right: reload it, as below
                raise _SlotTaken
            # No savepoint: an IntegrityError is handled outside the transaction, below.
            voucher = _voucher_write(campaign_id=cid, member_id=member.pk, seq=seq, facts=facts, now=now, slot=slot)
    except (IntegrityError, _SlotTaken) as exc:
        if isinstance(exc, _SlotTaken) or (slot and Voucher.objects.filter(campaign_id=cid, slot=slot).exists()):
            # Redis handed out a place in the stock that a voucher already holds: it lost what it
            # had handed out (a restart from an older snapshot, a flush). The stock is not given
            # back; Redis is reloaded from the vouchers written and the claim tried once more.
            redis_stock.release(campaign_id=cid, member_id=member.pk, stock=False)
            stock_reload(cid)
            log.warning("voucher claim for campaign %s met a stock place already taken: Redis reloaded", cid)
            if retry:
                return _claim_redis(campaign_facts_fresh(cid), member, now, retry=False)
            raise ServiceError("claim_failed", _("The claim could not be saved. Please try again.")) from None
        # Redis numbered a claim the database already has (Redis lost its counts): give the
        # stock and the place back, take the member's count from the database and try once more.
        redis_stock.release(campaign_id=cid, member_id=member.pk, stock=True, slot=slot)
        db_count = Voucher.objects.filter(campaign_id=cid, member_id=member.pk).count()
        redis_stock.set_member_count(campaign_id=cid, member_id=member.pk, count=db_count)
        if retry:
            return _claim_redis(facts, member, now, retry=False)
        raise ServiceError("claim_failed", _("The claim could not be saved. Please try again.")) from None
    except DatabaseError as exc:
        # The database is down or refused: give back what the script took and answer an error.
        if taken:
            redis_stock.release(campaign_id=cid, member_id=member.pk, stock=True, slot=slot)
        log.exception("voucher claim not written for campaign %s", cid)
        raise ServiceError("claim_failed", _("The claim could not be saved. Please try again.")) from exc
    except BaseException:
        if taken:
            redis_stock.release(campaign_id=cid, member_id=member.pk, stock=True, slot=slot)
        raise
    if left == 0:
        sold_out_mark(cid)
    if left % REMAINING_SYNC_EVERY == 0 or left < REMAINING_SYNC_EVERY:  # and each of the last ones
        remaining_sync(cid)
    return _result("claimed", voucher)
