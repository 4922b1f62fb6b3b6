"""The screening rules staff edit (the default ones are created by `hardship.screening.rules`).

A rule of each kind needs its figure: the out-of-pocket medical rule a threshold amount, the
work-injury and disability rules a grade. `screening_rule_save` holds that rule for every door
and writes the audit entry with the old and the new values.
"""

from django.db import transaction
from django.utils.translation import gettext as _

from core.errors import ErrorKind, ServiceError
from core.services import audit_log
from hardship.models import ScreeningRule
from members.services.scope import require_city_level

RULE_FIELDS = ("name", "kind", "threshold_amount", "grade_at_least", "is_active", "adds_to_warmth_roster")
# Work-injury disability runs from grade 1 to 10 (GB/T 16180), disability from 1 to 4.
MAX_GRADE = 10
GRADE_KINDS = (ScreeningRule.Kind.WORK_INJURY_GRADE, ScreeningRule.Kind.DISABILITY_GRADE)


def screening_rule_check(*, kind: str | None, threshold_amount, grade_at_least) -> None:
    """Refuse a rule without the figure its kind needs; the refusal names the field (`details["field"]`)."""
    if kind == ScreeningRule.Kind.MEDICAL_OUT_OF_POCKET and threshold_amount is None:
        raise ServiceError("threshold_required", _("This rule needs a threshold amount."), field="threshold_amount")
    if kind in GRADE_KINDS and grade_at_least is None:
        raise ServiceError("grade_required", _("This rule needs a grade."), field="grade_at_least")
    if threshold_amount is not None and threshold_amount <= 0:
        # A threshold of 0 or less would make every worker with a medical row a candidate.
        raise ServiceError(
            "threshold_positive", _("The threshold amount must be more than zero."), field="threshold_amount"
        )
    if grade_at_least is not None and not 1 <= grade_at_least <= MAX_GRADE:
        raise ServiceError(
            "grade_range",
            _("A grade runs from 1 (most severe) to %(max)d.") % {"max": MAX_GRADE},
            field="grade_at_least",
        )


def screening_rule_save(*, rule: ScreeningRule, actor) -> ScreeningRule:
    """Create `rule` (no primary key yet) or save the changes made to it, by staff holding
    `hardship.add_screeningrule` or `hardship.change_screeningrule` at city level (the rules screen
    the whole city: `members.services.require_city_level`). Audited as
    `hardship.screening_rule.created` or `.changed` with the old and the new values."""
    perm = "hardship.change_screeningrule" if rule.pk else "hardship.add_screeningrule"
    if not (getattr(actor, "is_staff", False) and getattr(actor, "is_active", False) and actor.has_perm(perm)):
        raise ServiceError("forbidden", _("You may not change the screening rules."), kind=ErrorKind.FORBIDDEN)
    require_city_level(actor)
    screening_rule_check(kind=rule.kind, threshold_amount=rule.threshold_amount, grade_at_least=rule.grade_at_least)
    with transaction.atomic():
        before = ScreeningRule.objects.select_for_update().filter(pk=rule.pk).first() if rule.pk else None
        old = {name: _text(getattr(before, name)) for name in RULE_FIELDS} if before else {}
        rule.save()
        rule.refresh_from_db(fields=RULE_FIELDS)  # the values as stored (60000 → 60000.00)
        new = {name: _text(getattr(rule, name)) for name in RULE_FIELDS}
        changed = [name for name in RULE_FIELDS if old.get(name) != new[name]]
        audit_log(
            action="hardship.screening_rule.changed" if before else "hardship.screening_rule.created",
            obj=rule,
            actor=actor,
            old={name: old[name] for name in changed} if before else None,
            new={name: new[name] for name in changed},
        )
    return rule


def _text(value):
    return value if value is None or isinstance(value, bool | int) else str(value)
