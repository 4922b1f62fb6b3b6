"""Referrals (转介) of a case to a partner agency for one of its benefits."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.crypto import EncryptedTextField
from core.models import Agency
from hardship.models.cases import Case
from hardship.models.money import MONEY


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
        # Sent by mistake (wrong agency or benefit) or no longer wanted: taken back by union staff.
        WITHDRAWN = "withdrawn", _("Withdrawn")

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
