"""The yearly review of a filed case: still in hardship (the next review a year on) or exited."""

import datetime as dt

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import ServiceError
from core.services import audit_log
from hardship.models import Case
from hardship.periods import add_years
from hardship.services.access import require_case
from hardship.services.cases import FILED_STATES, S, case_event, case_lock, locked_case_transition, needs_decision

# An early review keeps the year it was due for, up to this many days early: the next review is
# never due more than a year and these days from today, however often a case is reviewed.
REVIEW_EARLY_DAYS = 90


def case_review(*, case: Case, actor, note: str, still_in_hardship: bool) -> Case:
    """The yearly review of a filed case. Still in hardship: the next review is due a year after
    the later of the due date and today (an early review does not shorten the year, a late one
    does not leave the case overdue), but never more than a year and `REVIEW_EARLY_DAYS` from
    today: reviewing a case again and again does not put its next review years away. No longer in hardship: the case exits (脱困). A case assessed
    as not in hardship cannot be reviewed as still in hardship (`not_in_hardship`): assess it again
    or override its category first."""
    require_case(actor, case)
    with transaction.atomic():
        case = case_lock(case)
        if case.state not in FILED_STATES:
            raise ServiceError("not_filed", _("Only a filed case has a yearly review."))
        if still_in_hardship and needs_decision(case):
            raise ServiceError(
                "not_in_hardship",
                _(
                    "The latest assessment found this household not in hardship: "
                    "assess it again or override the category before confirming it is still in hardship."
                ),
            )
        old_due = case.review_due
        today = timezone.localdate()
        data = {"still_in_hardship": bool(still_in_hardship), "review_due": old_due.isoformat() if old_due else None}
        if still_in_hardship:
            latest = add_years(today) + dt.timedelta(days=REVIEW_EARLY_DAYS)
            case.review_due = min(add_years(max(old_due or today, today)), latest)
            case.save(update_fields=["review_due"])
            data["next_review_due"] = case.review_due.isoformat()
        case_event(case, "review", actor=actor, text=note, data=data)
        audit_log(action="hardship.case.reviewed", obj=case, actor=actor, old={"review_due": old_due}, new=data)
        if not still_in_hardship:
            locked_case_transition(case, S.EXITED, actor, note)
    return case
