"""Merchants as the API sees them: whose key a request carries, and whether that key may work."""

from core.models import ApiKey
from vouchers.models import Merchant, MerchantApiKey


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
