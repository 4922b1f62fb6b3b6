"""Unusual pushes are held for city staff (数据推送复核).

A push is also a question: the outbound data answers an agency about the people it pushed. One row
with any ID number for a period long closed would make a push a lookup of whether that person has a
hardship case. So a push that does not look like the agency's monthly data is HELD when it arrives:
its content is stored encrypted and nothing of it is ingested — not screened, not matched, not in
the outbound data — until city staff with `hardship.review_held_push` release it (it is then
ingested as any push) or reject it (its stored content is deleted). The agency reads the state
`held` (not the reasons: they would say how to tune the next push). Held, released and rejected
are each in the audit log.

Reasons (`REASONS`), each from the settings:

- `too_few_rows`: fewer than HARDSHIP_PUSH_HOLD_MIN_ROWS rows, or fewer than
  HARDSHIP_PUSH_HOLD_SHARE of the median of the agency's last HARDSHIP_PUSH_HOLD_HISTORY ingested
  pushes of the same kind;
- `period_closed`: the period ended more than HARDSHIP_PUSH_OPEN_MONTHS months before the current
  month; `future_period`: it has not begun;
- `many_pushes`: the agency already sent HARDSHIP_PUSH_HOLD_MAX_PER_PERIOD pushes of this kind and
  period (corrections come in a new batch, but not without end).

Staff uploads in the admin are not held: the uploader is city staff allowed to act for the agency.
"""

import datetime as dt
import logging
import statistics

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.errors import ErrorKind, ServiceError
from core.parsing import Period, period_parse
from core.services import audit_log, notification_send
from hardship.ingest.storage import stored_delete
from hardship.models import DataPush
from hardship.selectors.access import can_review_held_pushes, held_push_reviewer_ids
from hardship.tasks import ingest_push

log = logging.getLogger(__name__)

REASONS = {
    "too_few_rows": gettext_lazy("far fewer rows than this agency's usual pushes of this kind"),
    "period_closed": gettext_lazy("a period that closed long ago"),
    "future_period": gettext_lazy("a period that has not begun"),
    "many_pushes": gettext_lazy("many pushes of this kind for this period"),
}


def hold_reasons(
    *, agency_id: int, kind: str, period: str, row_count: int, today: dt.date | None = None, exclude: int | None = None
) -> list[str]:
    """Why a push with this manifest would be held (empty: it goes on). `today`: the day it is
    received (the demo's seed passes the day each month's push would have come); `exclude`: the
    push itself, when it exists already (a push in pages)."""
    today = today or timezone.localdate()
    reasons = []
    history = list(
        DataPush.objects.filter(agency_id=agency_id, kind=kind, state=DataPush.State.INGESTED)
        .order_by("-received_at", "-pk")
        .values_list("row_count", flat=True)[: settings.HARDSHIP_PUSH_HOLD_HISTORY]
    )
    usual = statistics.median(history) if history else 0
    if row_count < settings.HARDSHIP_PUSH_HOLD_MIN_ROWS or row_count < settings.HARDSHIP_PUSH_HOLD_SHARE * usual:
        reasons.append("too_few_rows")
    parsed, current = period_parse(period), Period.of(today)
    months_closed = (current.year * 12 + current.month) - (parsed.last_month.year * 12 + parsed.last_month.month)
    if months_closed > settings.HARDSHIP_PUSH_OPEN_MONTHS:
        reasons.append("period_closed")
    elif parsed.first_month.year * 12 + parsed.first_month.month > current.year * 12 + current.month:
        reasons.append("future_period")
    sent = DataPush.objects.filter(agency_id=agency_id, kind=kind, period=str(parsed)).exclude(pk=exclude).count()
    if sent >= settings.HARDSHIP_PUSH_HOLD_MAX_PER_PERIOD:
        reasons.append("many_pushes")
    return reasons


def push_hold(push: DataPush, reasons: list[str]) -> DataPush:
    """Mark a stored push held (inside the receiving transaction), audited, and tell the staff who
    may review it (a notification with the agency, the push and why, sent on commit)."""
    push.state, push.hold_reasons = DataPush.State.HELD, reasons
    push.save(update_fields=["state", "hold_reasons"])
    audit_log(
        action="hardship.push.held",
        obj=push,
        actor=None,
        actor_label=f"agency:{push.agency.code}",
        new={"reasons": reasons, "kind": push.kind, "period": push.period, "row_count": push.row_count},
    )
    log.warning("hardship push %s held for review: %s", push.pk, ", ".join(reasons))
    with translation.override(settings.LANGUAGE_CODE):
        notification_send(
            recipient_ids=held_push_reviewer_ids(),
            kind="hardship.push.held",
            title=_("A data push is held for your review"),
            body=_("%(agency)s sent %(rows)d rows of %(kind)s for %(period)s: %(reasons)s.")
            % {
                "agency": push.agency.name,
                "rows": push.row_count,
                "kind": push.get_kind_display(),
                "period": push.period,
                "reasons": "；".join(str(REASONS[r]) for r in reasons),
            },
            link=reverse("admin:hardship_datapush_change", args=[push.pk]),
            dedupe_key=f"hardship-push-held-{push.pk}",
        )
    return push


def _review(*, actor, push_id: int, to: str, note: str, action: str) -> DataPush:
    if not can_review_held_pushes(actor):
        raise ServiceError(
            "forbidden",
            _("Only city-level staff with the permission to do so may release or reject a held push."),
            kind=ErrorKind.FORBIDDEN,
        )
    with transaction.atomic():
        changed = DataPush.objects.filter(pk=push_id, state=DataPush.State.HELD).update(
            state=to, reviewed_by=actor, reviewed_at=timezone.now(), review_note=note[:500]
        )
        push = DataPush.objects.select_related("agency").get(pk=push_id)
        if not changed:
            raise ServiceError(
                "not_held", _("This push is not held (any more): nothing was changed."), kind=ErrorKind.CONFLICT
            )
        audit_log(
            action=action,
            obj=push,
            actor=actor,
            old={"state": DataPush.State.HELD},
            new={"state": to, "note": note[:500], "reasons": push.hold_reasons},
        )
    return push


def push_release(*, actor, push_id: int, note: str = "") -> DataPush:
    """City staff release a held push: it becomes pending and is ingested (queued on commit), then
    screened by the cycle and answered in the outbound data like any push. Audited."""
    with transaction.atomic():
        push = _review(
            actor=actor, push_id=push_id, to=DataPush.State.PENDING, note=note, action="hardship.push.released"
        )
        transaction.on_commit(lambda: ingest_push.delay(push_id))
    return push


def push_reject(*, actor, push_id: int, note: str) -> DataPush:
    """City staff reject a held push, with a reason: nothing of it is ingested and its stored
    content is deleted. Audited."""
    if not note.strip():
        raise ServiceError("reason_required", _("Say why the push is rejected."))
    with transaction.atomic():
        push = _review(
            actor=actor, push_id=push_id, to=DataPush.State.REJECTED, note=note, action="hardship.push.rejected"
        )
        transaction.on_commit(lambda: stored_delete(push))
    return push
