"""Draw campaigns (抽签): members register during the window, then a recorded-seed draw picks winners.

The draw, so that anyone can re-run it from the published seed (Python 3):

    import random
    ids = sorted(member ids of the eligible entries) # recorded in the audit entry ("eligible")
    k = min(stock remaining before the draw, len(ids))
    winners = random.Random(seed).sample(ids, k)     # seed: the campaign's draw_seed string

An entry is eligible at the draw when its member still is (active, in the campaign's union subtree
and forms of employment; checked at registration too) and has not reached the campaign's monthly
limit. ``draw_winners`` below is exactly this; the seed, the eligible ids and the time are stored on
the campaign and in the audit log.
"""

import random
import secrets

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import ServiceError
from core.services import audit_log, notification_send, recipients_language
from vouchers.models import Campaign, Distribution, DrawEntry
from vouchers.services.claim_facts import campaign_facts
from vouchers.services.claims import DbSoldOut, claim_window, member_is_eligible, members_at_month_limit, voucher_insert


def draw_winners(member_ids, k: int, seed: str) -> list[int]:
    """The winners of a draw: reproducible from the entries, the stock and the seed."""
    ids = sorted(member_ids)
    return random.Random(seed).sample(ids, min(k, len(ids)))  # noqa: S311 - reproducibility is the point


def draw_register(*, campaign: Campaign, member) -> DrawEntry:
    """Register a member's interest in a draw during the window; once (a second call returns the entry)."""
    if campaign.distribution != Distribution.DRAW:
        raise ServiceError("not_draw", _("This campaign is not a draw."))
    facts = campaign_facts(campaign.pk)
    if not member_is_eligible(member, facts):
        raise ServiceError("not_eligible", _("This campaign is not open to you."))
    window = claim_window(
        state=campaign.state, opens_at=campaign.claim_opens_at, closes_at=campaign.claim_closes_at, now=timezone.now()
    )
    if window in ("closed", "sold_out") or campaign.drawn_at:
        raise ServiceError("closed", _("Registration for this draw has closed."))
    if window == "not_open":
        raise ServiceError("not_open", _("Registration for this draw has not opened yet."))
    try:
        with transaction.atomic():
            entry, _created = DrawEntry.objects.get_or_create(campaign=campaign, member=member)
    except IntegrityError:  # a double tap registered at the same moment
        entry = DrawEntry.objects.get(campaign=campaign, member=member)
    return entry


def draw_run(*, campaign: Campaign, actor, seed: str | None = None) -> dict:
    """Draw the winners after the window, give each a voucher and tell every entrant."""
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
        if campaign.distribution != Distribution.DRAW:
            raise ServiceError("not_draw", _("This campaign is not a draw."))
        if campaign.drawn_at:
            raise ServiceError("already_drawn", _("This draw has already been run."))
        now = timezone.now()
        if now < campaign.claim_closes_at:
            raise ServiceError("too_early", _("The draw runs after registration closes."))
        seed = seed or secrets.token_hex(16)
        entry_rows = DrawEntry.objects.filter(campaign=campaign)
        entries = list(entry_rows.select_related("member__user", "member__union"))
        stock = campaign.remaining
        facts = campaign_facts(campaign.pk)
        # Eligibility may have changed since registration (lapsed, moved union, monthly limit reached).
        at_limit = members_at_month_limit(facts, entry_rows.values("member_id"), now)
        eligible = sorted(
            e.member_id for e in entries if member_is_eligible(e.member, facts) and e.member_id not in at_limit
        )
        winners = draw_winners(eligible, stock, seed)
        winner_set = set(winners)
        vouchers = 0
        for member_id in winners:  # in draw order
            try:
                voucher_insert(campaign_id=campaign.pk, member_id=member_id, seq=1, facts=facts, now=now)
            except DbSoldOut:  # cannot happen: k <= remaining under the row lock
                break
            vouchers += 1
        DrawEntry.objects.filter(campaign=campaign, member_id__in=winner_set).update(won=True)
        DrawEntry.objects.filter(campaign=campaign).exclude(member_id__in=winner_set).update(won=False)
        Campaign.objects.filter(pk=campaign.pk).update(draw_seed=seed, drawn_at=now)
        audit_log(
            action="vouchers.campaign.drawn",
            obj=campaign,
            actor=actor,
            new={
                "seed": seed,
                "entries": len(entries),
                "eligible": eligible,
                "stock": stock,
                "winners": len(winners),
            },
        )
        won_users = [e.member.user_id for e in entries if e.member_id in winner_set and e.member.user_id]
        lost_users = [e.member.user_id for e in entries if e.member_id not in winner_set and e.member.user_id]
        with recipients_language():
            if won_users:
                notification_send(
                    recipient_ids=won_users,
                    kind="vouchers.draw.won",
                    title=_("You won the draw: %(name)s") % {"name": campaign.name},
                    body=_("The voucher is in My vouchers."),
                    dedupe_key=f"vouchers.draw.{campaign.pk}",
                )
            if lost_users:
                notification_send(
                    recipient_ids=lost_users,
                    kind="vouchers.draw.lost",
                    title=_("Draw result: %(name)s") % {"name": campaign.name},
                    body=_("Sorry, you were not drawn this time."),
                    dedupe_key=f"vouchers.draw.{campaign.pk}",
                )
    return {
        "seed": seed,
        "entries": len(entries),
        "eligible": len(eligible),
        "stock": stock,
        "winners": winners,
        "vouchers": vouchers,
    }
