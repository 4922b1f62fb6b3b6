"""Merchant services for staff: approve, suspend, and issue and revoke a merchant's API keys (each audited)."""

from django.db import transaction
from django.utils.translation import gettext as _

from core.errors import ErrorKind, ServiceError
from core.models import ApiKey
from core.parsing import MOBILE_RE
from core.services import api_key_create, api_key_revoke, audit_log
from members.models import User
from members.services import worker_user_for_mobile
from members.validators import normalize_mobile
from vouchers.models import Merchant, MerchantApiKey, MerchantStaff

REDEEM_SCOPE = "vouchers:redeem"
MERCHANT_HOLDER = "merchant"  # the kind of key holder a merchant is (core.api_auth.register_holder)


def _set_state(*, merchant: Merchant, state: str, action: str, actor, reason: str = "") -> Merchant:
    with transaction.atomic():
        locked = Merchant.objects.select_for_update().get(pk=merchant.pk)
        old = locked.state
        if old == state:
            return locked
        # A conditional UPDATE: two staff clicking at once write one change and one audit entry.
        Merchant.objects.filter(pk=locked.pk, state=old).update(state=state)
        locked.state = state
        new = {"state": state}
        if reason:
            new["reason"] = reason
        audit_log(action=action, obj=locked, actor=actor, old={"state": old}, new=new)
    merchant.state = state
    return locked


def merchant_approve(*, merchant: Merchant, actor) -> Merchant:
    """Applied or suspended → approved: its staff and API keys may redeem vouchers again."""
    return _set_state(
        merchant=merchant, state=Merchant.State.APPROVED, action="vouchers.merchant.approved", actor=actor
    )


def merchant_suspend(*, merchant: Merchant, actor, reason: str) -> Merchant:
    """→ suspended: its API keys are refused at once (selectors.merchant_key_usable) and its staff page closes."""
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError("reason_required", _("Give a reason for suspending the merchant."))
    return _set_state(
        merchant=merchant, state=Merchant.State.SUSPENDED, action="vouchers.merchant.suspended", actor=actor,
        reason=reason[:500],
    )  # fmt: skip


def merchant_api_key_create(
    *, merchant: Merchant, actor, name: str = "", scopes: list[str] | None = None
) -> tuple[ApiKey, str]:
    """A key for an approved merchant (by default with the scope vouchers:redeem), linked to it by a
    MerchantApiKey in the same transaction; the secret is returned only now. The key's own rules
    (scopes fit for a merchant, name, one owner) are core's `api_key_create`'s."""
    if merchant.state != Merchant.State.APPROVED:
        raise ServiceError("merchant_not_approved", _("Approve the merchant before giving it an API key."))

    def link(key: ApiKey) -> dict:
        MerchantApiKey.objects.create(key=key, merchant=merchant)
        return {"merchant": merchant.pk}

    return api_key_create(
        agency=None,
        scopes=scopes or [REDEEM_SCOPE],
        name=name,
        actor=actor,
        attach_owner=link,
        other_owner=MERCHANT_HOLDER,
    )


def merchant_api_key_revoke(*, link: MerchantApiKey, actor, reason: str) -> MerchantApiKey:
    """Revoke one of a merchant's keys, with a reason: from the next request on it answers 401
    (core's key authentication reads `revoked_at` on every request). Audited as core's
    `core.api_key.revoked`, with the merchant and the reason; the reason is kept on the link for the
    merchant's page. A key revoked already is refused (its first revocation stands)."""
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError("reason_required", _("Give a reason for revoking the key."))
    with transaction.atomic():
        locked = MerchantApiKey.objects.select_for_update().select_related("key").get(pk=link.pk)
        if locked.key.revoked_at is not None:
            raise ServiceError("already_revoked", _("This key has already been revoked."), kind=ErrorKind.CONFLICT)
        api_key_revoke(key=locked.key, actor=actor, reason=reason[:500], detail={"merchant": locked.merchant_id})
        locked.revoke_reason = reason[:500]
        locked.save(update_fields=["revoke_reason"])
    link.revoke_reason, link.key = locked.revoke_reason, locked.key
    return locked


def merchant_staff_check(*, merchant: Merchant, mobile: str) -> str:
    """The rules for a new cashier, in one place (the admin's form shows the refusal beside the
    field): a mainland mobile number, not a staff account's (staff never log in by SMS), not a
    cashier of another shop already. Returns the number as stored."""
    mobile = normalize_mobile(mobile)
    if not MOBILE_RE.fullmatch(mobile):
        raise ServiceError("mobile", _("Enter the cashier's 11-digit mobile number."))
    if User.objects.filter(mobile=mobile, is_staff=True).exists():
        raise ServiceError(
            "staff_mobile", _("This mobile number belongs to a staff account, which cannot log in by SMS.")
        )
    other = MerchantStaff.objects.filter(user__mobile=mobile).exclude(merchant=merchant).select_related("merchant")
    if other.exists():
        raise ServiceError(
            "other_merchant",
            _("This mobile number is already a cashier of %(merchant)s.") % {"merchant": other.first().merchant},
        )
    return mobile


def merchant_staff_add(*, merchant: Merchant, mobile: str, actor) -> MerchantStaff:
    """Make a mobile number a cashier of the merchant: the login of that number (made now if it has
    never logged in, as a worker's first SMS login would) may then redeem on the merchant page."""
    mobile = merchant_staff_check(merchant=merchant, mobile=mobile)
    with transaction.atomic():
        user = worker_user_for_mobile(mobile)
        staff, created = MerchantStaff.objects.get_or_create(user=user, defaults={"merchant": merchant})
        if created:
            audit_log(action="vouchers.merchant_staff.added", obj=merchant, actor=actor, new={"user": user.pk})
    return staff
