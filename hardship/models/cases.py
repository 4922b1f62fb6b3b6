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

    case = models.ForeignKey(Case, verbose_name=_("case"), on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(_("kind"), max_length=40)
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
        return f"{self.case} {self.kind}"


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
