"""Transfers (转会): a member asks, the old union releases, the new union accepts; either may refuse."""

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import ServiceError
from core.services import audit_log, notification_send, recipients_language
from members.models import Member, Transfer, Union, User
from members.selectors import union_staff_ids
from members.services.scope import require_scope


def transfer_request(*, member: Member, to_union: Union, reason: str = "", actor: User) -> Transfer:
    if member.status != Member.Status.ACTIVE:
        raise ServiceError("not_active", _("Only active members can transfer."))
    if not to_union.holds_members or not to_union.is_active:
        raise ServiceError("union", _("Choose a grassroots or joint union to join."))
    if to_union.pk == member.union_id:
        raise ServiceError("same_union", _("You are already a member of this union."))
    try:
        with transaction.atomic():
            transfer = Transfer.objects.create(member=member, from_union=member.union, to_union=to_union, reason=reason)
            audit_log(
                action="members.transfer.requested",
                obj=transfer,
                actor=actor,
                new={"from": member.union_id, "to": to_union.pk},
            )
            with recipients_language():
                notification_send(
                    recipient_ids=union_staff_ids(member.union),
                    kind="members.transfer.requested",
                    title=_("Transfer request"),
                    body=_("%(name)s asks to move to %(union)s.")
                    % {"name": member.masked_name, "union": to_union.name},
                    link=f"/admin/members/transfer/{transfer.pk}/change/",
                )
    except IntegrityError:
        raise ServiceError("transfer_open", _("You already have a transfer in progress.")) from None
    return transfer


def transfer_release(*, transfer: Transfer, actor: User) -> Transfer:
    """The old union lets the member go."""
    require_scope(actor, transfer.from_union)
    with transaction.atomic():
        t = Transfer.objects.select_for_update().get(pk=transfer.pk)
        if t.status != Transfer.Status.REQUESTED:
            raise ServiceError("bad_state", _("This transfer cannot be released now."))
        t.status, t.released_at, t.released_by = Transfer.Status.RELEASED, timezone.now(), actor
        t.save(update_fields=["status", "released_at", "released_by"])
        audit_log(
            action="members.transfer.released",
            obj=t,
            actor=actor,
            old={"status": "requested"},
            new={"status": "released"},
        )
        with recipients_language():
            notification_send(
                recipient_ids=union_staff_ids(t.to_union),
                kind="members.transfer.released",
                title=_("Transfer waiting for acceptance"),
                body=_("%(name)s was released by %(union)s.")
                % {"name": t.member.masked_name, "union": t.from_union.name},
                link=f"/admin/members/transfer/{t.pk}/change/",
            )
    return t


def transfer_accept(*, transfer: Transfer, actor: User) -> Transfer:
    """The new union takes the member in; the member's union changes (kept in its history)."""
    require_scope(actor, transfer.to_union)
    with transaction.atomic():
        t = Transfer.objects.select_for_update().get(pk=transfer.pk)
        if t.status != Transfer.Status.RELEASED:
            raise ServiceError("bad_state", _("The old union must release the member first."))
        member = Member.objects.select_for_update().get(pk=t.member_id)
        if member.status != Member.Status.ACTIVE:
            # The member left or was suspended since asking: the transfer can only be rejected.
            raise ServiceError("not_active", _("This member is no longer active, so the transfer cannot be accepted."))
        old_union = member.union_id
        member.union = t.to_union
        member._change_reason = f"transfer {t.pk}"
        member.save(update_fields=["union"])
        t.status, t.completed_at, t.completed_by = Transfer.Status.COMPLETED, timezone.now(), actor
        t.save(update_fields=["status", "completed_at", "completed_by"])
        audit_log(
            action="members.transfer.accepted",
            obj=t,
            actor=actor,
            old={"status": "released", "union": old_union},
            new={"status": "completed", "union": t.to_union_id},
        )
        if member.user_id:
            with recipients_language():
                notification_send(
                    recipient_ids=[member.user_id],
                    kind="members.transfer.accepted",
                    title=_("Your transfer is complete"),
                    body=_("You are now a member of %(union)s.") % {"union": t.to_union.name},
                    link="/m/card/",
                    dedupe_key=f"transfer-accepted-{t.pk}",
                )
    return t


def transfer_reject(*, transfer: Transfer, actor: User, reason: str) -> Transfer:
    """Either union may refuse: the old one before releasing, the new one before accepting."""
    if not (reason or "").strip():
        raise ServiceError("reason_required", _("Give a reason for the rejection."))
    with transaction.atomic():
        t = Transfer.objects.select_for_update().get(pk=transfer.pk)
        # Which union may refuse is read from the locked row: a release that just happened hands
        # the decision to the new union, whatever the caller's copy of the transfer says.
        require_scope(actor, t.from_union if t.status == Transfer.Status.REQUESTED else t.to_union)
        if t.status not in (Transfer.Status.REQUESTED, Transfer.Status.RELEASED):
            raise ServiceError("bad_state", _("This transfer is already closed."))
        old = t.status
        t.status, t.rejected_at, t.rejected_by, t.reject_reason = (
            Transfer.Status.REJECTED,
            timezone.now(),
            actor,
            reason,
        )
        t.save(update_fields=["status", "rejected_at", "rejected_by", "reject_reason"])
        audit_log(
            action="members.transfer.rejected",
            obj=t,
            actor=actor,
            old={"status": old},
            new={"status": "rejected", "reason": reason},
        )
        if t.member.user_id:
            with recipients_language():
                notification_send(
                    recipient_ids=[t.member.user_id],
                    kind="members.transfer.rejected",
                    title=_("Your transfer was not approved"),
                    body=reason,
                    dedupe_key=f"transfer-rejected-{t.pk}",
                )
    return t
