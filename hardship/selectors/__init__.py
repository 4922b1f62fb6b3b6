"""Read-side queries of the hardship app, with the access rule. Nothing here writes.

- `access`: who may see and do what (hardship staff of a union's subtree, supervisors, city level);
- `cases`: finding a case, the lists supervisors see, the timeline, the agencies' rows about a head,
  what the case file page lists;
- `aid`: the double-aid check and the aid waiting for a second approver;
- `outbound`: what the partner agencies read (referrals, source keys, a published period's cases);
- `staff`: the hardship staff responsible for a union or a case.

The package re-exports every public name, so `from hardship import selectors` serves callers.
"""

from hardship.selectors.access import (
    ADD_PUSH,
    CHANGE_SECOND_APPROVAL,
    CHANGE_SETTINGS,
    LIST_ALL_CASES,
    UPLOAD_AGENCY_DATA,
    VIEW_CANDIDATE,
    VIEW_CASE,
    agencies_uploadable_by,
    can_change_hardship_settings,
    can_change_second_approval,
    can_list_all_cases,
    can_upload_agency_data,
    candidates_open,
    candidates_visible_to,
    case_visible,
    case_visible_to,
    cases_visible_to,
    document_visible,
    is_city_level,
    is_hardship_staff,
)
from hardship.selectors.aid import aid_pending_for, double_aid_check
from hardship.selectors.cases import (
    case_file,
    case_search,
    case_timeline,
    cases_listable_by,
    district_of,
    member_evidence,
    overdue_reviews,
    reviews_due,
)
from hardship.selectors.outbound import (
    AID_COUNTED,
    CLOSED_STATES,
    FILED_STATES,
    accepted_push_exists,
    agency_source_keys,
    is_published,
    outbound_details,
    outbound_people,
    referrals_for_agency,
)
from hardship.selectors.staff import case_staff_ids, hardship_staff_for

__all__ = [
    "ADD_PUSH",
    "AID_COUNTED",
    "CHANGE_SECOND_APPROVAL",
    "CHANGE_SETTINGS",
    "CLOSED_STATES",
    "FILED_STATES",
    "LIST_ALL_CASES",
    "UPLOAD_AGENCY_DATA",
    "VIEW_CANDIDATE",
    "VIEW_CASE",
    "agencies_uploadable_by",
    "agency_source_keys",
    "aid_pending_for",
    "can_change_hardship_settings",
    "can_change_second_approval",
    "can_list_all_cases",
    "can_upload_agency_data",
    "candidates_open",
    "candidates_visible_to",
    "case_file",
    "case_search",
    "case_staff_ids",
    "case_timeline",
    "case_visible",
    "case_visible_to",
    "cases_listable_by",
    "cases_visible_to",
    "district_of",
    "document_visible",
    "double_aid_check",
    "hardship_staff_for",
    "is_city_level",
    "is_hardship_staff",
    "is_published",
    "member_evidence",
    "accepted_push_exists",
    "outbound_people",
    "outbound_details",
    "overdue_reviews",
    "reviews_due",
    "referrals_for_agency",
]
