"""The hardship section of "我的数据" (core.mydata).

What the person may know (PIPL arts. 44–45) without what is staff's working material: which kinds
of agency data the union holds on them and for which periods (never the rows' figures), whether
screening flagged them, whether a case file exists, its state, category and dates, and the aid
approved or paid to them (their own money: date, fund line, amount). Case notes, assessment
figures, the evidence of screening, documents and the timeline stay out: they are staff's notes on
a household, and the case's figures are the household's, not the member's alone.
"""

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.mydata import Section, Table, mydata_section
from hardship.models import Aid, Candidate, Case, PushKind, PushRow, Referral, WarmthRosterEntry
from members.selectors import member_for_user

SHOWN_AID = (Aid.State.APPROVED, Aid.State.PAID)


def _day(value) -> str:
    if value is None:
        return ""
    if hasattr(value, "tzinfo"):
        value = timezone.localtime(value).date()
    return value.isoformat()


@mydata_section("hardship", order=30)
def hardship(user) -> Section | None:
    member = member_for_user(user)
    if member is None:
        return None
    held = list(
        PushRow.objects.filter(member=member, is_current=True)
        .values_list("period", "kind")
        .distinct()
        .order_by("-period", "kind")
    )
    labels = dict(PushKind.choices)
    candidates = list(Candidate.objects.filter(member=member).select_related("rule").order_by("-period"))
    cases = list(Case.objects.filter(head=member).order_by("-opened_at"))
    aid = list(Aid.objects.filter(member=member, state__in=SHOWN_AID).order_by("-paid_on", "-id"))
    # Referrals hand the case to an agency (its data goes there): the person is told which agency, for
    # which benefit and with what outcome; the notes either side wrote stay out.
    referrals = list(Referral.objects.filter(case__head=member).select_related("agency").order_by("-sent_at"))
    roster = list(WarmthRosterEntry.objects.filter(member=member, is_active=True).order_by("-year"))
    section = Section(
        key="hardship",
        title=_("Hardship assistance"),
        note=_(
            "Staff's case notes, assessment figures and the figures of agencies' data are not shown. "
            "Ask your union if you want to know more."
        ),
    )
    section.rows.append((_("Agency data held on you"), _("Yes") if held else _("No")))
    section.tables.append(
        Table(
            title=_("Agency data held"),
            headers=[_("period"), _("kind")],
            rows=[[period, labels.get(kind, kind)] for period, kind in held],
            empty=_("None"),
        )
    )
    section.rows.append((_("Flagged by screening"), _("Yes") if candidates else _("No")))
    section.tables.append(
        Table(
            title=_("Hardship case files"),
            headers=[_("case number"), _("state"), _("category"), _("opened at"), _("closed at")],
            rows=[
                [c.case_no or "", c.get_state_display(), c.get_category_display(), _day(c.opened_at), _day(c.closed_at)]
                for c in cases
            ],
            empty=_("None"),
        )
    )
    section.tables.append(
        Table(
            title=_("Aid approved or paid to you"),
            headers=[_("date"), _("fund line"), _("amount (CNY)"), _("state")],
            rows=[[_day(a.paid_on), a.get_fund_line_display(), a.amount, a.get_state_display()] for a in aid],
            empty=_("None"),
        )
    )
    section.tables.append(
        Table(
            title=_("Referrals to agencies"),
            headers=[_("sent at"), _("agency"), _("benefit"), _("state"), _("amount granted (CNY)")],
            rows=[
                [_day(r.sent_at), r.agency.name, r.get_benefit_display(), r.get_state_display(), r.amount]
                for r in referrals
            ],
            empty=_("None"),
        )
    )
    if roster:
        section.rows.append((_("Warmth roster"), ", ".join(str(r.year) for r in roster)))
    section.export = {
        "agency_data_held": [{"period": p, "kind": k, "label": str(labels.get(k, k))} for p, k in held],
        "screening": [
            {"period": c.period, "rule": c.rule.name, "state": c.state, "flagged_at": _day(c.created_at)}
            for c in candidates
        ],
        "cases": [
            {
                "case_no": c.case_no,
                "state": c.state,
                "category": c.category,
                "opened_at": _day(c.opened_at),
                "closed_at": _day(c.closed_at),
                "review_due": _day(c.review_due),
            }
            for c in cases
        ],
        "aid": [
            {"date": _day(a.paid_on), "fund_line": a.fund_line, "amount": str(a.amount), "state": a.state} for a in aid
        ],
        "referrals": [
            {
                "sent_at": _day(r.sent_at),
                "agency": r.agency.name,
                "benefit": r.benefit,
                "state": r.state,
                "amount_granted": str(r.amount) if r.amount is not None else None,
            }
            for r in referrals
        ],
        "warmth_roster_years": [r.year for r in roster],
    }
    return section
