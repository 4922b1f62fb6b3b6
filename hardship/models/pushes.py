"""Agencies' data (数据推送): a push with its manifest and answer, and its rows."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.crypto import AeadJSONField, AeadTextField
from core.models import Agency
from members.models import Member


class PushKind(models.TextChoices):
    LOW_INCOME = "low_income", _("Low-income list (civil affairs)")
    WORK_INJURY = "work_injury", _("Work-injury list (human resources and social security)")
    MEDICAL = "medical", _("Medical reimbursement (medical insurance bureau)")
    DISABILITY = "disability", _("Disability list (disabled persons' federation)")
    AID_GIVEN = "aid_given", _("Aid already given by another body")


class DataPush(models.Model):
    """One agency's batch for one period (数据推送), with its manifest and the answer it got.

    The same (agency, batch_id) sent again changes nothing and gets `response` back.
    """

    class State(models.TextChoices):
        RECEIVING = "receiving", _("Receiving pages")
        PENDING = "pending", _("Waiting for ingestion")
        INGESTED = "ingested", _("Ingested")
        FAILED = "failed", _("Failed")
        # An unusual push (a handful of rows, a period long closed, many pushes of one period):
        # stored, not ingested, so neither screened nor in the outbound data, until city staff
        # release it (then pending) or reject it (hardship.ingest.holds).
        HELD = "held", _("Held for review")
        REJECTED = "rejected", _("Rejected by staff")

    class Source(models.TextChoices):
        API_JSON = "api_json", _("API (JSON)")
        API_FILE = "api_file", _("API (file)")
        ADMIN = "admin", _("Admin upload")

    agency = models.ForeignKey(Agency, verbose_name=_("agency"), on_delete=models.PROTECT, related_name="pushes")
    kind = models.CharField(_("kind"), max_length=20, choices=PushKind.choices)
    period = models.CharField(_("period"), max_length=7, help_text=_("A month (2025-03) or a quarter (2025-Q1)."))
    batch_id = models.CharField(_("batch id"), max_length=64)
    row_count = models.PositiveIntegerField(_("rows declared"))
    sha256 = models.CharField(_("SHA-256 of the content"), max_length=64)
    source = models.CharField(_("source"), max_length=10, choices=Source.choices)
    file = models.FileField(_("file"), upload_to="hardship/pushes/%Y/%m/", blank=True)
    encoding = models.CharField(_("encoding"), max_length=20, blank=True)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.PENDING)
    # A JSON push sent in pages: how many pages make it (1 for a file or a one-page push).
    pages = models.PositiveIntegerField(_("pages"), default=1)
    # Resume marker: every line up to this one has its row or its error stored (ingestion commits
    # chunk by chunk, and a restarted ingestion goes on after it).
    lines_done = models.PositiveIntegerField(_("lines ingested"), default=0)
    accepted = models.PositiveIntegerField(_("rows accepted"), default=0)
    rejected = models.PositiveIntegerField(_("rows rejected"), default=0)
    replaced = models.PositiveIntegerField(_("rows replacing earlier ones"), default=0)
    errors = models.JSONField(
        _("rejected rows"), default=list, blank=True
    )  # [{"line": n, "reason": code, "message": ...}]
    response = models.JSONField(_("first answer"), default=dict, blank=True)
    received_at = models.DateTimeField(_("received at"), default=timezone.now)
    ingested_at = models.DateTimeField(_("ingested at"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("uploaded by"), null=True, blank=True, on_delete=models.PROTECT
    )
    # Why the push was held (codes of hardship.ingest.holds.REASONS), and who released or rejected it.
    hold_reasons = models.JSONField(_("why it was held"), default=list, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reviewed by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    review_note = models.CharField(_("review note"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("data push")
        verbose_name_plural = _("data pushes")
        ordering = ["-received_at"]
        permissions = [
            # An agency's data covers the whole city and replaces its earlier rows: uploading a file
            # on an agency's behalf in the admin is for city-level staff holding this permission.
            ("upload_agency_data", _("Can upload a partner agency's data on its behalf (city level)")),
            # Releasing a held push lets its rows be screened and answered in the outbound data.
            ("review_held_push", _("Can release or reject a held data push (city level)")),
        ]
        constraints = [models.UniqueConstraint(fields=["agency", "batch_id"], name="push_batch_once_per_agency")]
        indexes = [models.Index(fields=["period", "kind"])]

    def __str__(self):
        return f"{self.agency.code}/{self.kind}/{self.period}/{self.batch_id}"


class PushRow(models.Model):
    """One accepted row of a push. A corrected row (same agency, period, kind and source key)
    replaces the old one: the old row is marked `superseded_by`, never deleted."""

    # A province's month is a million rows, written with COPY. Few indexes, since each one is
    # written for every row ((push, line) is unique and serves the push's key, (member, kind,
    # period) the member's). No database-level foreign-key checks: a million deferred trigger
    # checks cost 10+ s, and each check of `member` also locks (so writes, WAL-logs) the
    # member's row. Only hardship.ingest and screening.match_rows write these columns, with ids
    # just read (the ingestion clears a member that vanished meanwhile), and Django still
    # applies CASCADE, PROTECT and SET_NULL when a push, agency or member is deleted.
    push = models.ForeignKey(
        DataPush,
        verbose_name=_("data push"),
        on_delete=models.CASCADE,
        related_name="rows",
        db_index=False,
        db_constraint=False,
    )
    agency = models.ForeignKey(
        Agency,
        verbose_name=_("agency"),
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    kind = models.CharField(_("kind"), max_length=20, choices=PushKind.choices)
    period = models.CharField(_("period"), max_length=7)
    line = models.PositiveIntegerField(_("line"))
    source_key = models.CharField(_("source key"), max_length=64)
    # AES-GCM tokens (core.crypto.aead_*): two per row, millions of rows a month.
    id_number = AeadTextField(_("ID number"))
    # Not indexed: rows are matched to members by a hash join (screening.match_rows), or as they
    # are stored (hardship.ingest), never looked up one by one.
    id_index = models.CharField(_("ID number index"), max_length=64)
    # The row's fields (amounts, grades, dates, categories), encrypted as one JSON document.
    payload = AeadJSONField(_("data"))
    # Filled by matching (blind index → member: as rows are stored, and by the monthly cycle for
    # people who joined since); null for non-members, who are counted, not actioned.
    member = models.ForeignKey(
        Member,
        verbose_name=_("member"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="hardship_rows",
        db_index=False,
        db_constraint=False,
    )
    is_current = models.BooleanField(_("current"), default=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("pushed row")
        verbose_name_plural = _("pushed rows")
        constraints = [
            models.UniqueConstraint(
                fields=["agency", "kind", "period", "source_key"],
                condition=Q(is_current=True),
                name="pushrow_one_current_per_source_key",
            ),
            models.UniqueConstraint(fields=["push", "line"], name="pushrow_once_per_line"),
        ]
        indexes = [models.Index(fields=["member", "kind", "period"])]

    def __str__(self):
        return f"{self.push_id}:{self.line}"
