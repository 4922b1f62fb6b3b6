"""Screening: the rules staff edit and the candidates their hits raise."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.crypto import EncryptedJSONField, EncryptedTextField
from core.history import History
from hardship.models.money import MONEY
from members.models import Member, Union


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
    evidence_key = models.CharField(_("evidence key"), max_length=64)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.OPEN)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
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
