"""What the merchant's phone page reads: whose staff a login is, and the day's redemptions."""

import datetime as dt

import pytest
from django.utils import timezone

from tests.factories import UserFactory
from tests.vouchers.factories import MerchantStaffFactory, RedemptionFactory
from vouchers.models import Redemption
from vouchers.selectors import merchant_of_staff, redemptions_today

pytestmark = pytest.mark.django_db


def test_a_login_is_staff_of_its_merchant_only(tree):
    staff = MerchantStaffFactory()
    assert merchant_of_staff(staff.user) == staff.merchant
    assert merchant_of_staff(UserFactory()) is None


def test_the_days_redemptions_are_the_merchants_since_local_midnight_newest_first(member):
    staff = MerchantStaffFactory()
    older, newer = (RedemptionFactory(merchant=staff.merchant, member=member) for _ in range(2))
    yesterday = RedemptionFactory(merchant=staff.merchant, member=member)
    RedemptionFactory(member=member)  # another merchant's
    midnight = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    Redemption.objects.filter(pk=older.pk).update(created_at=midnight)
    Redemption.objects.filter(pk=yesterday.pk).update(created_at=midnight - dt.timedelta(seconds=1))
    assert list(redemptions_today(staff.merchant)) == [newer, older]
