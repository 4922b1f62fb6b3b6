"""Aid: the fund lines, aid under a case or a warmth batch, and the warmth roster."""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.crypto import EncryptedTextField
from hardship.models.cases import Case
from hardship.models.money import MONEY
from members.models import Member, Union


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
        CANCELLED = "cancelled", _("Cancelled")

    # A cancelled batch keeps its rows (its aid is rejected with it) but no longer holds its month.
    LIVE_STATES = (State.DRAFT, State.APPROVED, State.PAID)

    name = models.CharField(_("name"), max_length=100)
    union = models.ForeignKey(Union, verbose_name=_("union"), on_delete=models.PROTECT)
    period = models.CharField(_("period"), max_length=7)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.DRAFT)
    recipients = models.PositiveIntegerField(_("recipients"), default=0)
    total = models.DecimalField(_("total (CNY)"), default=Decimal("0"), **MONEY)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), null=True, on_delete=models.PROTECT, related_name="+"
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("approved by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("cancelled by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    cancel_reason = models.CharField(_("reason for cancelling"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("warmth batch")
        verbose_name_plural = _("warmth batches")
        ordering = ["-created_at"]
        constraints = [
            # One live batch per union and month; a cancelled one no longer holds the month.
            models.UniqueConstraint(
                fields=["union", "period"],
                condition=Q(state__in=["draft", "approved", "paid"]),
                name="warmth_batch_one_live_per_union_period",
            )
        ]

    def __str__(self):
        return self.name


class PaymentBatch(models.Model):
    """A payment of approved aid through the bank (支付批次): drawn up from the approved, unpaid aid
    of a union's subtree, sent to the bank as a file, then confirmed (its aid becomes paid) or
    cancelled (its aid is released). See `hardship.services.payments`."""

    class State(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SENT = "sent", _("Sent to the bank")
        CONFIRMED = "confirmed", _("Paid (confirmed)")
        CANCELLED = "cancelled", _("Cancelled")

    union = models.ForeignKey(Union, verbose_name=_("union"), on_delete=models.PROTECT, related_name="+")
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.DRAFT)
    aid_count = models.PositiveIntegerField(_("payments"), default=0)
    total = models.DecimalField(_("total (CNY)"), default=Decimal("0"), **MONEY)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("drawn up by"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("drawn up at"), default=timezone.now)
    sent_at = models.DateTimeField(_("sent to the bank at"), null=True, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("confirmed by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    cancel_reason = models.CharField(_("reason for cancelling"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("payment batch")
        verbose_name_plural = _("payment batches")
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"ZF{self.pk:06d}" if self.pk else "ZF"


class Aid(models.Model):
    """A payment or service under a case (帮扶), or to a warmth-roster member in a batch.

    When the household's aid recorded in the last `AID_WINDOW_DAYS` days, this one included, comes
    to more than `HardshipSettings.second_approval_above`, it needs a second staff member's approval
    (maker–checker; see `hardship.services.aid_create`): the approver is never the maker.
    Approved aid is paid through a `PaymentBatch` (approved → paid) or voided with a reason
    (approved → voided); rejected and voided aid count nowhere (`NOT_COUNTED`).
    """

    class State(models.TextChoices):
        PENDING_APPROVAL = "pending", _("Waiting for approval")
        APPROVED = "approved", _("Approved")
        PAID = "paid", _("Paid")
        REJECTED = "rejected", _("Rejected")
        VOIDED = "voided", _("Voided")

    # Aid that was refused or voided: it counts in no total, no check and no threshold.
    NOT_COUNTED = (State.REJECTED, State.VOIDED)

    case = models.ForeignKey(
        Case, verbose_name=_("case"), null=True, blank=True, on_delete=models.PROTECT, related_name="aid"
    )
    member = models.ForeignKey(
        Member, verbose_name=_("recipient"), on_delete=models.PROTECT, related_name="hardship_aid"
    )
    union = models.ForeignKey(Union, verbose_name=_("union"), on_delete=models.PROTECT, related_name="+")
    batch = models.ForeignKey(
        WarmthBatch, verbose_name=_("warmth batch"), null=True, blank=True, on_delete=models.PROTECT, related_name="aid"
    )
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
    created_at = models.DateTimeField(_("recorded at"), default=timezone.now)
    payment_batch = models.ForeignKey(
        PaymentBatch,
        verbose_name=_("payment batch"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="aid",
    )
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)
    voided_at = models.DateTimeField(_("voided at"), null=True, blank=True)
    voided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("voided by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # May describe health or income, like every reason on the timeline: encrypted at rest.
    void_reason = EncryptedTextField(_("reason for voiding"), blank=True)

    class Meta:
        verbose_name = _("aid")
        verbose_name_plural = _("aid")
        ordering = ["-paid_on", "-id"]
        constraints = [
            models.CheckConstraint(condition=~Q(approver=models.F("maker")), name="aid_approver_is_not_maker"),
            models.UniqueConstraint(
                fields=["batch", "member"], condition=Q(batch__isnull=False), name="aid_once_per_batch"
            ),
            # Only approved aid waits in a payment batch; paid aid always says when.
            models.CheckConstraint(
                condition=Q(payment_batch__isnull=True) | Q(state__in=["approved", "paid"]),
                name="aid_in_payment_batch_is_approved_or_paid",
            ),
            models.CheckConstraint(condition=~Q(state="paid") | Q(paid_at__isnull=False), name="aid_paid_has_paid_at"),
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
    added_at = models.DateTimeField(_("added at"), default=timezone.now)

    class Meta:
        verbose_name = _("warmth roster entry")
        verbose_name_plural = _("warmth roster")
        constraints = [models.UniqueConstraint(fields=["member", "year"], name="warmth_once_per_member_year")]

    def __str__(self):
        return f"{self.member.masked_name} {self.year}"
