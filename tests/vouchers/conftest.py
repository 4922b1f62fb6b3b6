"""Shared voucher fixtures (additive edits only)."""

# --- V2 (redemption, merchants, settlement) ---------------------------------------------------
import datetime as _dt  # noqa: E402
from decimal import Decimal as _D  # noqa: E402

import pytest  # noqa: E402
from django.utils import timezone  # noqa: E402


@pytest.fixture
def food_merchant(db):
    from tests.vouchers.factories import MerchantFactory

    return MerchantFactory(
        name="老沈家面馆", category="food", address="湖州市吴兴区红旗路1号", credit_code="91330502AY4CL12THY",
        contact_name="沈", contact_mobile="13700000001",
    )  # fmt: skip


@pytest.fixture
def digital_merchant(db):
    from tests.vouchers.factories import MerchantFactory

    return MerchantFactory(
        name="数码港", category="digital", address="湖州市吴兴区红旗路2号", credit_code="913305023BJ1XG6123",
        contact_name="钱", contact_mobile="13700000002",
    )  # fmt: skip


@pytest.fixture
def stack_campaign(db):
    """满1000减100, stackable, at most 3 per order, accepted by food merchants."""
    from tests.vouchers.factories import CampaignFactory

    return CampaignFactory(
        name="满1000减100", total_stock=100, remaining=90, budget=_D("10000"), limit_per_member=3,
        claim_opens_at=timezone.now() - _dt.timedelta(days=1), valid_days=None,
    )  # fmt: skip


@pytest.fixture
def voucher_factory(db):
    """make(campaign, member, **fields) -> a claimed voucher valid for 30 days."""
    from tests.vouchers.factories import VoucherFactory

    def make(campaign, member, **fields):
        return VoucherFactory(campaign=campaign, member=member, **fields)

    return make


# --- V3 (campaign lifecycle and the worker UI) --------------------------------------------------


@pytest.fixture
def campaign_factory(db):
    """make(**fields) -> a first-come 满1000减100 campaign open now (stock 10), for food merchants."""
    from tests.vouchers.factories import CampaignFactory

    return CampaignFactory
