"""The writes of the vouchers app, one module per part of the domain:

- ``campaigns``: a campaign's lifecycle (schedule, open, close, settle), monthly templates, expiry;
- ``claims``: the claim (领券), one atomic step on the Redis or the database path;
- ``claim_facts``: what the claim reads without the database (cached facts, the sold-out flag);
- ``stock``: the stock loaded into Redis, followed and rebuilt from the database;
- ``redis_stock``: the Lua scripts that take the stock in Redis;
- ``draws``: draw campaigns (抽签), registration and the recorded-seed draw;
- ``redemption``: merchants check, quote and use vouchers, and refunds;
- ``settlement``: what the union owes each merchant for a month;
- ``merchants``: approving and suspending merchants, and their API keys.

The public names are re-exported here; the reads are in ``vouchers.selectors``.
"""

from vouchers.services.announce import campaign_announce, campaign_announce_recipients
from vouchers.services.campaigns import (
    campaign_close,
    campaign_close_due,
    campaign_draft_save,
    campaign_open_due,
    campaign_open_now,
    campaign_schedule,
    campaign_settle,
    campaign_unschedule,
    campaigns_from_templates,
    template_opens_at,
    vouchers_expire,
)
from vouchers.services.claim_facts import Claimant, claimant_for_user, claimant_remember, sold_out_flag
from vouchers.services.claims import ClaimResult, claim_window, sold_out_result, voucher_claim
from vouchers.services.draws import draw_register, draw_run, draw_winners
from vouchers.services.merchants import (
    MERCHANT_HOLDER,
    REDEEM_SCOPE,
    merchant_api_key_create,
    merchant_api_key_revoke,
    merchant_approve,
    merchant_staff_add,
    merchant_staff_check,
    merchant_suspend,
)
from vouchers.services.redemption import (
    code_from_input,
    codes_from_input,
    new_voucher_code,
    redemption_answer,
    redemption_create,
    redemption_quote,
    redemption_refund,
    refund_answer,
    voucher_check,
    voucher_from_token,
    voucher_token,
    voucher_void,
)
from vouchers.services.settlement import settlement_build, settlement_mark_paid
from vouchers.services.stock import campaign_prepare, reconcile_campaign, remaining_sync

__all__ = [
    "campaign_announce",
    "campaign_announce_recipients",
    "REDEEM_SCOPE",
    "ClaimResult",
    "Claimant",
    "campaign_close",
    "campaign_close_due",
    "campaign_draft_save",
    "campaign_open_due",
    "campaign_open_now",
    "campaign_prepare",
    "campaign_schedule",
    "campaign_settle",
    "campaign_unschedule",
    "campaigns_from_templates",
    "claim_window",
    "claimant_for_user",
    "claimant_remember",
    "code_from_input",
    "codes_from_input",
    "draw_register",
    "draw_run",
    "draw_winners",
    "MERCHANT_HOLDER",
    "merchant_api_key_create",
    "merchant_api_key_revoke",
    "merchant_approve",
    "merchant_staff_add",
    "merchant_staff_check",
    "merchant_suspend",
    "new_voucher_code",
    "reconcile_campaign",
    "redemption_answer",
    "redemption_create",
    "redemption_quote",
    "redemption_refund",
    "refund_answer",
    "remaining_sync",
    "settlement_build",
    "settlement_mark_paid",
    "sold_out_flag",
    "sold_out_result",
    "template_opens_at",
    "voucher_check",
    "voucher_claim",
    "voucher_from_token",
    "voucher_token",
    "voucher_void",
    "vouchers_expire",
]
