"""Shared services: the audit log, notifications and API keys."""

from collections.abc import Iterable
from typing import Any

from django.db import models, transaction
from django.utils import timezone

from core.models import Agency, ApiKey, AuditEntry


def _jsonable(value: Any) -> Any:
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def audit_log(
    *,
    action: str,
    obj: models.Model,
    actor=None,
    actor_label: str = "",
    old: dict | None = None,
    new: dict | None = None,
) -> AuditEntry:
    """Write one audit entry. Call it inside the transaction of the change it records.

    `action` is a dotted code such as ``members.application.approved``. Never pass
    personal data in clear (ID numbers, health, income): pass masked values.
    """
    if "." not in action:
        raise ValueError("audit action codes are dotted, e.g. members.application.approved")
    actor_user = actor if actor is not None and getattr(actor, "is_authenticated", False) else None
    return AuditEntry.objects.create(
        actor=actor_user,
        actor_label=actor_label or (str(actor_user) if actor_user else "system"),
        action=action,
        object_type=obj._meta.label_lower,
        object_id=str(obj.pk),
        object_repr=str(obj)[:200],
        old=_jsonable(old or {}),
        new=_jsonable(new or {}),
    )


def recipients_language():
    """Render a notification (inbox and SMS) in its recipients' language, not the actor's.

    `_()` follows the language of the request that runs the service: an approval by a staff member
    whose browser asks for English would text the worker in English. The project keeps no language
    per user, so notifications are written in the portal's language (settings.LANGUAGE_CODE,
    Chinese), for workers and staff alike. Use it around the `_()` calls that build the texts.
    """
    from django.conf import settings
    from django.utils import translation

    return translation.override(settings.LANGUAGE_CODE)


def notification_send(
    *,
    recipient_ids: Iterable[int],
    kind: str,
    title: str,
    body: str = "",
    link: str = "",
    sms: bool = False,
    dedupe_key: str = "",
) -> None:
    """Queue a notification for each recipient, delivered by Celery once the transaction commits.

    Strings should already be in the recipient's language: build them inside `recipients_language()`.
    `dedupe_key` makes delivery idempotent when a task is retried.
    """
    from core.tasks import deliver_notification

    payload = {"kind": kind, "title": str(title), "body": str(body), "link": link, "sms": sms}
    for rid in recipient_ids:
        key = f"{dedupe_key}:{rid}" if dedupe_key else ""
        transaction.on_commit(lambda rid=rid, key=key: deliver_notification.delay(rid, payload, key))


def api_key_create(
    *, agency: Agency | None, scopes: list[str], name: str = "", actor=None, merchant=None
) -> tuple[ApiKey, str]:
    """Create a key and return it with its secret, which is never stored and shown only now."""
    full, key_id, secret = ApiKey.new_secret()
    with transaction.atomic():
        key = ApiKey.objects.create(
            agency=agency,
            merchant=merchant,
            name=name,
            key_id=key_id,
            key_hash=ApiKey.digest(secret),
            scopes=sorted(set(scopes)),
        )
        new = {"scopes": key.scopes, "agency": agency}
        if merchant is not None:
            new["merchant"] = merchant
        audit_log(action="core.api_key.created", obj=key, actor=actor, new=new)
    return key, full


def api_key_revoke(*, key: ApiKey, actor=None) -> ApiKey:
    with transaction.atomic():
        if key.revoked_at is None:
            key.revoked_at = timezone.now()
            key.save(update_fields=["revoked_at"])
            audit_log(action="core.api_key.revoked", obj=key, actor=actor)
    return key


def notifications_mark_read(*, user, ids: Iterable[int]) -> int:
    """Mark the user's own notifications among `ids` read; return how many changed."""
    from core.models import Notification

    return Notification.objects.filter(recipient=user, pk__in=list(ids), read_at__isnull=True).update(
        read_at=timezone.now()
    )
