"""The default screening rules, created once per kind (staff edit them in the admin)."""

from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _

from hardship.models import ScreeningRule


def rules_ensure_defaults() -> None:
    """Create the default screening rules, once per kind (idempotent; staff edits are kept).

    A kind that already has a rule (even one staff deactivated) gets nothing new.
    """
    K = ScreeningRule.Kind
    with translation.override(settings.LANGUAGE_CODE):
        defaults = [
            (K.MEDICAL_OUT_OF_POCKET, _("Out-of-pocket medical costs of 50,000 CNY or more in 12 months"),
             {"threshold_amount": Decimal("50000.00"), "adds_to_warmth_roster": True}),
            (K.LOW_INCOME, _("On a low-income list (dibao or dibian)"), {"adds_to_warmth_roster": True}),
            (K.WORK_INJURY_GRADE, _("Work-injury disability of grade 1 to 4"),
             {"grade_at_least": 4, "adds_to_warmth_roster": True}),
            (K.DISABILITY_GRADE, _("Disability of grade 1 or 2"), {"grade_at_least": 2, "adds_to_warmth_roster": True}),
            (K.OTHER_AID, _("Aid from another body in the period"), {"adds_to_warmth_roster": False}),
        ]  # fmt: skip
        with transaction.atomic():
            for kind, name, fields in defaults:
                if not ScreeningRule.objects.filter(kind=kind).exists():
                    ScreeningRule.objects.create(kind=kind, name=str(name), **fields)
