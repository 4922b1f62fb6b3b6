"""The permission matrix: every door of the URL conf, who may open it, and the answer each gets.

`MATRIX` has one row per URL name (an admin page, an API operation, a worker page, ...). A URL
pattern of the URL conf without a row fails `test_every_url_has_a_row`: a new page or operation
cannot be added without saying who may open it. The admin's unnamed `<object_id>/` patterns only
redirect to their model's change page and count as covered by that page's row.

Each row: the method, the object its URL is built from (the keyword arguments come from `World`),
the body if it posts, and the answer of each persona, in the columns of `WEB` (pages) or `API`
(API operations: the web personas and then the API keys):

    anon   nobody logged in                   sup    a superuser
    wkr    the worker (member of G1)          mer    a merchant's staff (web) / its key (API)
    wkr2   another worker (member of G2)      mer2   another merchant
    stf    staff of G1, the object's union    ver    an agency key with members:verify
    stf2   staff of 南浔区, a union elsewhere  push   an agency key with hardship:push (医保局)
    dst    staff of 吴兴区 (district, above)    ref    an agency key with hardship:referrals
    cty    staff of the city union (above)    ag2    another agency (人社局) with every agency scope

Staff here hold every permission of the portal's apps: what limits them is the union scope alone.
Answers: 200 (or 201, 400 ...) the status; `login` a redirect to a login page; `302` another
redirect (the admin's "does not exist" redirect to its index, a form's redirect after success);
`.` not asked (a page without personal data asks only anon, wkr, stf, stf2 and sup).

Every request runs in a savepoint rolled back afterwards, so every persona meets the same data.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from types import SimpleNamespace

import pytest
from django.conf import settings as django_settings
from django.contrib.admin.sites import site as admin_site
from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

WEB = ("anon", "wkr", "wkr2", "stf", "stf2", "dst", "cty", "sup", "mer", "mer2")
API = (*WEB, "ver", "push", "ref", "ag2")
LIGHT = ("anon", "wkr", "stf", "stf2", "sup")


@dataclass(frozen=True)
class Row:
    method: str
    obj: str | None  # a World attribute giving the URL's keyword arguments
    answers: str  # one answer per column of WEB or API
    body: dict | Callable | None = field(default=None, hash=False)  # a callable takes the World
    json: bool = False
    query: str = ""
    headers: dict = field(default_factory=dict, hash=False)

    @property
    def columns(self) -> tuple[str, ...]:
        n = len(self.answers.split())
        if n == 1:  # "?": ask everyone (to write a new row)
            return API if self.json else WEB
        return {len(WEB): WEB, len(API): API, len(LIGHT): LIGHT}[n]

    def expected(self) -> dict[str, str]:
        if self.answers == "?":
            return dict.fromkeys(self.columns, "?")
        return {p: a for p, a in zip(self.columns, self.answers.split(), strict=True) if a != "."}


def get(obj, answers):
    return Row("GET", obj, answers)


def post(obj, answers, body=None):
    return Row("POST", obj, answers, body=body or {})


def api_get(obj, answers, query=""):
    return Row("GET", obj, answers, json=True, query=query)


def api_post(obj, answers, body=None, headers=None):
    return Row("POST", obj, answers, body=body or {}, json=True, headers=headers or {})


def member_id(world):
    return {"id_number": world.t.member.id_number}


def card(world):
    return {"token": world.card_token["token"]}


def order(world):
    return {"codes": [world.voucher_code["code"]], "order_amount": "1200.00", "order_ref": "O-1"}


def order_form(world):
    return {"codes": world.voucher_code["code"], "order_amount": "1200.00", "order_ref": "O-1"}


# fmt: off
MATRIX: dict[str, Row] = {
    # columns:                                                         anon  wkr   wkr2  stf   stf2  dst   cty   sup   mer   mer2  ver   push  ref   ag2
    # five answers:                                                    anon  wkr   stf   stf2  sup
    # --- auth (groups) ----------------------------------------------------------------------------------
    "admin:auth_group_add": get(None,                                 "login login 403   403   200"),
    "admin:auth_group_change": get("group",                           "login login 403   403   200"),
    "admin:auth_group_changelist": get(None,                          "login login 403   403   200"),
    "admin:auth_group_delete": get("group",                           "login login 403   403   200"),
    "admin:auth_group_history": get("group",                          "login login 403   403   200"),
    "admin:auth_group_simple_history": get("group_version",           "login login 403   403   200"),
    "admin:auth_user_password_change": get("user_id",                 "login login login 200   404   200   200   200   login login"),
    # --- axes (login attempts: superusers only) ---------------------------------------------------------
    "admin:axes_accessattempt_add": get(None,                         "login login 403   403   403"),
    "admin:axes_accessattempt_change": get("accessattempt",           "login login 403   403   200"),
    "admin:axes_accessattempt_changelist": get(None,                  "login login 403   403   200"),
    "admin:axes_accessattempt_delete": get("accessattempt",           "login login 403   403   200"),
    "admin:axes_accessattempt_history": get("accessattempt",          "login login 403   403   200"),
    "admin:axes_accessfailurelog_add": get(None,                      "login login 403   403   403"),
    "admin:axes_accessfailurelog_change": get("accessfailurelog",     "login login 403   403   200"),
    "admin:axes_accessfailurelog_changelist": get(None,               "login login 403   403   200"),
    "admin:axes_accessfailurelog_delete": get("accessfailurelog",     "login login 403   403   200"),
    "admin:axes_accessfailurelog_history": get("accessfailurelog",    "login login 403   403   200"),
    "admin:axes_accesslog_add": get(None,                             "login login 403   403   403"),
    "admin:axes_accesslog_change": get("accesslog_axes",              "login login 403   403   200"),
    "admin:axes_accesslog_changelist": get(None,                      "login login 403   403   200"),
    "admin:axes_accesslog_delete": get("accesslog_axes",              "login login 403   403   200"),
    "admin:axes_accesslog_history": get("accesslog_axes",             "login login 403   403   200"),
    # --- The admin site's own pages ---------------------------------------------------------------------
    "admin:app_list": get("app_label",                                "login login 200   200   200"),
    "admin:autocomplete": get(None,                                   "login login 403   403   403"),
    "admin:index": get(None,                                          "login login 200   200   200"),
    "admin:jsi18n": get(None,                                         "login login 200   200   200"),
    "admin:login": get(None,                                          "200   200   302   302   302"),
    "admin:logout": post(None,                                        "302   302   200   200   200"),
    "admin:password_change": get(None,                                "login login 200   200   200"),
    "admin:password_change_done": get(None,                           "login login 200   200   200"),
    "admin:view_on_site": get("view_on_site",                         "login login 404   404   404"),
    # --- core -------------------------------------------------------------------------------------------
    "admin:core_agency_add": get(None,                                "login login 403   403   200"),
    "admin:core_agency_change": get("agency",                         "login login 403   403   200"),
    "admin:core_agency_changelist": get(None,                         "login login 403   403   200"),
    "admin:core_agency_delete": get("agency",                         "login login 403   403   403"),
    "admin:core_agency_history": get("agency",                        "login login 403   403   200"),
    "admin:core_agency_simple_history": get("agency_version",         "login login 403   403   200"),
    "admin:core_apikey_add": get(None,                                "login login 403   403   200"),
    "admin:core_apikey_change": get("apikey",                         "login login 403   403   200"),
    "admin:core_apikey_changelist": get(None,                         "login login 403   403   200"),
    "admin:core_apikey_delete": get("apikey",                         "login login 403   403   403"),
    "admin:core_apikey_history": get("apikey",                        "login login 403   403   200"),
    "admin:core_auditentry_add": get(None,                            "login login 403   403   403"),
    "admin:core_auditentry_change": get("auditentry",                 "login login login 200   302   200   200   200   login login"),
    "admin:core_auditentry_changelist": get(None,                     "login login login 200   200   200   200   200   login login"),
    "admin:core_auditentry_delete": get("auditentry",                 "login login login 403   403   403   403   403   login login"),
    "admin:core_auditentry_history": get("auditentry",                "login login login 200   302   200   200   200   login login"),
    "admin:core_notification_add": get(None,                          "login login 403   403   403"),
    "admin:core_notification_change": get("notification",             "login login login 200   302   302   302   200   login login"),
    "admin:core_notification_changelist": get(None,                   "login login login 200   200   200   200   200   login login"),
    "admin:core_notification_delete": get("notification",             "login login login 403   403   403   403   403   login login"),
    "admin:core_notification_history": get("notification",            "login login login 200   302   302   302   200   login login"),
    # Marking read: each person only their own notification (the superuser's list shows it, but it is not theirs).
    "admin:core_notification_read": post("notification",              "login login login 302   404   404   404   404   login login"),
    "admin:core_notification_read_all": post(None,                    "login login login 302   302   302   302   302   login login"),
    # --- hardship ---------------------------------------------------------------------------------------
    "admin:hardship_accesslog_add": get(None,                         "login login 403   403   403"),
    "admin:hardship_accesslog_change": get("accesslog",               "login login login 200   302   200   200   200   login login"),
    "admin:hardship_accesslog_changelist": get(None,                  "login login login 200   200   200   200   200   login login"),
    "admin:hardship_accesslog_delete": get("accesslog",               "login login login 403   403   403   403   403   login login"),
    "admin:hardship_accesslog_history": get("accesslog",              "login login login 200   302   200   200   200   login login"),
    "admin:hardship_aid_add": get(None,                               "login login 403   403   403"),
    "admin:hardship_aid_change": get("aid",                           "login login login 200   302   200   200   200   login login"),
    "admin:hardship_aid_changelist": get(None,                        "login login login 200   200   200   200   200   login login"),
    "admin:hardship_aid_delete": get("aid",                           "login login login 403   403   403   403   403   login login"),
    "admin:hardship_aid_history": get("aid",                          "login login login 200   302   200   200   200   login login"),
    "admin:hardship_candidate_add": get(None,                         "login login 403   403   403"),
    "admin:hardship_candidate_change": get("candidate",               "login login login 200   302   200   200   200   login login"),
    "admin:hardship_candidate_changelist": get(None,                  "login login login 200   200   200   200   200   login login"),
    "admin:hardship_candidate_delete": get("candidate",               "login login login 403   403   403   403   403   login login"),
    "admin:hardship_candidate_history": get("candidate",              "login login login 200   302   200   200   200   login login"),
    "admin:hardship_case_action": post("case_action",                 "login login login 302   404   302   302   302   login login", {"transition-to_state": "contacted", "transition-note": "上门走访"}),
    "admin:hardship_case_add": get(None,                              "login login 200   200   200"),
    "admin:hardship_case_change": get("case",                         "login login login 200   404   200   200   200   login login"),
    "admin:hardship_case_changelist": get(None,                       "login login login 200   200   200   200   200   login login"),
    "admin:hardship_case_delete": get("case",                         "login login login 403   403   403   403   403   login login"),
    "admin:hardship_case_reveal": post("case",                        "login login login 200   404   200   200   200   login login", {"reveal-reason": "电话回访核实情况"}),
    "admin:hardship_case_reviews": get(None,                          "login login login 200   200   200   200   200   login login"),
    "admin:hardship_case_history": get("case",                        "login login login 403   403   403   403   403   login login"),
    "admin:hardship_cyclerun_add": get(None,                          "login login 403   403   403"),
    "admin:hardship_cyclerun_change": get("cyclerun",                 "login login 200   200   200"),
    "admin:hardship_cyclerun_changelist": get(None,                   "login login 200   200   200"),
    "admin:hardship_cyclerun_delete": get("cyclerun",                 "login login 403   403   403"),
    "admin:hardship_cyclerun_history": get("cyclerun",                "login login 200   200   200"),
    "admin:hardship_cyclerun_run": get(None,                          "login login 403   403   200"),
    "admin:hardship_datapush_add": get(None,                          "login login 403   403   200"),
    "admin:hardship_datapush_change": get("datapush",                 "login login login 200   200   200   200   200   login login"),
    "admin:hardship_datapush_changelist": get(None,                   "login login login 200   200   200   200   200   login login"),
    "admin:hardship_datapush_delete": get("datapush",                 "login login login 403   403   403   403   403   login login"),
    "admin:hardship_datapush_history": get("datapush",                "login login login 200   200   200   200   200   login login"),
    "admin:hardship_hardshipsettings_add": get(None,                  "login login 403   403   403"),
    "admin:hardship_hardshipsettings_change": get("hardshipsettings", "login login 200   200   200"),
    "admin:hardship_hardshipsettings_changelist": get(None,           "login login 302   302   302"),
    "admin:hardship_hardshipsettings_delete": get("hardshipsettings", "login login 403   403   403"),
    "admin:hardship_hardshipsettings_history": get("hardshipsettings", "login login 200   200   200"),
    "admin:hardship_hardshipsettings_simple_history": get("hardshipsettings_version", "login login 200   200   200"),
    "admin:hardship_localstandard_add": get(None,                     "login login 403   403   200"),
    "admin:hardship_localstandard_change": get("localstandard",       "login login 200   302   200"),
    "admin:hardship_localstandard_changelist": get(None,              "login login 200   200   200"),
    "admin:hardship_localstandard_delete": get("localstandard",       "login login 403   403   200"),
    "admin:hardship_localstandard_history": get("localstandard",      "login login 200   403   200"),
    "admin:hardship_localstandard_simple_history": get("localstandard_version", "login login 200   404   200"),
    "admin:hardship_paymentbatch_add": get(None,                      "login login 200   200   200"),
    "admin:hardship_paymentbatch_change": get("paymentbatch",         "login login login 200   302   200   200   200   login login"),
    "admin:hardship_paymentbatch_changelist": get(None,               "login login login 200   200   200   200   200   login login"),
    "admin:hardship_paymentbatch_delete": get("paymentbatch",         "login login login 403   403   403   403   403   login login"),
    "admin:hardship_paymentbatch_history": get("paymentbatch",        "login login login 200   302   200   200   200   login login"),
    "admin:hardship_referral_add": get(None,                          "login login 403   403   403"),
    "admin:hardship_referral_change": get("referral",                 "login login login 200   302   200   200   200   login login"),
    "admin:hardship_referral_changelist": get(None,                   "login login login 200   200   200   200   200   login login"),
    "admin:hardship_referral_delete": get("referral",                 "login login login 403   403   403   403   403   login login"),
    "admin:hardship_referral_history": get("referral",                "login login login 200   302   200   200   200   login login"),
    "admin:hardship_report": get(None,                                "login login 200   200   200"),
    "admin:hardship_report_export": get(None,                         "login login 200   200   200"),
    "admin:hardship_screeningrule_add": get(None,                     "login login 403   403   200"),
    "admin:hardship_screeningrule_change": get("screeningrule",       "login login 200   200   200"),
    "admin:hardship_screeningrule_changelist": get(None,              "login login 200   200   200"),
    "admin:hardship_screeningrule_delete": get("screeningrule",       "login login 403   403   403"),
    "admin:hardship_screeningrule_history": get("screeningrule",      "login login 200   200   200"),
    "admin:hardship_screeningrule_simple_history": get("screeningrule_version", "login login 200   200   200"),
    "admin:hardship_warmthbatch_add": get(None,                       "login login 200   200   200"),
    "admin:hardship_warmthbatch_change": get("warmthbatch",           "login login login 200   302   200   200   200   login login"),
    "admin:hardship_warmthbatch_changelist": get(None,                "login login login 200   200   200   200   200   login login"),
    "admin:hardship_warmthbatch_delete": get("warmthbatch",           "login login login 403   403   403   403   403   login login"),
    "admin:hardship_warmthbatch_history": get("warmthbatch",          "login login login 200   302   200   200   200   login login"),
    "admin:hardship_warmthrosterentry_add": get(None,                 "login login 403   403   403"),
    "admin:hardship_warmthrosterentry_change": get("warmthrosterentry", "login login login 200   302   200   200   200   login login"),
    "admin:hardship_warmthrosterentry_changelist": get(None,          "login login login 200   200   200   200   200   login login"),
    "admin:hardship_warmthrosterentry_delete": get("warmthrosterentry", "login login login 403   403   403   403   403   login login"),
    "admin:hardship_warmthrosterentry_history": get("warmthrosterentry", "login login login 200   302   200   200   200   login login"),
    # --- members ----------------------------------------------------------------------------------------
    "admin:members_consent_add": get(None,                            "login login login 403   403   403   403   403   login login"),
    "admin:members_consent_change": get("consent",                    "login login login 200   302   200   200   200   login login"),
    "admin:members_consent_changelist": get(None,                     "login login login 200   200   200   200   200   login login"),
    "admin:members_consent_delete": get("consent",                    "login login login 403   403   403   403   403   login login"),
    "admin:members_consent_history": get("consent",                   "login login login 200   302   200   200   200   login login"),
    "admin:members_correctionrequest_add": get(None,                  "login login login 403   403   403   403   403   login login"),
    "admin:members_correctionrequest_change": get("correctionrequest", "login login login 200   302   200   200   200   login login"),
    "admin:members_correctionrequest_changelist": get(None,           "login login login 200   200   200   200   200   login login"),
    "admin:members_correctionrequest_delete": get("correctionrequest", "login login login 403   403   403   403   403   login login"),
    "admin:members_correctionrequest_history": get("correctionrequest", "login login login 200   302   200   200   200   login login"),
    "admin:members_enterprise_add": get(None,                         "login login 200   200   200"),
    "admin:members_enterprise_change": get("enterprise",              "login login 200   302   200"),
    "admin:members_enterprise_changelist": get(None,                  "login login 200   200   200"),
    "admin:members_enterprise_delete": get("enterprise",              "login login 200   302   200"),
    "admin:members_enterprise_history": get("enterprise",             "login login 200   403   200"),
    "admin:members_enterprise_simple_history": get("enterprise_version", "login login 200   404   200"),
    "admin:members_member_add": get(None,                             "login login 403   403   403"),
    "admin:members_member_change": get("member",                      "login login login 200   302   200   200   200   login login"),
    "admin:members_member_changelist": get(None,                      "login login login 200   200   200   200   200   login login"),
    "admin:members_member_delete": get("member",                      "login login login 403   403   403   403   403   login login"),
    "admin:members_member_history": get("member",                     "login login login 200   403   200   200   200   login login"),
    "admin:members_member_import": get(None,                          "login login login 200   200   200   200   200   login login"),
    "admin:members_member_import_template": get(None,                 "login login 200   200   200"),
    "admin:members_member_simple_history": get("member_history",      "login login login 200   404   200   200   200   login login"),
    "admin:members_membershipapplication_add": get(None,              "login login 403   403   403"),
    "admin:members_membershipapplication_change": get("membershipapplication", "login login login 200   302   200   200   200   login login"),
    "admin:members_membershipapplication_changelist": get(None,       "login login login 200   200   200   200   200   login login"),
    "admin:members_membershipapplication_delete": get("membershipapplication", "login login login 403   403   403   403   403   login login"),
    "admin:members_membershipapplication_history": get("membershipapplication", "login login login 200   302   200   200   200   login login"),
    "admin:members_mutualaidenrolment_add": get(None,                 "login login 200   200   200"),
    "admin:members_mutualaidenrolment_change": get("mutualaidenrolment", "login login login 200   302   200   200   200   login login"),
    "admin:members_mutualaidenrolment_changelist": get(None,          "login login login 200   200   200   200   200   login login"),
    "admin:members_mutualaidenrolment_delete": get("mutualaidenrolment", "login login login 403   403   403   403   403   login login"),
    "admin:members_mutualaidenrolment_history": get("mutualaidenrolment", "login login login 200   302   200   200   200   login login"),
    "admin:members_mutualaidenrolment_participation": get(None,       "login login login 200   200   200   200   200   login login"),
    "admin:members_station_add": get(None,                            "login login 200   200   200"),
    "admin:members_station_change": get("station",                    "login login 200   302   200"),
    "admin:members_station_changelist": get(None,                     "login login 200   200   200"),
    "admin:members_station_delete": get("station",                    "login login 200   302   200"),
    "admin:members_station_history": get("station",                   "login login 200   403   200"),
    "admin:members_station_simple_history": get("station_version",    "login login 200   404   200"),
    "admin:members_transfer_add": get(None,                           "login login 403   403   403"),
    "admin:members_transfer_change": get("transfer",                  "login login login 200   200   200   200   200   login login"),
    "admin:members_transfer_changelist": get(None,                    "login login login 200   200   200   200   200   login login"),
    "admin:members_transfer_delete": get("transfer",                  "login login login 403   403   403   403   403   login login"),
    "admin:members_transfer_history": get("transfer",                 "login login login 200   200   200   200   200   login login"),
    "admin:members_union_add": get(None,                              "login login 403   200   200"),
    "admin:members_union_change": get("union",                        "login login 200   302   200"),
    "admin:members_union_changelist": get(None,                       "login login 200   200   200"),
    "admin:members_union_delete": get("union",                        "login login 403   302   200"),
    "admin:members_union_history": get("union",                       "login login 200   403   200"),
    "admin:members_union_simple_history": get("union_history",        "login login 200   404   200"),
    "admin:members_user_add": get(None,                               "login login 200   200   200"),
    "admin:members_user_change": get("user",                          "login login login 200   302   200   200   200   login login"),
    "admin:members_user_changelist": get(None,                        "login login login 200   200   200   200   200   login login"),
    "admin:members_user_delete": get("user",                          "login login login 200   302   200   200   200   login login"),
    "admin:members_user_history": get("user",                         "login login login 200   403   200   200   200   login login"),
    "admin:members_user_simple_history": get("user_version",          "login login login 200   404   200   200   200   login login"),
    # --- vouchers ---------------------------------------------------------------------------------------
    "admin:vouchers_campaign_add": get(None,                          "login login 403   403   200"),
    "admin:vouchers_campaign_change": get("campaign",                 "login login 200   200   200"),
    "admin:vouchers_campaign_changelist": get(None,                   "login login 200   200   200"),
    "admin:vouchers_campaign_delete": get("campaign",                 "login login 403   403   403"),
    "admin:vouchers_campaign_history": get("campaign",                "login login 200   200   200"),
    "admin:vouchers_campaign_simple_history": get("campaign_version", "login login 200   200   200"),
    "admin:vouchers_campaigntemplate_add": get(None,                  "login login 403   403   200"),
    "admin:vouchers_campaigntemplate_change": get("campaigntemplate", "login login 200   200   200"),
    "admin:vouchers_campaigntemplate_changelist": get(None,           "login login 200   200   200"),
    "admin:vouchers_campaigntemplate_delete": get("campaigntemplate", "login login 403   403   200"),
    "admin:vouchers_campaigntemplate_history": get("campaigntemplate", "login login 200   200   200"),
    "admin:vouchers_campaigntemplate_simple_history": get("campaigntemplate_version", "login login 200   200   200"),
    "admin:vouchers_figures": get(None,                               "login login 200   200   200"),
    "admin:vouchers_figures_export": get(None,                        "login login 200   200   200"),
    "admin:vouchers_fraud": get(None,                                 "login login login 200   200   200   200   200   login login"),
    "admin:vouchers_merchant_add": get(None,                          "login login 403   403   200"),
    "admin:vouchers_merchant_change": get("merchant",                 "login login login 200   200   200   200   200   login login"),
    "admin:vouchers_merchant_changelist": get(None,                   "login login login 200   200   200   200   200   login login"),
    "admin:vouchers_merchant_delete": get("merchant",                 "login login login 403   403   403   403   403   login login"),
    "admin:vouchers_merchant_key_revoke": get("merchant_key_link",    "login login login 403   403   403   200   200   login login"),  # merchants are city-wide: city staff only
    "admin:vouchers_merchant_history": get("merchant",                "login login login 200   200   200   200   200   login login"),
    "admin:vouchers_merchant_simple_history": get("merchant_version", "login login login 200   200   200   200   200   login login"),
    "admin:vouchers_redemption_add": get(None,                        "login login 403   403   403"),
    "admin:vouchers_redemption_change": get("redemption",             "login login login 200   200   200   200   200   login login"),
    "admin:vouchers_redemption_changelist": get(None,                 "login login login 200   200   200   200   200   login login"),
    "admin:vouchers_redemption_delete": get("redemption",             "login login login 403   403   403   403   403   login login"),
    "admin:vouchers_redemption_history": get("redemption",            "login login login 200   200   200   200   200   login login"),
    "admin:vouchers_settlement_add": get(None,                        "login login 403   403   403"),
    "admin:vouchers_settlement_build": get(None,                      "login login 403   403   200"),
    "admin:vouchers_settlement_change": get("settlement",             "login login 200   200   200"),
    "admin:vouchers_settlement_changelist": get(None,                 "login login 200   200   200"),
    "admin:vouchers_settlement_delete": get("settlement",             "login login 403   403   403"),
    "admin:vouchers_settlement_history": get("settlement",            "login login 200   200   200"),
    "admin:vouchers_voucher_add": get(None,                           "login login 403   403   403"),
    "admin:vouchers_voucher_change": get("voucher",                   "login login login 200   200   200   200   200   login login"),
    "admin:vouchers_voucher_changelist": get(None,                    "login login login 200   200   200   200   200   login login"),
    "admin:vouchers_voucher_delete": get("voucher",                   "login login login 403   403   403   403   403   login login"),
    "admin:vouchers_voucher_history": get("voucher",                  "login login login 200   200   200   200   200   login login"),
    "admin:vouchers_vouchersettings_add": get(None,                   "login login 403   403   403"),
    "admin:vouchers_vouchersettings_change": get("vouchersettings",   "login login 200   200   200"),
    "admin:vouchers_vouchersettings_changelist": get(None,            "login login 302   302   302"),
    "admin:vouchers_vouchersettings_delete": get("vouchersettings",   "login login 403   403   403"),
    "admin:vouchers_vouchersettings_history": get("vouchersettings",  "login login 200   200   200"),
    "admin:vouchers_vouchersettings_simple_history": get("vouchersettings_version", "login login 200   200   200"),
    # --- The API (columns: API) -------------------------------------------------------------------------
    "api-docs": get(None,                                             "200   200   200   200   200"),
    "api-hardship-outbound": api_get(None,                            "401   401   401   401   401   401   401   401   403   403   403   404   403   404", "period=2025-03"),
    "api-hardship-push": api_get("push_pk",                           "401   401   401   401   401   401   401   401   403   403   403   200   403   404"),
    "api-hardship-pushes": api_get(None,                              "401   401   401   401   401   401   401   401   403   403   403   200   403   200"),
    "api-hardship-referral-outcome": api_post("referral_pk",          "401   401   401   401   401   401   401   401   403   403   403   403   200   404", {"granted": True, "amount": "3000.00"}),
    "api-hardship-referrals": api_get(None,                           "401   401   401   401   401   401   401   401   403   403   403   403   200   200"),
    "api-members-application-approve": api_post("application_pk",     "401   403   403   200   404   200   200   200   403   403   403   403   403   403"),
    "api-members-application-reject": api_post("application_pk",      "401   403   403   200   404   200   200   200   403   403   403   403   403   403", {"reason": "资料不全"}),
    "api-members-applications": api_get(None,                         "401   403   403   200   200   200   200   200   403   403   403   403   403   403"),
    "api-members-cards-verify": api_post(None,                        "401   403   403   200   200   200   200   200   403   403   200   403   403   200", card),
    "api-members-detail": api_get("member_no",                        "401   403   403   200   404   200   200   200   403   403   403   403   403   403"),
    "api-members-list": api_get(None,                                 "401   403   403   200   200   200   200   200   403   403   403   403   403   403"),
    "api-members-verify": api_post(None,                              "401   401   401   401   401   401   401   401   403   403   200   403   403   200", member_id),
    "api-vouchers-check": api_get("voucher_code",                     "401   401   401   401   401   401   401   401   200   200   403   403   403   403"),
    "api-vouchers-redemption-refund": api_post("redemption_pk",       "401   401   401   401   401   401   401   401   201   404   403   403   403   403", {"amount": "100"}, {"Idempotency-Key": "matrix-1"}),
    "api-vouchers-redemptions": api_post(None,                        "401   401   401   401   401   401   401   401   201   400   403   403   403   403", order, {"Idempotency-Key": "matrix-1"}),
    # --- Worker, merchant and public pages --------------------------------------------------------------
    "core:inbox": get(None,                                           "login 200   200   200   200   200   200   200   200   200"),
    "core:mydata": get(None,                                          "login 200   200   200   200   200   200   200   200   200"),
    "core:mydata-download": get(None,                                 "login 200   200   200   200   200   200   200   200   200"),
    "members:consents": get(None,                                     "login 200   200   302   302   302   302   302   302   302"),
    "members:correction": get(None,                                   "login 200   200   302   302   302   302   302   302   302"),
    "members:wechat-bind": post(None,                                 "login 404   404   404   404   404   404   404   404   404"),
    "members:wechat-complete": get(None,                              "404   404   404   404   404   404   404   404   404   404"),
    "members:wechat-login": get(None,                                 "404   404   404   404   404   404   404   404   404   404"),
    "members:wechat-unbind": post(None,                               "login 302   302   302   302   302   302   302   302   302"),
    "hardship:document": get("document",                              "login 404   404   200   404   200   200   200   404   404"),
    "healthz": get(None,                                              "200   200   200   200   200"),
    "members:application": get(None,                                  "login 200   200   200   200   200   200   200   200   200"),
    "members:card": get(None,                                         "login 200   200   302   302   302   302   302   302   302"),
    "members:card-verify": get("card_token",                          "200   200   200   200   200   200   200   200   200   200"),
    "members:elder-mode": post(None,                                  "302   302   302   302   302", {"on": "1"}),
    "members:home": get(None,                                         "200   200   200   200   200"),
    "members:join": get(None,                                         "200   302   200   200   200"),
    "members:login": get(None,                                        "200   302   302   302   302"),
    "members:login-code": post(None,                                  "200   200   200   200   200", {"mobile": "13900000001"}),
    "members:logout": post(None,                                      "302   302   302   302   302"),
    "members:me": get(None,                                           "200   200   200   200   200   200   200   200   200   200"),
    "members:privacy": get(None,                                      "200   200   200   200   200"),
    "members:station-join": get("station_join",                       "200   302   200   200   200"),
    "members:station-poster": get("station_code",                     "200   200   200   200   200"),
    "members:transfer": get(None,                                     "login 200   200   302   302   302   302   302   302   302"),
    "members:union-options": get(None,                                "200   200   200   200   200"),
    "schema": get(None,                                               "200   200   200   200   200"),
    "set_language": post(None,                                        "302   302   302   302   302", {"language": "en"}),
    "vouchers:campaign": get("campaign_pk",                           "login 200   200   302   302   302   302   302   302   302"),
    "vouchers:campaigns": get(None,                                   "login 200   200   302   302   302   302   302   302   302"),
    "vouchers:claim": post("campaign_pk",                             "login 200   200   403   403   403   403   403   403   403"),
    "vouchers:merchant": get(None,                                    "login 403   403   403   403   403   403   403   200   200"),
    "vouchers:merchant-quote": post(None,                             "login 403   403   403   403   403   403   403   200   200", order_form),
    "vouchers:merchant-redeem": post(None,                            "login 403   403   403   403   403   403   403   200   200", order_form),
    "vouchers:mine": get(None,                                        "login 200   200   302   302   302   302   302   302   302"),
    "vouchers:register": post("campaign_pk",                          "login 200   200   403   403   403   403   403   403   403"),
    "vouchers:voucher": get("voucher_code",                           "login 200   404   302   302   302   302   302   302   302"),
}
# fmt: on


# --- The URL conf --------------------------------------------------------------------------------


def url_patterns(resolver=None, prefix="", namespace=None):
    """(URL name or None, route) for every pattern of the URL conf."""
    resolver = resolver or get_resolver()
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            ns = namespace
            if pattern.namespace:
                ns = f"{namespace}:{pattern.namespace}" if namespace else pattern.namespace
            yield from url_patterns(pattern, prefix + str(pattern.pattern), ns)
        elif isinstance(pattern, URLPattern):
            name = f"{namespace}:{pattern.name}" if namespace and pattern.name else pattern.name
            yield name, prefix + str(pattern.pattern)


def admin_object_redirect(route: str) -> str | None:
    """The change page's URL name an unnamed admin `<app>/<model>/<object_id>/` pattern redirects to."""
    parts = route.split("/")
    if len(parts) == 5 and parts[0] == "admin" and parts[3] == "<path:object_id>" and parts[4] == "":
        return f"admin:{parts[1]}_{parts[2]}_change"
    return None


UNNAMED = {"admin/(?P<url>.*)$"}  # the admin's catch-all (answers its own 404 or the login page)


def test_every_url_has_a_row():
    missing = []
    for name, route in url_patterns():
        if name is None:
            if route in UNNAMED or admin_object_redirect(route) in MATRIX:
                continue
            missing.append(f"(unnamed) {route}")
        elif name not in MATRIX:
            missing.append(f"{name}  {route}")
    assert not missing, "URL patterns without a row in the permission matrix:\n" + "\n".join(missing)


def test_every_row_is_a_url():
    names = {name for name, _route in url_patterns() if name}
    assert sorted(set(MATRIX) - names) == []


def test_every_registered_model_admin_has_its_pages():
    for model in admin_site._registry:
        prefix = f"admin:{model._meta.app_label}_{model._meta.model_name}_"
        for page in ("changelist", "add", "change", "delete", "history"):
            assert prefix + page in MATRIX, prefix + page


# --- The data and the personas -------------------------------------------------------------------


class World:
    """The objects the URLs are built from, made when first asked for; all of G1 (the worker's union)."""

    def __init__(self, t):
        self.t = t  # tree, member, other_member, staff, food_merchant, digital_merchant, ...

    # members
    @functools.cached_property
    def union(self):
        return {"object_id": self.t.tree.g1.pk}

    def version(self, model, object_id: int) -> dict:
        """The URL arguments of the latest version of a row in its history."""
        record = model.history.filter(**{model._meta.pk.attname: object_id}).latest()
        return {"args": [object_id, record.history_id]}

    @functools.cached_property
    def union_history(self):
        record = self.t.tree.g1.history.latest()
        return {"args": [self.t.tree.g1.pk, record.history_id]}

    @functools.cached_property
    def enterprise(self):
        from tests.factories import EnterpriseFactory

        return {"object_id": EnterpriseFactory(union=self.t.tree.g1).pk}

    @functools.cached_property
    def enterprise_version(self):
        from members.models import Enterprise

        return self.version(Enterprise, self.enterprise["object_id"])

    @functools.cached_property
    def station_obj(self):
        from tests.factories import StationFactory

        return StationFactory(code="g1-001", union=self.t.tree.g1)

    @functools.cached_property
    def station(self):
        return {"object_id": self.station_obj.pk}

    @functools.cached_property
    def station_version(self):
        from members.models import Station

        return self.version(Station, self.station_obj.pk)

    @functools.cached_property
    def station_code(self):
        return {"code": self.station_obj.code}

    @functools.cached_property
    def station_join(self):
        return {"station_code": self.station_obj.code}

    @functools.cached_property
    def member(self):
        return {"object_id": self.t.member.pk}

    @functools.cached_property
    def member_history(self):
        from members.models import Member

        record = Member.history.filter(id=self.t.member.pk).latest()
        return {"args": [self.t.member.pk, record.history_id]}

    @functools.cached_property
    def member_no(self):
        return {"member_no": self.t.member.member_no}

    @functools.cached_property
    def application_obj(self):
        from members.services import application_submit
        from tests.factories import UserFactory, id_number

        return application_submit(
            applicant=UserFactory(mobile="13900000009", username="m13900000009"), name="李娜",
            id_number=id_number(), mobile="13900000009", union=self.t.tree.g1, privacy_consent=True,
        )  # fmt: skip

    @functools.cached_property
    def membershipapplication(self):
        return {"object_id": self.application_obj.pk}

    @functools.cached_property
    def application_pk(self):
        return {"pk": self.application_obj.pk}

    @functools.cached_property
    def transfer(self):
        from members.services import transfer_request

        t = self.t
        return {"object_id": transfer_request(member=t.member, to_union=t.tree.g2, actor=t.member.user).pk}

    @functools.cached_property
    def correctionrequest(self):
        from members.services import correction_request_submit

        t = self.t
        request = correction_request_submit(
            member=t.member, field="employer", problem="单位名称有误", proposed="湖州丝绸", actor=t.member.user
        )
        return {"object_id": request.pk}

    @functools.cached_property
    def consent(self):
        from members.services import consent_set

        t = self.t
        return {"object_id": consent_set(member=t.member, purpose="campaign_sms", given=True, actor=t.member.user).pk}

    @functools.cached_property
    def mutualaidenrolment(self):
        from members.models import MutualAidEnrolment

        t = self.t
        return {"object_id": MutualAidEnrolment.objects.create(member=t.member, year=2025, union=t.tree.g1).pk}

    @functools.cached_property
    def user(self):
        from tests.factories import StaffFactory

        return {"object_id": StaffFactory(username="g1clerk", union=self.t.tree.g1).pk}

    @functools.cached_property
    def user_version(self):
        from members.models import User

        return self.version(User, self.user["object_id"])

    @functools.cached_property
    def user_id(self):
        return {"id": self.user["object_id"]}

    @functools.cached_property
    def view_on_site(self):
        from django.contrib.contenttypes.models import ContentType

        return {"args": [ContentType.objects.get_for_model(self.t.tree.g1).pk, self.t.tree.g1.pk]}

    @functools.cached_property
    def app_label(self):
        return {"app_label": "members"}

    @functools.cached_property
    def card_token(self):
        from members.services import member_card_token

        return {"token": member_card_token(self.t.member)}

    # core
    @functools.cached_property
    def auditentry(self):
        from core.services import audit_log

        t = self.t
        return {"object_id": audit_log(action="members.member.changed", obj=t.member, actor=t.staff, new={}).pk}

    @functools.cached_property
    def notification(self):
        from core.models import Notification

        return {"object_id": Notification.objects.create(recipient=self.t.staff, kind="test", title="新的入会申请").pk}

    @functools.cached_property
    def agency(self):
        return {"object_id": self.t.agencies["ver"].pk}

    @functools.cached_property
    def apikey(self):
        from core.models import ApiKey

        return {"object_id": ApiKey.objects.filter(agency=self.t.agencies["ver"]).first().pk}

    @functools.cached_property
    def group(self):
        return {"object_id": Group.objects.create(name="hardship staff").pk}

    @functools.cached_property
    def group_version(self):
        return self.version(Group, self.group["object_id"])

    @functools.cached_property
    def agency_version(self):
        from core.models import Agency

        agency = Agency.objects.get(pk=self.agency["object_id"])
        agency.save()  # the agencies of the fixtures were made by a migration, before their history
        return self.version(Agency, agency.pk)

    @functools.cached_property
    def accessattempt(self):
        from axes.models import AccessAttempt

        return {
            "object_id": AccessAttempt.objects.create(
                username="g1staff", ip_address="10.0.0.1", failures_since_start=1
            ).pk
        }

    @functools.cached_property
    def accesslog_axes(self):
        from axes.models import AccessLog
        from django.utils import timezone

        return {
            "object_id": AccessLog.objects.create(
                username="g1staff", ip_address="10.0.0.1", attempt_time=timezone.now()
            ).pk
        }

    @functools.cached_property
    def accessfailurelog(self):
        from axes.models import AccessFailureLog
        from django.utils import timezone

        return {
            "object_id": AccessFailureLog.objects.create(
                username="g1staff", ip_address="10.0.0.1", attempt_time=timezone.now()
            ).pk
        }

    # hardship
    @functools.cached_property
    def datapush_obj(self):
        from tests.hardship.factories import DataPushFactory

        return DataPushFactory(agency=self.t.agencies["push"], kind="medical")

    @functools.cached_property
    def datapush(self):
        return {"object_id": self.datapush_obj.pk}

    @functools.cached_property
    def push_pk(self):
        return {"pk": self.datapush_obj.pk}

    @functools.cached_property
    def screeningrule(self):
        from tests.hardship.factories import ScreeningRuleFactory

        return {"object_id": ScreeningRuleFactory().pk}

    @functools.cached_property
    def localstandard(self):
        from tests.hardship.factories import LocalStandardFactory

        return {"object_id": LocalStandardFactory(union=self.t.tree.g1).pk}

    @functools.cached_property
    def hardshipsettings(self):
        from hardship.models import HardshipSettings

        return {"object_id": HardshipSettings.get().pk}

    @functools.cached_property
    def screeningrule_version(self):
        from hardship.models import ScreeningRule

        return self.version(ScreeningRule, self.screeningrule["object_id"])

    @functools.cached_property
    def localstandard_version(self):
        from hardship.models import LocalStandard

        return self.version(LocalStandard, self.localstandard["object_id"])

    @functools.cached_property
    def hardshipsettings_version(self):
        from hardship.models import HardshipSettings

        return self.version(HardshipSettings, self.hardshipsettings["object_id"])

    @functools.cached_property
    def candidate(self):
        from tests.hardship.factories import CandidateFactory

        return {"object_id": CandidateFactory(member=self.t.member).pk}

    @functools.cached_property
    def case_obj(self):
        from tests.hardship.factories import CaseFactory

        return CaseFactory(head=self.t.member, created_by=self.t.staff)

    @functools.cached_property
    def case(self):
        return {"object_id": self.case_obj.pk}

    @functools.cached_property
    def case_action(self):
        return {"object_id": self.case_obj.pk, "action": "transition"}

    @functools.cached_property
    def document(self):
        from django.core.files.base import ContentFile
        from django.core.files.storage import default_storage

        from hardship.models import CaseDocument

        name = default_storage.save("hardship/matrix.pdf", ContentFile(b"%PDF-1.4\n%%EOF\n"))
        doc = CaseDocument.objects.create(
            case=self.case_obj, file=name, title="病历", content_type="application/pdf", size=14
        )
        return {"pk": doc.pk}

    @functools.cached_property
    def aid(self):
        from tests.hardship.factories import AidFactory

        return {"object_id": AidFactory(member=self.t.member, maker=self.t.staff).pk}

    @functools.cached_property
    def warmthrosterentry(self):
        from tests.hardship.factories import WarmthRosterEntryFactory

        return {"object_id": WarmthRosterEntryFactory(member=self.t.member).pk}

    @functools.cached_property
    def warmthbatch(self):
        from tests.hardship.factories import WarmthBatchFactory

        return {"object_id": WarmthBatchFactory(union=self.t.tree.g1, created_by=self.t.staff).pk}

    @functools.cached_property
    def paymentbatch(self):
        from hardship.models import PaymentBatch

        return {"object_id": PaymentBatch.objects.create(union=self.t.tree.g1, created_by=self.t.staff).pk}

    @functools.cached_property
    def referral_obj(self):
        from tests.hardship.factories import ReferralFactory

        return ReferralFactory(case=self.case_obj, agency=self.t.agencies["ref"], sent_by=self.t.staff)

    @functools.cached_property
    def referral(self):
        return {"object_id": self.referral_obj.pk}

    @functools.cached_property
    def referral_pk(self):
        return {"pk": self.referral_obj.pk}

    @functools.cached_property
    def cyclerun(self):
        from tests.hardship.factories import CycleRunFactory

        return {"object_id": CycleRunFactory().pk}

    @functools.cached_property
    def accesslog(self):
        from tests.hardship.factories import AccessLogFactory

        return {"object_id": AccessLogFactory(user=self.t.staff, case=self.case_obj).pk}

    # vouchers
    @functools.cached_property
    def merchant(self):
        return {"object_id": self.t.food_merchant.pk}

    @functools.cached_property
    def merchant_key_link(self):
        from vouchers.models import MerchantApiKey

        link = MerchantApiKey.objects.filter(merchant=self.t.food_merchant).first()
        return {"merchant_id": self.t.food_merchant.pk, "link_id": link.pk}

    @functools.cached_property
    def campaigntemplate(self):
        from tests.vouchers.factories import CampaignTemplateFactory

        return {"object_id": CampaignTemplateFactory().pk}

    @functools.cached_property
    def campaign_obj(self):
        from tests.vouchers.factories import CampaignFactory

        return CampaignFactory()

    @functools.cached_property
    def campaign(self):
        return {"object_id": self.campaign_obj.pk}

    @functools.cached_property
    def merchant_version(self):
        from vouchers.models import Merchant

        return self.version(Merchant, self.merchant["object_id"])

    @functools.cached_property
    def campaigntemplate_version(self):
        from vouchers.models import CampaignTemplate

        return self.version(CampaignTemplate, self.campaigntemplate["object_id"])

    @functools.cached_property
    def campaign_version(self):
        from vouchers.models import Campaign

        return self.version(Campaign, self.campaign["object_id"])

    @functools.cached_property
    def campaign_pk(self):
        return {"pk": self.campaign_obj.pk}

    @functools.cached_property
    def voucher_obj(self):
        from tests.vouchers.factories import VoucherFactory

        return VoucherFactory(campaign=self.campaign_obj, member=self.t.member)

    @functools.cached_property
    def voucher(self):
        return {"object_id": self.voucher_obj.pk}

    @functools.cached_property
    def voucher_code(self):
        return {"code": self.voucher_obj.code}

    @functools.cached_property
    def redemption_obj(self):
        from tests.vouchers.factories import RedemptionFactory

        return RedemptionFactory(merchant=self.t.food_merchant, member=self.t.member)

    @functools.cached_property
    def redemption(self):
        return {"object_id": self.redemption_obj.pk}

    @functools.cached_property
    def redemption_pk(self):
        return {"pk": self.redemption_obj.pk}

    @functools.cached_property
    def settlement(self):
        from tests.vouchers.factories import SettlementFactory

        return {"object_id": SettlementFactory(merchant=self.t.food_merchant).pk}

    @functools.cached_property
    def vouchersettings(self):
        from vouchers.models import VoucherSettings

        return {"object_id": VoucherSettings.get().pk}

    @functools.cached_property
    def vouchersettings_version(self):
        from vouchers.models import VoucherSettings

        return self.version(VoucherSettings, self.vouchersettings["object_id"])


def merchant_key(merchant, scopes=("vouchers:redeem",)) -> str:
    """A merchant's API key, made as the admin makes it (vouchers owns the key's link to its merchant)."""
    from vouchers.services.merchants import merchant_api_key_create

    return merchant_api_key_create(merchant=merchant, actor=None, scopes=list(scopes))[1]


def agency_key(agency, scopes) -> str:
    from core.services import api_key_create

    return api_key_create(agency=agency, scopes=list(scopes))[1]


def grant_everything(user):
    """Every permission of the portal's own apps: the union scope is all that limits this staff."""
    perms = Permission.objects.filter(content_type__app_label__in=["members", "core", "hardship", "vouchers"])
    user.user_permissions.add(*perms)
    return user


@pytest.fixture(scope="module")
def people(django_db_setup, django_db_blocker):
    """The personas, made once for the module in a transaction rolled back at its end (each test
    runs in a savepoint inside it): the conftest's tree and staff, their logins, the API keys."""
    from django.conf import settings
    from django.test import override_settings

    from tests.conftest import make_tree
    from tests.factories import AgencyFactory, MemberFactory, StaffFactory, UserFactory
    from tests.vouchers.factories import MerchantFactory, MerchantStaffFactory

    fast = override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"])
    with django_db_blocker.unblock(), fast, transaction.atomic():
        tree = make_tree()
        # As tests/conftest.py's member, other_member, staff, other_staff, district_staff, city_staff.
        member = MemberFactory(
            user=UserFactory(mobile="13900000001", username="m13900000001"), union=tree.g1, mobile="13900000001",
            name="周建新",
        )  # fmt: skip
        other_member = MemberFactory(
            user=UserFactory(mobile="13900000002", username="m13900000002"), union=tree.g2, mobile="13900000002",
            name="王芳",
        )  # fmt: skip
        staff = grant_everything(StaffFactory(username="g1staff", union=tree.g1))
        users = {
            "wkr": member.user,
            "wkr2": other_member.user,
            "stf": staff,
            "stf2": grant_everything(StaffFactory(username="nxstaff", union=tree.nx)),
            "dst": grant_everything(StaffFactory(username="wxstaff", union=tree.wx)),
            "cty": grant_everything(StaffFactory(username="citystaff", union=tree.city)),
            "sup": UserFactory(username="root", is_staff=True, is_superuser=True),
        }
        food_merchant = MerchantFactory(name="老沈家面馆", category="food")
        digital_merchant = MerchantFactory(name="数码港", category="digital")
        users["mer"] = MerchantStaffFactory(merchant=food_merchant, user=UserFactory(username="shen")).user
        users["mer2"] = MerchantStaffFactory(merchant=digital_merchant, user=UserFactory(username="qian")).user
        mca = AgencyFactory(code="mca", name="民政局")
        nhsa = AgencyFactory(code="nhsa", name="医保局")
        hrss = AgencyFactory(code="hrss", name="人社局")
        keys = {
            "ver": agency_key(mca, ["members:verify"]),
            "push": agency_key(nhsa, ["hardship:push"]),
            "ref": agency_key(mca, ["hardship:referrals"]),
            "ag2": agency_key(hrss, ["members:verify", "hardship:push", "hardship:referrals"]),
            "mer": merchant_key(food_merchant),
            "mer2": merchant_key(digital_merchant),
        }
        sessions = {}
        for persona, user in users.items():
            client = Client()
            client.force_login(user)
            sessions[persona] = client.cookies[settings.SESSION_COOKIE_NAME].value
        yield SimpleNamespace(
            tree=tree, member=member, other_member=other_member, staff=staff, food_merchant=food_merchant,
            digital_merchant=digital_merchant, agencies={"ver": mca, "push": nhsa, "ref": mca, "ag2": hrss},
            keys=keys, sessions=sessions,
        )  # fmt: skip
        transaction.set_rollback(True)


@pytest.fixture
def world(people, db, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    return SimpleNamespace(objects=World(people), sessions=people.sessions, keys=people.keys)


LOGIN_PATHS = ("/admin/login/", "/m/login/")


def answer(response) -> str:
    if response.status_code == 302:
        return "login" if response["Location"].split("?")[0] in LOGIN_PATHS else "302"
    return str(response.status_code)


def ask(world, persona: str, name: str, row: Row) -> str:
    client = Client()
    headers = {}
    session = world.sessions.get(persona)
    key = world.keys.get(persona)
    if row.json and key:
        headers["Authorization"] = f"Bearer {key}"
    elif session:
        client.cookies[django_settings.SESSION_COOKIE_NAME] = session
    kwargs = getattr(world.objects, row.obj) if row.obj else {}
    url = reverse(name, args=kwargs.get("args"), kwargs=None if "args" in kwargs else kwargs)
    if row.query:
        url += "?" + row.query
    headers.update(row.headers)
    body = row.body(world.objects) if callable(row.body) else row.body
    with transaction.atomic():
        if row.method == "GET":
            response = client.get(url, headers=headers)
        elif row.json:
            response = client.post(url, body, content_type="application/json", headers=headers)
        else:
            response = client.post(url, body, headers=headers)
        transaction.set_rollback(True)
    return answer(response)


@pytest.mark.parametrize("name", sorted(MATRIX))
def test_the_matrix(name, world):
    row = MATRIX[name]
    expected = row.expected()
    got = {persona: ask(world, persona, name, row) for persona in expected}
    if row.answers == "?":
        pytest.fail(f'"{name}": {" ".join(got[p] for p in row.columns)}')
    wrong = {p: f"expected {expected[p]}, got {got[p]}" for p in expected if got[p] != expected[p]}
    assert not wrong, f"{name}: {wrong}\n  got: {' '.join(got[p] if p in got else '.' for p in row.columns)}"


# --- No admin page fails -------------------------------------------------------------------------

REGISTERED = sorted(admin_site._registry, key=lambda m: m._meta.label)


@pytest.mark.parametrize("persona", ["stf", "sup"])
@pytest.mark.parametrize("page", ["add", "change"])
@pytest.mark.parametrize("model", REGISTERED, ids=lambda m: m._meta.label)
def test_no_admin_add_or_change_page_fails(model, page, persona, world):
    """The add page and the change page of one row of every registered model, opened by grassroots
    staff (holding every permission) and by a superuser: an answer, never a server error (a change
    page once answered 500 for every mutual-aid enrolment)."""
    name = f"admin:{model._meta.app_label}_{model._meta.model_name}_{page}"
    obj = MATRIX[name].obj
    assert page == "add" or obj is not None, f"{name}: no row to open"
    got = ask(world, persona, name, Row("GET", obj, "?"))  # an exception in the view fails here too
    assert got in {"200", "302", "403", "404"}, f"{name} as {persona}: {got}"
