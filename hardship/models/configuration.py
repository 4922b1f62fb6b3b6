"""The local minimum living standards (低保标准) and the city-wide hardship settings row."""

from decimal import Decimal

from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.history import History
from hardship.models.money import MONEY
from members.models import Union


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
            "Counted per household over the last 365 days: when the aid recorded for the head of household "
            "in the last 365 days (waiting for approval, approved or paid, any case or fund line, whatever "
            "date it carries), together with the new aid, comes to more than this amount, the new aid needs "
            "a second approver. Splitting aid or dating it in other months does not avoid it."
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
