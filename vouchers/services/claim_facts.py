"""What the claim reads during the rush without touching the database: the member's facts and the
campaign's facts (cached, and memoised in the process), the sold-out flag and this process's memo
of it. Saving a member or a campaign row drops its cached facts (the receivers below, connected
when VouchersConfig.ready imports this module).
"""

import time
from dataclasses import astuple, dataclass

from django.conf import settings
from django.core.cache import cache
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from core.cache import drop_now_and_on_commit
from members.models import Member
from vouchers.models import Campaign

FACTS_TTL = 30  # seconds; the cache entry is also deleted whenever the campaign row is saved


def redis_stock_in_use() -> bool:
    """Whether the claim takes its stock in Redis (``VOUCHER_CLAIM_BACKEND``; "auto": when
    ``REDIS_URL`` is set) or with a conditional UPDATE of the campaign row."""
    backend = getattr(settings, "VOUCHER_CLAIM_BACKEND", "auto")
    if backend == "redis":
        return True
    if backend == "db":
        return False
    return bool(settings.REDIS_URL)


# --- the member's facts ----------------------------------------------------------------------------


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


# --- the campaign's facts and the sold-out flag ------------------------------------------------------


def stock_hint_key(campaign_id: int) -> str:
    """The cache key of a campaign's approximate stock shown on its page."""
    return f"vouchers:stockhint:{campaign_id}"


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


def campaign_facts_fresh(campaign_id: int) -> dict | None:
    campaign_facts_invalidate(campaign_id)
    return campaign_facts(campaign_id)


@receiver(post_save, sender=Campaign)
@receiver(post_delete, sender=Campaign)
def _campaign_changed(sender, instance, **kwargs):
    campaign_id, restocked = instance.pk, instance.remaining > 0

    def drop():
        campaign_facts_invalidate(campaign_id)
        cache.delete(stock_hint_key(campaign_id))
        if restocked:  # e.g. stock added by staff; a stale row costs one database claim
            cache.delete(_soldout_key(campaign_id))
            _sold_out_seen.pop(campaign_id, None)

    drop_now_and_on_commit(drop)


# Campaigns this process has seen sold out, and until when (time.monotonic()) it trusts that without
# asking the cache again: the rush's turned-away claims then cost no round trip at all. Stock added
# by staff clears it here at once (the post_save signal) and in other processes within a second.
SOLD_OUT_MEMO_SECONDS = 1.0
_sold_out_seen: dict[int, float] = {}


def sold_out_flag(campaign_id: int) -> bool:
    """Whether this process has seen the campaign's sold-out flag in the last second (no round
    trip at all): on the rush day most claims arrive after it is set, and this answers them before
    the session, the user or the member is read. A process learns it from its next claim (the
    flag is the first thing the claim reads) and forgets it after SOLD_OUT_MEMO_SECONDS."""
    return _sold_out_seen.get(campaign_id, 0.0) > time.monotonic()


def sold_out_remember(campaign_id: int) -> None:
    """This process has learnt that the campaign is sold out (from a claim's answer)."""
    _sold_out_seen[campaign_id] = time.monotonic() + SOLD_OUT_MEMO_SECONDS


def sold_out_seen(campaign_id: int) -> bool:
    """Whether the campaign is sold out, by this process's memo or else the cache's flag (the
    database path; on the Redis path the claim script itself answers sold out)."""
    if sold_out_flag(campaign_id):
        return True
    sold_out = bool(cache.get(_soldout_key(campaign_id)))
    if sold_out:
        sold_out_remember(campaign_id)
    return sold_out


def sold_out_mark(campaign_id: int) -> None:
    """Raise the sold-out flag in the cache and remember it in this process."""
    cache.set(_soldout_key(campaign_id), True, None)
    sold_out_remember(campaign_id)


def sold_out_reset(campaign_id: int, *, sold_out: bool) -> None:
    """Drop the campaign's cached facts and sold-out flag, and raise the flag again if `sold_out`
    (the campaign row has no stock left): when a campaign is prepared or reconciled."""
    campaign_facts_invalidate(campaign_id)
    cache.delete(_soldout_key(campaign_id))
    _sold_out_seen.pop(campaign_id, None)
    if sold_out:
        cache.set(_soldout_key(campaign_id), True, None)


def process_memos_clear() -> None:
    """Forget every fact and flag this process memoised (tests start from a clean process)."""
    _sold_out_seen.clear()
    _facts_seen.clear()
