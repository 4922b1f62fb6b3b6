"""The reads of the vouchers app (they write nothing), one module per reader:

- ``campaigns``: what a member sees: the campaigns open to them, their vouchers, a campaign's rule;
- ``merchants``: whose key an API request carries, and whether it may work; whose staff a login is
  and the merchant's redemptions of the day;
- ``reports``: the figures for staff (per campaign, category and union) and their XLSX export;
- ``fraud``: the fraud signals staff look at;
- ``settlements``: the month's settlements as an XLSX export;
- ``worklists``: what waits for voucher staff (merchants to approve, campaigns ending soon,
  settlements to pay).
"""

from vouchers.selectors.campaigns import (
    accepting_merchants,
    campaign_for_member,
    campaign_is_eligible,
    campaign_stock_hint,
    campaigns_for_member,
    draw_registered,
    rule_text,
    voucher_live_use,
    voucher_of_member,
    vouchers_of_member,
)
from vouchers.selectors.fraud import fraud_signals
from vouchers.selectors.merchants import (
    merchant_key_link,
    merchant_key_usable,
    merchant_of_key,
    merchant_of_staff,
    redemptions_today,
)
from vouchers.selectors.reports import campaign_figures, category_figures, figures_export_xlsx, union_figures
from vouchers.selectors.settlements import settlement_export_xlsx
from vouchers.selectors.worklists import campaigns_closing_by, merchants_awaiting_approval, settlements_unpaid

__all__ = [
    "accepting_merchants",
    "campaign_figures",
    "campaigns_closing_by",
    "campaign_for_member",
    "campaign_is_eligible",
    "campaign_stock_hint",
    "campaigns_for_member",
    "category_figures",
    "draw_registered",
    "figures_export_xlsx",
    "fraud_signals",
    "merchant_key_link",
    "merchant_key_usable",
    "merchants_awaiting_approval",
    "merchant_of_key",
    "merchant_of_staff",
    "redemptions_today",
    "rule_text",
    "settlement_export_xlsx",
    "settlements_unpaid",
    "union_figures",
    "voucher_live_use",
    "voucher_of_member",
    "vouchers_of_member",
]
