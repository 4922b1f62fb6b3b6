"""What waits for voucher staff (the cards of the admin's landing page): merchants that applied,
campaigns whose claim window ends soon, settlements not yet paid. Vouchers are city-wide."""

import datetime as dt

from django.db.models import QuerySet

from vouchers.models import Campaign, Merchant, Settlement


def merchants_awaiting_approval() -> QuerySet[Merchant]:
    return Merchant.objects.filter(state=Merchant.State.APPLIED)


def campaigns_closing_by(*, until: dt.datetime) -> QuerySet[Campaign]:
    """Open campaigns whose claim window closes by `until`."""
    return Campaign.objects.filter(state=Campaign.State.OPEN, claim_closes_at__lte=until)


def settlements_unpaid() -> QuerySet[Settlement]:
    return Settlement.objects.filter(paid_at__isnull=True)
