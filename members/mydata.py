"""The members app's sections of "我的数据" (core.mydata): the login, the membership, applications,
transfers, mutual medical insurance, consents and correction requests."""

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.mydata import Section, Table, mydata_section
from core.sms import mask_mobile
from members import selectors
from members.models import REQUIRED_CONSENTS, ConsentPurpose, MembershipApplication


def _when(value) -> str:
    if value is None:
        return ""
    if hasattr(value, "tzinfo"):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
    return value.isoformat()


def _when_iso(value: str) -> str:
    return value[:16].replace("T", " ")


def _iso(value) -> str | None:
    if value is None:
        return None
    return timezone.localtime(value).isoformat() if hasattr(value, "tzinfo") else value.isoformat()


@mydata_section("membership", order=10)
def membership(user) -> Section:
    member = selectors.member_for_user(user)
    section = Section(key="membership", title=_("Login and membership"))
    section.rows.append((_("Mobile number (login)"), mask_mobile(user.mobile)))
    section.export["login"] = {"mobile": user.mobile, "date_joined": _iso(user.date_joined)}
    if member is not None:
        details = [
            (_("Real name"), member.name, member.name),
            (_("ID number"), member.id_masked, member.id_number),
            (_("Gender"), member.get_gender_display(), member.gender),
            (_("Birth date"), _when(member.birth_date), _iso(member.birth_date)),
            (_("Mobile number"), mask_mobile(member.mobile), member.mobile),
            (_("Member number"), member.member_no or "", member.member_no),
            (_("Grassroots union"), member.union.name, member.union.name),
            (_("Employer"), member.employer.name if member.employer else "", member.employer and member.employer.name),
            (_("Form of employment"), member.get_employment_form_display(), member.employment_form),
            (_("Join channel"), member.get_join_channel_display(), member.join_channel),
            (_("Station"), member.station.name if member.station else "", member.station and member.station.name),
            (_("Joined on"), _when(member.joined_on), _iso(member.joined_on)),
            (_("Status"), member.get_status_display(), member.status),
        ]
        section.rows.extend((label, shown) for label, shown, _full in details)
        keys = [
            "name", "id_number", "gender", "birth_date", "mobile", "member_no", "union", "employer",
            "employment_form", "join_channel", "station", "joined_on", "status",
        ]  # fmt: skip
        section.export["member"] = {k: full for k, (_l, _s, full) in zip(keys, details, strict=True)}
        transfers = selectors.transfers_of_member(member, limit=1000)
        section.tables.append(
            Table(
                title=_("Transfers"),
                headers=[_("requested at"), _("from union"), _("to union"), _("status")],
                rows=[
                    [_when(t.requested_at), t.from_union.name, t.to_union.name, t.get_status_display()]
                    for t in transfers
                ],
                empty=_("None"),
            )
        )
        section.export["transfers"] = [
            {
                "requested_at": _iso(t.requested_at),
                "from_union": t.from_union.name,
                "to_union": t.to_union.name,
                "reason": t.reason,
                "status": t.status,
                "reject_reason": t.reject_reason,
            }
            for t in transfers
        ]
        enrolments = list(member.mutual_aid.order_by("-year"))
        section.tables.append(
            Table(
                title=_("Mutual medical insurance"),
                headers=[_("year"), _("enrolled at")],
                rows=[[e.year, _when(e.enrolled_at)] for e in enrolments],
                empty=_("None"),
            )
        )
        section.export["mutual_aid"] = [{"year": e.year, "enrolled_at": _iso(e.enrolled_at)} for e in enrolments]
    applications = list(
        MembershipApplication.objects.filter(applicant=user).select_related("union").order_by("-submitted_at")
    )
    section.tables.append(
        Table(
            title=_("Applications to join"),
            headers=[_("submitted at"), _("grassroots union"), _("status"), _("reason for rejection")],
            rows=[[_when(a.submitted_at), a.union.name, a.get_status_display(), a.reject_reason] for a in applications],
            empty=_("None"),
        )
    )
    section.export["applications"] = [
        {
            "submitted_at": _iso(a.submitted_at),
            "name": a.name,
            "id_number": a.id_number,
            "mobile": a.mobile,
            "union": a.union.name,
            "employer_name": a.employer_name,
            "employment_form": a.employment_form,
            "status": a.status,
            "reject_reason": a.reject_reason,
            "privacy_version": a.privacy_version,
            "privacy_consented_at": _iso(a.privacy_consented_at),
        }
        for a in applications
    ]
    if member is not None:
        consents = selectors.consents_of_member(member)
        export = [
            {
                "purpose": ConsentPurpose.MEMBERSHIP.value,
                "required": True,
                "given_at": _iso(member.privacy_consented_at),
                "privacy_version": member.privacy_version,
                "withdrawn_at": None,
            }
        ]
        for purpose in ConsentPurpose:
            if purpose in REQUIRED_CONSENTS:
                continue
            c = consents.get(purpose.value)
            export.append(
                {
                    "purpose": purpose.value,
                    "required": False,
                    "given_at": _iso(c.given_at) if c else None,
                    "privacy_version": c.privacy_version if c else None,
                    "withdrawn_at": _iso(c.withdrawn_at) if c else None,
                }
            )
        section.export["consents"] = export
        for item in export:
            shown = _when_iso(item["given_at"]) if item["withdrawn_at"] is None and item["given_at"] else _("Not given")
            if item["withdrawn_at"]:
                shown = _("Withdrawn on %(day)s") % {"day": _when_iso(item["withdrawn_at"])}
            section.rows.append((ConsentPurpose(item["purpose"]).label, shown))
        corrections = selectors.corrections_of_member(member)
        section.tables.append(
            Table(
                title=_("Correction requests"),
                headers=[_("submitted at"), _("detail to correct"), _("status"), _("reply to the member")],
                rows=[
                    [_when(c.created_at), c.get_field_display(), c.get_status_display(), c.reply] for c in corrections
                ],
                empty=_("None"),
            )
        )
        section.links = [
            (_("My consents"), reverse("members:consents")),
            (_("Ask for a correction of my details"), reverse("members:correction")),
        ]
        section.export["correction_requests"] = [
            {
                "field": c.field,
                "problem": c.problem,
                "proposed": c.proposed,
                "status": c.status,
                "reply": c.reply,
                "submitted_at": _iso(c.created_at),
                "answered_at": _iso(c.decided_at),
            }
            for c in corrections
        ]
    section.export["wechat_bound"] = selectors.wechat_bound(user)
    section.rows.append((_("WeChat bound"), _("Yes") if section.export["wechat_bound"] else _("No")))
    return section
