"""Hardship assistance (困难职工帮扶): agency data in, screening, case files, aid, referrals.

Personal data (ID numbers, health, income, disability) is stored encrypted: ID numbers as a
token plus the keyed blind index shared with `members.Member.id_index`; row payloads,
evidence, assessment figures and the free text that may describe health or income (candidate
notes, the category-override reason, the timeline's text, referral notes and answers) in
`EncryptedTextField`/`EncryptedJSONField` columns (pushed rows in their AES-GCM variants
`AeadTextField`/`AeadJSONField`, for speed).
"""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.crypto import AeadJSONField, AeadTextField, EncryptedJSONField, EncryptedTextField
from core.history import History
from core.models import Agency
from members.models import Member, Union

MONEY = {"max_digits": 12, "decimal_places": 2}


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

    class Meta:
        verbose_name = _("data push")
        verbose_name_plural = _("data pushes")
        ordering = ["-received_at"]
        permissions = [
            # An agency's data covers the whole city and replaces its earlier rows: uploading a file
            # on an agency's behalf in the admin is for city-level staff holding this permission.
            ("upload_agency_data", _("Can upload a partner agency's data on its behalf (city level)")),
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
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+", db_index=False, db_constraint=False)
    kind = models.CharField(_("kind"), max_length=20, choices=PushKind.choices)
    period = models.CharField(_("period"), max_length=7)
    line = models.PositiveIntegerField(_("line"))
    source_key = models.CharField(_("source key"), max_length=64)
    # AES-GCM tokens (core.crypto.aead_*): two per row, millions of rows a month.
    id_number = AeadTextField(_("ID number"))
    # Not indexed: rows are matched to members by a hash join (screening.match_rows), or as they
    # are stored (hardship.ingest), never looked up one by one.
    id_index = models.CharField(max_length=64)
    # The row's fields (amounts, grades, dates, categories), encrypted as one JSON document.
    payload = AeadJSONField(_("data"))
    # Filled by matching (blind index → member: as rows are stored, and by the monthly cycle for
    # people who joined since); null for non-members, who are counted, not actioned.
    member = models.ForeignKey(
        Member,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="hardship_rows",
        db_index=False,
        db_constraint=False,
    )
    is_current = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

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


class ScreeningRule(models.Model):
    """A rule staff edit in the admin; each hit is a candidate for staff to review."""

    class Kind(models.TextChoices):
        MEDICAL_OUT_OF_POCKET = "medical_oop_12m", _("Out-of-pocket medical spending over 12 months at least")
        LOW_INCOME = "low_income", _("On a low-income (低保/低边) list")
        WORK_INJURY_GRADE = "work_injury_grade", _("Work-injury disability grade at or above")
        DISABILITY_GRADE = "disability_grade", _("Disability grade at or above")
        OTHER_AID = "other_aid", _("Aid from another body in the period")

    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=30, choices=Kind.choices)
    threshold_amount = models.DecimalField(_("threshold amount (CNY)"), null=True, blank=True, **MONEY)
    # Grades run 1 (most severe) upwards: "at or above grade 2" means grade 1 or 2.
    grade_at_least = models.PositiveSmallIntegerField(_("grade at or above"), null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    adds_to_warmth_roster = models.BooleanField(
        _("adds to the warmth roster"),
        default=False,
        help_text=_("Confirmed hits of this rule join the warmth roster."),
    )
    # Every version, with who changed it (core.history); the admin shows it.
    history = History()

    class Meta:
        verbose_name = _("screening rule")
        verbose_name_plural = _("screening rules")
        ordering = ["kind", "name"]

    def __str__(self):
        return self.name


class Candidate(models.Model):
    """A member flagged by screening (潜在困难职工), with the evidence, for staff to review.

    Screening never decides against a person: it only adds to this worklist. A dismissed
    candidate does not come back for the same evidence (`evidence_key`).
    """

    class State(models.TextChoices):
        OPEN = "open", pgettext_lazy("candidate state", "Open")
        CONFIRMED = "confirmed", _("Confirmed")
        DISMISSED = "dismissed", _("Dismissed")

    member = models.ForeignKey(
        Member, verbose_name=_("member"), on_delete=models.CASCADE, related_name="hardship_candidates"
    )
    union = models.ForeignKey(Union, verbose_name=_("union"), on_delete=models.PROTECT, related_name="+")
    rule = models.ForeignKey(ScreeningRule, verbose_name=_("rule"), on_delete=models.PROTECT)
    period = models.CharField(_("period"), max_length=7)
    evidence = EncryptedJSONField(_("evidence"))  # {"rows": [ids], "amount": "…", "grade": n, ...}
    evidence_key = models.CharField(max_length=64)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.OPEN)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # Why it was dismissed or confirmed: may describe health or income, so encrypted at rest.
    note = EncryptedTextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("candidate")
        verbose_name_plural = _("candidates")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["member", "rule", "evidence_key"], name="candidate_once_per_evidence")
        ]
        indexes = [models.Index(fields=["state", "union"])]

    def __str__(self):
        return f"{self.member.masked_name} · {self.rule}"


class LocalStandard(models.Model):
    """The local minimum living standard (低保标准), per district/county union and year, CNY per month."""

    union = models.ForeignKey(Union, verbose_name=_("district or county union"), on_delete=models.PROTECT)
    year = models.PositiveSmallIntegerField(_("year"))
    monthly_amount = models.DecimalField(
        _("monthly amount (CNY)"), validators=[MinValueValidator(Decimal("0.01"))], **MONEY
    )
    history = History()

    class Meta:
        verbose_name = _("local minimum living standard")
        verbose_name_plural = _("local minimum living standards")
        constraints = [models.UniqueConstraint(fields=["union", "year"], name="one_standard_per_union_year")]

    def __str__(self):
        return f"{self.union} {self.year}: {self.monthly_amount}"


class HardshipSettings(models.Model):
    """Settings for the whole city (a single row), changed in the admin by city-level staff only
    (`hardship.services.settings_change`, audited); the second-approval threshold also needs
    `hardship.change_second_approval`."""

    second_approval_above = models.DecimalField(
        _("aid above this amount needs a second approver (CNY)"),
        default=Decimal("5000"),
        help_text=_(
            "Counted per case and month: when a case's aid of one month (waiting for approval, approved "
            "or paid, any fund line), together with the new aid, comes to more than this amount, the new "
            "aid needs a second approver. Splitting aid into smaller amounts does not avoid it."
        ),
        **MONEY,
    )
    document_max_bytes = models.PositiveIntegerField(_("largest document (bytes)"), default=10 * 1024 * 1024)
    # Each version besides the audit entry, for the admin's history page.
    history = History()

    class Meta:
        verbose_name = _("hardship settings")
        verbose_name_plural = _("hardship settings")
        permissions = [
            # The maker–checker threshold: city-level staff only, and only with this permission.
            ("change_second_approval", _("Can change the second-approval threshold (city level)")),
        ]

    def __str__(self):
        return str(self._meta.verbose_name)

    @classmethod
    def get(cls) -> "HardshipSettings":
        obj, _created = cls.objects.get_or_create(pk=1)
        return obj


class Case(models.Model):
    """A hardship case file (困难职工档案), one per household, headed by a member."""

    class State(models.TextChoices):
        CANDIDATE = "candidate", _("Candidate")
        CONTACTED = "contacted", _("Contacted")
        ASSESSING = "assessing", _("Assessing")
        FILED = "filed", _("Filed")
        RECEIVING_AID = "receiving_aid", _("Receiving aid")
        EXITED = "exited", _("Out of hardship (脱困)")
        RESOLVED = "resolved", _("Hardship resolved (解困)")
        WITHDRAWN = "withdrawn", _("Withdrawn (退档)")

    OPEN_STATES = (State.CANDIDATE, State.CONTACTED, State.ASSESSING, State.FILED, State.RECEIVING_AID)

    class Category(models.TextChoices):
        DEEP = "deep", _("Deep hardship (深度困难)")
        RELATIVE = "relative", _("Relative hardship (相对困难)")
        ACCIDENT = "accident", _("Hardship from accident or illness (意外致困)")
        NONE = "none", _("Not in hardship")

    head = models.ForeignKey(
        Member, verbose_name=_("head of household"), on_delete=models.PROTECT, related_name="hardship_cases"
    )
    union = models.ForeignKey(Union, verbose_name=_("union"), on_delete=models.PROTECT, related_name="hardship_cases")
    case_no = models.CharField(_("case number"), max_length=20, unique=True, null=True, blank=True)  # noqa: DJ001
    state = models.CharField(_("state"), max_length=15, choices=State.choices, default=State.CANDIDATE)
    household_size = models.PositiveSmallIntegerField(_("household size"), null=True, blank=True)
    # Assessment figures (CNY per year), encrypted at rest.
    annual_income = EncryptedTextField(_("household income per year"), blank=True)
    medical_expenditure = EncryptedTextField(_("medical expenditure per year"), blank=True)
    schooling_expenditure = EncryptedTextField(_("schooling expenditure per year"), blank=True)
    sudden_accident = models.BooleanField(_("sudden accident or major illness"), default=False)
    health_notes = EncryptedTextField(_("health and disability notes"), blank=True)
    computed_category = models.CharField(_("computed category"), max_length=10, choices=Category.choices, blank=True)
    category = models.CharField(_("category"), max_length=10, choices=Category.choices, blank=True)
    # May describe health or income: encrypted at rest, like the figures above.
    category_override_reason = EncryptedTextField(_("reason for overriding the category"), blank=True)
    opened_at = models.DateTimeField(_("opened at"), default=timezone.now)
    filed_at = models.DateTimeField(_("filed at"), null=True, blank=True)
    review_due = models.DateField(_("yearly review due"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("hardship case")
        verbose_name_plural = _("hardship cases")
        ordering = ["-opened_at"]
        permissions = [
            # Hardship staff search for a case; supervisors may also list all cases in their scope.
            ("list_all_cases", _("Can list all hardship cases of the union subtree")),
        ]
        constraints = [
            # One open case per household head.
            models.UniqueConstraint(
                fields=["head"],
                condition=Q(state__in=["candidate", "contacted", "assessing", "filed", "receiving_aid"]),
                name="case_one_open_per_household",
            )
        ]
        indexes = [models.Index(fields=["state", "union"]), models.Index(fields=["review_due"])]

    def __str__(self):
        return self.case_no or f"#{self.pk}"

    @property
    def is_open(self) -> bool:
        return self.state in self.OPEN_STATES


class CaseEvent(models.Model):
    """The case's timeline: state changes, new evidence, aid, referral outcomes, notes."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(_("kind"), max_length=40)
    # Free text copied from notes, reasons, purposes and agencies' answers (health, income):
    # encrypted at rest. `data` holds only references, codes and amounts.
    text = EncryptedTextField(_("text"), blank=True)
    data = models.JSONField(default=dict, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("time"), default=timezone.now)

    class Meta:
        verbose_name = _("case event")
        verbose_name_plural = _("case timeline")
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"{self.case} {self.kind}"


class CaseDocument(models.Model):
    case = models.ForeignKey(Case, verbose_name=_("case"), on_delete=models.CASCADE, related_name="documents")
    file = models.FileField(_("file"), upload_to="hardship/documents/%Y/%m/")
    title = models.CharField(_("title"), max_length=100)
    content_type = models.CharField(max_length=50)
    size = models.PositiveIntegerField(_("size (bytes)"))
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(_("uploaded at"), default=timezone.now)

    class Meta:
        verbose_name = _("case document")
        verbose_name_plural = _("case documents")

    def __str__(self):
        return self.title


class FundLine(models.TextChoices):
    LIVING = "living", _("Living aid")
    SCHOOLING = "schooling", _("Schooling aid")
    ILLNESS = "illness", _("Serious illness aid")
    TRAINING = "training", _("Training and jobs")
    WARMTH = "warmth", _("Sending warmth (送温暖)")


class WarmthBatch(models.Model):
    """A batch payment to the warmth roster (常态化送温暖), e.g. 445 people, 318,600 CNY."""

    class State(models.TextChoices):
        DRAFT = "draft", _("Draft")
        APPROVED = "approved", _("Approved")
        PAID = "paid", _("Paid")

    name = models.CharField(_("name"), max_length=100)
    union = models.ForeignKey(Union, verbose_name=_("union"), on_delete=models.PROTECT)
    period = models.CharField(_("period"), max_length=7)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.DRAFT)
    recipients = models.PositiveIntegerField(_("recipients"), default=0)
    total = models.DecimalField(_("total (CNY)"), default=Decimal("0"), **MONEY)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("warmth batch")
        verbose_name_plural = _("warmth batches")
        ordering = ["-created_at"]

    def __str__(self):
        return self.name


class Aid(models.Model):
    """A payment or service under a case (帮扶), or to a warmth-roster member in a batch.

    When the case's aid of the month, this one included, comes to more than
    `HardshipSettings.second_approval_above`, it needs a second staff member's approval
    (maker–checker; see `hardship.services.aid_create`): the approver is never the maker.
    """

    class State(models.TextChoices):
        PENDING_APPROVAL = "pending", _("Waiting for approval")
        APPROVED = "approved", _("Approved")
        PAID = "paid", _("Paid")
        REJECTED = "rejected", _("Rejected")

    case = models.ForeignKey(
        Case, verbose_name=_("case"), null=True, blank=True, on_delete=models.PROTECT, related_name="aid"
    )
    member = models.ForeignKey(
        Member, verbose_name=_("recipient"), on_delete=models.PROTECT, related_name="hardship_aid"
    )
    union = models.ForeignKey(Union, verbose_name=_("union"), on_delete=models.PROTECT, related_name="+")
    batch = models.ForeignKey(WarmthBatch, null=True, blank=True, on_delete=models.PROTECT, related_name="aid")
    fund_line = models.CharField(_("fund line"), max_length=10, choices=FundLine.choices)
    amount = models.DecimalField(_("amount (CNY)"), validators=[MinValueValidator(Decimal("0.01"))], **MONEY)
    purpose = models.CharField(_("purpose"), max_length=200)
    paid_on = models.DateField(_("date"))
    period = models.CharField(_("period"), max_length=7)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.PENDING_APPROVAL)
    maker = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("entered by"), on_delete=models.PROTECT, related_name="+"
    )
    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("approved by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("aid")
        verbose_name_plural = _("aid")
        ordering = ["-paid_on", "-id"]
        constraints = [
            models.CheckConstraint(condition=~Q(approver=models.F("maker")), name="aid_approver_is_not_maker"),
            models.UniqueConstraint(
                fields=["batch", "member"], condition=Q(batch__isnull=False), name="aid_once_per_batch"
            ),
        ]
        indexes = [models.Index(fields=["member", "period"]), models.Index(fields=["union", "period", "fund_line"])]

    def __str__(self):
        return f"{self.get_fund_line_display()} {self.amount}"


class WarmthRosterEntry(models.Model):
    """A regular recipient of holiday and seasonal aid (常态化送温暖对象) for a year."""

    class Source(models.TextChoices):
        CASE = "case", _("Open case")
        SCREENING = "screening", _("Screening category")

    member = models.ForeignKey(Member, verbose_name=_("member"), on_delete=models.CASCADE, related_name="warmth_roster")
    union = models.ForeignKey(Union, verbose_name=_("union"), on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField(_("year"))
    source = models.CharField(_("source"), max_length=10, choices=Source.choices)
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("warmth roster entry")
        verbose_name_plural = _("warmth roster")
        constraints = [models.UniqueConstraint(fields=["member", "year"], name="warmth_once_per_member_year")]

    def __str__(self):
        return f"{self.member.masked_name} {self.year}"


class Referral(models.Model):
    """A case handed to an agency for one of its benefits (转介)."""

    class Benefit(models.TextChoices):
        DISABILITY_INSURANCE = "disability_insurance", _("Disability accident insurance")
        LOW_INCOME_STATUS = "low_income_status", _("Low-income status")
        WORK_INJURY_COMPENSATION = "work_injury_compensation", _("Work-injury compensation")

    class State(models.TextChoices):
        SENT = "sent", _("Sent")
        GRANTED = "granted", _("Granted")
        REFUSED = "refused", _("Refused")

    case = models.ForeignKey(Case, verbose_name=_("case"), on_delete=models.PROTECT, related_name="referrals")
    agency = models.ForeignKey(Agency, verbose_name=_("agency"), on_delete=models.PROTECT, related_name="referrals")
    benefit = models.CharField(_("benefit"), max_length=30, choices=Benefit.choices)
    # The referral's note and the agency's answer describe health and income: encrypted at rest.
    note = EncryptedTextField(_("note"), blank=True)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.SENT)
    amount = models.DecimalField(_("amount granted (CNY)"), null=True, blank=True, **MONEY)
    outcome_note = EncryptedTextField(_("agency's note"), blank=True)
    sent_at = models.DateTimeField(_("sent at"), default=timezone.now)
    sent_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)

    class Meta:
        verbose_name = _("referral")
        verbose_name_plural = _("referrals")
        ordering = ["-sent_at"]

    def __str__(self):
        return f"{self.case} → {self.agency.code}: {self.get_benefit_display()}"


class CycleRun(models.Model):
    """The monthly cycle for one period: its steps, their state and figures.

    Each step commits on its own and records itself here; a rerun skips the steps already
    done and redoes the one that was interrupted (every step is idempotent).
    """

    STEPS = ("ingest", "match", "screen", "roster", "notify", "publish")

    class State(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    period = models.CharField(_("period"), max_length=7, unique=True)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.QUEUED)
    steps = models.JSONField(_("steps"), default=dict, blank=True)  # {"ingest": {"state": "done", "figures": {...}}}
    started_at = models.DateTimeField(_("started at"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    runs = models.PositiveIntegerField(_("times run"), default=0)
    # The claim: who runs it now and when it last showed life (a stale claim is taken over).
    worker = models.CharField(_("worker"), max_length=100, blank=True)
    heartbeat_at = models.DateTimeField(_("last heartbeat"), null=True, blank=True)
    # When the outbound data for the agencies was published (GET /api/v1/hardship/outbound).
    published_at = models.DateTimeField(_("outbound data published at"), null=True, blank=True)

    class Meta:
        verbose_name = _("monthly cycle")
        verbose_name_plural = _("monthly cycles")
        ordering = ["-period"]

    def __str__(self):
        return self.period


class AccessLog(models.Model):
    """Who opened or exported which case file, when. Append-only; nobody can edit it."""

    class Action(models.TextChoices):
        OPEN = "open", _("Opened")
        EXPORT = "export", _("Exported")
        SEARCH = "search", _("Searched")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.PROTECT)
    action = models.CharField(_("action"), max_length=10, choices=Action.choices)
    case = models.ForeignKey(Case, verbose_name=_("case"), null=True, blank=True, on_delete=models.PROTECT)
    detail = models.CharField(_("detail"), max_length=200, blank=True)
    at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("case access")
        verbose_name_plural = _("case access log")
        ordering = ["-at"]

    def __str__(self):
        return f"{self.user} {self.action} {self.case_id}"

    def save(self, *args, **kwargs):
        if self.pk:
            raise ValueError("the access log is append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("the access log is append-only")
