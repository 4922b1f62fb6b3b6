"""API clients for the tests of the API's error path: one per kind of caller, each admitted by the
operations it is for (the union's staff, an agency's key per scope, a merchant's key)."""

from rest_framework.test import APIClient

from core.api_auth import AGENCY, known_scopes, scope_holder
from core.services import api_key_create
from tests.vouchers.factories import MerchantFactory
from vouchers.services import merchant_api_key_create


def keyed(secret: str) -> APIClient:
    client = APIClient(raise_request_exception=False)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}", HTTP_IDEMPOTENCY_KEY="attempt-1")
    return client


def api_callers(*, agency, staff) -> dict[str, APIClient]:
    """{"staff": …, "merchant": …, and each scope: an agency key with that scope}. Answers are
    returned, never raised (a server error is a 500, as a caller sees it)."""
    staff_client = APIClient(raise_request_exception=False)
    staff_client.force_login(staff)
    callers = {"staff": staff_client}
    for scope in known_scopes():
        if scope_holder(scope) != AGENCY:
            continue  # a merchant scope: the merchant's key holds it
        callers[scope] = keyed(api_key_create(agency=agency, scopes=[scope])[1])
    callers["merchant"] = keyed(merchant_api_key_create(merchant=MerchantFactory(), actor=None)[1])
    return callers


# The caller each operation admits, by operation id.
CALLER_OF = {
    "members_verify": "members:verify",
    "members_cards_verify": "members:verify",
    "members_list": "staff",
    "members_retrieve": "staff",
    "members_applications_list": "staff",
    "members_application_approve": "staff",
    "members_application_reject": "staff",
    "hardship_referrals_list": "hardship:referrals",
    "hardship_referral_outcome": "hardship:referrals",
    "hardship_outbound_list": "hardship:push",
    "hardship_pushes_list": "hardship:push",
    "hardship_pushes_create": "hardship:push",
    "hardship_pushes_retrieve": "hardship:push",
    "vouchers_check": "merchant",
    "vouchers_redemptions_create": "merchant",
    "vouchers_redemptions_refund": "merchant",
}


def operations(schema: dict):
    """(path with ids filled in, method, operation) for every operation of the schema."""
    for path, ops in schema["paths"].items():
        for method, op in ops.items():
            if method in {"get", "post", "put", "patch", "delete"}:
                yield path.replace("{id}", "1").replace("{member_no}", "HZ1").replace("{code}", "X"), method, op
