"""What a member sees of the vouchers: the campaigns open to them, their vouchers, a campaign's rule."""

from decimal import Decimal

from django.core.cache import cache
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from members.models import Member
from vouchers.models import Campaign, DrawEntry, Merchant, MerchantCategory, RedemptionItem, Voucher
from vouchers.services import redis_stock
from vouchers.services.claim_facts import redis_stock_in_use, stock_hint_key

# What a member sees: campaigns before and during their window (sold out ones say so); also the
# campaigns whose claim stock is live, which `manage.py vouchers_reconcile` rebuilds.
VISIBLE_STATES = (Campaign.State.SCHEDULED, Campaign.State.OPEN, Campaign.State.SOLD_OUT)
STOCK_HINT_TTL = 5  # seconds


def _ancestor_paths(path: str) -> list[str]:
    parts = path.split("/")[:-1]
    return ["/".join(parts[: i + 1]) + "/" for i in range(len(parts))]


def _eligible_q(member: Member) -> Q:
    """Campaigns for everyone or for a union the member's union lies under."""
    return Q(eligible_union__isnull=True) | Q(eligible_union__path__in=_ancestor_paths(member.union.path))


def campaign_is_eligible(campaign: Campaign, member: Member | None) -> bool:
    """Active real-name members of the campaign's union subtree and forms of employment."""
    if member is None or not member.is_active:
        return False
    if campaign.eligible_union_id and not member.union.path.startswith(campaign.eligible_union.path):
        return False
    return not campaign.eligible_forms or member.employment_form in campaign.eligible_forms


def campaign_stock_hint(campaign_id: int) -> int | None:
    """Approximate stock left, for display: Redis when loaded, else the database value cached
    for a few seconds (no database count per page view). Never a count of vouchers."""
    if redis_stock_in_use():
        try:
            stock = redis_stock.client().get(redis_stock.keys(campaign_id)[0])
        except Exception:  # noqa: BLE001 - a hint is allowed to fall back
            stock = None
        if stock is not None:
            return max(int(stock), 0)
    key = stock_hint_key(campaign_id)
    hint = cache.get(key)
    if hint is None:
        hint = Campaign.objects.filter(pk=campaign_id).values_list("remaining", flat=True).first()
        if hint is None:
            return None
        cache.set(key, hint, STOCK_HINT_TTL)
    return hint


def campaigns_for_member(member: Member | None) -> list[Campaign]:
    """Scheduled, open (and sold-out) campaigns whose window has not ended and that `member` may
    claim, soonest first, each with `stock_hint` (approximate remaining, or None)."""
    if member is None or not member.is_active:
        return []
    qs = (
        Campaign.objects.filter(state__in=VISIBLE_STATES, claim_closes_at__gt=timezone.now())
        .filter(_eligible_q(member))
        .select_related("eligible_union")
        .order_by("claim_opens_at", "pk")
    )
    campaigns = [c for c in qs if campaign_is_eligible(c, member)]
    # With Redis the hint comes from there; on the database path it is the row just read (no query
    # per campaign, so the list costs the same however many campaigns there are).
    use_redis = redis_stock_in_use()
    for campaign in campaigns:
        if campaign.state == Campaign.State.SOLD_OUT:
            campaign.stock_hint = 0
        else:
            campaign.stock_hint = campaign_stock_hint(campaign.pk) if use_redis else campaign.remaining
    return campaigns


def campaign_for_member(member: Member, pk: int) -> Campaign | None:
    """A campaign a member may look at (not a draft), eligible or not; None if there is none."""
    campaign = Campaign.objects.select_related("eligible_union").exclude(state=Campaign.State.DRAFT).filter(pk=pk)
    return campaign.first()


def draw_registered(campaign: Campaign, member: Member) -> bool:
    return DrawEntry.objects.filter(campaign=campaign, member=member).exists()


def vouchers_of_member(member: Member) -> QuerySet[Voucher]:
    return Voucher.objects.filter(member=member).select_related("campaign", "member").order_by("-claimed_at", "-pk")


def voucher_of_member(member: Member, code: str) -> Voucher | None:
    return vouchers_of_member(member).filter(code=code).first()


def voucher_live_use(voucher: Voucher) -> RedemptionItem | None:
    """The redemption that used the voucher (not reversed by a full refund): when and where."""
    return (
        RedemptionItem.objects.filter(voucher=voucher, reversed_at__isnull=True)
        .select_related("redemption__merchant")
        .first()
    )


ACCEPTING_SHOWN = 30


def accepting_merchants(campaign: Campaign, *, limit: int = ACCEPTING_SHOWN) -> dict:
    """Where a campaign's vouchers can be used: the approved merchants it names or whose category
    it accepts (every approved merchant when it names neither: the rule of
    `vouchers.services.redemption`), by name, at most `limit` of them, with how many there are in
    all and the accepted categories' labels. At most three queries, however many merchants."""
    categories = list(campaign.accepted_categories or [])
    named = Q(campaigns=campaign)
    approved = Merchant.objects.filter(state=Merchant.State.APPROVED)
    if categories or campaign.accepted_merchants.exists():
        approved = approved.filter(named | Q(category__in=categories))
    ids = approved.values("pk").distinct()
    merchants = Merchant.objects.filter(pk__in=ids).only("name", "category", "address").order_by("name")
    labels = dict(MerchantCategory.choices)
    shown = list(merchants[:limit])
    for merchant in shown:
        merchant.category_label = labels.get(merchant.category, merchant.category)
    total = merchants.count()
    return {
        "merchants": shown,
        "total": total,
        "more": total - len(shown),
        "categories": [str(labels.get(c, c)) for c in categories],
    }


def _money(value: Decimal) -> str:
    """1000.00 → '1000', 12.50 → '12.50'."""
    return str(value.quantize(Decimal("1"))) if value == value.to_integral_value() else f"{value:.2f}"


def rule_text(campaign) -> str:
    """The campaign's rule in a sentence, e.g. 满1000元减100元 (可叠加使用)."""
    values = {
        "threshold": _money(campaign.threshold),
        "face": _money(campaign.face_value),
    }
    if not campaign.threshold:
        return _("%(face)s CNY off") % values
    if campaign.stackable:
        return _("Spend %(threshold)s CNY, get %(face)s CNY off (stackable)") % values
    return _("Spend %(threshold)s CNY, get %(face)s CNY off") % values
