"""Voucher demo data for `manage.py seed_demo` (see `core.seed`).

- `vouchers.merchants`: 320 merchants of the demo city in the 22 categories, most approved, the
  voucher staff group (given to the city's demo staff), and the demo cashier `merchant` (mobile
  13900000000, SMS login on the merchant page) linked to an appliance shop.
- `vouchers.campaigns`: the monthly templates (工惠日满减券 满1000减100 stackable up to 5 per order,
  以旧换新, 演唱会门票, 打车券); the last union benefit day's campaigns with the claims and
  redemptions of a few hundred demo members; the next benefit day's 满减 campaign, scheduled.
- `vouchers.open_now`: a stackable 满1000减100 campaign open now for 30 days, accepted by the
  demo cashier's shop (made again once it has closed).

Everything is drawn from `ctx.rng(...)` and the date of the run: the same seed, the same data.
"""

import datetime as dt
from decimal import Decimal

from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from core.models import ApiKey
from core.parsing import Period
from core.seed import SeedContext, demo_logins_section, seed_step
from core.services import api_key_revoke
from members.idgen import make_credit_code, make_mobile
from members.models import Member, User
from members.seed import data
from vouchers import services
from vouchers.models import (
    Campaign,
    CampaignKind,
    CampaignTemplate,
    Merchant,
    MerchantCategory,
    MerchantStaff,
    Redemption,
    RedemptionItem,
    Refund,
    Settlement,
    Voucher,
)
from vouchers.services.merchants import merchant_api_key_create
from vouchers.services.redemption import (  # the demo draws its codes from it, deterministically
    CODE_ALPHABET,
    CODE_LENGTH,
)

D = Decimal
MERCHANTS = 320
DEMO_MEMBERS = 400
MERCHANT_USERNAME = "merchant"
MERCHANT_MOBILE = "13900000000"
DEMO_KEY_NAME = "demo"
VOUCHER_GROUP = "消费券工作人员"
DEMO_VOUCHER_STAFF = ("city",)
ORDER_PREFIX = "DEMO-"


# The words ending a merchant's name, per category.
SHOP_WORDS = {
    "food": ("酒家", "面馆", "小吃", "餐厅"),
    "supermarket": ("超市", "生活超市", "便利店"),
    "appliances": ("电器", "家电城", "电器商场"),
    "digital": ("数码", "手机通讯", "电脑城"),
    "clothing": ("服饰", "鞋业", "童装"),
    "travel": ("旅行社", "国旅"),
    "ride_hailing": ("出行", "约车"),
    "fuel": ("加油站", "汽车服务"),
    "concerts": ("大剧院", "演艺中心", "票务"),
    "cinema": ("影城", "电影院"),
    "haircut": ("美发", "造型"),
    "health": ("大药房", "诊所"),
    "fitness": ("健身", "游泳馆", "体育"),
    "books": ("书店", "文具"),
    "education": ("培训学校", "职业培训"),
    "hotel": ("大酒店", "宾馆"),
    "scenic": ("景区", "度假村"),
    "housekeeping": ("家政", "保洁服务"),
    "furniture": ("家居", "家具城"),
    "agriculture": ("农产品", "湖羊", "茶叶"),
    "maternal": ("母婴", "孕婴"),
    "other": ("便民服务", "洗衣", "照相"),
}
ROADS = ("人民路", "红旗路", "凤凰路", "青铜路", "劳动路", "衣裳街", "苕溪路", "二环东路", "仁皇山路", "龙溪路")
# Weights of the categories: the everyday trades are the most common.
CATEGORY_WEIGHTS = {"food": 5, "supermarket": 4, "appliances": 3, "digital": 3, "clothing": 3, "haircut": 2}

TEMPLATES = (
    {
        "name": "工惠日满减券", "kind": CampaignKind.DISCOUNT, "face_value": D("100"), "threshold": D("1000"),
        "stackable": True, "max_per_order": 5, "total_stock": 1000, "budget": D("100000"), "limit_per_member": 3,
        "accepted_categories": ["appliances", "digital", "supermarket", "furniture", "clothing"],
    },
    {
        "name": "家电以旧换新补贴券", "kind": CampaignKind.TRADE_IN, "face_value": D("500"), "threshold": D("3000"),
        "stackable": False, "max_per_order": 1, "total_stock": 200, "budget": D("100000"), "limit_per_member": 1,
        "accepted_categories": ["appliances"],
    },
    {
        "name": "演唱会门票券", "kind": CampaignKind.TICKETS, "face_value": D("100"), "threshold": D("300"),
        "stackable": False, "max_per_order": 1, "total_stock": 150, "budget": D("15000"), "limit_per_member": 1,
        "accepted_categories": ["concerts"],
    },
    {
        "name": "打车券", "kind": CampaignKind.RIDE_HAILING, "face_value": D("10"), "threshold": D("20"),
        "stackable": False, "max_per_order": 1, "total_stock": 2000, "budget": D("20000"), "limit_per_member": 2,
        "accepted_categories": ["ride_hailing"],
    },
)  # fmt: skip
MONTHLY = TEMPLATES[0]["name"]


# --- Merchants --------------------------------------------------------------------------------


def merchant_plan(ctx: SeedContext) -> list[dict]:
    """The demo merchants: every category at least once, then weighted; 90% approved."""
    rng = ctx.rng("vouchers.merchants")
    cats = [c for c, _label in MerchantCategory.choices]
    weights = [CATEGORY_WEIGHTS.get(c, 1) for c in cats]
    chosen = cats + rng.choices(cats, weights=weights, k=MERCHANTS - len(cats))
    codes: set[str] = set()
    plan = []
    for i, cat in enumerate(chosen):
        district = rng.choice(data.DISTRICTS)
        code = make_credit_code(rng, region=district["region"])
        while code in codes:
            code = make_credit_code(rng, region=district["region"])
        codes.add(code)
        street = rng.choice(district["streets"])
        roll = rng.random()
        state = Merchant.State.APPROVED if roll < 0.9 else Merchant.State.APPLIED if roll < 0.96 else "suspended"
        family = rng.choice(data.FAMILY_NAMES)[0]
        plan.append(
            {
                "name": f"{rng.choice(data.BRANDS)}{rng.choice(SHOP_WORDS[cat])}（{street}店{i + 1}）",
                "category": cat,
                "address": f"浙江省湖州市{district['name']}{street}{rng.choice(ROADS)}{rng.randint(1, 399)}号",
                "credit_code": code,
                "contact_name": family + rng.choice(data.GIVEN_MALE + data.GIVEN_FEMALE),
                "contact_mobile": make_mobile(rng),
                "state": state,
            }
        )
    # The demo merchant (first appliance shop) is always approved.
    first = next(p for p in plan if p["category"] == "appliances")
    first["state"] = Merchant.State.APPROVED
    return plan


def demo_merchant(ctx: SeedContext | None = None) -> Merchant | None:
    link = MerchantStaff.objects.select_related("merchant").filter(user__username=MERCHANT_USERNAME).first()
    return link.merchant if link else None


def _merchants_done(ctx: SeedContext) -> bool:
    codes = [p["credit_code"] for p in merchant_plan(ctx)]
    return Merchant.objects.filter(credit_code__in=codes).count() == len(codes) and demo_merchant() is not None


def _reset_merchants(ctx: SeedContext) -> None:
    codes = [p["credit_code"] for p in merchant_plan(ctx)]
    with transaction.atomic():
        MerchantStaff.objects.filter(user__username=MERCHANT_USERNAME).delete()
        Settlement.objects.filter(merchant__credit_code__in=codes, redemptions__isnull=True).delete()
        unused = Merchant.objects.filter(credit_code__in=codes, redemptions__isnull=True, settlements__isnull=True)
        ApiKey.objects.filter(merchant_link__merchant__in=unused).delete()  # a merchant's keys go with it
        unused.delete()
    ctx.log("Deleted the demo merchants.")


def voucher_group() -> Group:
    group, _ = Group.objects.get_or_create(name=VOUCHER_GROUP)
    group.permissions.set(Permission.objects.filter(content_type__app_label="vouchers"))
    return group


@seed_step("vouchers.merchants", order=400, done=_merchants_done, reset=_reset_merchants)
def seed_merchants(ctx: SeedContext) -> None:
    plan = merchant_plan(ctx)
    with transaction.atomic():
        existing = set(Merchant.objects.filter(credit_code__in=[p["credit_code"] for p in plan]).values_list(
            "credit_code", flat=True
        ))  # fmt: skip
        now = timezone.now()
        Merchant.objects.bulk_create(
            [Merchant(created_at=now, **p) for p in plan if p["credit_code"] not in existing], batch_size=500
        )
        first = next(p for p in plan if p["category"] == "appliances")
        merchant = Merchant.objects.get(credit_code=first["credit_code"])
        # The cashier logs in with an SMS code on the merchant page, as workers do: no password.
        user, created = User.objects.get_or_create(username=MERCHANT_USERNAME, defaults={"mobile": MERCHANT_MOBILE})
        if created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
        MerchantStaff.objects.update_or_create(user=user, defaults={"merchant": merchant})
        group = voucher_group()
        for staff in User.objects.filter(username__in=DEMO_VOUCHER_STAFF):
            staff.groups.add(group)
    ctx.log(f"Created {len(plan)} merchants; the merchant login is {MERCHANT_USERNAME} ({merchant.name}).")


def demo_merchant_api_key() -> tuple[Merchant | None, str]:
    """A fresh demo key (scope vouchers:redeem) of the demo merchant; earlier demo keys are revoked.
    None while the demo merchant is missing or not approved (a key would not work)."""
    merchant = demo_merchant()
    if merchant is None or merchant.state != Merchant.State.APPROVED:
        return None, ""
    with transaction.atomic():
        for key in ApiKey.objects.filter(merchant_link__merchant=merchant, name=DEMO_KEY_NAME, revoked_at__isnull=True):
            api_key_revoke(key=key)
        _key, secret = merchant_api_key_create(merchant=merchant, actor=None, name=DEMO_KEY_NAME)
    return merchant, secret


# --- Templates and campaigns ------------------------------------------------------------------


def benefit_days(today: dt.date) -> tuple[dt.date, dt.date]:
    """The last union benefit day (the 20th) before today, and the next one (today on the 20th)."""
    this = today.replace(day=20)
    if today.day > 20:
        nxt_month = (this + dt.timedelta(days=31)).replace(day=20)
        return this, nxt_month
    prev = (this.replace(day=1) - dt.timedelta(days=1)).replace(day=20)
    return prev, this


def _opens(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(10, 0)))


def _campaigns_done(ctx: SeedContext) -> bool:
    past, nxt = benefit_days(timezone.localdate())
    found = set(
        Campaign.objects.filter(template__name=MONTHLY, month__in=[f"{past:%Y-%m}", f"{nxt:%Y-%m}"]).values_list(
            "month", flat=True
        )
    )
    return len(found) == 2


def _reset_campaigns(ctx: SeedContext) -> None:
    names = [t["name"] for t in TEMPLATES]
    with transaction.atomic():
        campaigns = Campaign.objects.filter(template__name__in=names)
        redemptions = Redemption.objects.filter(
            order_ref__startswith=ORDER_PREFIX, items__voucher__campaign__in=campaigns
        )
        ids = list(redemptions.values_list("id", flat=True).distinct())
        Refund.objects.filter(redemption__in=ids).delete()
        RedemptionItem.objects.filter(redemption__in=ids).delete()
        Redemption.objects.filter(pk__in=ids).delete()
        Voucher.objects.filter(campaign__in=campaigns).delete()
        campaigns.delete()
        CampaignTemplate.objects.filter(name__in=names).delete()
    ctx.log("Deleted the demo voucher campaigns.")


def _templates() -> dict[str, CampaignTemplate]:
    out = {}
    for spec in TEMPLATES:
        tpl, _ = CampaignTemplate.objects.get_or_create(name=spec["name"], defaults={**spec, "valid_days_default": 30})
        out[tpl.name] = tpl
    return out


def _campaign(tpl: CampaignTemplate, day: dt.date, state: str) -> Campaign:
    opens = _opens(day)
    fields = {f: getattr(tpl, f) for f in (
        "kind", "face_value", "threshold", "stackable", "max_per_order", "total_stock", "budget",
        "limit_per_member", "limit_per_member_month", "distribution", "eligible_union", "eligible_forms",
        "accepted_categories",
    )}  # fmt: skip
    return Campaign.objects.create(
        name=f"{tpl.name}（{day.year}年{day.month}月）",
        template=tpl,
        month=f"{day:%Y-%m}",
        state=state,
        remaining=tpl.total_stock,
        claim_opens_at=opens,
        claim_closes_at=opens + dt.timedelta(hours=tpl.claim_hours),
        valid_days=tpl.valid_days_default,
        **fields,
    )


def _prepare(campaign: Campaign) -> None:
    services.campaign_prepare(campaign=campaign)


def _code(rng, seen: set[str]) -> str:
    while True:
        code = "".join(rng.choice(CODE_ALPHABET) for _i in range(CODE_LENGTH))
        if code not in seen:
            seen.add(code)
            return code


@seed_step("vouchers.campaigns", order=410, done=_campaigns_done, reset=_reset_campaigns)
def seed_campaigns(ctx: SeedContext) -> None:
    rng = ctx.rng("vouchers.campaigns")
    today = timezone.localdate()
    # The demo's clock is the start of today: the same seed gives the same data all day.
    now = timezone.make_aware(dt.datetime.combine(today, dt.time(0, 0)))
    past, nxt = benefit_days(today)
    member_ids = list(
        Member.objects.filter(status=Member.Status.ACTIVE)
        .order_by("pk")
        .values_list("pk", flat=True)[: DEMO_MEMBERS * 5]
    )
    members = sorted(rng.sample(member_ids, min(DEMO_MEMBERS, len(member_ids))))
    merchants = {}
    for m in Merchant.objects.filter(state=Merchant.State.APPROVED).order_by("pk").values("pk", "category"):
        merchants.setdefault(m["category"], []).append(m["pk"])
    seen = set(Voucher.objects.values_list("code", flat=True)) if Voucher.objects.exists() else set()
    with transaction.atomic():
        templates = _templates()
        claimed = used = 0
        for i, spec in enumerate(TEMPLATES):
            tpl = templates[spec["name"]]
            campaign = _campaign(tpl, past, Campaign.State.DRAFT)
            ref = f"{ORDER_PREFIX}{past:%Y%m}-{i + 1}-"
            c_claimed, c_used = _claims_and_redemptions(rng, campaign, members, merchants, seen, now, ref)
            claimed += c_claimed
            used += c_used
        upcoming = _campaign(templates[MONTHLY], nxt, Campaign.State.SCHEDULED)
        # A benefit day of the last three days is still open: its stock goes to Redis (when configured).
        still_open = Campaign.objects.filter(
            template__in=templates.values(), month=f"{past:%Y-%m}", state__in=[Campaign.State.OPEN]
        )
        for campaign in still_open:
            transaction.on_commit(lambda c=campaign: _prepare(c))
    ctx.log(
        f"Created {len(TEMPLATES)} voucher templates, {len(TEMPLATES)} campaigns of {past:%Y-%m-%d} with {claimed} "
        f"vouchers claimed and {used} used, and {upcoming.name} scheduled for {nxt:%Y-%m-%d} 10:00."
    )


def _claims_and_redemptions(rng, campaign: Campaign, members, merchants, seen, now, ref: str) -> tuple[int, int]:
    opens, closes = campaign.claim_opens_at, campaign.claim_closes_at
    share = {CampaignKind.DISCOUNT: 0.7, CampaignKind.TRADE_IN: 0.2, CampaignKind.TICKETS: 0.3}.get(campaign.kind, 0.5)
    vouchers: list[Voucher] = []
    for member_id in members:
        if rng.random() >= share:
            continue
        for seq in range(1, rng.randint(1, campaign.limit_per_member) + 1):
            if len(vouchers) >= campaign.total_stock:
                break
            # The rush: most claims in the first minutes.
            at = opens + dt.timedelta(seconds=int(rng.expovariate(1 / 240)))
            at = min(at, closes - dt.timedelta(seconds=1))
            vouchers.append(
                Voucher(
                    campaign=campaign, member_id=member_id, seq=seq, code=_code(rng, seen), claimed_at=at,
                    claim_month=str(Period.of(timezone.localtime(at))),
                    expires_at=at + dt.timedelta(days=campaign.valid_days or 30),
                )
            )  # fmt: skip
    by_member: dict[int, list[Voucher]] = {}
    for v in vouchers:
        by_member.setdefault(v.member_id, []).append(v)
    shops = [pk for cat in campaign.accepted_categories for pk in merchants.get(cat, [])]
    redemptions: list[tuple[Redemption, list[Voucher]]] = []
    for member_id, mine in by_member.items():
        if not shops or rng.random() >= 0.6:
            continue
        take = mine[: rng.randint(1, len(mine))] if campaign.stackable else mine[:1]
        take = take[: campaign.max_per_order]
        latest = min(now, max(v.expires_at for v in take)) - dt.timedelta(minutes=5)
        start = max(v.claimed_at for v in take)
        if latest <= start:
            continue
        at = start + (latest - start) * rng.random()
        # Just over the threshold for each voucher used, as shoppers do on benefit day.
        threshold = max(campaign.threshold, campaign.face_value)
        extra = D(rng.randint(0, max(int(threshold) - 1, 0))) + D(rng.randint(0, 99)) / 100
        amount = threshold * len(take) + extra
        discount = campaign.face_value * len(take)
        redemption = Redemption(
            merchant_id=rng.choice(shops), member_id=member_id, order_ref=f"{ref}{member_id}",
            order_amount=amount, discount=discount, payable=amount - discount, created_at=at,
        )  # fmt: skip
        for v in take:
            v.state, v.used_at = Voucher.State.USED, at
        redemptions.append((redemption, take))
    for v in vouchers:
        if v.state == Voucher.State.CLAIMED and v.expires_at < now:
            v.state = Voucher.State.EXPIRED
    Voucher.objects.bulk_create(vouchers, batch_size=1000)
    Redemption.objects.bulk_create([r for r, _v in redemptions], batch_size=1000)
    RedemptionItem.objects.bulk_create(
        [RedemptionItem(redemption=r, voucher=v, discount=campaign.face_value) for r, vs in redemptions for v in vs],
        batch_size=1000,
    )
    campaign.remaining = campaign.total_stock - len(vouchers)
    if timezone.now() >= closes:
        campaign.state = Campaign.State.CLOSED
    else:
        campaign.state = Campaign.State.SOLD_OUT if campaign.remaining == 0 else Campaign.State.OPEN
    campaign.save(update_fields=["remaining", "state"])
    return len(vouchers), sum(len(vs) for _r, vs in redemptions)


# --- A campaign open now, for a newcomer's first five minutes -----------------------------------

OPEN_NOW_NAME = "新人体验：工惠日满减券（满1000减100，可叠加）"
OPEN_NOW_DAYS = 30


def open_now_campaign() -> Campaign | None:
    """The demo's campaign open now (its claim window not ending within a day), if any."""
    soon = timezone.now() + dt.timedelta(days=1)
    return (
        Campaign.objects.filter(name=OPEN_NOW_NAME, state=Campaign.State.OPEN, claim_closes_at__gt=soon)
        .order_by("-claim_opens_at")
        .first()
    )


def _open_now_done(ctx: SeedContext) -> bool:
    return open_now_campaign() is not None


def _reset_open_now(ctx: SeedContext) -> None:
    with transaction.atomic():
        campaigns = Campaign.objects.filter(name=OPEN_NOW_NAME)
        items = RedemptionItem.objects.filter(voucher__campaign__in=campaigns)
        ids = list(items.values_list("redemption_id", flat=True).distinct())
        Refund.objects.filter(redemption__in=ids).delete()
        items.delete()
        Redemption.objects.filter(pk__in=ids).delete()
        Voucher.objects.filter(campaign__in=campaigns).delete()
        campaigns.delete()
    ctx.log("Deleted the demo campaign open now.")


@seed_step("vouchers.open_now", order=420, done=_open_now_done, reset=_reset_open_now)
def seed_open_now(ctx: SeedContext) -> None:
    """满1000减100, stackable up to 5 per order, 3 per member, open from now for 30 days and accepted
    by the demo cashier's shop (and its kinds): the worker claims, shows the QR code, the cashier
    redeems, in the first five minutes. Opened by the service staff use (campaign_open_now)."""
    now = timezone.now()
    merchant = demo_merchant()
    campaign = Campaign.objects.create(
        name=OPEN_NOW_NAME, kind=CampaignKind.DISCOUNT, face_value=D("100"), threshold=D("1000"), stackable=True,
        max_per_order=5, total_stock=500, remaining=500, budget=D("50000"), limit_per_member=3,
        claim_opens_at=now + dt.timedelta(minutes=1), claim_closes_at=now + dt.timedelta(days=OPEN_NOW_DAYS),
        valid_days=OPEN_NOW_DAYS, accepted_categories=["appliances", "digital", "supermarket"],
    )  # fmt: skip
    if merchant is not None:
        campaign.accepted_merchants.add(merchant)
    services.campaign_open_now(campaign=campaign, actor=None)
    ctx.log(f"Opened {campaign.name} until {timezone.localtime(campaign.claim_closes_at):%Y-%m-%d}.")


@demo_logins_section("vouchers", order=50)
def demo_logins(base_url: str) -> list[str]:
    """The demo cashier's login (SMS, as workers, on the merchant page), the campaign open now and
    a fresh merchant key (for `manage.py demo_logins`)."""
    merchant, merchant_key = demo_merchant_api_key()
    if merchant is None:
        return []
    page = f"{base_url}{reverse('vouchers:merchant')}"
    out = [
        f"  Cashier of {merchant.name} (the merchant's phone page, 核销; log in with an SMS code, as workers):",
        f"    {page}   mobile {MERCHANT_MOBILE}",
    ]
    campaign = open_now_campaign()
    if campaign is not None:
        out += [
            f"  Open now (claim it as the worker, show its QR code, redeem it as the cashier): {campaign.name}",
            f"    {base_url}{reverse('vouchers:campaign', args=[campaign.pk])}",
        ]
    return [
        *out,
        "  Merchant API key, scope vouchers:redeem (new on every run; the previous one is revoked):",
        f"    {merchant_key}",
    ]
