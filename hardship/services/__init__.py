"""Hardship services: case files (建档), assessment, reviews, documents, aid, warmth batches,
referrals (转介), the settings row and the access log.

Every function here is one unit of work: it checks the actor's access (hardship staff of the
case's union subtree, see `hardship.selectors`), validates, writes in one transaction with its
audit entry (`hardship.*` codes; never income, health or ID numbers in clear) and an event on the
case's timeline, and queues notifications to be sent once the transaction commits. Refusals are
`core.errors.ServiceError(code, message)`.

- `access`: the access rule and the access log (opening a case or a document for a person to read);
- `cases`: opening a case, dismissing a candidate, the case's states and timeline;
- `assessment`: the household's assessment, its ACFTU category and the override of it;
- `reviews`: the yearly review; `case_documents`: documents attached to a case;
- `aid`: aid under a case (maker–checker, double-aid check, void); `warmth`: warmth batches;
- `payments`: payment batches (the bank file, the confirmation that marks aid paid);
- `referrals`: referrals to the partner agencies and their answers;
- `hardship_settings`: the city-wide settings row (amounts are read by `core.parsing.money_parse`);
- `screening_rules`: the screening rules staff edit.

The package re-exports the public names of its modules, so `from hardship import services` serves
callers.
"""

from hardship.services.access import access_log, case_open_for_view, document_open_for_view
from hardship.services.aid import (
    AID_DATE_AHEAD_DAYS,
    AID_WINDOW_DAYS,
    aid_approve,
    aid_create,
    aid_date_bounds,
    aid_reject,
    aid_void,
    double_aid_check,
    household_aid_total,
)
from hardship.services.assessment import (
    case_assess,
    case_override_category,
    category_for,
    local_standard_for,
    per_capita_monthly,
)
from hardship.services.case_documents import document_attach
from hardship.services.cases import (
    ALLOWED_TRANSITIONS,
    CLOSED_STATES,
    FILED_STATES,
    IN_HARDSHIP,
    candidate_dismiss,
    case_note_evidence,
    case_number,
    case_open,
    case_transition,
    needs_decision,
)
from hardship.services.hardship_settings import settings_change
from hardship.services.payments import (
    payment_batch_bank_file,
    payment_batch_cancel,
    payment_batch_confirm,
    payment_batch_create,
)
from hardship.services.referrals import referral_answer, referral_send, referral_withdraw
from hardship.services.reveal import can_reveal_person, case_reveal_person
from hardship.services.reviews import ReviewOutcome, case_review
from hardship.services.screening_rules import screening_rule_check, screening_rule_save
from hardship.services.warmth import (
    warmth_batch_approve,
    warmth_batch_cancel,
    warmth_batch_create,
    warmth_batch_export_xlsx,
    warmth_roster_add_case,
)

__all__ = [
    "AID_DATE_AHEAD_DAYS",
    "AID_WINDOW_DAYS",
    "ReviewOutcome",
    "can_reveal_person",
    "case_reveal_person",
    "ALLOWED_TRANSITIONS",
    "CLOSED_STATES",
    "FILED_STATES",
    "IN_HARDSHIP",
    "access_log",
    "aid_approve",
    "aid_create",
    "aid_date_bounds",
    "aid_reject",
    "aid_void",
    "candidate_dismiss",
    "case_assess",
    "case_note_evidence",
    "case_number",
    "case_open",
    "case_open_for_view",
    "case_override_category",
    "case_review",
    "case_transition",
    "category_for",
    "document_attach",
    "document_open_for_view",
    "double_aid_check",
    "household_aid_total",
    "local_standard_for",
    "needs_decision",
    "payment_batch_bank_file",
    "payment_batch_cancel",
    "payment_batch_confirm",
    "payment_batch_create",
    "per_capita_monthly",
    "referral_answer",
    "referral_send",
    "referral_withdraw",
    "screening_rule_check",
    "screening_rule_save",
    "settings_change",
    "warmth_batch_approve",
    "warmth_batch_cancel",
    "warmth_batch_create",
    "warmth_batch_export_xlsx",
    "warmth_roster_add_case",
]
