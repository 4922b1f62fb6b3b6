"""The case file page and its small forms: each form calls one service and shows its answer or
its refusal."""

from decimal import Decimal

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core.errors import ErrorKind, ServiceError
from core.forms import MoneyField
from core.models import Agency
from core.parsing import int_parse
from hardship.admin.base import AdminPage
from hardship.admin.display import agency_names, cny, evidence_items
from hardship.models import AccessLog, Case, FundLine, HardshipSettings, Referral
from hardship.selectors.cases import case_file
from hardship.services.access import access_log
from hardship.services.aid import aid_create, aid_date_bounds
from hardship.services.assessment import case_assess, case_override_category
from hardship.services.case_documents import document_attach
from hardship.services.cases import ALLOWED_TRANSITIONS, FILED_STATES, case_transition, needs_decision
from hardship.services.referrals import referral_send
from hardship.services.reveal import REVEAL_REASON_MAX, REVEAL_REASON_MIN, can_reveal_person, case_reveal_person
from hardship.services.reviews import ReviewOutcome, case_review
from hardship.services.warmth import warmth_roster_add_case


class TransitionForm(forms.Form):
    to_state = forms.ChoiceField(label=_("new state"), choices=Case.State.choices)
    note = forms.CharField(label=_("note"), max_length=300, required=False, widget=forms.Textarea(attrs={"rows": 2}))


class AssessForm(forms.Form):
    household_size = forms.IntegerField(label=_("household size"), min_value=1, max_value=20)
    annual_income = MoneyField(label=_("household income per year"))
    medical = MoneyField(label=_("medical expenditure per year"), initial=0)
    schooling = MoneyField(label=_("schooling expenditure per year"), initial=0)
    sudden_accident = forms.BooleanField(label=_("sudden accident or major illness"), required=False)
    health_notes = forms.CharField(
        label=_("health and disability notes"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    address = forms.CharField(
        label=_("household address"),
        required=False,
        max_length=200,
        help_text=_("Shown only to staff who reveal the person's identity; leave empty to keep the one recorded."),
    )


class CategoryForm(forms.Form):
    category = forms.ChoiceField(label=_("category"), choices=Case.Category.choices)
    reason = forms.CharField(label=_("reason"), max_length=300, widget=forms.Textarea(attrs={"rows": 2}))


class AidForm(forms.Form):
    fund_line = forms.ChoiceField(
        label=_("fund line"), choices=[c for c in FundLine.choices if c[0] != FundLine.WARMTH]
    )
    amount = MoneyField(label=_("amount (CNY)"), allow_zero=False)
    purpose = forms.CharField(label=_("purpose"), max_length=200)
    paid_on = forms.DateField(
        label=_("date"),
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_(
            "Between the day the case was opened and three days from today; the double-aid check and "
            "the reports count the aid in this month."
        ),
    )
    acknowledge = forms.BooleanField(
        label=_("I have seen the aid from other bodies listed above and the aid is still needed"), required=False
    )


class ReferralForm(forms.Form):
    agency = forms.ModelChoiceField(label=_("agency"), queryset=Agency.objects.filter(is_active=True))
    benefit = forms.ChoiceField(label=_("benefit"), choices=Referral.Benefit.choices)
    note = forms.CharField(label=_("note"), max_length=300, required=False, widget=forms.Textarea(attrs={"rows": 2}))


class DocumentForm(forms.Form):
    title = forms.CharField(label=_("title"), max_length=100)
    file = forms.FileField(label=_("file"), help_text=_("A JPEG or PNG image or a PDF file."))


class ReviewForm(forms.Form):
    outcome = forms.ChoiceField(label=_("outcome"), choices=ReviewOutcome.choices, widget=forms.RadioSelect)
    note = forms.CharField(
        label=_("note"),
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("What the review found (a visit, a call, new figures)."),
    )


class RosterForm(forms.Form):
    """No field: the button puts the head on this year's warmth roster."""


class RevealForm(forms.Form):
    reason = forms.CharField(
        label=_("reason"),
        min_length=REVEAL_REASON_MIN,
        max_length=REVEAL_REASON_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Why you need the full name, ID number, mobile and address (written to the access log)."),
    )


CASE_FORMS = {
    "transition": TransitionForm,
    "assess": AssessForm,
    "category": CategoryForm,
    "aid": AidForm,
    "refer": ReferralForm,
    "document": DocumentForm,
    "review": ReviewForm,
    "roster": RosterForm,
}


def case_forms(case: Case, data=None, files=None, action: str | None = None) -> dict:
    """A fresh form per action (the posted one bound to `data`)."""
    out = {}
    for name, cls in CASE_FORMS.items():
        if name == action:
            out[name] = cls(data, files, prefix=name)
        else:
            out[name] = cls(prefix=name, initial=_initial(case, name))
        if name == "aid":  # the browser's date picker offers only the dates the service takes
            first, last = aid_date_bounds(case)
            out[name].fields["paid_on"].widget.attrs.update(min=first.isoformat(), max=last.isoformat())
        if name == "transition":
            allowed = ALLOWED_TRANSITIONS.get(case.state, ())
            out[name].fields["to_state"].choices = [c for c in Case.State.choices if c[0] in allowed]
    return out


def _initial(case: Case, name: str) -> dict:
    if name == "assess" and case.household_size:
        return {
            "household_size": case.household_size,
            "annual_income": case.annual_income or None,
            "medical": case.medical_expenditure or 0,
            "schooling": case.schooling_expenditure or 0,
            "sudden_accident": case.sudden_accident,
            "health_notes": case.health_notes,
        }
    if name == "aid":
        return {"paid_on": timezone.localdate()}
    return {}


NOT_IN_HARDSHIP_WARNING = _(
    "This filed case is now not in hardship: no aid can be entered or approved under it. "
    "Exit or resolve the case with a reason, or assess it again or override the category with a reason."
)


def case_context(case: Case, user) -> dict:
    """What the case page shows: timeline, assessment, documents, aid, referrals, evidence (read by
    the `case_file` selector, laid out here)."""
    rows = case_file(case)
    documents = rows["documents"]
    for doc in documents:
        doc.url = reverse("hardship:document", args=[doc.pk])
    with agency_names():
        evidence = [
            {
                "title": " · ".join(str(e.get(k) or "") for k in ("agency_name", "kind_label", "period")),
                "pairs": evidence_items(e.get("data") or {}),
            }
            for e in rows["evidence"]
        ]
    figures = []
    if case.household_size:
        figures = [
            (gettext("household size"), case.household_size),
            (gettext("household income per year"), cny(case.annual_income) if case.annual_income else "-"),
            (
                gettext("medical expenditure per year"),
                cny(case.medical_expenditure) if case.medical_expenditure else "-",
            ),
            (
                gettext("schooling expenditure per year"),
                cny(case.schooling_expenditure) if case.schooling_expenditure else "-",
            ),
            (gettext("sudden accident or major illness"), gettext("yes") if case.sudden_accident else gettext("no")),
        ]
    events = rows["events"]
    states = dict(Case.State.choices)
    for ev in events:  # a state change shows where the case went; every other kind its label
        to = (ev.data or {}).get("to") if ev.kind == "state" else None
        ev.label = f"→ {states[to]}" if to in states else ev.kind_label

    return {
        "case": case,
        "needs_decision": needs_decision(case),
        "not_in_hardship_warning": NOT_IN_HARDSHIP_WARNING,
        "events": events,
        "figures": figures,
        "aid": rows["aid"],
        "documents": documents,
        "referrals": rows["referrals"],
        "evidence": evidence,
        "document_max_mb": HardshipSettings.get().document_max_bytes / (1024 * 1024),
        "is_filed": case.state in FILED_STATES,
        "review_overdue": bool(
            case.state in FILED_STATES and case.review_due and case.review_due < timezone.localdate()
        ),
        "can_reveal": can_reveal_person(user),
    }


def _transition(case: Case, user, data) -> str:
    case_transition(case=case, to_state=data["to_state"], actor=user, note=data["note"])
    return gettext("The case is now: %(state)s.") % {"state": Case.State(data["to_state"]).label}


def _assess(case: Case, user, data) -> str:
    case_assess(
        case=case,
        actor=user,
        household_size=data["household_size"],
        annual_income=data["annual_income"],
        medical_expenditure=data["medical"] or Decimal("0"),
        schooling_expenditure=data["schooling"] or Decimal("0"),
        sudden_accident=data["sudden_accident"],
        health_notes=data["health_notes"],
        address=data["address"] or None,
    )
    return gettext("The assessment was saved.")


def _category(case: Case, user, data) -> str:
    case_override_category(case=case, actor=user, category=data["category"], reason=data["reason"])
    return gettext("The category was changed.")


def _aid(case: Case, user, data) -> str:
    """The service decides whether the double-aid check must be acknowledged now (aid approved at
    once) or by the second approver (`hardship.services.aid_create`); its refusal lists the aid found."""
    aid = aid_create(
        case=case,
        actor=user,
        fund_line=data["fund_line"],
        amount=data["amount"],
        purpose=data["purpose"],
        paid_on=data["paid_on"],
        double_aid_acknowledged=bool(data["acknowledge"]),
    )
    if aid.state == aid.State.PENDING_APPROVAL:
        return gettext("The aid was entered; it waits for a second staff member's approval.")
    return gettext("The aid was entered.")


def _refer(case: Case, user, data) -> str:
    referral_send(case=case, agency=data["agency"], benefit=data["benefit"], actor=user, note=data["note"])
    return gettext("The referral was sent to %(agency)s.") % {"agency": data["agency"].name}


def _document(case: Case, user, data) -> str:
    document_attach(case=case, actor=user, upload=data["file"], title=data["title"])
    return gettext("The document was attached.")


def _review(case: Case, user, data) -> str:
    case_review(case=case, actor=user, note=data["note"], outcome=data["outcome"])
    return gettext("The yearly review was recorded: %(outcome)s.") % {"outcome": ReviewOutcome(data["outcome"]).label}


def _roster(case: Case, user, data) -> str:
    entry = warmth_roster_add_case(case=case, actor=user)
    return gettext("The head of household is on the warmth roster of %(year)d.") % {"year": entry.year}


# Each form of the case page and the one service call it makes; each answers what to tell the user.
CASE_ACTIONS = {
    "transition": _transition,
    "assess": _assess,
    "category": _category,
    "aid": _aid,
    "refer": _refer,
    "document": _document,
    "review": _review,
    "roster": _roster,
}


def case_action(model_admin, request, object_id: str, action: str):
    """One small form of the case page (POST), calling one service; back to the case page, or the
    form again with the service's refusal (and, for aid, the aid the double-aid check found)."""
    if request.method != "POST" or action not in CASE_FORMS:
        raise Http404
    try:
        case = model_admin.get_queryset(request).filter(pk=int_parse(object_id)).first()
    except ServiceError:
        case = None
    if case is None:
        raise Http404
    if not model_admin.has_change_permission(request, case):
        raise PermissionDenied
    form = CASE_FORMS[action](request.POST, request.FILES, prefix=action)

    def show_again(forms_, **extra):
        # The form comes back with the whole case file: an opening, written to the access log like
        # any other (a successful action redirects to the case page, which logs itself).
        access_log(user=request.user, action=AccessLog.Action.OPEN, case=case, detail=f"form {action}")
        return case_page(model_admin, request, case, forms_=forms_, **extra)

    if not form.is_valid():
        return show_again(case_forms(case, request.POST, request.FILES, action))
    try:
        done = CASE_ACTIONS[action](case, request.user, form.cleaned_data)
    except ServiceError as exc:
        forms_ = case_forms(case, request.POST, request.FILES, action)
        forms_[action].add_error(None, exc.message)
        return show_again(forms_, double_aid=exc.details.get("found"))
    model_admin.message_user(request, done, messages.SUCCESS)
    if action in ("assess", "category"):
        case.refresh_from_db()
        if needs_decision(case):
            model_admin.message_user(request, NOT_IN_HARDSHIP_WARNING, messages.WARNING)
    return HttpResponseRedirect(reverse("admin:hardship_case_change", args=[case.pk]))


def case_page(
    model_admin, request, case: Case, *, forms_=None, double_aid=None, reveal_form=None, revealed=None
) -> TemplateResponse:
    page = AdminPage(model_admin, request)
    can_change = model_admin.has_change_permission(request, case)
    response = page.render(
        "admin/hardship/case/detail.html",
        title=gettext("Case file %(case)s") % {"case": case},
        original=case,
        forms=forms_ or case_forms(case),
        can_change=can_change,
        double_aid=double_aid,
        reveal_form=reveal_form or RevealForm(prefix="reveal"),
        revealed=revealed,
        **case_context(case, request.user),
    )
    # A case file is personal data: never kept by a browser or a proxy (the reveal's answer least of all).
    patch_cache_control(response, no_store=True, private=True)
    return response


def case_reveal(model_admin, request, object_id: str):
    """Reveal the full name, ID number, mobile and address of the case's person (POST, with a
    reason): only in this answer, never cached; written to the access log by the service. Without
    `hardship.reveal_person` 403 and nothing logged; a case outside the scope 404."""
    if request.method != "POST":
        raise Http404
    try:
        case = model_admin.get_queryset(request).filter(pk=int_parse(object_id)).first()
    except ServiceError:
        case = None
    if case is None:
        raise Http404
    if not can_reveal_person(request.user):
        raise PermissionDenied
    form = RevealForm(request.POST, prefix="reveal")
    revealed = None
    if form.is_valid():
        try:
            revealed = case_reveal_person(case=case, actor=request.user, reason=form.cleaned_data["reason"])
        except ServiceError as exc:
            if exc.kind == ErrorKind.FORBIDDEN:
                raise PermissionDenied from None
            form.add_error("reason", exc.message)
    if revealed is None:
        # The form comes back with the case file: an opening like any other.
        access_log(user=request.user, action=AccessLog.Action.OPEN, case=case, detail="form reveal")
    return case_page(model_admin, request, case, reveal_form=form, revealed=revealed)
