"""Payment batches (支付批次): approved aid paid through the bank.

draft (drawn up from the approved, unpaid aid of a union's subtree) → sent (its bank file was
produced: the content is frozen) → confirmed (staff confirm the bank's result: every aid of the
batch becomes paid, with `paid_at`) — or, from draft or sent, cancelled with a reason (its aid is
released, approved and unpaid again, and can be voided or put in another batch). Aid is in at most
one live batch; aid in a batch cannot be voided until the batch is cancelled (`aid_void`).
A warmth batch whose aid is all paid becomes paid. Every step is audited; every bank file is an
export in the access log.
"""

from decimal import Decimal

from django.db import transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import ErrorKind, ServiceError
from core.services import audit_log
from hardship import exports
from hardship.models import AccessLog, Aid, PaymentBatch, WarmthBatch
from hardship.services.access import access_log, require_union
from hardship.services.cases import case_event
from members.models import Union

B = PaymentBatch.State
CENT = Decimal("0.01")


def _locked(batch: PaymentBatch, actor) -> PaymentBatch:
    require_union(actor, batch.union)
    return PaymentBatch.objects.select_for_update().select_related("union").get(pk=batch.pk)


def payment_batch_create(*, union: Union, actor) -> PaymentBatch:
    """A draft batch of every approved aid of the union's subtree that is not paid and not in a
    live batch (`nothing_to_pay` when there is none). The aid is taken by one conditional UPDATE,
    so two batches drawn up at once never share an aid."""
    require_union(actor, union)
    with transaction.atomic():
        batch = PaymentBatch.objects.create(union=union, created_by=actor)
        taken = Aid.objects.filter(
            state=Aid.State.APPROVED, payment_batch__isnull=True, union__path__startswith=union.path
        ).update(payment_batch=batch)
        if not taken:
            raise ServiceError("nothing_to_pay", _("No approved aid of this union waits to be paid."))
        figures = Aid.objects.filter(payment_batch=batch).aggregate(count=Count("pk"), total=Sum("amount"))
        batch.aid_count = figures["count"]
        batch.total = (figures["total"] or Decimal("0")).quantize(CENT)
        batch.save(update_fields=["aid_count", "total"])
        audit_log(
            action="hardship.payment_batch.created",
            obj=batch,
            actor=actor,
            new={"union": union.pk, "aid": batch.aid_count, "total": str(batch.total)},
        )
    return batch


def payment_batch_bank_file(*, batch: PaymentBatch, actor) -> bytes:
    """The batch's bank file (XLSX, see `exports.payment_batch_workbook`). The first file sends a
    draft batch to the bank (draft → sent: its content is frozen from then on); a sent or confirmed
    batch gives its file again; a cancelled one none (`batch_cancelled`). Each file is an export in
    the access log."""
    with transaction.atomic():
        batch = _locked(batch, actor)
        if batch.state == B.CANCELLED:
            raise ServiceError("batch_cancelled", _("This payment batch was cancelled."), kind=ErrorKind.CONFLICT)
        if batch.state == B.DRAFT:
            batch.state = B.SENT
            batch.sent_at = timezone.now()
            batch.save(update_fields=["state", "sent_at"])
            audit_log(
                action="hardship.payment_batch.sent",
                obj=batch,
                actor=actor,
                old={"state": "draft"},
                new={"state": "sent", "aid": batch.aid_count, "total": str(batch.total)},
            )
        content = exports.payment_batch_workbook(batch)
        access_log(user=actor, action=AccessLog.Action.EXPORT, detail=f"payment batch {batch.pk}")
    return content


def payment_batch_confirm(*, batch: PaymentBatch, actor) -> PaymentBatch:
    """Staff confirm the bank's result of a sent batch (`not_sent` otherwise): every aid of the
    batch becomes paid with `paid_at`, each audited (and on its case's timeline); warmth batches
    whose aid is now all paid become paid."""
    with transaction.atomic():
        batch = _locked(batch, actor)
        if batch.state != B.SENT:
            raise ServiceError(
                "not_sent", _("Only a batch sent to the bank can be confirmed as paid."), kind=ErrorKind.CONFLICT
            )
        now = timezone.now()
        aid_rows = list(
            Aid.objects.select_for_update().filter(payment_batch=batch, state=Aid.State.APPROVED).order_by("pk")
        )
        Aid.objects.filter(pk__in=[a.pk for a in aid_rows]).update(state=Aid.State.PAID, paid_at=now)
        for aid in aid_rows:
            data = {"aid": aid.pk, "amount": str(aid.amount), "payment_batch": batch.pk}
            audit_log(action="hardship.aid.paid", obj=aid, actor=actor, old={"state": "approved"}, new=data)
            if aid.case_id:
                case_event(aid.case, "aid_paid", actor=actor, data=data)
        batch.state = B.CONFIRMED
        batch.confirmed_by = actor
        batch.confirmed_at = now
        batch.save(update_fields=["state", "confirmed_by", "confirmed_at"])
        audit_log(
            action="hardship.payment_batch.confirmed",
            obj=batch,
            actor=actor,
            old={"state": "sent"},
            new={"state": "confirmed", "aid_paid": len(aid_rows), "total": str(batch.total)},
        )
        warmth_ids = {a.batch_id for a in aid_rows if a.batch_id}
        paid_warmth = (
            WarmthBatch.objects.filter(pk__in=warmth_ids, state=WarmthBatch.State.APPROVED)
            .annotate(unpaid=Count("aid", filter=~Q(aid__state__in=(Aid.State.PAID, *Aid.NOT_COUNTED))))
            .filter(unpaid=0)
        )
        for warmth in paid_warmth:
            WarmthBatch.objects.filter(pk=warmth.pk).update(state=WarmthBatch.State.PAID)
            audit_log(
                action="hardship.warmth_batch.paid",
                obj=warmth,
                actor=actor,
                old={"state": "approved"},
                new={"state": "paid", "payment_batch": batch.pk},
            )
    return batch


def payment_batch_cancel(*, batch: PaymentBatch, actor, reason: str) -> PaymentBatch:
    """Cancel a draft or sent batch with a reason (`reason_required`; a confirmed batch is paid:
    `already_confirmed`): its aid is released, approved and unpaid again."""
    reason = (reason or "").strip()
    if not reason:
        require_union(actor, batch.union)
        raise ServiceError("reason_required", _("Give a reason for cancelling the batch."))
    with transaction.atomic():
        batch = _locked(batch, actor)
        if batch.state not in (B.DRAFT, B.SENT):
            raise ServiceError(
                "already_confirmed" if batch.state == B.CONFIRMED else "batch_cancelled",
                _("Only a draft batch or a batch sent to the bank can be cancelled."),
                kind=ErrorKind.CONFLICT,
            )
        old = batch.state
        released = Aid.objects.filter(payment_batch=batch, state=Aid.State.APPROVED).update(payment_batch=None)
        batch.state = B.CANCELLED
        batch.cancelled_at = timezone.now()
        batch.cancel_reason = reason[:300]
        batch.save(update_fields=["state", "cancelled_at", "cancel_reason"])
        audit_log(
            action="hardship.payment_batch.cancelled",
            obj=batch,
            actor=actor,
            old={"state": old},
            new={"state": "cancelled", "aid_released": released, "reason": batch.cancel_reason},
        )
    return batch
