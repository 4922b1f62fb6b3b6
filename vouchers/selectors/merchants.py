"""Merchants as the API and their staff see them: whose key a request carries, whether that key may
work, whose staff a login is, and the day's redemptions on the merchant's phone page."""

from django.db.models import QuerySet
from django.utils import timezone

from core.models import ApiKey
from vouchers.models import Merchant, MerchantApiKey, MerchantStaff, Redemption


def merchant_of_key(key: ApiKey) -> Merchant | None:
    """The merchant an API key belongs to, or None (an agency's key).

    Read through the key's reverse one-to-one accessor, which Django caches on the key: the key
    check and the API view of one request share the two lookups.
    """
    try:
        return key.merchant_link.merchant
    except MerchantApiKey.DoesNotExist:
        return None


def merchant_key_usable(key: ApiKey) -> bool:
    """A merchant's key works only while its merchant is approved; other keys are not vouchers' to judge.

    Registered with core (`core.api_auth.register_key_check`) by VouchersConfig.ready.
    """
    merchant = merchant_of_key(key)
    return merchant is None or merchant.state == Merchant.State.APPROVED


def merchant_key_link(*, merchant: Merchant, link_id: int) -> MerchantApiKey | None:
    """One of the merchant's keys (its link, with the key), or None: a key of another merchant is
    not found through this one."""
    return MerchantApiKey.objects.select_related("key").filter(merchant=merchant, pk=link_id).first()


def merchant_of_staff(user) -> Merchant | None:
    """The merchant whose staff this login is, or None."""
    staff = MerchantStaff.objects.select_related("merchant").filter(user=user).first()
    return staff.merchant if staff else None


def redemptions_today(merchant: Merchant, *, limit: int = 10) -> QuerySet[Redemption]:
    """The merchant's redemptions since local midnight, newest first."""
    midnight = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    return Redemption.objects.filter(merchant=merchant, created_at__gte=midnight).order_by("-created_at")[:limit]
