"""Vouchers' cards on the admin's landing page (`core.dashboard`): merchants to approve, campaigns
whose claim window ends within three days, settlements to pay."""

import datetime as dt

from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext

from core.dashboard import Waiting, waiting_register
from vouchers import selectors

ENDING_SOON = dt.timedelta(days=3)


def merchants(user) -> Waiting | None:
    if not user.has_perm("vouchers.view_merchant"):
        return None
    url = reverse("admin:vouchers_merchant_changelist") + "?state__exact=applied"
    return Waiting(gettext("Merchants awaiting approval"), selectors.merchants_awaiting_approval().count(), url)


def campaigns(user) -> Waiting | None:
    if not user.has_perm("vouchers.view_campaign"):
        return None
    until = (timezone.now() + ENDING_SOON).replace(microsecond=0)
    url = (
        reverse("admin:vouchers_campaign_changelist")
        + "?"
        + urlencode({"state__exact": "open", "claim_closes_at__lte": until.isoformat(sep=" ")})
    )
    count = selectors.campaigns_closing_by(until=until).count()
    return Waiting(gettext("Campaigns closing within 3 days"), count, url)


def settlements(user) -> Waiting | None:
    if not user.has_perm("vouchers.view_settlement"):
        return None
    url = reverse("admin:vouchers_settlement_changelist") + "?paid_at__isnull=True"
    return Waiting(gettext("Settlements to pay"), selectors.settlements_unpaid().count(), url)


def register() -> None:
    waiting_register("vouchers.merchants", merchants)
    waiting_register("vouchers.campaigns", campaigns)
    waiting_register("vouchers.settlements", settlements)
