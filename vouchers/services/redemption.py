"""Redemption (核销): merchants check and use members' vouchers; refunds.

Rules (shown to merchants and members):
- A merchant may use a voucher when it is approved and the campaign accepts it: the merchant is
  among the campaign's accepted merchants or its category among the accepted categories. A campaign
  that names neither is accepted by every approved merchant.
- The voucher must be claimed (not used, expired or void), not past its expiry, within the
  campaign's validity dates, and belong to an active member.
- One order uses vouchers of ONE campaign and ONE member (else ``mixed_campaigns`` /
  ``mixed_members``). Stackable: at most one voucher per full threshold (floor(order / threshold)),
  capped at the campaign's per-order maximum; not stackable: one voucher, and the order must reach
  the threshold. Surplus vouchers in the request stay unused (the answer lists which were used).
  The discount never exceeds the order amount, and a voucher that would take nothing more off (the
  order is already fully discounted) stays unused.
- A voucher is used once: vouchers are locked in primary-key order and re-checked; the partial
  unique constraint ``voucher_used_once`` is the final guard.
- Refunds: a FULL refund (the refunds of an order add up to its whole order amount) within
  ``VoucherSettings.refund_window_hours`` of the redemption restores the vouchers with their
  original expiry (already past it: they become expired). A partial refund restores nothing.
  Once the order's month has been paid to the merchant, a full refund is recorded but the vouchers
  stay used (their uses stay in the paid settlement): the union pays for a voucher once. Vouchers
  of a settled campaign are voided instead of restored.

Voucher codes come from ``new_voucher_code`` (used by the claim when it creates a voucher).
"""

import datetime as dt
import re
import secrets
from decimal import ROUND_DOWN, Decimal
from urllib.parse import parse_qs, urlsplit

from django.core import signing
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core import idempotency
from core.errors import ErrorKind, ServiceError
from core.parsing import Period, money_parse, normalize_digits
from core.services import audit_log
from members.models import Member, User
from vouchers.models import Campaign, Merchant, Redemption, RedemptionItem, Refund, Settlement, Voucher, VoucherSettings

# No look-alikes: no 0/O, 1/I/L, 2/Z, 5/S, 8/B.
CODE_ALPHABET = "ACDEFGHJKMNPQRTUVWXY34679"
CODE_LENGTH = 10
QR_SALT = "vouchers.voucher"
MAX_CODES = 20
CENT = Decimal("0.01")


def new_voucher_code() -> str:
    """A random voucher code; uniqueness is the database constraint's job (the caller retries)."""
    return "".join(secrets.choice(CODE_ALPHABET) for _i in range(CODE_LENGTH))


# --- The QR token -------------------------------------------------------------------------------


def voucher_token(voucher: Voucher) -> str:
    """A signed token for the voucher's QR code: the code and the masked name, nothing else."""
    return signing.dumps({"c": voucher.code, "n": voucher.member.masked_name}, salt=QR_SALT, compress=True)


def voucher_from_token(token: str) -> Voucher | None:
    try:
        data = signing.loads(token.strip(), salt=QR_SALT)
    except signing.BadSignature:
        return None
    code = data.get("c") if isinstance(data, dict) else None
    if not code:
        return None
    return Voucher.objects.select_related("campaign", "member").filter(code=code).first()


def code_from_input(text: str) -> str:
    """The one reader of a voucher code, for the merchant's page, its camera and the API: a code
    typed in any case, in fullwidth letters and digits (ＡＣＤＥ…), with spaces or dashes; the
    address the voucher's QR code holds (``https://…/vouchers/merchant/?code=…``, whatever camera
    scanned it); or the signed token of an older QR code. Returns the code, or "" for none."""
    text = normalize_digits(text)
    if "code=" in text:  # the QR code's address: its code parameter
        values = parse_qs(urlsplit(text).query).get("code") or [""]
        text = normalize_digits(values[0])
    if len(text) > 20:
        voucher = voucher_from_token(text)
        return voucher.code if voucher else ""
    return "".join(ch for ch in text.upper() if ch.isascii() and ch.isalnum())


# Codes typed or scanned into one box: one per line, or separated by commas, semicolons, 、 or
# spaces, where a code typed in groups ("ACDEF GHJKM") is one code.
CODE_SEPARATORS_RE = re.compile(r"[\n\r,，;；、]+")


def codes_from_input(text: str) -> list[str]:
    """The codes of a text box (each read by `code_from_input`): per line (or comma, semicolon,
    、), the words separated by spaces are several codes when each is a whole code or a QR
    address, else the pieces of one code typed in groups."""
    codes = []
    for chunk in CODE_SEPARATORS_RE.split(normalize_digits(text)):
        words = chunk.split()
        if not words:
            continue
        singles = [code_from_input(w) for w in words]
        if len(words) > 1 and all(len(c) == CODE_LENGTH for c in singles):
            codes.extend(singles)
        else:
            codes.append(code_from_input(" ".join(words)))
    return [c for c in codes if c]


# --- Voiding ---------------------------------------------------------------------------------------


def voucher_void(*, voucher: Voucher, actor, reason: str) -> Voucher:
    """Staff cancel a claimed voucher (a wrong claim, fraud), with a reason: it can no longer be
    used. A conditional UPDATE, audited with the reason; a used, expired or void voucher is refused
    (a used one is undone by a refund). The stock is not given back: the claim happened."""
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError("reason_required", _("Give a reason for cancelling the voucher."))
    with transaction.atomic():
        if not Voucher.objects.filter(pk=voucher.pk, state=Voucher.State.CLAIMED).update(state=Voucher.State.VOID):
            raise ServiceError(
                "not_claimed", _("Only a claimed, unused voucher can be cancelled."), kind=ErrorKind.CONFLICT
            )
        audit_log(
            action="vouchers.voucher.voided",
            obj=voucher,
            actor=actor,
            old={"state": Voucher.State.CLAIMED},
            new={"state": Voucher.State.VOID, "reason": reason[:500]},
        )
    voucher.state = Voucher.State.VOID
    return voucher


# --- Checks ---------------------------------------------------------------------------------------


def _accepted_here(campaign, merchant: Merchant) -> bool:
    categories = campaign.accepted_categories or []
    merchant_ids = {m.pk for m in campaign.accepted_merchants.all()}
    if not categories and not merchant_ids:
        return True
    return merchant.pk in merchant_ids or merchant.category in categories


def _merchant_problem(merchant: Merchant) -> ServiceError | None:
    if merchant.state != Merchant.State.APPROVED:
        return ServiceError(
            "merchant_suspended", _("This merchant may not redeem vouchers at present."), kind=ErrorKind.FORBIDDEN
        )
    return None


def _voucher_problem(voucher: Voucher | None, merchant: Merchant, now: dt.datetime) -> ServiceError | None:
    if voucher is None:
        return ServiceError("voucher_not_found", _("No voucher with this code."))
    if voucher.state == Voucher.State.USED:
        return ServiceError("voucher_used", _("This voucher has already been used."), kind=ErrorKind.CONFLICT)
    if voucher.state == Voucher.State.VOID:
        return ServiceError("voucher_void", _("This voucher has been cancelled."), kind=ErrorKind.CONFLICT)
    if voucher.state == Voucher.State.EXPIRED or voucher.expires_at <= now:
        return ServiceError("voucher_expired", _("This voucher has expired."), kind=ErrorKind.CONFLICT)
    campaign = voucher.campaign
    if campaign.valid_from and timezone.localdate(now) < campaign.valid_from:
        return ServiceError("voucher_not_yet_valid", _("This voucher cannot be used yet."), kind=ErrorKind.CONFLICT)
    if voucher.member.status != Member.Status.ACTIVE:
        return ServiceError(
            "member_inactive", _("The voucher's holder is not an active member."), kind=ErrorKind.CONFLICT
        )
    if not _accepted_here(campaign, merchant):
        return ServiceError("not_accepted_here", _("This voucher is not accepted at this merchant."))
    return None


def _vouchers_by_code(codes: list[str], *, lock: bool = False) -> dict[str, Voucher]:
    qs = Voucher.objects.select_related("campaign", "member").prefetch_related("campaign__accepted_merchants")
    if lock:
        qs = qs.select_for_update(of=("self",)).order_by("pk")
    return {v.code: v for v in qs.filter(code__in=codes)}


def voucher_check(*, merchant: Merchant, code: str) -> dict:
    """What a merchant may know about a voucher before the sale, and whether it can be used here."""
    code = code_from_input(code)
    voucher = _vouchers_by_code([code]).get(code) if code else None
    if voucher is None:
        raise ServiceError("voucher_not_found", _("No voucher with this code."), kind=ErrorKind.NOT_FOUND)
    problem = _merchant_problem(merchant) or _voucher_problem(voucher, merchant, timezone.now())
    campaign = voucher.campaign
    return {
        "code": voucher.code,
        "state": voucher.state,
        "face_value": campaign.face_value,
        "threshold": campaign.threshold,
        "stackable": campaign.stackable,
        "max_per_order": campaign.max_per_order,
        "expires_at": voucher.expires_at,
        "campaign": campaign.name,
        "masked_name": voucher.member.masked_name,
        "usable_here": problem is None,
        "reason": problem.code if problem else "",
        "message": problem.message if problem else "",
    }


# --- Quote: the stacking rule ------------------------------------------------------------------------


def _clean_codes(codes) -> list[str]:
    seen: list[str] = []
    for raw in codes or []:
        code = code_from_input(str(raw))
        if code and code not in seen:
            seen.append(code)
    if not seen:
        raise ServiceError("no_codes", _("Give at least one voucher code."))
    if len(seen) > MAX_CODES:
        raise ServiceError("too_many_codes", _("Too many vouchers for one order."))
    return seen


def _plan(*, merchant: Merchant, codes: list[str], vouchers: dict[str, Voucher], order_amount: Decimal) -> dict:
    now = timezone.now()
    problem = _merchant_problem(merchant)
    if problem:
        raise problem
    found = []
    for code in codes:
        voucher = vouchers.get(code)
        problem = _voucher_problem(voucher, merchant, now)
        if problem:
            if len(codes) > 1:  # say which of the order's codes failed
                problem.message = _("Voucher %(code)s: %(message)s") % {"code": code, "message": problem.message}
            raise problem
        found.append(voucher)
    if len({v.campaign_id for v in found}) > 1:
        raise ServiceError("mixed_campaigns", _("Use vouchers of one campaign per order."))
    if len({v.member_id for v in found}) > 1:
        raise ServiceError("mixed_members", _("Use vouchers of one member per order."))
    campaign = found[0].campaign
    threshold = campaign.threshold
    if order_amount < threshold:
        raise ServiceError(
            "below_threshold",
            _("The order must reach %(threshold)s yuan to use this voucher.") % {"threshold": threshold},
        )
    if campaign.stackable:
        allowed = int((order_amount / threshold).to_integral_value(ROUND_DOWN)) if threshold > 0 else len(found)
        count = min(allowed, max(campaign.max_per_order, 1), len(found))
    else:
        count = 1
    used, discounts = [], []
    left = order_amount
    for voucher in found[:count]:
        part = min(campaign.face_value, left)
        if part <= 0:
            break  # the order is already fully discounted: this voucher would give nothing and stays unused
        used.append(voucher)
        discounts.append(part)
        left -= part
    discount = sum(discounts, Decimal("0"))
    return {
        "campaign": campaign,
        "member": found[0].member,
        "used": used,
        "discounts": discounts,
        "unused": found[len(used) :],
        "order_amount": order_amount,
        "discount": discount,
        "payable": order_amount - discount,
    }


def _plan_answer(plan: dict) -> dict:
    return {
        "campaign": plan["campaign"].name,
        "masked_name": plan["member"].masked_name,
        "order_amount": plan["order_amount"],
        "discount": plan["discount"],
        "payable": plan["payable"],
        "used_codes": [v.code for v in plan["used"]],
        "unused_codes": [v.code for v in plan["unused"]],
    }


def redemption_quote(*, merchant: Merchant, codes, order_amount) -> dict:
    """What an order would cost with these vouchers: nothing is used."""
    codes = _clean_codes(codes)
    amount = money_parse(order_amount, allow_zero=False, label=_("The order amount"))
    return _plan_answer(_plan(merchant=merchant, codes=codes, vouchers=_vouchers_by_code(codes), order_amount=amount))


# --- Redemption -------------------------------------------------------------------------------------


def _audit_actor(actor, merchant: Merchant) -> dict:
    """audit_log's actor arguments: a portal user, or a label for an API client: the merchant and
    which of its keys (core's API client knows the key, not the merchant)."""
    if isinstance(actor, User):
        return {"actor": actor}
    label = f"{merchant} ({actor})" if actor is not None else str(merchant)
    return {"actor": None, "actor_label": label[:100]}


def _duplicate_order() -> ServiceError:
    return ServiceError(
        "duplicate_order", _("This order reference has already been redeemed."), kind=ErrorKind.CONFLICT
    )


def redemption_create(
    *,
    merchant: Merchant,
    codes,
    order_amount,
    order_ref: str = "",
    idempotency_key: str = "",
    actor=None,
) -> Redemption:
    """Use vouchers against one order. The same idempotency key answers the first redemption again.

    An order without a reference (optional on the merchant's phone page; the API requires one) is
    numbered ``M<local date and time>-<6 hex digits>``.
    """
    codes = _clean_codes(codes)
    amount = money_parse(order_amount, allow_zero=False, label=_("The order amount"))
    order_ref = (order_ref or "").strip()
    if len(order_ref) > 64:
        raise ServiceError("invalid_order_ref", _("Give the order reference (at most 64 characters)."))
    key = idempotency.clean_key(idempotency_key)
    # The request as sent (a numbered order is one request however often it is repeated).
    request_hash = idempotency.request_hash(codes=sorted(codes), order_amount=str(amount), order_ref=order_ref)
    order_ref = order_ref or timezone.localtime().strftime("M%Y%m%d%H%M%S-") + secrets.token_hex(3)
    earlier_of_merchant = Redemption.objects.filter(merchant=merchant)
    earlier = idempotency.replay(earlier_of_merchant, key, request_hash)
    if earlier is not None:
        return earlier
    try:
        with transaction.atomic():
            vouchers = _vouchers_by_code(codes, lock=True)
            # A concurrent twin of this request may have committed while we waited for the locks.
            earlier = idempotency.replay(earlier_of_merchant, key, request_hash)
            if earlier is not None:
                return earlier
            if Redemption.objects.filter(merchant=merchant, order_ref=order_ref).exists():
                raise _duplicate_order()
            plan = _plan(merchant=merchant, codes=codes, vouchers=vouchers, order_amount=amount)
            now = timezone.now()
            redemption = Redemption.objects.create(
                merchant=merchant,
                member=plan["member"],
                order_ref=order_ref,
                idempotency_key=key,
                request_hash=request_hash,
                order_amount=amount,
                discount=plan["discount"],
                payable=plan["payable"],
                created_at=now,
                created_by=actor if isinstance(actor, User) else None,
            )
            RedemptionItem.objects.bulk_create(
                RedemptionItem(redemption=redemption, voucher=v, discount=d)
                for v, d in zip(plan["used"], plan["discounts"], strict=True)
            )
            Voucher.objects.filter(pk__in=[v.pk for v in plan["used"]], state=Voucher.State.CLAIMED).update(
                state=Voucher.State.USED, used_at=now
            )
            audit_log(
                action="vouchers.redemption.created",
                obj=redemption,
                **_audit_actor(actor, merchant),
                new={
                    "merchant": merchant.pk,
                    "codes": [v.code for v in plan["used"]],
                    "order_amount": amount,
                    "discount": plan["discount"],
                },
            )
    except IntegrityError:
        # The constraints caught a race the locks did not (e.g. a twin request with the same key).
        earlier = idempotency.replay(earlier_of_merchant, key, request_hash)
        if earlier is not None:
            return earlier
        if Redemption.objects.filter(merchant=merchant, order_ref=order_ref).exists():
            raise _duplicate_order() from None
        raise ServiceError("voucher_used", _("This voucher has already been used."), kind=ErrorKind.CONFLICT) from None
    return redemption


def redemption_answer(redemption: Redemption) -> dict:
    """The result of a redemption, for the API and the merchant page."""
    items = list(redemption.items.select_related("voucher").order_by("pk"))
    return {
        "id": redemption.pk,
        "order_ref": redemption.order_ref,
        "order_amount": redemption.order_amount,
        "discount": redemption.discount,
        "payable": redemption.payable,
        "used_codes": [i.voucher.code for i in items],
        "state": redemption.state,
        "created_at": redemption.created_at,
    }


# --- Refunds -------------------------------------------------------------------------------------------


def redemption_refund(
    *, merchant: Merchant, redemption_id: int, amount, idempotency_key: str = "", actor=None
) -> Refund:
    """Record a refund of (part of) the merchant's order ``redemption_id``.

    Only the merchant who redeemed the order may refund it: another merchant's redemption is
    refused as not found (404 ``not_found``), as an unknown one is, and nothing changes.

    A full refund reverses the voucher uses (the union owes the merchant nothing for the order);
    within the refund window it restores the vouchers, after it voids them. A partial refund
    changes neither. Once the merchant has been paid for the order's month, a full refund is
    recorded but changes no voucher: the uses stay in the paid settlement and the vouchers stay
    used, so the union never pays for one voucher twice (``Refund.vouchers`` says which happened).
    The same idempotency key (per redemption) answers the first refund again, as for redemptions.
    """
    redemption = Redemption.objects.filter(pk=redemption_id, merchant=merchant).first()
    if redemption is None:
        raise ServiceError("not_found", _("No such redemption."), kind=ErrorKind.NOT_FOUND)
    amount = money_parse(amount, allow_zero=False, label=_("The refund amount"))
    key = idempotency.clean_key(idempotency_key)
    request_hash = idempotency.request_hash(amount=str(amount))
    earlier_of_order = Refund.objects.filter(redemption_id=redemption.pk)
    earlier = idempotency.replay(earlier_of_order, key, request_hash)
    if earlier is not None:
        return earlier
    try:
        return _refund(redemption=redemption, amount=amount, key=key, request_hash=request_hash, actor=actor)
    except IntegrityError:
        # A twin request with the same key committed first (the lock on the redemption normally catches it).
        earlier = idempotency.replay(earlier_of_order, key, request_hash)
        if earlier is None:
            raise
        return earlier


def _uses_reverse(*, redemption: Redemption, restore: bool, now: dt.datetime) -> list[str]:
    """Reverse a fully refunded order's voucher uses (the union owes the merchant nothing for it);
    return the codes given back. Within the window the vouchers go back to the member with their
    original expiry (already past it: expired); after it, or once the campaign is settled, they are
    void (the rule shown to members). Call inside the refund's transaction."""
    restored = []
    items = list(
        RedemptionItem.objects.select_for_update()
        .filter(redemption=redemption, reversed_at__isnull=True)
        .select_related("voucher")
        .order_by("voucher_id")
    )
    for item in items:
        voucher = item.voucher
        if not restore:
            voucher.state = Voucher.State.VOID
        elif voucher.expires_at > now:
            voucher.state = Voucher.State.CLAIMED
            voucher.used_at = None
        else:
            voucher.state = Voucher.State.EXPIRED
            voucher.used_at = None
        voucher.save(update_fields=["state", "used_at"])
        if restore:
            restored.append(voucher.code)
    RedemptionItem.objects.filter(pk__in=[i.pk for i in items]).update(reversed_at=now)
    return restored


def _refund(*, redemption: Redemption, amount: Decimal, key: str, request_hash: str, actor) -> Refund:
    now = timezone.now()
    merchant_id, created_at = Redemption.objects.values_list("merchant_id", "created_at").get(pk=redemption.pk)
    month = str(Period.of(timezone.localtime(created_at)))
    with transaction.atomic():
        # The month's settlement is locked before the redemption, in the order settlement_build
        # takes them: a payment either commits before this refund (and is seen here) or after it
        # (and settlement_mark_paid then finds figures that changed since the build).
        settlement = Settlement.objects.select_for_update().filter(merchant_id=merchant_id, month=month).first()
        paid = settlement is not None and settlement.paid_at is not None
        redemption = Redemption.objects.select_for_update().get(pk=redemption.pk)
        # A twin of this request may have committed while we waited for the lock.
        earlier = idempotency.replay(Refund.objects.filter(redemption=redemption), key, request_hash)
        if earlier is not None:
            return earlier
        already = redemption.refunds.aggregate(s=Sum("amount"))["s"] or Decimal("0")
        if already + amount > redemption.order_amount:
            raise ServiceError(
                "refund_too_large", _("A refund cannot exceed the order amount."), kind=ErrorKind.CONFLICT
            )
        full = already + amount == redemption.order_amount
        window = dt.timedelta(hours=VoucherSettings.get().refund_window_hours)
        # now - created_at, not created_at + window: a huge window must not overflow the date.
        restore = full and not paid and now - redemption.created_at <= window
        if restore:
            # A settled campaign has no live vouchers: its vouchers are not given back but voided.
            # Its row is locked before the vouchers, as campaign_settle locks them.
            campaign_id = (
                RedemptionItem.objects.filter(redemption=redemption).values_list("voucher__campaign_id", flat=True)
            ).first()
            state = Campaign.objects.select_for_update().values_list("state", flat=True).get(pk=campaign_id)
            restore = state != Campaign.State.SETTLED
        if not full:
            outcome = Refund.Vouchers.UNCHANGED
        elif paid:
            outcome = Refund.Vouchers.KEPT_USED
        else:
            outcome = Refund.Vouchers.RESTORED if restore else Refund.Vouchers.VOIDED
        restored = _uses_reverse(redemption=redemption, restore=restore, now=now) if full and not paid else []
        refund = Refund.objects.create(
            redemption=redemption,
            amount=amount,
            full=full,
            vouchers_restored=restore,
            vouchers=outcome,
            idempotency_key=key,
            request_hash=request_hash,
            created_at=now,
        )
        old_state = redemption.state
        redemption.state = Redemption.State.REFUNDED if full else Redemption.State.PARTIALLY_REFUNDED
        redemption.save(update_fields=["state"])
        audit_log(
            action="vouchers.redemption.refunded",
            obj=redemption,
            **_audit_actor(actor, redemption.merchant),
            old={"state": old_state},
            new={
                "state": redemption.state,
                "amount": amount,
                "full": full,
                "vouchers": outcome,
                "restored": restored,
                "settlement_paid": paid,
            },
        )
    return refund


REFUND_NOTICES = {
    Refund.Vouchers.KEPT_USED: gettext_lazy(
        "The merchant has already been paid for this month, so the vouchers stay used: they are not given back "
        "and the union does not pay for them again."
    ),
    Refund.Vouchers.VOIDED: gettext_lazy(
        "The vouchers are now void: the refund came after the refund window, or the campaign has been settled."
    ),
}


def refund_answer(refund: Refund) -> dict:
    """The result of a refund, for the API: what happened to the vouchers, with a notice to show."""
    return {
        "id": refund.pk,
        "redemption_id": refund.redemption_id,
        "amount": refund.amount,
        "full": refund.full,
        "vouchers_restored": refund.vouchers_restored,
        "vouchers": refund.vouchers,
        "notice": str(REFUND_NOTICES.get(refund.vouchers, "")),
        "redemption_state": refund.redemption.state,
        "created_at": refund.created_at,
    }
