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
from hardship.models import AccessLog, Aid, FundLine, WarmthBatch, WarmthRosterEntry
from hardship.services.access import access_log, require_union
from members.models import Member, Union

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


def warmth_batch_export_xlsx(*, batch: WarmthBatch, actor) -> bytes:
    """The batch's recipients as XLSX (masked names and ID numbers, a total row); logged as an export."""
    require_union(actor, batch.union)
    content = exports.warmth_batch_workbook(batch)
    with transaction.atomic():
        access_log(user=actor, action=AccessLog.Action.EXPORT, detail=f"warmth batch {batch.pk}")
        audit_log(action="hardship.warmth_batch.exported", obj=batch, actor=actor, new={"recipients": batch.recipients})
    return content
