"""The writes of the members app, one module per part of the domain:

- ``applications``: joining a union (入会): apply, approve, reject;
- ``transfers``: moving to another union (转会);
- ``member_details``: a member's mobile number and status changed by staff;
- ``mutual_aid``: mutual medical insurance (医疗互助保障) enrolment;
- ``cards``: the e-membership card's signed token;
- ``sms_login``: workers' SMS login codes and their logins;
- ``imports`` (with ``import_files`` and ``import_checks``): the bulk import of a member list;
- ``rights``: a member's optional consents and correction requests (PIPL);
- ``wechat``: binding a worker's WeChat identity for one-tap login;
- ``identity``: the ID number's blind index and the member number;
- ``scope``: staff act for their own union and those under it (the one refusal); city-wide things
  are changed by city-level staff; a union's kind fits the tree;
- ``unions``: creating and changing unions, audited.

The public names are re-exported here; the reads are in ``members.selectors``.
"""

from members.services.applications import (
    application_approve,
    application_reject,
    application_submit,
    application_update,
)
from members.services.cards import member_card_token, member_card_verify
from members.services.identity import member_number
from members.services.import_checks import ImportReport, RowError
from members.services.imports import members_import, template_csv
from members.services.member_details import member_mobile_change, member_status_change
from members.services.mutual_aid import mutual_aid_enrol, mutual_aid_withdraw
from members.services.rights import consent_set, correction_request_answer, correction_request_submit
from members.services.scope import (
    out_of_scope,
    out_of_scope_message,
    require_city_level,
    require_scope,
    union_kind_check,
)
from members.services.sms_login import sms_code_check, sms_code_failures_refuse, sms_code_send, worker_user_for_mobile
from members.services.transfers import transfer_accept, transfer_reject, transfer_release, transfer_request
from members.services.unions import union_save
from members.services.wechat import wechat_bind, wechat_unbind

__all__ = [
    "ImportReport",
    "RowError",
    "application_approve",
    "application_reject",
    "application_submit",
    "application_update",
    "consent_set",
    "correction_request_answer",
    "correction_request_submit",
    "member_card_token",
    "member_card_verify",
    "member_mobile_change",
    "member_status_change",
    "member_number",
    "members_import",
    "mutual_aid_enrol",
    "mutual_aid_withdraw",
    "out_of_scope",
    "out_of_scope_message",
    "require_city_level",
    "require_scope",
    "sms_code_check",
    "sms_code_failures_refuse",
    "sms_code_send",
    "template_csv",
    "transfer_accept",
    "transfer_reject",
    "transfer_release",
    "transfer_request",
    "wechat_bind",
    "wechat_unbind",
    "union_kind_check",
    "union_save",
    "worker_user_for_mobile",
]
