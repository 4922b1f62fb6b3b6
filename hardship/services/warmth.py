"""Warmth batches (常态化送温暖): one payment to everyone on a union's warmth roster for a
month, approved by a second staff member, exported to XLSX."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from core.errors import ErrorKind, ServiceError
from core.parsing import money_parse, month_parse
from core.services import audit_log, notification_send, recipients_language
from hardship import exports
from hardship.models import AccessLog, Aid, Case, FundLine, WarmthBatch, WarmthRosterEntry
from hardship.services.access import access_log, require_case, require_union
from hardship.services.cases import case_event
from members.models import Member, Union

# --- The warmth roster: a case's head, now ------------------------------------------------------


def warmth_roster_add_case(*, case: Case, actor, year: int | None = None) -> WarmthRosterEntry:
    """Put the head of an open case on the year's warmth roster now (the monthly cycle's
    `roster_refresh` would do it at its next run, by the same rule). Only a case whose latest
    assessment says in hardship qualifies: never assessed `not_assessed`, assessed (or overridden)
    as not in hardship `not_in_hardship`, closed `case_closed`. Idempotent: an entry of the year
    already there is made active with the case as its source."""
    require_case(actor, case)
    year = year or timezone.localdate().year
    with transaction.atomic():
        case = Case.objects.select_for_update().select_related("head").get(pk=case.pk)
        if not case.is_open:
            raise ServiceError("case_closed", _("This case is closed."))
        if not case.category:
            raise ServiceError(
                "not_assessed", _("Assess the household first: only a case assessed as in hardship is on the roster.")
            )
        if case.category not in Case.IN_HARDSHIP_CATEGORIES:
            raise ServiceError(
                "not_in_hardship",
                _("The latest assessment found this household not in hardship: it is not on the warmth roster."),
            )
        if case.head.status != Member.Status.ACTIVE:
            raise ServiceError("member_not_active", _("The head of household is not an active member."))
        reason = _("Open case %(case_no)s") % {"case_no": case.case_no or ""}
        entry, created = WarmthRosterEntry.objects.select_for_update().get_or_create(
            member=case.head,
            year=year,
            defaults={"union": case.head.union, "source": WarmthRosterEntry.Source.CASE, "reason": reason},
        )
        old = None if created else {"is_active": entry.is_active, "source": entry.source}
        if not created:
            entry.is_active, entry.source, entry.reason, entry.union = (
                True,
                WarmthRosterEntry.Source.CASE,
                reason,
                case.head.union,
            )
            entry.save(update_fields=["is_active", "source", "reason", "union"])
        case_event(case, "warmth_roster", actor=actor, data={"year": year})
        audit_log(
            action="hardship.warmth_roster.added", obj=entry, actor=actor, old=old, new={"case": case.pk, "year": year}
        )
    return entry


# --- Warmth batches (常态化送温暖) --------------------------------------------------------------------


def warmth_batch_create(*, union: Union, period: str, amount_per_person, actor, name: str) -> WarmthBatch:
    """A batch payment of `amount_per_person` to every active warmth-roster entry of the union's
    subtree for the period's year (active members only), one aid row per member, waiting for a
    second staff member's approval (`warmth_batch_approve`). The aid is dated the period's first day.

    A member is paid warmth aid once per period: when anyone on the roster already has warmth aid
    for the period (waiting for approval, approved or paid; from another batch, e.g. of the same or
    an overlapping union, or under a case), the batch is refused (`already_paid`, with how many).
    The roster rows are locked first, so two batches drawn up at once are checked one after the other.
    One function: the check and the writes must run under the same locks in one transaction."""
    require_union(actor, union)
    month = month_parse(period)
    period = str(month)
    amount = money_parse(amount_per_person, allow_zero=False, label=_("Amount per person"))
    name = (name or "").strip()
    if not name:
        raise ServiceError("name_required", _("Give the batch a name."))
    with transaction.atomic():
        roster = WarmthRosterEntry.objects.filter(
            is_active=True,
            year=month.year,
            union__path__startswith=union.path,
            member__status=Member.Status.ACTIVE,
        )
        # Lock the roster rows in primary-key order: an overlapping batch drawn up at the same time
        # waits here, then sees this batch's aid.
        list(roster.select_for_update(of=("self",)).order_by("pk").values_list("pk", flat=True))
        entries = list(roster.order_by("member_id").values_list("member_id", "union_id"))
        if not entries:
            raise ServiceError("empty_roster", _("The warmth roster of this union has nobody for that year."))
        already = (
            Aid.objects.filter(fund_line=FundLine.WARMTH, period=period, member__in=roster.values("member_id"))
            .exclude(state__in=Aid.NOT_COUNTED)
            .values("member_id")
            .distinct()
            .count()
        )
        if already:
            raise ServiceError(
                "already_paid",
                ngettext(
                    "%(count)d person on this roster already has warmth aid for %(period)s (waiting for "
                    "approval, approved or paid). Nobody is paid twice for a period: no batch was drawn up.",
                    "%(count)d people on this roster already have warmth aid for %(period)s (waiting for "
                    "approval, approved or paid). Nobody is paid twice for a period: no batch was drawn up.",
                    already,
                )
                % {"count": already, "period": period},
            )
        if WarmthBatch.objects.filter(union=union, period=period, state__in=WarmthBatch.LIVE_STATES).exists():
            raise ServiceError(
                "batch_exists",
                _(
                    "This union already has a warmth batch for %(period)s. "
                    "Cancel it first if it is wrong, then draw up the corrected batch."
                )
                % {"period": period},
                kind=ErrorKind.CONFLICT,
            )
        batch = WarmthBatch.objects.create(
            name=name[:100],
            union=union,
            period=period,
            recipients=len(entries),
            total=amount * len(entries),
            created_by=actor,
        )
        Aid.objects.bulk_create(
            [
                Aid(
                    member_id=member_id,
                    union_id=union_id,
                    batch=batch,
                    fund_line=FundLine.WARMTH,
                    amount=amount,
                    purpose=batch.name,
                    paid_on=month.first_day,
                    period=period,
                    state=Aid.State.PENDING_APPROVAL,
                    maker=actor,
                )
                for member_id, union_id in entries
            ],
            batch_size=500,
        )
        audit_log(
            action="hardship.warmth_batch.created",
            obj=batch,
            actor=actor,
            new={"period": period, "recipients": batch.recipients, "amount": str(amount), "total": str(batch.total)},
        )
    return batch


def warmth_batch_approve(*, batch: WarmthBatch, actor) -> WarmthBatch:
    """Approve a draft batch and its aid: by staff of the union's scope other than its creator."""
    require_union(actor, batch.union)
    with transaction.atomic():
        batch = WarmthBatch.objects.select_for_update().get(pk=batch.pk)
        if batch.state == WarmthBatch.State.CANCELLED:
            raise ServiceError("batch_cancelled", _("This batch was cancelled."), kind=ErrorKind.CONFLICT)
        if batch.state != WarmthBatch.State.DRAFT:
            raise ServiceError("not_pending", _("This batch has already been approved."), kind=ErrorKind.CONFLICT)
        if batch.created_by_id == getattr(actor, "pk", None):
            raise ServiceError("maker_cannot_approve", _("A batch must be approved by someone other than its maker."))
        now = timezone.now()
        approved = Aid.objects.filter(batch=batch, state=Aid.State.PENDING_APPROVAL).update(
            state=Aid.State.APPROVED, approver=actor, approved_at=now
        )
        batch.state = WarmthBatch.State.APPROVED
        batch.approved_by = actor
        batch.save(update_fields=["state", "approved_by"])
        audit_log(
            action="hardship.warmth_batch.approved",
            obj=batch,
            actor=actor,
            old={"state": "draft"},
            new={"state": "approved", "aid_approved": approved, "total": str(batch.total)},
        )
        if batch.created_by_id:
            with recipients_language():
                notification_send(
                    recipient_ids=[batch.created_by_id],
                    kind="hardship.warmth_batch.approved",
                    title=_("Warmth batch approved"),
                    body=_("%(name)s: %(count)d recipients, %(total)s CNY.")
                    % {"name": batch.name, "count": batch.recipients, "total": batch.total},
                    link=f"/admin/hardship/warmthbatch/{batch.pk}/change/",
                    dedupe_key=f"hardship-warmth-approved-{batch.pk}",
                )
    return batch


CANCEL_REASON_MIN = 4


def warmth_batch_cancel(*, batch: WarmthBatch, actor, reason: str) -> WarmthBatch:
    """Cancel a wrong batch that is not paid yet (draft or approved), with a reason: its aid is
    rejected with it, so nobody on it counts as paid for the period, and the month is free for the
    corrected batch (the unique constraint holds only live batches). A paid batch cannot be
    cancelled (`already_paid_out`); a cancelled one stays cancelled (`not_cancellable`). Audited,
    old and new state; the maker is told."""
    require_union(actor, batch.union)
    reason = (reason or "").strip()
    if len(reason) < CANCEL_REASON_MIN:
        raise ServiceError("reason_required", _("Give the reason for cancelling the batch (a few words at least)."))
    with transaction.atomic():
        batch = WarmthBatch.objects.select_for_update().get(pk=batch.pk)
        if batch.state == WarmthBatch.State.PAID or Aid.objects.filter(batch=batch, state=Aid.State.PAID).exists():
            raise ServiceError(
                "already_paid_out", _("This batch has been paid: it cannot be cancelled."), kind=ErrorKind.CONFLICT
            )
        if batch.state not in (WarmthBatch.State.DRAFT, WarmthBatch.State.APPROVED):
            raise ServiceError("not_cancellable", _("This batch has already been cancelled."), kind=ErrorKind.CONFLICT)
        old_state = batch.state
        # Aid rows locked in primary-key order, as every aid change does.
        ids = list(
            Aid.objects.select_for_update()
            .filter(batch=batch, state__in=[Aid.State.PENDING_APPROVAL, Aid.State.APPROVED])
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        rejected = Aid.objects.filter(pk__in=ids).update(state=Aid.State.REJECTED)
        batch.state = WarmthBatch.State.CANCELLED
        batch.cancelled_by = actor
        batch.cancelled_at = timezone.now()
        batch.cancel_reason = reason[:300]
        batch.save(update_fields=["state", "cancelled_by", "cancelled_at", "cancel_reason"])
        audit_log(
            action="hardship.warmth_batch.cancelled",
            obj=batch,
            actor=actor,
            old={"state": old_state},
            new={"state": "cancelled", "aid_rejected": rejected, "reason": batch.cancel_reason},
        )
        if batch.created_by_id and batch.created_by_id != getattr(actor, "pk", None):
            with recipients_language():
                notification_send(
                    recipient_ids=[batch.created_by_id],
                    kind="hardship.warmth_batch.cancelled",
                    title=_("Warmth batch cancelled"),
                    body=_("%(name)s was cancelled: %(reason)s") % {"name": batch.name, "reason": batch.cancel_reason},
                    link=f"/admin/hardship/warmthbatch/{batch.pk}/change/",
                    dedupe_key=f"hardship-warmth-cancelled-{batch.pk}",
                )
    return batch


def warmth_batch_export_xlsx(*, batch: WarmthBatch, actor) -> bytes:
    """The batch's recipients as XLSX (masked names and ID numbers, a total row); logged as an export."""
    require_union(actor, batch.union)
    content = exports.warmth_batch_workbook(batch)
    with transaction.atomic():
        access_log(user=actor, action=AccessLog.Action.EXPORT, detail=f"warmth batch {batch.pk}")
        audit_log(action="hardship.warmth_batch.exported", obj=batch, actor=actor, new={"recipients": batch.recipients})
    return content
