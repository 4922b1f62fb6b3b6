"""The staff admin for hardship assistance (困难职工帮扶).

Hardship staff are staff holding the hardship permissions (`hardship.view_case` …); they see the
candidates, cases, aid and referrals of their own union's subtree (a superuser: everything).
Cases are searched for, not browsed: only supervisors (`hardship.list_all_cases`) list them, and
every opening of a case file is written to the access log, which nobody can change.
Pages and actions are doors: one form, one service call (hardship.services, hardship.ingest,
hardship.cycle), its answer or refusal shown.

One module per area: `pushes` (agencies' data and the upload), `screening_rules`,
`standards_and_settings`, `candidates`, `cases` and `case_page` (the case file and its small
forms, the reveal of a case's person), `reviews` (the yearly reviews due), `aid`, `payments`, `warmth`,
`referrals`, `cycle` and `cycle_figures` (the steps and figures by their names), `reports`,
`access_log`; `base` and `display` hold what they share. Importing the package registers every ModelAdmin.
"""

from hardship.admin.access_log import AccessLogAdmin
from hardship.admin.aid import AidAdmin
from hardship.admin.base import AdminPage, HardshipAdmin, member_masked_label
from hardship.admin.candidates import SUMMARY_KEYS, CandidateAdmin
from hardship.admin.case_page import (
    CASE_FORMS,
    NOT_IN_HARDSHIP_WARNING,
    AidForm,
    AssessForm,
    CategoryForm,
    DocumentForm,
    ReferralForm,
    TransitionForm,
    case_action,
    case_context,
    case_forms,
    case_page,
)
from hardship.admin.cases import CaseAdmin, OpenCaseForm, ReviewOverdueFilter, case_add
from hardship.admin.cycle import CycleForm, CycleRunAdmin, cycle_start_page
from hardship.admin.display import (
    EVIDENCE_LABELS,
    HIDDEN_EVIDENCE_KEYS,
    MONEY_KEYS,
    cny,
    evidence_items,
    evidence_text,
    figures_html,
    local_time,
)
from hardship.admin.payments import PaymentBatchAdmin, PaymentBatchForm, payment_batch_add
from hardship.admin.pushes import (
    MAX_PUSH_UPLOAD_BYTES,
    DataPushAdmin,
    PushUploadForm,
    count_data_rows,
    push_upload,
)
from hardship.admin.referrals import ReferralAdmin
from hardship.admin.reports import report_export, report_page
from hardship.admin.screening_rules import ScreeningRuleAdmin, ScreeningRuleForm
from hardship.admin.standards_and_settings import HardshipSettingsAdmin, HardshipSettingsForm, LocalStandardAdmin
from hardship.admin.warmth import WarmthBatchAdmin, WarmthBatchForm, WarmthRosterEntryAdmin, warmth_batch_add

__all__ = [
    "AccessLogAdmin",
    "AdminPage",
    "AidAdmin",
    "AidForm",
    "AssessForm",
    "CASE_FORMS",
    "CandidateAdmin",
    "CaseAdmin",
    "CategoryForm",
    "CycleForm",
    "CycleRunAdmin",
    "DataPushAdmin",
    "DocumentForm",
    "EVIDENCE_LABELS",
    "HIDDEN_EVIDENCE_KEYS",
    "HardshipAdmin",
    "HardshipSettingsAdmin",
    "HardshipSettingsForm",
    "LocalStandardAdmin",
    "MAX_PUSH_UPLOAD_BYTES",
    "MONEY_KEYS",
    "NOT_IN_HARDSHIP_WARNING",
    "OpenCaseForm",
    "PaymentBatchAdmin",
    "PaymentBatchForm",
    "PushUploadForm",
    "ReferralAdmin",
    "ReferralForm",
    "ReviewOverdueFilter",
    "SUMMARY_KEYS",
    "ScreeningRuleAdmin",
    "ScreeningRuleForm",
    "TransitionForm",
    "WarmthBatchAdmin",
    "WarmthBatchForm",
    "WarmthRosterEntryAdmin",
    "case_action",
    "case_add",
    "case_context",
    "case_forms",
    "case_page",
    "cny",
    "count_data_rows",
    "cycle_start_page",
    "evidence_items",
    "evidence_text",
    "figures_html",
    "local_time",
    "member_masked_label",
    "payment_batch_add",
    "push_upload",
    "report_export",
    "report_page",
    "warmth_batch_add",
]
