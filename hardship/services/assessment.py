"""The assessment of a household (认定): the ACFTU hardship category against the local minimum
living standard, and staff's override of it with a reason."""

from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import ServiceError
from core.parsing import CENT, int_parse, money_parse
from core.services import audit_log
from hardship.models import Case, LocalStandard
from hardship.selectors.cases import district_of
from hardship.services.access import require_case
from hardship.services.cases import FILED_STATES, S, case_event, case_lock, locked_case_transition, needs_decision
from members.models import Union

# --- The ACFTU category ---------------------------------------------------------------------------


def category_for(
    *,
    annual_income: Decimal,
    medical: Decimal,
    schooling: Decimal,
    household_size: int,
    monthly_standard: Decimal,
    sudden_accident: bool,
) -> str:
    """The hardship category under the ACFTU rules (全总困难职工认定).

    Per-capita monthly income = (annual income − (medical + schooling)) / 12 / household size.
    - 深度困难 `deep`: per-capita monthly income below the local minimum living standard;
    - 相对困难 `relative`: not deep, and below twice the standard;
    - 意外致困 `accident`: neither, but a sudden accident or a major illness;
    - `none` otherwise.
    Precedence: deep > relative > accident > none (an accident does not lower an income-based
    category). "Below" is strict: exactly at the standard is not below it.

    Exact arithmetic: instead of dividing (which does not terminate for /12/3), the comparison
    `net / (12 × size) < standard` is made as `net < standard × 12 × size`, all in Decimal.
    """
    if household_size < 1:
        raise ValueError("household size is at least 1")
    income, medical, schooling, standard = (
        Decimal(str(v)) for v in (annual_income, medical, schooling, monthly_standard)
    )
    net = income - (medical + schooling)
    months = 12 * household_size
    if net < standard * months:
        return Case.Category.DEEP
    if net < 2 * standard * months:
        return Case.Category.RELATIVE
    if sudden_accident:
        return Case.Category.ACCIDENT
    return Case.Category.NONE


def per_capita_monthly(*, annual_income, medical, schooling, household_size: int) -> Decimal:
    """For display only, rounded to the cent (categories compare exactly, see `category_for`)."""
    net = Decimal(str(annual_income)) - Decimal(str(medical)) - Decimal(str(schooling))
    return (net / (12 * household_size)).quantize(CENT, rounding=ROUND_HALF_UP)


def local_standard_for(union: Union, year: int) -> LocalStandard:
    """The standard of the district/county union above `union` for `year`, or a ServiceError."""
    district = district_of(union)
    standard = LocalStandard.objects.filter(union=district, year=year).first() if district else None
    if standard is None:
        raise ServiceError(
            "no_local_standard",
            _(
                "No local minimum living standard is set for %(union)s in %(year)d. "
                "Set it in the admin under Hardship › Local minimum living standards."
            )
            % {"union": district.name if district else union.name, "year": year},
        )
    return standard


def case_assess(
    *,
    case: Case,
    actor,
    household_size: int,
    annual_income,
    medical_expenditure,
    schooling_expenditure,
    sudden_accident: bool,
    health_notes: str = "",
    year: int | None = None,
    address: str | None = None,
) -> Case:
    """Record the household's assessment (figures encrypted at rest) and compute its category with
    `category_for` against the local standard of the case's district/county for `year` (default:
    this year). A contacted case moves to `assessing`. A new assessment replaces any earlier one,
    including a category override (which must then be given again).

    A filed case assessed as not in hardship stays filed (staff decide, see `needs_decision`), but
    from then on no aid can be entered or approved under it; its aid waiting for approval stays
    waiting, to be rejected or approved once the case is in hardship again. `address` (the
    household's, encrypted; shown only on a reveal) is kept as it was when None."""
    require_case(actor, case)
    try:
        size = int_parse(household_size, minimum=1, maximum=50)  # ASCII or fullwidth digits only
    except ServiceError:
        raise ServiceError("bad_household_size", _("A household has at least one person.")) from None
    income = money_parse(annual_income, allow_zero=True, label=_("Household income"))
    medical = money_parse(medical_expenditure, allow_zero=True, label=_("Medical expenditure"))
    schooling = money_parse(schooling_expenditure, allow_zero=True, label=_("Schooling expenditure"))
    year = year or timezone.localdate().year
    with transaction.atomic():
        case = case_lock(case)
        if case.state not in (S.CONTACTED, S.ASSESSING, *FILED_STATES):
            raise ServiceError("bad_state", _("Only a contacted or open filed case can be assessed."))
        standard = local_standard_for(case.union, year)
        computed = category_for(
            annual_income=income,
            medical=medical,
            schooling=schooling,
            household_size=size,
            monthly_standard=standard.monthly_amount,
            sudden_accident=bool(sudden_accident),
        )
        old = {"category": case.category, "computed_category": case.computed_category}
        case.household_size = size
        case.annual_income = str(income)
        case.medical_expenditure = str(medical)
        case.schooling_expenditure = str(schooling)
        case.sudden_accident = bool(sudden_accident)
        case.health_notes = health_notes or ""
        case.computed_category = computed
        case.category = computed
        case.category_override_reason = ""
        if address is not None:
            case.address = " ".join(str(address).split())[:200]
        case.save(
            update_fields=[
                "address",
                "household_size",
                "annual_income",
                "medical_expenditure",
                "schooling_expenditure",
                "sudden_accident",
                "health_notes",
                "computed_category",
                "category",
                "category_override_reason",
            ]
        )
        new = {"category": computed, "standard_year": year, "standard": str(standard.monthly_amount)}
        case_event(case, "assessment", actor=actor, text=str(Case.Category(computed).label), data=new)
        audit_log(action="hardship.case.assessed", obj=case, actor=actor, old=old, new=new)
        if case.state == S.CONTACTED:
            locked_case_transition(case, S.ASSESSING, actor)
        _note_not_in_hardship(case, actor)
    return case


def _note_not_in_hardship(case: Case, actor) -> None:
    """On the timeline: a filed case that is no longer in hardship waits for staff to decide."""
    if needs_decision(case):
        case_event(
            case,
            "not_in_hardship",
            actor=actor,
            text=_("Not in hardship: no aid until staff close the case or assess or override it again."),
            data={"category": case.category},
        )


def case_override_category(*, case: Case, actor, category: str, reason: str) -> Case:
    """Staff set another category than the computed one, with a reason; the computed one stays."""
    require_case(actor, case)
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError("reason_required", _("Give a reason for overriding the category."))
    if category not in Case.Category.values:
        raise ServiceError("bad_category", _("Choose one of the hardship categories."))
    with transaction.atomic():
        case = case_lock(case)
        if not case.computed_category:
            raise ServiceError("not_assessed", _("Assess the household before overriding its category."))
        if not case.is_open:
            raise ServiceError("bad_state", _("This case is closed."))
        old = {"category": case.category}
        case.category = category
        case.category_override_reason = reason[:300]
        case.save(update_fields=["category", "category_override_reason"])
        new = {"category": category, "computed_category": case.computed_category}
        case_event(case, "category_override", actor=actor, text=reason, data=new)
        # The reason may describe health or income: it stays on the case, not in the audit log.
        audit_log(action="hardship.case.category_overridden", obj=case, actor=actor, old=old, new=new)
        _note_not_in_hardship(case, actor)
    return case
