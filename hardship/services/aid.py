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


def case_month_aid_total(*, case: Case, period: str) -> Decimal:
    """The case's aid in the month `period` that counts against the second-approval threshold:
    waiting for approval, approved or paid (rejected aid does not count), any fund line."""
    total = (
        Aid.objects.filter(case=case, period=period)
        .exclude(state=Aid.State.REJECTED)
        .aggregate(total=Sum("amount"))["total"]
    )
    return total or Decimal("0")


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

    Maker–checker: the threshold (`HardshipSettings.second_approval_above`) applies to the case's
    aid in the month of `paid_on`, not to each aid alone — see `case_month_aid_total`. When the
    case's aid of that month that is waiting for approval, approved or paid (any fund line or
    purpose), plus this amount, is above the threshold, the aid waits for a second staff member
    (`aid_approve`); so 4 × 5,000 in one month against a 10,000 threshold needs a checker from the
    third. At or below it the aid is approved at once, the maker recorded — and then, like an
    approver, the maker must acknowledge what the double-aid check finds. The case's row is locked
    first, so two aids entered at once are counted one after the other. One function: the lock, the
    month's total, the check and the write are one transaction."""
    require_case(actor, case)
    if fund_line not in FundLine.values:
        raise ServiceError("bad_fund_line", _("Choose a fund line."))
    amount = money_parse(amount, allow_zero=False, label=_("Amount"))
    purpose = (purpose or "").strip()
    if not purpose:
        raise ServiceError("purpose_required", _("Give the purpose of the aid."))
    if not isinstance(paid_on, dt.date):
        raise ServiceError("bad_date", _("Give the date of the aid."))
    period = period_of(paid_on)
    with transaction.atomic():
        case = case_lock(case)
        if case.state not in FILED_STATES:
            raise ServiceError("case_not_filed", _("Aid can only be given under a filed case."))
        if needs_decision(case):
            raise not_in_hardship_error()
        month_total = case_month_aid_total(case=case, period=period) + amount
        needs_checker = month_total > HardshipSettings.get().second_approval_above
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
            "month_total": str(month_total),
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
