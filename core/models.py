import hashlib
import secrets

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history import register

from core.history import History


class AuditEntry(models.Model):
    """One important action: who did what to which object, with old and new values.

    Append-only: rows are written by `core.services.audit_log` inside the transaction of
    the change, and the admin offers no way to edit or delete them.
    """

    created_at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("actor"), null=True, blank=True, on_delete=models.PROTECT
    )
    actor_label = models.CharField(_("actor label"), max_length=100, blank=True)
    action = models.CharField(_("action"), max_length=100, db_index=True)
    object_type = models.CharField(_("object type"), max_length=100)
    object_id = models.CharField(_("object id"), max_length=64)
    object_repr = models.CharField(_("object"), max_length=200, blank=True)
    old = models.JSONField(_("old values"), default=dict, blank=True)
    new = models.JSONField(_("new values"), default=dict, blank=True)

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit log")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id"])]

    def __str__(self):
        return f"{self.action} {self.object_repr}"

    def save(self, *args, **kwargs):
        if self.pk:
            raise ValueError("audit entries are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("audit entries are append-only")


class Notification(models.Model):
    """A message in a worker's or staff member's in-portal inbox."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("recipient"), on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(_("kind"), max_length=100)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("body"), blank=True)
    link = models.CharField(_("link"), max_length=300, blank=True)
    dedupe_key = models.CharField(_("deduplication key"), max_length=200, unique=True, null=True, blank=True)
    created_at = models.DateTimeField(_("time"), default=timezone.now)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    sms_sent_at = models.DateTimeField(_("SMS sent at"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["recipient", "-created_at"])]

    def __str__(self):
        return self.title


class Agency(models.Model):
    """A partner government body (合作部门) that calls the API."""

    code = models.SlugField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=100)
    is_active = models.BooleanField(_("active"), default=True)
    # Deactivating an agency stops all its keys: every change is kept, with who made it.
    history = History()

    class Meta:
        verbose_name = _("partner agency")
        verbose_name_plural = _("partner agencies")
        ordering = ["code"]

    def __str__(self):
        return f"{self.name} ({self.code})"


class ApiKey(models.Model):
    """An API key: shown once, stored as a SHA-256 digest, with scopes, revocable.

    It belongs to a partner agency, or to an owner another app links to it (vouchers'
    MerchantApiKey): core knows no other owner. Created only by `core.services.api_key_create`.
    """

    PREFIX = "upk"

    agency = models.ForeignKey(
        Agency, verbose_name=_("agency"), null=True, blank=True, on_delete=models.CASCADE, related_name="api_keys"
    )
    name = models.CharField(_("name"), max_length=100, blank=True)
    key_id = models.CharField(_("key id"), max_length=16, unique=True)
    key_hash = models.CharField(_("key digest"), max_length=64)
    scopes = models.JSONField(_("scopes"), default=list)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)

    class Meta:
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")

    def __str__(self):
        return f"{self.PREFIX}_{self.key_id}…"

    @property
    def is_active(self) -> bool:
        if self.revoked_at is not None:
            return False
        return not (self.agency_id and not self.agency.is_active)

    @staticmethod
    def digest(secret: str) -> str:
        return hashlib.sha256(secret.encode()).hexdigest()

    @classmethod
    def new_secret(cls) -> tuple[str, str, str]:
        """Return (full key, key id, secret part)."""
        key_id = secrets.token_hex(6)
        secret = secrets.token_urlsafe(32)
        return f"{cls.PREFIX}_{key_id}_{secret}", key_id, secret


# Staff groups and the permissions they give: every change (the group's permissions included) is
# kept with old and new values and who made it (core.history); the admin shows it (core.admin).
register(Group, app="core", records_class=History, m2m_fields=["permissions"])
