"""The yearly review (年度复核) of a filed case: still in hardship (the next review a year on), no
longer in hardship (the case exits, 脱困) or closed for another reason (退档)."""

import datetime as dt

from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.errors import ServiceError
from core.services import audit_log
from hardship.models import Case
from hardship.periods import add_years
from hardship.services.access import require_case
from hardship.services.cases import FILED_STATES, S, case_event, case_lock, locked_case_transition, needs_decision

# An early review keeps the year it was due for, up to this many days early: the next review is
# never due more than a year and these days from today, however often a case is reviewed.
REVIEW_EARLY_DAYS = 90


class ReviewOutcome(models.TextChoices):
    STILL = "still_in_hardship", gettext_lazy("Still in hardship: review again in a year")
    NO_LONGER = "no_longer_in_hardship", gettext_lazy("No longer in hardship: the case exits (脱困)")
    CLOSED = "closed", gettext_lazy("Close the file for another reason (退档)")


# Where each outcome but "still" takes the case.
OUTCOME_STATE = {ReviewOutcome.NO_LONGER: S.EXITED, ReviewOutcome.CLOSED: S.WITHDRAWN}


def case_review(
    *, case: Case, actor, note: str, still_in_hardship: bool | None = None, outcome: str | None = None
) -> Case:
    """The yearly review of a filed case, with its `outcome` (a `ReviewOutcome`; the older
    `still_in_hardship` flag means `still_in_hardship` or `no_longer_in_hardship`).

    Still in hardship: the next review is due a year after the later of the due date and today (an
    early review does not shorten the year, a late one does not leave the case overdue). No longer in
    hardship: the case exits (脱困). Closed: the file is withdrawn (退档, e.g. the household moved
    away), and the note is required. Either closing rejects the aid still waiting for approval. A case
    assessed as not in hardship cannot be reviewed as still in hardship (`not_in_hardship`): assess
    it again or override its category first."""
    if outcome is None:
        if still_in_hardship is None:
            raise ServiceError("bad_outcome", _("Choose the outcome of the review."))
        outcome = ReviewOutcome.STILL if still_in_hardship else ReviewOutcome.NO_LONGER
    if outcome not in ReviewOutcome.values:
        raise ServiceError("bad_outcome", _("Choose the outcome of the review."))
    outcome = ReviewOutcome(outcome)
    note = (note or "").strip()
    require_case(actor, case)
    if outcome == ReviewOutcome.CLOSED and not note:
        raise ServiceError("reason_required", _("Give the reason for closing the file."))
    with transaction.atomic():
        case = case_lock(case)
        if case.state not in FILED_STATES:
            raise ServiceError("not_filed", _("Only a filed case has a yearly review."))
        still = outcome == ReviewOutcome.STILL
        if still and needs_decision(case):
            raise ServiceError(
                "not_in_hardship",
                _(
                    "The latest assessment found this household not in hardship: "
                    "assess it again or override the category before confirming it is still in hardship."
                ),
            )
        old_due = case.review_due
        today = timezone.localdate()
        data = {
            "outcome": outcome.value,
            "still_in_hardship": still,
            "review_due": old_due.isoformat() if old_due else None,
        }
        if still:
            latest = add_years(today) + dt.timedelta(days=REVIEW_EARLY_DAYS)
            case.review_due = min(add_years(max(old_due or today, today)), latest)
            case.save(update_fields=["review_due"])
            data["next_review_due"] = case.review_due.isoformat()
        case_event(case, "review", actor=actor, text=note, data=data)
        audit_log(action="hardship.case.reviewed", obj=case, actor=actor, old={"review_due": old_due}, new=data)
        if not still:
            locked_case_transition(case, OUTCOME_STATE[outcome], actor, note)
    return case
