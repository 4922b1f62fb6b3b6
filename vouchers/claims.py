"""The claim (领券): one atomic step that never oversells and never gives a claim two vouchers.

Two paths behind ``voucher_claim``, chosen by ``settings.VOUCHER_CLAIM_BACKEND``
("auto": Redis when ``REDIS_URL`` is set; "db"; "redis"):

- Redis: one Lua script (``vouchers.redis_stock``) checks the sold-out flag and the member's count,
  takes one from the stock and numbers the member's claim; the voucher row is then written, with
  ``Campaign.remaining`` decremented by a conditional UPDATE in the same transaction, BEFORE the
  member is told "claimed". If the database refuses, Redis is given back what the script took.
- Database: the conditional ``UPDATE … SET remaining = remaining - 1 WHERE remaining > 0`` in the
  same transaction as the voucher row; the member's row is locked to number their claims.

The database is the source of truth; the unique constraint (campaign, member, seq) is the final
guard; ``reconcile_campaign`` rebuilds Redis from the database.
"""

import datetime as dt
import logging
import time
from dataclasses import astuple, dataclass

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import Case, Count, F, Q, Value, When
from django.db.models.functions import Greatest
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils import timezone
from django.utils.translation import gettext as _

from core import ratelimit
from core.cache import drop_now_and_on_commit
from core.errors import ServiceError
from members.models import Member
from vouchers import redis_stock
from vouchers.models import Campaign, Distribution, Voucher

log = logging.getLogger(__name__)

OUTCOMES = ("claimed", "sold_out", "limit_reached", "not_eligible", "not_open", "closed", "rate_limited")
FACTS_TTL = 30  # seconds; the cache entry is also deleted whenever the campaign row is saved
STOCK_HINT_TTL = 5
CLAIMABLE_STATES = (Campaign.State.SCHEDULED, Campaign.State.OPEN)


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


@dataclass(frozen=True)
class Claimant:
    """What a claim needs to know about a member, so the rush reads no member row."""

    pk: int
    status: str
    union_path: str
    employment_form: str

    @classmethod
    def of(cls, member: Member) -> "Claimant":
        return cls(member.pk, member.status, member.union.path, member.employment_form)


CLAIMANT_TTL = 300  # seconds; the entry is also deleted whenever the member row is saved


def _claimant_key(user_id: int) -> str:
    return f"vouchers:claimant:{user_id}"


def claimant_for_user(user) -> Claimant | None:
    """The logged-in user's member facts, cached. Users without a member row are not cached (they
    may be linked to one at any moment)."""
    if not getattr(user, "is_authenticated", False):
        return None
    row = cache.get(_claimant_key(user.pk))
    if row is None:
        row = (
            Member.objects.filter(user_id=user.pk).values_list("pk", "status", "union__path", "employment_form").first()
        )
        if row is None:
            return None
        cache.set(_claimant_key(user.pk), tuple(row), CLAIMANT_TTL)
    return Claimant(*row)


def claimant_remember(user, member: Member) -> None:
    """Cache a member's facts read for another page (the campaign page, before the window opens),
    so their claim reads no member row."""
    cache.set(_claimant_key(user.pk), astuple(Claimant.of(member)), CLAIMANT_TTL)


@receiver(post_save, sender=Member)
@receiver(post_delete, sender=Member)
def _member_changed(sender, instance, **kwargs):
    if instance.user_id:
        key = _claimant_key(instance.user_id)
        drop_now_and_on_commit(lambda: cache.delete(key))


def _result(outcome: str, voucher: Voucher | None = None, message_key: str = "") -> ClaimResult:
    return ClaimResult(outcome=outcome, voucher=voucher, message=_message(message_key or outcome))


def redis_stock_in_use() -> bool:
    backend = getattr(settings, "VOUCHER_CLAIM_BACKEND", "auto")
    if backend == "redis":
        return True
    if backend == "db":
        return False
    return bool(settings.REDIS_URL)


# --- cached campaign facts and the sold-out flag -------------------------------------------------


def _facts_key(campaign_id: int) -> str:
    return f"vouchers:facts:{campaign_id}"


def _soldout_key(campaign_id: int) -> str:
    return f"vouchers:soldout:{campaign_id}"


# The facts as this process last read them from the cache, and until when it trusts them.
FACTS_MEMO_SECONDS = 2.0
_facts_seen: dict[int, tuple[float, dict]] = {}


def campaign_facts(campaign_id: int) -> dict | None:
    """What a claim needs to know about a campaign, cached so the rush does not read its row
    (and memoised in the process for two seconds, so most claims do not even ask the cache)."""
    seen = _facts_seen.get(campaign_id)
    if seen is not None and seen[0] > time.monotonic():
        return seen[1]
    facts = _campaign_facts_cached(campaign_id)
    if facts is not None:
        _facts_seen[campaign_id] = (time.monotonic() + FACTS_MEMO_SECONDS, facts)
    return facts


def _campaign_facts_cached(campaign_id: int) -> dict | None:
    facts = cache.get(_facts_key(campaign_id))
    if facts is None:
        campaign = Campaign.objects.select_related("eligible_union").filter(pk=campaign_id).first()
        if campaign is None:
            return None
        facts = {
            "id": campaign.pk,
            "state": campaign.state,
            "distribution": campaign.distribution,
            "opens_at": campaign.claim_opens_at,
            "closes_at": campaign.claim_closes_at,
            "total_stock": campaign.total_stock,
            "limit_per_member": campaign.limit_per_member,
            "limit_per_member_month": campaign.limit_per_member_month,
            "union_path": campaign.eligible_union.path if campaign.eligible_union_id else "",
            "forms": list(campaign.eligible_forms or []),
            "valid_days": campaign.valid_days,
            "valid_until": campaign.valid_until,
        }
        cache.set(_facts_key(campaign_id), facts, FACTS_TTL)
    return facts


def campaign_facts_invalidate(campaign_id: int) -> None:
    cache.delete(_facts_key(campaign_id))
    _facts_seen.pop(campaign_id, None)


@receiver(post_save, sender=Campaign)
@receiver(post_delete, sender=Campaign)
def _campaign_changed(sender, instance, **kwargs):
    campaign_id, restocked = instance.pk, instance.remaining > 0

    def drop():
        campaign_facts_invalidate(campaign_id)
        cache.delete(f"vouchers:stockhint:{campaign_id}")
        if restocked:  # e.g. stock added by staff; a stale row costs one database claim
            cache.delete(_soldout_key(campaign_id))
            _sold_out_seen.pop(campaign_id, None)

    drop_now_and_on_commit(drop)


# Campaigns this process has seen sold out, and until when (time.monotonic()) it trusts that without
# asking the cache again: the rush's turned-away claims then cost no round trip at all. Stock added
# by staff clears it here at once (the post_save signal) and in other processes within a second.
SOLD_OUT_MEMO_SECONDS = 1.0
_sold_out_seen: dict[int, float] = {}


def _is_sold_out(campaign_id: int, use_redis: bool) -> bool:
    if _sold_out_seen.get(campaign_id, 0.0) > time.monotonic():
        return True
    if use_redis:
        sold_out = redis_stock.is_sold_out(campaign_id)
    else:
        sold_out = bool(cache.get(_soldout_key(campaign_id)))
    if sold_out:
        _sold_out_seen[campaign_id] = time.monotonic() + SOLD_OUT_MEMO_SECONDS
    return sold_out


def _mark_sold_out(campaign_id: int, use_redis: bool) -> None:
    if use_redis:
        redis_stock.mark_sold_out(campaign_id)
    cache.set(_soldout_key(campaign_id), True, None)
    _sold_out_seen[campaign_id] = time.monotonic() + SOLD_OUT_MEMO_SECONDS


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


def _window_outcome(facts: dict, now: dt.datetime) -> str:
    """ "" when the claim window is open, else "not_open" or "closed"."""
    if facts["state"] == Campaign.State.SOLD_OUT:
        return "sold_out"
    if facts["state"] in (Campaign.State.CLOSED, Campaign.State.SETTLED) or now >= facts["closes_at"]:
        return "closed"
    if facts["state"] not in CLAIMABLE_STATES or now < facts["opens_at"]:
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
    from vouchers.redemption import new_voucher_code

    return Voucher.objects.create(
        campaign_id=campaign_id,
        member_id=member_id,
        seq=seq,
        slot=slot,
        code=new_voucher_code(),
        claimed_at=now,
        claim_month=timezone.localtime(now).strftime("%Y-%m"),
        expires_at=_expires_at(facts, now),
    )


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


# --- the claim -----------------------------------------------------------------------------------


def sold_out_flag(campaign_id: int) -> bool:
    """Whether this process has seen the campaign's sold-out flag in the last second (no round
    trip at all): on the rush day most claims arrive after it is set, and this answers them before
    the session, the user or the member is read. A process learns it from its next claim (the
    flag is the first thing the claim reads) and forgets it after SOLD_OUT_MEMO_SECONDS."""
    return _sold_out_seen.get(campaign_id, 0.0) > time.monotonic()


def sold_out_result() -> ClaimResult:
    return _result("sold_out")


def voucher_claim(*, campaign_id: int, member: "Member | Claimant", ip: str = "") -> ClaimResult:
    """Claim one voucher of a first-come campaign for a member. Safe to call twice (double tap)."""
    result = _voucher_claim(campaign_id, member, ip)
    if result.outcome == "sold_out":  # however it was learnt: the flag, the script, the campaign's state
        _sold_out_seen[campaign_id] = time.monotonic() + SOLD_OUT_MEMO_SECONDS
    return result


def _voucher_claim(campaign_id: int, member: "Member | Claimant", ip: str) -> ClaimResult:
    use_redis = redis_stock_in_use()
    # Once sold out, the flag answers: no database, no campaign facts, no rate-limit counters
    # (the flag costs less than the counters it would protect). On the Redis path the claim
    # script reads the flag itself, so only this process's memo of it is consulted here.
    if _sold_out_seen.get(campaign_id, 0.0) > time.monotonic() or (
        not use_redis and _is_sold_out(campaign_id, use_redis)
    ):
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
    window = _window_outcome(facts, now)
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
    return _month_count(member_id, timezone.localtime(now).strftime("%Y-%m")) >= limit


def members_at_month_limit(facts: dict, member_ids, now: dt.datetime) -> set[int]:
    """Those of `member_ids` (ids or a subquery) who may claim no more vouchers of this campaign this month."""
    limit = facts["limit_per_member_month"]
    if not limit:
        return set()
    counts = (
        _month_limited_vouchers(timezone.localtime(now).strftime("%Y-%m"))
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
            _mark_sold_out(cid, False)
            return _result("sold_out")
    if left == 0:
        _mark_sold_out(cid, False)
    return _result("claimed", voucher)


class _SlotTaken(Exception):
    """Redis handed out a place in the stock that cannot be right (see Voucher.slot)."""


def _stock_reload(campaign_id: int) -> None:
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


def campaign_facts_fresh(campaign_id: int) -> dict | None:
    campaign_facts_invalidate(campaign_id)
    return campaign_facts(campaign_id)


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
                _sold_out_seen[cid] = time.monotonic() + SOLD_OUT_MEMO_SECONDS
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
            _stock_reload(cid)
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
        cache.set(_soldout_key(cid), True, None)
        _sold_out_seen[cid] = time.monotonic() + SOLD_OUT_MEMO_SECONDS
    if left % REMAINING_SYNC_EVERY == 0 or left < REMAINING_SYNC_EVERY:  # and each of the last ones
        remaining_sync(cid)
    return _result("claimed", voucher)


# --- stock hint, preparation, reconciliation ---------------------------------------------------------


def campaign_stock_hint(campaign_id: int) -> int | None:
    """Approximate stock left, for display: Redis when loaded, else the database value cached
    for a few seconds. Never a count of vouchers."""
    if redis_stock_in_use():
        try:
            stock = redis_stock.client().get(redis_stock.keys(campaign_id)[0])
        except Exception:  # noqa: BLE001 - a hint is allowed to fall back
            stock = None
        if stock is not None:
            return max(int(stock), 0)
    key = f"vouchers:stockhint:{campaign_id}"
    hint = cache.get(key)
    if hint is None:
        hint = Campaign.objects.filter(pk=campaign_id).values_list("remaining", flat=True).first()
        if hint is None:
            return None
        cache.set(key, hint, STOCK_HINT_TTL)
    return hint


def _member_counts(campaign_id: int) -> dict[int, int]:
    from django.db.models import Count

    rows = Voucher.objects.filter(campaign_id=campaign_id).values("member_id").annotate(n=Count("id"))
    return {row["member_id"]: row["n"] for row in rows}


def campaign_prepare(*, campaign: Campaign) -> None:
    """Get a campaign ready for the rush: facts refreshed and, with Redis, stock and per-member
    counts loaded from the database (kept if already loaded). Called when it is scheduled or opened."""
    campaign_facts_invalidate(campaign.pk)
    cache.delete(_soldout_key(campaign.pk))
    _sold_out_seen.pop(campaign.pk, None)
    if campaign.remaining <= 0:
        cache.set(_soldout_key(campaign.pk), True, None)
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
    campaign_facts_invalidate(campaign_id)
    cache.delete(_soldout_key(campaign_id))
    _sold_out_seen.pop(campaign_id, None)
    if campaign.remaining <= 0:
        cache.set(_soldout_key(campaign_id), True, None)
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
