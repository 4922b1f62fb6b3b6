"""factory_boy factories for the vouchers app (members' are in tests/factories.py)."""

import datetime as dt
import random
from decimal import Decimal

import factory
from django.utils import timezone

from members.idgen import make_credit_code
from tests.factories import MemberFactory, UserFactory
from vouchers.models import Campaign, CampaignTemplate, Merchant, MerchantStaff, Redemption, Settlement, Voucher
from vouchers.services.redemption import new_voucher_code

_rng = random.Random(20261130)


class MerchantFactory(factory.django.DjangoModelFactory):
    """An approved food merchant."""

    class Meta:
        model = Merchant

    name = factory.Sequence(lambda n: f"老沈家面馆{n}号店")
    category = "food"
    address = "湖州市吴兴区红旗路1号"
    credit_code = factory.LazyFunction(lambda: make_credit_code(_rng))
    contact_name = "沈"
    contact_mobile = factory.Sequence(lambda n: f"137{n:08d}")
    state = Merchant.State.APPROVED


class MerchantStaffFactory(factory.django.DjangoModelFactory):
    """A merchant's staff account (logs in like a worker, redeems on the phone page)."""

    class Meta:
        model = MerchantStaff

    user = factory.SubFactory(UserFactory)
    merchant = factory.SubFactory(MerchantFactory)


class CampaignTemplateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CampaignTemplate

    name = factory.Sequence(lambda n: f"每月工惠日{n}")
    face_value = Decimal("100")
    total_stock = 100
    budget = Decimal("10000")


class CampaignFactory(factory.django.DjangoModelFactory):
    """A first-come 满1000减100 campaign open now (stock 10, one per member), for food merchants."""

    class Meta:
        model = Campaign

    name = "工惠日 满1000减100"
    face_value = Decimal("100")
    threshold = Decimal("1000")
    stackable = True
    max_per_order = 3
    total_stock = 10
    remaining = factory.SelfAttribute("total_stock")
    budget = Decimal("1000")
    limit_per_member = 1
    state = "open"
    claim_opens_at = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(hours=1))
    claim_closes_at = factory.LazyFunction(lambda: timezone.now() + dt.timedelta(days=2))
    valid_days = 30
    accepted_categories = factory.LazyFunction(lambda: ["food"])


class VoucherFactory(factory.django.DjangoModelFactory):
    """A voucher claimed now, valid for 30 days; `seq` counts the member's vouchers of the campaign."""

    class Meta:
        model = Voucher

    campaign = factory.SubFactory(CampaignFactory)
    member = factory.SubFactory(MemberFactory)
    seq = factory.LazyAttribute(lambda o: Voucher.objects.filter(campaign=o.campaign, member=o.member).count() + 1)
    code = factory.LazyFunction(new_voucher_code)
    claimed_at = factory.LazyFunction(timezone.now)
    claim_month = factory.LazyAttribute(lambda o: timezone.localtime(o.claimed_at).strftime("%Y-%m"))
    expires_at = factory.LazyAttribute(lambda o: o.claimed_at + dt.timedelta(days=30))


class RedemptionFactory(factory.django.DjangoModelFactory):
    """A redemption row alone (no items): use vouchers.services.redemption to redeem for real."""

    class Meta:
        model = Redemption

    merchant = factory.SubFactory(MerchantFactory)
    member = factory.SubFactory(MemberFactory)
    order_ref = factory.Sequence(lambda n: f"O-{n:05d}")
    order_amount = Decimal("1200")
    discount = Decimal("100")
    payable = Decimal("1100")


class SettlementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Settlement

    merchant = factory.SubFactory(MerchantFactory)
    month = "2026-10"
    vouchers = 1
    amount = Decimal("100")
