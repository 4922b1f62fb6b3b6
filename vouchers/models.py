"""Vouchers (工会消费券): merchants, campaigns on union benefit day, claims and redemption (核销).

The database is the source of truth for stock and claims; Redis (when configured) only
answers the rush quickly and is rebuilt from these tables by a reconciliation command.
"""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.history import History
from core.parsing import validate_credit_code
from members.models import Member, Union
from members.validators import validate_mobile

MONEY = {"max_digits": 12, "decimal_places": 2}
REFUND_WINDOW_MAX_HOURS = 24 * 365


class MerchantCategory(models.TextChoices):
    FOOD = "food", _("Food and dining")
    SUPERMARKET = "supermarket", _("Supermarkets")
    APPLIANCES = "appliances", _("Home appliances")
    DIGITAL = "digital", _("Phones and electronics")
    CLOTHING = "clothing", _("Clothing and shoes")
    TRAVEL = "travel", _("Travel")
    RIDE_HAILING = "ride_hailing", _("Ride-hailing")
    FUEL = "fuel", _("Fuel and car care")
    CONCERTS = "concerts", _("Concerts and shows")
    CINEMA = "cinema", _("Cinemas")
    HAIRCUT = "haircut", _("Hairdressing")
    HEALTH = "health", _("Health and pharmacies")
    FITNESS = "fitness", _("Sports and fitness")
    BOOKS = "books", _("Books and stationery")
    EDUCATION = "education", _("Training and education")
    HOTEL = "hotel", _("Hotels")
    SCENIC = "scenic", _("Scenic spots")
    HOUSEKEEPING = "housekeeping", _("Housekeeping")
    FURNITURE = "furniture", _("Furniture and home")
    AGRICULTURE = "agriculture", _("Farm produce (消费帮扶)")
    MATERNAL = "maternal", _("Mother and baby")
    OTHER = "other", _("Other services")


class Merchant(models.Model):
    class State(models.TextChoices):
        APPLIED = "applied", _("Applied")
        APPROVED = "approved", _("Approved")
        SUSPENDED = "suspended", _("Suspended")

    name = models.CharField(_("name"), max_length=150)
    category = models.CharField(_("category"), max_length=20, choices=MerchantCategory.choices)
    address = models.CharField(_("address"), max_length=200)
    credit_code = models.CharField(
        _("licence (unified social credit code)"), max_length=18, unique=True, validators=[validate_credit_code]
    )
    contact_name = models.CharField(_("contact"), max_length=50)
    contact_mobile = models.CharField(_("contact mobile"), max_length=11, validators=[validate_mobile])
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.APPLIED)
    # Redemptions per day in a normal month, for the fraud signal "far above its usual rate".
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    # Every version, with who changed it (core.history); the state changes through the audited
    # services of vouchers.merchants. The contact's mobile is kept as this table keeps it.
    history = History()

    class Meta:
        verbose_name = _("merchant")
        verbose_name_plural = _("merchants")
        ordering = ["name"]

    def __str__(self):
        return self.name


class MerchantStaff(models.Model):
    """A merchant's staff account: redeems vouchers on the merchant's phone page."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="merchant_staff"
    )
    merchant = models.ForeignKey(Merchant, verbose_name=_("merchant"), on_delete=models.CASCADE, related_name="staff")
    # Who was given (or lost) a merchant's redemption page, when and by whom (core.history).
    history = History()

    class Meta:
        verbose_name = _("merchant staff")
        verbose_name_plural = _("merchant staff")

    def __str__(self):
        return f"{self.user} @ {self.merchant}"


class MerchantApiKey(models.Model):
    """A merchant's API key: vouchers links the merchant to the key (core's ApiKey knows no merchant).

    The key works only while its merchant is approved (`vouchers.selectors.merchant_key_usable`,
    checked by core's key authentication on every request). Created by
    `vouchers.services.merchants.merchant_api_key_create`.
    """

    key = models.OneToOneField(
        "core.ApiKey", verbose_name=_("API key"), on_delete=models.CASCADE, related_name="merchant_link"
    )
    # PROTECT: a merchant's keys are deleted before it (or, as usual, revoked and the merchant suspended).
    merchant = models.ForeignKey(
        Merchant, verbose_name=_("merchant"), on_delete=models.PROTECT, related_name="api_key_links"
    )
    # Why staff revoked it (`merchant_api_key_revoke`; the key's own revoked_at says when).
    revoke_reason = models.CharField(_("reason for revoking"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("merchant API key")
        verbose_name_plural = _("merchant API keys")

    def __str__(self):
        return f"{self.key} @ {self.merchant}"


class CampaignKind(models.TextChoices):
    DISCOUNT = "discount", _("Spend-threshold discount (满减)")
    TRADE_IN = "trade_in", _("Appliance trade-in (以旧换新)")
    TICKETS = "tickets", _("Event tickets")
    RIDE_HAILING = "ride_hailing", _("Ride-hailing")


class Distribution(models.TextChoices):
    FIRST_COME = "first_come", _("First come, first served")
    DRAW = "draw", _("Draw (抽签)")


class CampaignRules(models.Model):
    """The rules a campaign and a monthly template share."""

    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=20, choices=CampaignKind.choices, default=CampaignKind.DISCOUNT)
    face_value = models.DecimalField(_("face value (CNY)"), validators=[MinValueValidator(Decimal("0.01"))], **MONEY)
    threshold = models.DecimalField(_("spending threshold (CNY)"), default=Decimal("0"), **MONEY)
    stackable = models.BooleanField(_("vouchers stack"), default=False)
    max_per_order = models.PositiveSmallIntegerField(
        _("at most per order"), default=1, validators=[MinValueValidator(1)]
    )
    total_stock = models.PositiveIntegerField(_("total stock"))
    budget = models.DecimalField(_("budget (CNY)"), **MONEY)
    limit_per_member = models.PositiveSmallIntegerField(
        _("limit per member"), default=1, validators=[MinValueValidator(1)]
    )
    limit_per_member_month = models.PositiveSmallIntegerField(_("limit per member per month"), null=True, blank=True)
    distribution = models.CharField(
        _("distribution"), max_length=12, choices=Distribution.choices, default=Distribution.FIRST_COME
    )
    eligible_union = models.ForeignKey(
        Union, verbose_name=_("only members of"), null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        help_text=_("Leave empty for every member of the city."),
    )  # fmt: skip
    eligible_forms = models.JSONField(
        _("only these forms of employment"), default=list, blank=True, help_text=_("Empty: every form.")
    )
    valid_days = models.PositiveSmallIntegerField(
        _("valid for days after claiming"), null=True, blank=True, help_text=_("Or fixed dates below.")
    )
    accepted_categories = models.JSONField(_("accepted merchant categories"), default=list, blank=True)

    class Meta:
        abstract = True

    def clean(self):
        super().clean()
        raise_problems(rules_problems(self))


# --- The rules of a campaign, in one place ------------------------------------------------------
# Each check gives (field, code, message). The model's clean() shows them beside the admin's
# fields; the services (vouchers.services.campaigns) refuse with the same ones (ServiceError), and
# the database constraints below are the last guard of those that need no clock.


def rules_problems(rules: "CampaignRules") -> list[tuple[str, str, str]]:
    """The rules a template and a campaign share: with a threshold (满), it is above the face value;
    some stock, and a budget that covers it (a template's campaigns are scheduled unattended: one
    that cannot be would stay a draft every month)."""
    problems = []
    face, threshold = rules.face_value, rules.threshold
    stock, budget = rules.total_stock, rules.budget
    if stock is not None and stock <= 0:
        problems.append(("total_stock", "stock", _("Set a total stock above zero.")))
    elif None not in (stock, budget, face) and budget < face * stock:
        problems.append(("budget", "budget", _("The budget must cover the face value times the total stock.")))
    if face is not None and threshold is not None and threshold > 0 and threshold <= face:
        problems.append(
            (
                "threshold",
                "threshold_not_above_face_value",
                _("The spending threshold must be above the face value (满%(threshold)s减%(face)s cannot be used), "
                  "or 0 for no threshold.") % {"threshold": threshold, "face": face},
            )
        )  # fmt: skip
    return problems


def campaign_window_problems(campaign: "Campaign", *, now=None) -> list[tuple[str, str, str]]:
    """A campaign's dates: its claim window closes after it opens (and, given `now`, not in the
    past), its validity ends no earlier than it starts, and vouchers claimed on the window's last
    day can still be used: the validity ends no earlier than the window does."""
    problems = []
    opens, closes = campaign.claim_opens_at, campaign.claim_closes_at
    valid_from, valid_until = campaign.valid_from, campaign.valid_until
    if closes and now is not None and closes <= now:
        problems.append(
            ("claim_closes_at", "window_past", _("The claim window has already closed: set it in the future."))
        )
    elif opens and closes and closes <= opens:
        problems.append(("claim_closes_at", "window", _("The claim window must close after it opens.")))
    if valid_from and valid_until and valid_until < valid_from:
        problems.append(("valid_until", "validity", _("The validity must end on or after the day it starts.")))
    elif valid_until and closes and valid_until < timezone.localtime(closes).date():
        problems.append(
            ("valid_until", "validity_before_window_end",
             _("The validity must last at least until the claim window closes: a voucher claimed on its last day "
               "would already have expired."))
        )  # fmt: skip
    return problems


def raise_problems(problems: list[tuple[str, str, str]]) -> None:
    if problems:
        errors: dict[str, list[ValidationError]] = {}
        for field, code, message in problems:
            errors.setdefault(field, []).append(ValidationError(message, code=code))
        raise ValidationError(errors)


class CampaignTemplate(CampaignRules):
    """A monthly template: Celery beat makes a campaign from it for union benefit day (the 20th)."""

    opens_day = models.PositiveSmallIntegerField(
        _("opens on day of month"),
        default=20,
        validators=[MinValueValidator(1), MaxValueValidator(31)],
        help_text=_("1 to 31; in a shorter month, its last day."),
    )
    opens_time = models.TimeField(_("opens at"), default="10:00")
    claim_hours = models.PositiveSmallIntegerField(
        _("claim window (hours)"), default=72, validators=[MinValueValidator(1)]
    )
    valid_days_default = models.PositiveSmallIntegerField(
        _("valid for days"),
        default=30,
        help_text=_(
            'When "valid for days after claiming" is empty: every voucher is valid until the opening day plus '
            "this many days."
        ),
    )
    is_active = models.BooleanField(_("active"), default=True)
    accepted_merchants = models.ManyToManyField(Merchant, verbose_name=_("accepted merchants"), blank=True)
    # Every version, its accepted merchants included, with who changed it (core.history).
    history = History(m2m_fields=["accepted_merchants"])

    class Meta:
        verbose_name = _("monthly campaign template")
        verbose_name_plural = _("monthly campaign templates")
        constraints = [
            models.CheckConstraint(
                condition=Q(threshold=0) | Q(threshold__gt=F("face_value")), name="template_threshold_above_face_value"
            ),
            models.CheckConstraint(condition=Q(opens_day__gte=1, opens_day__lte=31), name="template_opens_on_a_day"),
            models.CheckConstraint(condition=Q(claim_hours__gte=1), name="template_claim_window_of_an_hour"),
        ]

    def __str__(self):
        return self.name


class Campaign(CampaignRules):
    class State(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SCHEDULED = "scheduled", _("Scheduled")
        OPEN = "open", pgettext_lazy("campaign state", "Open")
        SOLD_OUT = "sold_out", _("Sold out")
        CLOSED = "closed", _("Closed")
        SETTLED = "settled", _("Settled")

    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.DRAFT)
    # Stock left, taken by a conditional UPDATE on the database path (the source of truth).
    remaining = models.PositiveIntegerField(_("remaining"))
    claim_opens_at = models.DateTimeField(_("claim window opens"))
    claim_closes_at = models.DateTimeField(_("claim window closes"))
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    accepted_merchants = models.ManyToManyField(
        Merchant, verbose_name=_("accepted merchants"), blank=True, related_name="campaigns"
    )
    template = models.ForeignKey(
        CampaignTemplate, verbose_name=_("template"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    month = models.CharField(_("month"), max_length=7, blank=True)  # "2026-11" for template campaigns
    draw_seed = models.CharField(_("draw seed"), max_length=64, blank=True)
    drawn_at = models.DateTimeField(_("drawn at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # Every version of the rules staff edit while a draft, and of each step of the (audited)
    # lifecycle, with who made it (core.history). The stock left is not kept: claims change it.
    history = History(excluded_fields=["remaining"], m2m_fields=["accepted_merchants"])

    class Meta:
        verbose_name = _("voucher campaign")
        verbose_name_plural = _("voucher campaigns")
        ordering = ["-claim_opens_at"]
        constraints = [
            models.CheckConstraint(condition=Q(remaining__lte=F("total_stock")), name="campaign_remaining_le_stock"),
            # The last guard of the rules checked on save (rules_problems, campaign_window_problems).
            models.CheckConstraint(
                condition=Q(threshold=0) | Q(threshold__gt=F("face_value")), name="campaign_threshold_above_face_value"
            ),
            models.CheckConstraint(
                condition=Q(claim_closes_at__gt=F("claim_opens_at")), name="campaign_window_closes_after_it_opens"
            ),
            models.CheckConstraint(
                condition=Q(valid_from__isnull=True)
                | Q(valid_until__isnull=True)
                | Q(valid_until__gte=F("valid_from")),
                name="campaign_validity_ends_after_it_starts",
            ),
            models.UniqueConstraint(
                fields=["template", "month"],
                condition=Q(template__isnull=False),
                name="campaign_once_per_template_month",
            ),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        """A draft's rules and dates, checked as the admin saves it (a scheduled campaign's are fixed)."""
        if self.state != Campaign.State.DRAFT:
            return
        problems = rules_problems(self) + campaign_window_problems(self, now=timezone.now())
        raise_problems(problems)


class Voucher(models.Model):
    """One claimed voucher of one member. (campaign, member, seq) is unique: the final guard
    against a second voucher for the same claim; seq runs 1..limit_per_member.

    On the Redis path each voucher also holds its place in the stock (`slot`, 1..total stock, from
    the stock the claim's script left), unique per campaign: if Redis loses what it handed out (a
    restart from an older snapshot, a flush while claims are in flight) and hands a place out
    again, the database refuses the second voucher instead of overselling."""

    class State(models.TextChoices):
        CLAIMED = "claimed", _("Claimed")
        USED = "used", _("Used")
        EXPIRED = "expired", _("Expired")
        VOID = "void", _("Void")

    campaign = models.ForeignKey(
        Campaign, verbose_name=_("campaign"), on_delete=models.PROTECT, related_name="vouchers"
    )
    member = models.ForeignKey(Member, verbose_name=_("member"), on_delete=models.PROTECT, related_name="vouchers")
    seq = models.PositiveSmallIntegerField(_("claim number"), default=1)
    slot = models.PositiveIntegerField(_("place in the stock"), null=True, blank=True, editable=False)
    code = models.CharField(_("code"), max_length=16, unique=True)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.CLAIMED)
    claimed_at = models.DateTimeField(_("claimed at"), default=timezone.now)
    claim_month = models.CharField(_("month claimed"), max_length=7)  # "2026-11", for the per-month limit
    expires_at = models.DateTimeField(_("expires at"))
    used_at = models.DateTimeField(_("used at"), null=True, blank=True)

    class Meta:
        verbose_name = _("voucher")
        verbose_name_plural = _("vouchers")
        ordering = ["-claimed_at"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "member", "seq"], name="voucher_once_per_claim"),
            models.UniqueConstraint(fields=["campaign", "slot"], name="voucher_once_per_slot"),
        ]
        indexes = [
            models.Index(fields=["member", "state"]),
            models.Index(fields=["member", "claim_month"]),
            models.Index(fields=["campaign", "state"]),
        ]

    def __str__(self):
        return self.code


class DrawEntry(models.Model):
    """A member's registration of interest in a draw campaign."""

    campaign = models.ForeignKey(
        Campaign, verbose_name=_("campaign"), on_delete=models.CASCADE, related_name="draw_entries"
    )
    member = models.ForeignKey(Member, verbose_name=_("member"), on_delete=models.CASCADE, related_name="+")
    registered_at = models.DateTimeField(_("registered at"), default=timezone.now)
    won = models.BooleanField(_("won"), null=True)

    class Meta:
        verbose_name = _("draw entry")
        verbose_name_plural = _("draw entries")
        constraints = [models.UniqueConstraint(fields=["campaign", "member"], name="draw_entry_once")]

    def __str__(self):
        return f"{self.campaign_id}:{self.member_id}"


class Redemption(models.Model):
    """A merchant using vouchers against one order (核销). Each voucher used is its own row."""

    class State(models.TextChoices):
        COMPLETED = "completed", _("Completed")
        REFUNDED = "refunded", _("Fully refunded")
        PARTIALLY_REFUNDED = "partial", _("Partially refunded")

    merchant = models.ForeignKey(
        Merchant, verbose_name=_("merchant"), on_delete=models.PROTECT, related_name="redemptions"
    )
    member = models.ForeignKey(Member, verbose_name=_("member"), on_delete=models.PROTECT, related_name="+")
    order_ref = models.CharField(_("merchant's order reference"), max_length=64)
    idempotency_key = models.CharField(_("idempotency key"), max_length=100, blank=True)
    request_hash = models.CharField(_("request digest"), max_length=64, blank=True)
    order_amount = models.DecimalField(_("order amount (CNY)"), **MONEY)
    discount = models.DecimalField(_("discount (CNY)"), **MONEY)
    payable = models.DecimalField(_("amount to pay (CNY)"), **MONEY)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.COMPLETED)
    created_at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("redeemed by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    settlement = models.ForeignKey(
        "Settlement",
        verbose_name=_("settlement"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="redemptions",
    )

    class Meta:
        verbose_name = _("redemption")
        verbose_name_plural = _("redemptions")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["merchant", "idempotency_key"], condition=~Q(idempotency_key=""), name="redemption_idempotent"
            ),
            models.UniqueConstraint(fields=["merchant", "order_ref"], name="redemption_once_per_order"),
        ]

    def __str__(self):
        return f"{self.merchant_id}:{self.order_ref}"


class RedemptionItem(models.Model):
    redemption = models.ForeignKey(
        Redemption, verbose_name=_("redemption"), on_delete=models.CASCADE, related_name="items"
    )
    voucher = models.ForeignKey(Voucher, verbose_name=_("voucher"), on_delete=models.PROTECT, related_name="uses")
    discount = models.DecimalField(_("discount (CNY)"), **MONEY)
    # Set when the use is reversed by a full refund; a voucher has at most one live use.
    reversed_at = models.DateTimeField(_("reversed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("voucher use")
        verbose_name_plural = _("voucher uses")
        constraints = [
            models.UniqueConstraint(
                fields=["voucher"], condition=Q(reversed_at__isnull=True), name="voucher_used_once"
            ),
        ]

    def __str__(self):
        return f"{self.redemption_id}:{self.voucher_id}"


class Refund(models.Model):
    class Vouchers(models.TextChoices):
        """What a refund did to the order's vouchers."""

        UNCHANGED = "unchanged", _("Unchanged (partial refund)")
        RESTORED = "restored", _("Given back to the member")
        VOIDED = "voided", _("Void (refunded after the refund window or the campaign's settlement)")
        KEPT_USED = "kept_used", _("Kept used (the merchant was already paid for the month)")

    redemption = models.ForeignKey(
        Redemption, verbose_name=_("redemption"), on_delete=models.PROTECT, related_name="refunds"
    )
    amount = models.DecimalField(_("amount refunded (CNY)"), **MONEY)
    full = models.BooleanField(_("full refund"))
    vouchers_restored = models.BooleanField(_("vouchers restored"), default=False)
    vouchers = models.CharField(_("vouchers"), max_length=10, choices=Vouchers.choices, default=Vouchers.UNCHANGED)
    # As on Redemption: a retried request with the same key answers this refund again.
    idempotency_key = models.CharField(_("idempotency key"), max_length=100, blank=True)
    request_hash = models.CharField(_("request digest"), max_length=64, blank=True)
    created_at = models.DateTimeField(_("time"), default=timezone.now)

    class Meta:
        verbose_name = _("refund")
        verbose_name_plural = _("refunds")
        constraints = [
            models.UniqueConstraint(
                fields=["redemption", "idempotency_key"], condition=~Q(idempotency_key=""), name="refund_idempotent"
            ),
        ]

    def __str__(self):
        return f"{self.redemption_id}: {self.amount}"


class VoucherSettings(models.Model):
    """Settings staff change in the admin (a single row)."""

    refund_window_hours = models.PositiveIntegerField(
        _("a full refund restores vouchers within (hours)"),
        default=72,
        validators=[MaxValueValidator(REFUND_WINDOW_MAX_HOURS)],
        help_text=_("At most 8760 hours (one year)."),
    )
    history = History()

    class Meta:
        verbose_name = _("voucher settings")
        verbose_name_plural = _("voucher settings")

    def __str__(self):
        return str(self._meta.verbose_name)

    @classmethod
    def get(cls) -> "VoucherSettings":
        obj, _created = cls.objects.get_or_create(pk=1)
        return obj


class Settlement(models.Model):
    """What the union owes a merchant for one month's redemptions."""

    merchant = models.ForeignKey(
        Merchant, verbose_name=_("merchant"), on_delete=models.PROTECT, related_name="settlements"
    )
    month = models.CharField(_("month"), max_length=7)
    vouchers = models.PositiveIntegerField(_("vouchers redeemed"), default=0)
    amount = models.DecimalField(_("amount owed (CNY)"), default=Decimal("0"), **MONEY)
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)
    paid_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("paid by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("settlement")
        verbose_name_plural = _("settlements")
        ordering = ["-month", "merchant"]
        constraints = [models.UniqueConstraint(fields=["merchant", "month"], name="settlement_once_per_merchant_month")]

    def __str__(self):
        return f"{self.merchant} {self.month}"
