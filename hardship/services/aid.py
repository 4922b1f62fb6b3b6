"""Aid under a case file: entered by one staff member and, above the monthly threshold,
approved by a second (maker–checker), after the double-aid check (多头援助)."""

import datetime as dt
from decimal import Decimal

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import ErrorKind, ServiceError
from core.parsing import money_parse
from core.services import audit_log, notification_send, recipients_language
from hardship.models import Aid, Case, FundLine, HardshipSettings
from hardship.periods import period_of
from hardship.selectors.aid import double_aid_check as _double_aid_check
from hardship.selectors.staff import case_staff_ids
from hardship.services.access import forbidden_error, require_case
from hardship.services.cases import (
    FILED_STATES,
    S,
    case_event,
    case_link,
    case_lock,
    locked_case_transition,
    needs_decision,
    not_in_hardship_error,
)
from members.models import Member

# --- Aid -------------------------------------------------------------------------------------


def double_aid_check(*, member: Member, fund_line: str, purpose: str, period: str, exclude_aid=None) -> list[dict]:
    """See `hardship.selectors.double_aid_check`."""
    return _double_aid_check(
        member=member, fund_line=fund_line, purpose=purpose, period=period, exclude_aid=exclude_aid
    )


def _unacknowledged(found: list[dict]) -> ServiceError:
    """The refusal when the double-aid check found aid that was not acknowledged; it carries the
    aid found (`details["found"]`) for the page to list."""
    return ServiceError(
        "double_aid_unacknowledged",
        _(
            "This person received %(count)d other aid for the same purpose in this period. "
            "Look at the double-aid check and confirm you have seen it."
        )
        % {"count": len(found)},
        found=found,
    )


# The second-approval rule counts the aid RECORDED (`Aid.created_at`, set by the portal, never
# typed) in this many days before now: a typed date moves no aid out of the window.
AID_WINDOW_DAYS = 365
# Aid is dated within its case's life: from the day the case was opened to the day it closed, and
# never more than this many days after today (aid planned for the coming days).
AID_DATE_AHEAD_DAYS = 3


def household_aid_total(*, case: Case, now: dt.datetime | None = None) -> Decimal:
    """The aid that counts against the second-approval threshold for `case`: the aid under any case
    of its head of household (a case closed and opened again does not start afresh) RECORDED in the
    last `AID_WINDOW_DAYS` days, whatever its date, fund line or purpose, waiting for approval,
    approved or paid (rejected and voided aid do not count)."""
    since = (now or timezone.now()) - dt.timedelta(days=AID_WINDOW_DAYS)
    total = (
        Aid.objects.filter(case__head_id=case.head_id, created_at__gt=since)
        .exclude(state__in=Aid.NOT_COUNTED)
        .aggregate(total=Sum("amount"))["total"]
    )
    return total or Decimal("0")


def aid_date_bounds(case: Case, today: dt.date | None = None) -> tuple[dt.date, dt.date]:
    """The first and last date aid under `case` may carry: the local day the case was opened, and
    the day it closed or `AID_DATE_AHEAD_DAYS` after today, whichever is earlier."""
    today = today or timezone.localdate()
    last = today + dt.timedelta(days=AID_DATE_AHEAD_DAYS)
    if case.closed_at is not None:
        last = min(last, timezone.localdate(case.closed_at))
    return timezone.localdate(case.opened_at), last


def _check_aid_date(case: Case, paid_on: dt.date) -> None:
    first, last = aid_date_bounds(case)
    if not first <= paid_on <= last:
        raise ServiceError(
            "aid_date_out_of_range",
            _("The date of the aid must lie between %(first)s (the case was opened) and %(last)s.")
            % {"first": first.isoformat(), "last": last.isoformat()},
        )


def aid_create(
    *,
    case: Case,
    actor,
    fund_line: str,
    amount,
    purpose: str,
    paid_on: dt.date,
    double_aid_acknowledged: bool = False,
) -> Aid:
    """Enter aid under a filed case whose category is hardship (`not_in_hardship` otherwise, see
    `needs_decision`).

    `paid_on` lies within the case's life and at most `AID_DATE_AHEAD_DAYS` ahead
    (`aid_date_out_of_range` otherwise, see `aid_date_bounds`): the month it falls in is the
    period the double-aid check and the reports use.

    Maker–checker: the threshold (`HardshipSettings.second_approval_above`) applies to the
    household's aid recorded in the last year, not to each aid alone nor to the month of a typed
    date — see `household_aid_total`. When that aid (waiting for approval, approved or paid, any
    case of the head, fund line or purpose), plus this amount, is above the threshold, the aid
    waits for a second staff member (`aid_approve`); so 4 × 5,000 against a 10,000 threshold needs
    a checker from the third, whatever dates they carry. At or below it the aid is approved at
    once, the maker recorded — and then, like an approver, the maker must acknowledge what the
    double-aid check finds. The case's row is locked first, so two aids entered at once are counted
    one after the other. One function: the lock, the total, the check and the write are one
    transaction."""
    require_case(actor, case)
    if fund_line not in FundLine.values:
        raise ServiceError("bad_fund_line", _("Choose a fund line."))
    amount = money_parse(amount, allow_zero=False, label=_("Amount"))
    purpose = (purpose or "").strip()
    if not purpose:
        raise ServiceError("purpose_required", _("Give the purpose of the aid."))
    if not isinstance(paid_on, dt.date) or isinstance(paid_on, dt.datetime):
        raise ServiceError("bad_date", _("Give the date of the aid."))
    period = period_of(paid_on)
    with transaction.atomic():
        case = case_lock(case)
        if case.state not in FILED_STATES:
            raise ServiceError("case_not_filed", _("Aid can only be given under a filed case."))
        if needs_decision(case):
            raise not_in_hardship_error()
        _check_aid_date(case, paid_on)
        window_total = household_aid_total(case=case) + amount
        needs_checker = window_total > HardshipSettings.get().second_approval_above
        found = []
        if not needs_checker:
            found = _double_aid_check(member=case.head, fund_line=fund_line, purpose=purpose, period=period)
            if found and not double_aid_acknowledged:
                raise _unacknowledged(found)
        now = timezone.now()
        aid = Aid.objects.create(
            case=case,
            member=case.head,
            union=case.union,
            fund_line=fund_line,
            amount=amount,
            purpose=purpose[:200],
            paid_on=paid_on,
            period=period,
            state=Aid.State.PENDING_APPROVAL if needs_checker else Aid.State.APPROVED,
            maker=actor,
            approved_at=None if needs_checker else now,
        )
        data = {
            "aid": aid.pk,
            "fund_line": fund_line,
            "amount": str(amount),
            "period": period,
            "state": aid.state,
            "double_aid_found": len(found),
            "window_total": str(window_total),
        }
        case_event(case, "aid", actor=actor, text=aid.purpose, data=data)
        audit_log(action="hardship.aid.created", obj=aid, actor=actor, new=data)
        if needs_checker:
            with recipients_language():
                notification_send(
                    recipient_ids=case_staff_ids(case, exclude=[actor]),
                    kind="hardship.aid.pending",
                    title=_("Aid waiting for your approval"),
                    body=_("%(amount)s CNY of aid under case %(case)s needs a second approver.")
                    % {"amount": amount, "case": case.case_no},
                    link=case_link(case),
                    dedupe_key=f"hardship-aid-pending-{aid.pk}",
                )
        else:
            audit_log(action="hardship.aid.approved", obj=aid, actor=actor, new={"state": "approved", "by": "maker"})
            if case.state == S.FILED:
                locked_case_transition(case, S.RECEIVING_AID, actor)
    return aid


def aid_approve(*, aid: Aid, actor, double_aid_acknowledged: bool = False) -> Aid:
    """The second approval (maker–checker): by staff who can see the case and did not enter the
    aid, while the case is still filed (`case_not_filed` otherwise; closing a case rejects its
    pending aid) and in hardship (`not_in_hardship` otherwise, see `needs_decision`). When the
    double-aid check finds anything, `double_aid_acknowledged` must be True.
    The case moves to `receiving_aid` with its first approved aid."""
    if aid.batch_id:
        raise ServiceError("batch_aid", _("Aid of a warmth batch is approved with its batch."))
    if aid.case_id is None:
        raise forbidden_error()
    require_case(actor, aid.case)
    with transaction.atomic():
        case = case_lock(aid.case)  # the case first, then its aid: the order closing a case takes them in
        aid = Aid.objects.select_for_update().get(pk=aid.pk)
        if aid.state != Aid.State.PENDING_APPROVAL:
            raise ServiceError("not_pending", _("This aid has already been decided."), kind=ErrorKind.CONFLICT)
        if aid.maker_id == getattr(actor, "pk", None):
            raise ServiceError("maker_cannot_approve", _("Aid must be approved by someone other than its maker."))
        if case.state not in FILED_STATES:
            raise ServiceError("case_not_filed", _("This case is no longer filed: its aid cannot be approved."))
        if needs_decision(case):
            raise not_in_hardship_error()
        found = _double_aid_check(
            member=aid.member, fund_line=aid.fund_line, purpose=aid.purpose, period=aid.period, exclude_aid=aid
        )
        if found and not double_aid_acknowledged:
            raise _unacknowledged(found)
        aid.state = Aid.State.APPROVED
        aid.approver = actor
        aid.approved_at = timezone.now()
        aid.save(update_fields=["state", "approver", "approved_at"])
        data = {"aid": aid.pk, "amount": str(aid.amount), "fund_line": aid.fund_line, "double_aid_found": len(found)}
        case_event(case, "aid_approved", actor=actor, text=aid.purpose, data=data)
        audit_log(action="hardship.aid.approved", obj=aid, actor=actor, old={"state": "pending"}, new=data)
        if case.state == S.FILED:
            locked_case_transition(case, S.RECEIVING_AID, actor)
        with recipients_language():
            notification_send(
                recipient_ids=[aid.maker_id],
                kind="hardship.aid.approved",
                title=_("Aid approved"),
                body=_("%(amount)s CNY of aid under case %(case)s was approved.")
                % {"amount": aid.amount, "case": case.case_no},
                link=case_link(case),
                dedupe_key=f"hardship-aid-approved-{aid.pk}",
            )
    return aid


def aid_reject(*, aid: Aid, actor, reason: str) -> Aid:
    """Refuse pending aid, with a reason (the maker may also withdraw their own)."""
    if aid.batch_id or aid.case_id is None:
        raise ServiceError("batch_aid", _("Aid of a warmth batch is approved with its batch."))
    require_case(actor, aid.case)
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError("reason_required", _("Give a reason for rejecting the aid."))
    with transaction.atomic():
        case = case_lock(aid.case)  # the case first, then its aid (see `aid_approve`)
        aid = Aid.objects.select_for_update().get(pk=aid.pk)
        if aid.state != Aid.State.PENDING_APPROVAL:
            raise ServiceError("not_pending", _("This aid has already been decided."), kind=ErrorKind.CONFLICT)
        aid.state = Aid.State.REJECTED
        aid.save(update_fields=["state"])
        data = {"aid": aid.pk, "amount": str(aid.amount)}
        case_event(case, "aid_rejected", actor=actor, text=reason, data=data)
        audit_log(action="hardship.aid.rejected", obj=aid, actor=actor, old={"state": "pending"}, new=data)
    return aid


def aid_void(*, aid: Aid, actor, reason: str) -> Aid:
    """Void approved aid that will not be paid (a wrong amount, a person who died …), with a reason:
    approved → voided. Voided aid counts nowhere: not in totals, not in the double-aid check, not
    against the second-approval threshold. Aid waiting in a payment batch is voided only once the
    batch is cancelled (`in_payment_batch`); paid aid is never voided. Aid of a warmth batch belongs
    to its batch (`batch_aid`). Staff who can see the case void; the reason goes on the case's
    timeline (encrypted) and the aid row, the change in the audit log."""
    if aid.batch_id or aid.case_id is None:
        raise ServiceError("batch_aid", _("Aid of a warmth batch is handled with its batch."))
    require_case(actor, aid.case)
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError("reason_required", _("Give a reason for voiding the aid."))
    with transaction.atomic():
        case = case_lock(aid.case)  # the case first, then its aid (see `aid_approve`)
        aid = Aid.objects.select_for_update().get(pk=aid.pk)
        if aid.state != Aid.State.APPROVED:
            raise ServiceError(
                "not_approved", _("Only approved aid that is not paid can be voided."), kind=ErrorKind.CONFLICT
            )
        if aid.payment_batch_id is not None:
            raise ServiceError(
                "in_payment_batch",
                _("This aid is in payment batch %(batch)s: cancel the batch first.") % {"batch": aid.payment_batch},
                kind=ErrorKind.CONFLICT,
            )
        aid.state = Aid.State.VOIDED
        aid.voided_at = timezone.now()
        aid.voided_by = actor
        aid.void_reason = reason[:300]
        aid.save(update_fields=["state", "voided_at", "voided_by", "void_reason"])
        data = {"aid": aid.pk, "amount": str(aid.amount), "fund_line": aid.fund_line}
        case_event(case, "aid_voided", actor=actor, text=aid.void_reason, data=data)
        audit_log(
            action="hardship.aid.voided",
            obj=aid,
            actor=actor,
            old={"state": "approved"},
            new={**data, "state": "voided"},
        )
    return aid
