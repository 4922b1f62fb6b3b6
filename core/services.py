"""Shared services: the audit log, notifications and API keys."""

from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, models, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from core.api_auth import AGENCY, holder_label, known_scopes, scopes_not_for
from core.errors import ServiceError
from core.models import Agency, ApiKey, AuditEntry, Notification
from core.sms import send_sms
from core.tasks import deliver_notification


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
    payload = {"kind": kind, "title": str(title), "body": str(body), "link": link, "sms": sms}
    for rid in recipient_ids:
        key = f"{dedupe_key}:{rid}" if dedupe_key else ""
        transaction.on_commit(lambda rid=rid, key=key: deliver_notification.delay(rid, payload, key))


def notification_deliver(*, recipient_id: int, payload: dict, dedupe_key: str = "") -> int | None:
    """Put a notification in the inbox and, if asked and the recipient has a mobile, send an SMS;
    return the notification's id (None when the recipient is gone). Run by the task that
    `notification_send` queues.

    Idempotent: a retried delivery with the same dedupe key creates nothing new and sends no
    second SMS.
    """
    user = get_user_model().objects.filter(pk=recipient_id).first()
    if user is None:
        return None
    try:
        with transaction.atomic():
            note = Notification.objects.create(
                recipient=user,
                kind=payload["kind"],
                title=payload["title"][:200],
                body=payload.get("body", ""),
                link=payload.get("link", ""),
                dedupe_key=dedupe_key or None,
            )
    except IntegrityError:
        note = Notification.objects.get(dedupe_key=dedupe_key)
    if payload.get("sms") and getattr(user, "mobile", None) and note.sms_sent_at is None:
        # Claim the SMS with a conditional update so two deliveries never both send it.
        claimed = Notification.objects.filter(pk=note.pk, sms_sent_at__isnull=True).update(sms_sent_at=timezone.now())
        if claimed == 1:
            send_sms(user.mobile, f"{note.title} {note.body}".strip())
    return note.pk


def api_key_validate(
    *, agency: Agency | None, scopes: Iterable[str], name: str = "", other_owner: str = ""
) -> tuple[list[str], str]:
    """The rules for a new key, in one place: `api_key_create` applies them, and the admin's form
    calls this to show a refusal beside the fields before anything is written.

    Returns the scopes (stripped, sorted, without repeats) and the name (stripped). A key belongs
    to exactly one owner: a partner agency, active, or an owner another app links to it
    (`other_owner`: the kind of that owner, as its app registered it, e.g. "merchant"). Its scopes
    are at least one, each registered by an app (`core.api_auth.register_scopes`) for the kind of
    holder the key has (a merchant's key cannot look up membership); its name is at most 100
    characters.
    """
    if agency is None and not other_owner:
        raise ServiceError("owner_required", _("Choose the partner agency the key is for."))
    if agency is not None and other_owner:
        raise ServiceError("two_owners", _("A key belongs to one owner: a partner agency or another, not both."))
    if agency is not None and not agency.is_active:
        raise ServiceError("agency_inactive", _("The agency %(agency)s is inactive.") % {"agency": agency})
    cleaned = sorted({s.strip() for s in scopes if s and s.strip()})
    known = known_scopes()
    if not cleaned:
        raise ServiceError(
            "scopes_required", _("Give at least one scope. Known scopes: %(known)s.") % {"known": ", ".join(known)}
        )
    unknown = [s for s in cleaned if s not in known]
    if unknown:
        raise ServiceError(
            "unknown_scope",
            _("Unknown scope(s): %(scopes)s. Known scopes: %(known)s.")
            % {"scopes": ", ".join(unknown), "known": ", ".join(known)},
        )
    holder = AGENCY if agency is not None else other_owner
    misfit = scopes_not_for(cleaned, holder)
    if misfit:
        raise ServiceError(
            "scope_not_for_holder",
            _("A %(holder)s's key cannot carry the scope(s) %(scopes)s.")
            % {"holder": holder_label(holder), "scopes": ", ".join(misfit)},
        )
    name = (name or "").strip()
    max_length = ApiKey._meta.get_field("name").max_length
    if len(name) > max_length:
        raise ServiceError("name_too_long", _("A key's name has at most %(max)d characters.") % {"max": max_length})
    return cleaned, name


def api_key_create(
    *,
    agency: Agency | None,
    scopes: Iterable[str],
    name: str = "",
    actor=None,
    attach_owner: Callable[[ApiKey], dict] | None = None,
    other_owner: str = "",
) -> tuple[ApiKey, str]:
    """Create a key and return it with its secret, which is never stored and shown only now.

    Refuses what `api_key_validate` refuses. An app that owns the key instead of an agency passes
    `attach_owner` and `other_owner`, the owner's kind (e.g. "merchant"): `attach_owner` is called
    with the new key in the same transaction, links the key to its owner and returns what the
    audit entry should say of the owner (e.g. ``{"merchant": 7}``).
    """
    if (attach_owner is None) != (not other_owner):
        raise TypeError("attach_owner and other_owner go together.")
    scopes, name = api_key_validate(agency=agency, scopes=scopes, name=name, other_owner=other_owner)
    full, key_id, secret = ApiKey.new_secret()
    with transaction.atomic():
        key = ApiKey.objects.create(
            agency=agency, name=name, key_id=key_id, key_hash=ApiKey.digest(secret), scopes=scopes
        )
        new = {"scopes": key.scopes, "agency": agency}
        if attach_owner is not None:
            new.update(attach_owner(key))
        audit_log(action="core.api_key.created", obj=key, actor=actor, new=new)
    return key, full


def api_key_revoke(*, key: ApiKey, actor=None, reason: str = "", detail: dict | None = None) -> ApiKey:
    """Revoke a key at once (every later request with it answers 401); a key revoked already keeps
    its first revocation. A conditional UPDATE: two staff revoking at once write one audit entry, which
    holds the reason and what the owner's app adds (`detail`, e.g. ``{"merchant": 7}``)."""
    now = timezone.now()
    with transaction.atomic():
        if not ApiKey.objects.filter(pk=key.pk, revoked_at__isnull=True).update(revoked_at=now):
            key.refresh_from_db(fields=["revoked_at"])
            return key
        key.revoked_at = now
        new = {"revoked_at": now, **(detail or {})}
        if reason:
            new["reason"] = reason
        audit_log(action="core.api_key.revoked", obj=key, actor=actor, new=new)
    return key


def notifications_mark_read(*, user, ids: Iterable[int]) -> int:
    """Mark the user's own notifications among `ids` read; return how many changed."""
    return Notification.objects.filter(recipient=user, pk__in=list(ids), read_at__isnull=True).update(
        read_at=timezone.now()
    )


def mydata_download_record(*, user, fmt: str) -> None:
    """Record in the audit log that a worker downloaded their own data (core.mydata)."""
    with transaction.atomic():
        audit_log(action="core.mydata.downloaded", obj=user, actor=user, new={"format": fmt})


def notifications_mark_all_read(*, user) -> int:
    """Mark every unread notification of the user read; return how many changed."""
    return Notification.objects.filter(recipient=user, read_at__isnull=True).update(read_at=timezone.now())
