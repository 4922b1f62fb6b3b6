"""Shared voucher fixtures (additive edits only)."""

# --- V2 (redemption, merchants, settlement) ---------------------------------------------------
import datetime as _dt  # noqa: E402
from decimal import Decimal as _D  # noqa: E402

import pytest  # noqa: E402


@pytest.fixture
def food_merchant(db):
    from vouchers.models import Merchant

    return Merchant.objects.create(
        name="老沈家面馆", category="food", address="湖州市吴兴区红旗路1号", credit_code="91330502AY4CL12THY",
        contact_name="沈", contact_mobile="13700000001", state="approved",
    )  # fmt: skip


@pytest.fixture
def digital_merchant(db):
    from vouchers.models import Merchant

    return Merchant.objects.create(
        name="数码港", category="digital", address="湖州市吴兴区红旗路2号", credit_code="913305023BJ1XG6123",
        contact_name="钱", contact_mobile="13700000002", state="approved",
    )  # fmt: skip


@pytest.fixture
def stack_campaign(db):
    """满1000减100, stackable, at most 3 per order, accepted by food merchants."""
    from django.utils import timezone

    from vouchers.models import Campaign

    now = timezone.now()
    return Campaign.objects.create(
        name="满1000减100", face_value=_D("100"), threshold=_D("1000"), stackable=True, max_per_order=3,
        total_stock=100, remaining=90, budget=_D("10000"), limit_per_member=3, state="open",
        claim_opens_at=now - _dt.timedelta(days=1), claim_closes_at=now + _dt.timedelta(days=2),
        accepted_categories=["food"],
    )  # fmt: skip


@pytest.fixture
def voucher_factory(db):
    """make(campaign, member, **fields) -> a claimed voucher valid for 30 days."""
    from django.utils import timezone

    from vouchers.models import Voucher
    from vouchers.redemption import new_voucher_code

    def make(campaign, member, **fields):
        seq = Voucher.objects.filter(campaign=campaign, member=member).count() + 1
        now = timezone.now()
        values = {
            "campaign": campaign, "member": member, "seq": seq, "code": new_voucher_code(),
            "claimed_at": now, "claim_month": now.strftime("%Y-%m"), "expires_at": now + _dt.timedelta(days=30),
        }  # fmt: skip
        values.update(fields)
        return Voucher.objects.create(**values)

    return make


# --- V3 (campaign lifecycle and the worker UI) --------------------------------------------------


@pytest.fixture
def campaign_factory(db):
    """make(**fields) -> a first-come 满1000减100 campaign open now (stock 10), for food merchants."""
    from django.utils import timezone

    from vouchers.models import Campaign

    def make(**fields):
        now = timezone.now()
        values = {
            "name": "工惠日 满1000减100", "face_value": _D("100"), "threshold": _D("1000"), "stackable": True,
            "max_per_order": 3, "total_stock": 10, "remaining": 10, "budget": _D("1000"), "limit_per_member": 1,
            "state": "open", "claim_opens_at": now - _dt.timedelta(hours=1),
            "claim_closes_at": now + _dt.timedelta(days=2), "valid_days": 30, "accepted_categories": ["food"],
        }  # fmt: skip
        values.update(fields)
        return Campaign.objects.create(**values)

    return make
