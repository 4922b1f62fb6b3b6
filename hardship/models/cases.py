"""Case files (建档): the case, its timeline and its documents."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.crypto import EncryptedTextField
from members.models import Member, Union


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

    # The categories that are hardship: what the latest assessment (or its override) must say for a
    # case to get aid or put its head on the warmth roster.
    IN_HARDSHIP_CATEGORIES = (Category.DEEP, Category.RELATIVE, Category.ACCIDENT)

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
    # Where the household lives (for visits): shown only to staff who reveal the person's identity.
    address = EncryptedTextField(_("household address"), blank=True)
    computed_category = models.CharField(_("computed category"), max_length=10, choices=Category.choices, blank=True)
    category = models.CharField(_("category"), max_length=10, choices=Category.choices, blank=True)
    # May describe health or income: encrypted at rest, like the figures above.
    category_override_reason = EncryptedTextField(_("reason for overriding the category"), blank=True)
    opened_at = models.DateTimeField(_("opened at"), default=timezone.now)
    filed_at = models.DateTimeField(_("filed at"), null=True, blank=True)
    review_due = models.DateField(_("yearly review due"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("hardship case")
        verbose_name_plural = _("hardship cases")
        ordering = ["-opened_at"]
        permissions = [
            # Hardship staff search for a case; supervisors may also list all cases in their scope.
            ("list_all_cases", _("Can list all hardship cases of the union subtree")),
            # Caseworkers who visit or call the household see its full name, ID number, mobile and
            # address, with a stated reason written to the access log (`services.case_reveal_person`).
            ("reveal_person", _("Can reveal the identity and contact details of a case's person")),
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

    class Kind(models.TextChoices):
        OPENED = "opened", _("Case opened")
        NOTE = "note", _("Note")
        EVIDENCE = "evidence", _("Screening evidence")
        STATE = "state", _("State changed")
        ASSESSMENT = "assessment", _("Assessed")
        CATEGORY_OVERRIDE = "category_override", _("Category overridden")
        NOT_IN_HARDSHIP = "not_in_hardship", _("Not in hardship")
        REVIEW = "review", _("Yearly review")
        DOCUMENT = "document", _("Document attached")
        AID = "aid", _("Aid entered")
        AID_APPROVED = "aid_approved", _("Aid approved")
        AID_REJECTED = "aid_rejected", _("Aid rejected")
        AID_VOIDED = "aid_voided", _("Aid voided")
        AID_PAID = "aid_paid", _("Aid paid")
        REFERRAL_SENT = "referral_sent", _("Referral sent")
        REFERRAL_ANSWERED = "referral_answered", _("Referral answered")
        REFERRAL_WITHDRAWN = "referral_withdrawn", _("Referral withdrawn")
        WARMTH_ROSTER = "warmth_roster", _("Put on the warmth roster")

    case = models.ForeignKey(Case, verbose_name=_("case"), on_delete=models.CASCADE, related_name="events")
    # Choices give every kind its label on the timeline; a kind without one shows as "Other entry".
    kind = models.CharField(_("kind"), max_length=40, choices=Kind.choices)
    # Free text copied from notes, reasons, purposes and agencies' answers (health, income):
    # encrypted at rest. `data` holds only references, codes and amounts.
    text = EncryptedTextField(_("text"), blank=True)
    data = models.JSONField(_("data"), default=dict, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("time"), default=timezone.now)

    class Meta:
        verbose_name = _("case event")
        verbose_name_plural = _("case timeline")
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"{self.case} {self.kind_label}"

    @property
    def kind_label(self) -> str:
        """The kind in the reader's language; never the raw code."""
        return str(self.Kind(self.kind).label) if self.kind in self.Kind.values else str(_("Other entry"))


class CaseDocument(models.Model):
    case = models.ForeignKey(Case, verbose_name=_("case"), on_delete=models.CASCADE, related_name="documents")
    file = models.FileField(_("file"), upload_to="hardship/documents/%Y/%m/")
    title = models.CharField(_("title"), max_length=100)
    content_type = models.CharField(_("file type"), max_length=50)
    size = models.PositiveIntegerField(_("size (bytes)"))
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("uploaded by"), null=True, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(_("uploaded at"), default=timezone.now)

    class Meta:
        verbose_name = _("case document")
        verbose_name_plural = _("case documents")

    def __str__(self):
        return self.title
