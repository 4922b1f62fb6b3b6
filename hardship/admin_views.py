"""Custom admin pages for hardship staff: the push upload, the case file page and its small
forms, the warmth batch and cycle forms, and the report.

Each is a door: a form parses the input, one service (or selector) does the work, and the
page shows its answer or its refusal (`ServiceError.message`).
"""

import hashlib
import io
import re
from decimal import Decimal

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core import xlsx
from core.errors import ServiceError
from core.models import Agency
from hardship import reports, selectors
from hardship.models import AccessLog, Case, FundLine, HardshipSettings, PushKind, Referral
from members import selectors as member_selectors
from members.models import Union

MAX_PUSH_UPLOAD_BYTES = 50 * 1024 * 1024
MONTH_RE = re.compile(r"20\d\d-(0[1-9]|1[0-2])", re.ASCII)
PERIOD_RE = re.compile(r"20\d\d-(0[1-9]|1[0-2]|Q[1-4])", re.ASCII)


# --- Formatting ------------------------------------------------------------------------------

MONEY_KEYS = ("amount", "total", "cost", "pocket", "reimbursed", "income", "expenditure", "threshold")
EVIDENCE_LABELS = {
    "rule": _("rule"),
    "kind": _("kind"),
    "agency": _("agency"),
    "period": _("period"),
    "periods": _("periods"),
    "amount": _("amount"),
    "total_cost": _("total medical cost"),
    "reimbursed": _("reimbursed"),
    "out_of_pocket": _("out of pocket"),
    "illness_category": _("illness category"),
    "grade": _("grade"),
    "type": _("type"),
    "list": _("list"),
    "status": _("status"),
    "start_date": _("start date"),
    "injury_date": _("injury date"),
    "body": _("body"),
    "purpose": _("purpose"),
    "fund_line": _("fund line"),
    "date": _("date"),
    "rows": _("rows"),
    "threshold": _("threshold"),
    "total": _("total"),
    "sources": _("sources"),
    "amounts": _("amounts"),
}
# Never shown: names and ID numbers (the member's masked name is shown instead), row ids, hashes.
HIDDEN_EVIDENCE_KEYS = {"name", "id_number", "id_index", "row_ids", "member", "row", "facts"}


def cny(value) -> str:
    """154184.67 → "¥154,184.67"; anything that is not a number is shown as it is."""
    try:
        return f"¥{Decimal(str(value)):,.2f}"
    except (ArithmeticError, ValueError):
        return str(value)


def evidence_items(evidence) -> list[tuple[str, str]]:
    """Readable (label, value) pairs of a candidate's evidence or an evidence entry, amounts formatted.

    Names and ID numbers are never shown from evidence (the member's masked name is shown instead)."""
    if not isinstance(evidence, dict):
        return [("", str(evidence))] if evidence else []
    items = []
    for key, value in evidence.items():
        if key in HIDDEN_EVIDENCE_KEYS or value in (None, "", [], {}):
            continue
        label = str(EVIDENCE_LABELS.get(key, key.replace("_", " ")))
        if key == "rows" and isinstance(value, list):
            shown = str(len(value))
        elif isinstance(value, dict):
            shown = "; ".join(f"{k2}: {v2}" for k2, v2 in evidence_items(value))
        elif isinstance(value, list):
            shown = ", ".join(
                "(" + ", ".join(f"{k2} {v2}" for k2, v2 in evidence_items(v)) + ")" if isinstance(v, dict) else str(v)
                for v in value
            )
        elif any(word in key for word in MONEY_KEYS) and not isinstance(value, bool):
            shown = cny(value)
        else:
            shown = str(value)
        items.append((label, shown))
    return items


def evidence_text(evidence) -> str:
    return "; ".join(f"{label}: {value}" if label else value for label, value in evidence_items(evidence))


class AdminPage:
    """The admin context for a custom page of `model_admin`."""

    def __init__(self, model_admin, request):
        self.model_admin = model_admin
        self.request = request

    def render(self, template: str, **extra) -> TemplateResponse:
        opts = self.model_admin.model._meta
        context = {
            **self.model_admin.admin_site.each_context(self.request),
            "opts": opts,
            "app_label": opts.app_label,
            **extra,
        }
        return TemplateResponse(self.request, template, context)


# --- Data pushes: the admin upload -----------------------------------------------------------


class PushUploadForm(forms.Form):
    agency = forms.ModelChoiceField(label=_("agency"), queryset=Agency.objects.none())
    kind = forms.ChoiceField(label=_("kind"), choices=PushKind.choices)
    period = forms.CharField(label=_("period"), max_length=7, help_text=_("A month (2025-03) or a quarter (2025-Q1)."))
    batch_id = forms.CharField(
        label=_("batch id"),
        max_length=64,
        help_text=_("The agency's own id for this batch; the same id is taken once."),
    )
    file = forms.FileField(
        label=_("file (CSV or XLSX)"),
        help_text=_("CSV in UTF-8 (with or without BOM), GBK or GB18030, or an Excel XLSX workbook."),
    )

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        # Only the agencies this staff member may act for (the service checks it again).
        self.fields["agency"].queryset = selectors.agencies_uploadable_by(user)

    def clean_period(self):
        period = self.cleaned_data["period"].strip().upper()
        if not PERIOD_RE.fullmatch(period):
            raise forms.ValidationError(gettext("Give a month as YYYY-MM or a quarter as YYYY-Q1."))
        return period

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_PUSH_UPLOAD_BYTES:
            raise forms.ValidationError(gettext("The file is larger than 50 MB: send it through the API in pages."))
        return upload


def count_data_rows(content: bytes, kind: str) -> int:
    """The data rows of a CSV or XLSX file as the manifest's row count declares them (the header
    and blank lines not counted), read the way the ingestion reads it; a bad header is refused."""
    from hardship.ingest import detect_format

    return detect_format(io.BytesIO(content), kind)[1]


def push_upload(model_admin, request) -> TemplateResponse:
    """Upload an agency's file for staff: the manifest's row count and SHA-256 are computed
    from the file; the answer (rows accepted, each rejected row's line and reason) is shown."""
    if not model_admin.has_add_permission(request):
        raise PermissionDenied
    from hardship.ingest import push_answer
    from hardship.ingest import push_upload as push_upload_service

    page = AdminPage(model_admin, request)
    title = gettext("Upload agency data")
    if request.method != "POST":
        return page.render("admin/hardship/datapush/upload.html", title=title, form=PushUploadForm(user=request.user))
    form = PushUploadForm(request.POST, request.FILES, user=request.user)
    if not form.is_valid():
        return page.render("admin/hardship/datapush/upload.html", title=title, form=form)
    data = form.cleaned_data
    upload = data["file"]
    content = b"".join(upload.chunks())
    try:
        row_count = count_data_rows(content, data["kind"])
    except ServiceError as exc:
        form.add_error("file", exc.message)
        return page.render("admin/hardship/datapush/upload.html", title=title, form=form)
    manifest = {
        "agency": data["agency"].code,
        "kind": data["kind"],
        "period": data["period"],
        "batch_id": data["batch_id"].strip(),
        "row_count": row_count,
        "sha256": hashlib.sha256(content).hexdigest(),
    }
    try:
        push = push_upload_service(
            actor=request.user, agency=data["agency"], manifest=manifest, content=content, filename=upload.name
        )
    except ServiceError as exc:
        form.add_error(None, exc.message)
        return page.render("admin/hardship/datapush/upload.html", title=title, form=form)
    return page.render(
        "admin/hardship/datapush/upload.html",
        title=title,
        form=PushUploadForm(user=request.user),
        push=push,
        answer=push_answer(push),
        repeated=not getattr(push, "created_now", True),
        file_name=upload.name,
    )


# --- Case file: the page and its small forms -------------------------------------------------


def _open_states():
    return [s for s in Case.State if s in Case.OPEN_STATES]


class TransitionForm(forms.Form):
    to_state = forms.ChoiceField(label=_("new state"), choices=Case.State.choices)
    note = forms.CharField(label=_("note"), max_length=300, required=False, widget=forms.Textarea(attrs={"rows": 2}))


class AssessForm(forms.Form):
    household_size = forms.IntegerField(label=_("household size"), min_value=1, max_value=20)
    annual_income = forms.DecimalField(
        label=_("household income per year"), min_value=0, max_digits=12, decimal_places=2
    )
    medical = forms.DecimalField(
        label=_("medical expenditure per year"), min_value=0, max_digits=12, decimal_places=2, initial=0
    )
    schooling = forms.DecimalField(
        label=_("schooling expenditure per year"), min_value=0, max_digits=12, decimal_places=2, initial=0
    )
    sudden_accident = forms.BooleanField(label=_("sudden accident or major illness"), required=False)
    health_notes = forms.CharField(
        label=_("health and disability notes"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class CategoryForm(forms.Form):
    category = forms.ChoiceField(label=_("category"), choices=Case.Category.choices)
    reason = forms.CharField(label=_("reason"), max_length=300, widget=forms.Textarea(attrs={"rows": 2}))


class AidForm(forms.Form):
    fund_line = forms.ChoiceField(
        label=_("fund line"), choices=[c for c in FundLine.choices if c[0] != FundLine.WARMTH]
    )
    amount = forms.DecimalField(label=_("amount (CNY)"), min_value=Decimal("0.01"), max_digits=12, decimal_places=2)
    purpose = forms.CharField(label=_("purpose"), max_length=200)
    paid_on = forms.DateField(
        label=_("date"), widget=forms.DateInput(attrs={"type": "date"}), help_text=_("The aid counts in this month.")
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


CASE_FORMS = {
    "transition": TransitionForm,
    "assess": AssessForm,
    "category": CategoryForm,
    "aid": AidForm,
    "refer": ReferralForm,
    "document": DocumentForm,
}


def case_forms(case: Case, data=None, files=None, action: str | None = None) -> dict:
    """A fresh form per action (the posted one bound to `data`)."""
    from hardship.services import ALLOWED_TRANSITIONS

    out = {}
    for name, cls in CASE_FORMS.items():
        if name == action:
            out[name] = cls(data, files, prefix=name)
        else:
            out[name] = cls(prefix=name, initial=_initial(case, name))
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
    """What the case page shows: timeline, assessment, documents, aid, referrals, evidence."""
    aid = list(case.aid.select_related("maker", "approver").order_by("-paid_on", "-id"))
    documents = list(case.documents.order_by("-uploaded_at"))
    for doc in documents:
        doc.url = reverse("hardship:document", args=[doc.pk])
    evidence = [
        {
            "title": " · ".join(str(e.get(k) or "") for k in ("agency_name", "kind_label", "period")),
            "pairs": evidence_items(e.get("data") or {}),
        }
        for e in selectors.member_evidence(case.head)
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
    events = list(selectors.case_timeline(case))
    states = dict(Case.State.choices)
    for ev in events:  # a state change shows where the case went
        to = (ev.data or {}).get("to") if ev.kind == "state" else None
        ev.label = f"→ {states[to]}" if to in states else ev.kind
    from hardship.services import needs_decision

    return {
        "case": case,
        "needs_decision": needs_decision(case),
        "not_in_hardship_warning": NOT_IN_HARDSHIP_WARNING,
        "events": events,
        "figures": figures,
        "aid": aid,
        "documents": documents,
        "referrals": list(case.referrals.select_related("agency").order_by("-sent_at")),
        "evidence": evidence,
        "document_max_mb": HardshipSettings.get().document_max_bytes / (1024 * 1024),
    }


def case_action(model_admin, request, object_id: str, action: str):
    """One small form of the case page (POST), calling one service; back to the case page."""
    from hardship import services

    if request.method != "POST" or action not in CASE_FORMS:
        raise Http404
    case = model_admin.get_queryset(request).filter(pk=object_id).first() if str(object_id).isdigit() else None
    if case is None:
        raise Http404
    if not model_admin.has_change_permission(request, case):
        raise PermissionDenied
    form = CASE_FORMS[action](request.POST, request.FILES, prefix=action)
    page_url = reverse("admin:hardship_case_change", args=[case.pk])

    def show_again(forms_, **extra):
        # The form comes back with the whole case file: an opening, written to the access log like
        # any other (a successful action redirects to the case page, which logs itself).
        services.access_log(user=request.user, action=AccessLog.Action.OPEN, case=case, detail=f"form {action}")
        return case_page(model_admin, request, case, forms_=forms_, **extra)

    if not form.is_valid():
        return show_again(case_forms(case, request.POST, request.FILES, action))
    data = form.cleaned_data
    user = request.user
    try:
        if action == "transition":
            services.case_transition(case=case, to_state=data["to_state"], actor=user, note=data["note"])
            done = gettext("The case is now: %(state)s.") % {"state": Case.State(data["to_state"]).label}
        elif action == "assess":
            services.case_assess(
                case=case,
                actor=user,
                household_size=data["household_size"],
                annual_income=data["annual_income"],
                medical_expenditure=data["medical"] or Decimal("0"),
                schooling_expenditure=data["schooling"] or Decimal("0"),
                sudden_accident=data["sudden_accident"],
                health_notes=data["health_notes"],
            )
            done = gettext("The assessment was saved.")
        elif action == "category":
            services.case_override_category(case=case, actor=user, category=data["category"], reason=data["reason"])
            done = gettext("The category was changed.")
        elif action == "aid":
            found = selectors.double_aid_check(
                member=case.head,
                fund_line=data["fund_line"],
                purpose=data["purpose"],
                period=data["paid_on"].strftime("%Y-%m"),
            )
            if found and not data["acknowledge"]:
                forms_ = case_forms(case, request.POST, request.FILES, action)
                forms_["aid"].add_error(
                    "acknowledge",
                    gettext("Aid for the same purpose was given in this period: confirm you have seen it."),
                )
                return show_again(forms_, double_aid=found)
            aid = services.aid_create(
                case=case,
                actor=user,
                fund_line=data["fund_line"],
                amount=data["amount"],
                purpose=data["purpose"],
                paid_on=data["paid_on"],
                double_aid_acknowledged=bool(data["acknowledge"]),
            )
            if aid.state == aid.State.PENDING_APPROVAL:
                done = gettext("The aid was entered; it waits for a second staff member's approval.")
            else:
                done = gettext("The aid was entered.")
        elif action == "refer":
            services.referral_send(
                case=case, agency=data["agency"], benefit=data["benefit"], actor=user, note=data["note"]
            )
            done = gettext("The referral was sent to %(agency)s.") % {"agency": data["agency"].name}
        else:
            services.document_attach(case=case, actor=user, upload=data["file"], title=data["title"])
            done = gettext("The document was attached.")
    except ServiceError as exc:
        forms_ = case_forms(case, request.POST, request.FILES, action)
        forms_[action].add_error(None, exc.message)
        return show_again(forms_)
    model_admin.message_user(request, done, messages.SUCCESS)
    if action in ("assess", "category"):
        case.refresh_from_db()
        if services.needs_decision(case):
            model_admin.message_user(request, NOT_IN_HARDSHIP_WARNING, messages.WARNING)
    return HttpResponseRedirect(page_url)


def case_page(model_admin, request, case: Case, *, forms_=None, double_aid=None) -> TemplateResponse:
    page = AdminPage(model_admin, request)
    can_change = model_admin.has_change_permission(request, case)
    return page.render(
        "admin/hardship/case/detail.html",
        title=gettext("Case file %(case)s") % {"case": case},
        original=case,
        forms=forms_ or case_forms(case),
        can_change=can_change,
        double_aid=double_aid,
        **case_context(case, request.user),
    )


class OpenCaseForm(forms.Form):
    member = forms.CharField(
        label=_("head of household"),
        max_length=40,
        help_text=_("The member's number, mobile or whole ID number."),
    )
    note = forms.CharField(label=_("note"), max_length=300, required=False, widget=forms.Textarea(attrs={"rows": 2}))


def case_add(model_admin, request) -> TemplateResponse | HttpResponseRedirect:
    """Open a case for a member who came forward (not found by screening)."""
    from core.admin_kit import identity_search
    from hardship import services

    if not model_admin.has_add_permission(request):
        raise PermissionDenied
    page = AdminPage(model_admin, request)
    title = gettext("Open a case file")
    form = OpenCaseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        term = form.cleaned_data["member"].strip()
        found = list(identity_search(member_selectors.members_visible_to(request.user), term)[:2]) if term else []
        if len(found) != 1 or re.fullmatch(r"\D+", term):
            form.add_error("member", gettext("No member in your scope has this number."))
        else:
            try:
                case = services.case_open(head=found[0], actor=request.user, note=form.cleaned_data["note"])
            except ServiceError as exc:
                form.add_error(None, exc.message)
            else:
                model_admin.message_user(request, gettext("The case file was opened."), messages.SUCCESS)
                return HttpResponseRedirect(reverse("admin:hardship_case_change", args=[case.pk]))
    return page.render("admin/hardship/form_page.html", title=title, form=form, submit=gettext("Open the case file"))


# --- Warmth batches and the monthly cycle ----------------------------------------------------


class WarmthBatchForm(forms.Form):
    name = forms.CharField(label=_("name"), max_length=100, help_text=_("e.g. Spring Festival warmth 2025"))
    union = forms.ModelChoiceField(label=_("union"), queryset=Union.objects.none())
    period = forms.CharField(label=_("period"), max_length=7, help_text=_("The month of the payment (2025-02)."))
    amount_per_person = forms.DecimalField(
        label=_("amount per person (CNY)"), min_value=Decimal("0.01"), max_digits=10, decimal_places=2
    )

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["union"].queryset = reports.report_unions(user)

    def clean_period(self):
        period = self.cleaned_data["period"].strip()
        if not MONTH_RE.fullmatch(period):
            raise forms.ValidationError(gettext("Give a month as YYYY-MM."))
        return period


def warmth_batch_add(model_admin, request):
    """A batch payment to the warmth roster of a union's subtree (per-person amount)."""
    from hardship import services

    if not model_admin.has_add_permission(request):
        raise PermissionDenied
    page = AdminPage(model_admin, request)
    form = WarmthBatchForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            batch = services.warmth_batch_create(
                union=data["union"],
                period=data["period"],
                amount_per_person=data["amount_per_person"],
                actor=request.user,
                name=data["name"],
            )
        except ServiceError as exc:
            form.add_error(None, exc.message)
        else:
            model_admin.message_user(
                request,
                gettext("The batch was drawn up: %(count)d people, %(total)s.")
                % {"count": batch.recipients, "total": cny(batch.total)},
                messages.SUCCESS,
            )
            return HttpResponseRedirect(reverse("admin:hardship_warmthbatch_change", args=[batch.pk]))
    return page.render(
        "admin/hardship/form_page.html",
        title=gettext("Pay the warmth roster"),
        intro=gettext("Every active member of the warmth roster of the union's subtree gets the amount once."),
        form=form,
        submit=gettext("Draw up the batch"),
    )


class CycleForm(forms.Form):
    period = forms.CharField(label=_("period"), max_length=7, help_text=_("The month to run (2025-03)."))
    restart = forms.BooleanField(
        label=_("run every step again"), required=False, help_text=_("For a month whose cycle is already done.")
    )

    def clean_period(self):
        period = self.cleaned_data["period"].strip()
        if not MONTH_RE.fullmatch(period):
            raise forms.ValidationError(gettext("Give a month as YYYY-MM."))
        return period


def cycle_start_page(model_admin, request):
    """Start the monthly cycle for a period (in the background; its progress shows in the list)."""
    from hardship import cycle

    if not request.user.has_perm("hardship.change_cyclerun"):
        raise PermissionDenied
    page = AdminPage(model_admin, request)
    form = CycleForm(request.POST or None, initial={"period": timezone.localdate().strftime("%Y-%m")})
    if request.method == "POST" and form.is_valid():
        period = form.cleaned_data["period"]
        try:
            cycle.cycle_start(period=period, actor=request.user, restart=form.cleaned_data["restart"])
        except ServiceError as exc:
            form.add_error(None, exc.message)
        else:
            model_admin.message_user(
                request, gettext("The cycle for %(period)s was started.") % {"period": period}, messages.SUCCESS
            )
            return HttpResponseRedirect(reverse("admin:hardship_cyclerun_changelist"))
    return page.render(
        "admin/hardship/form_page.html",
        title=gettext("Run the monthly cycle"),
        intro=gettext(
            "Ingest the pending pushes, match, screen, refresh the warmth roster, notify staff and publish the "
            "outbound data for the period. Running it again for the same period changes nothing already done."
        ),
        form=form,
        submit=gettext("Run the cycle"),
    )


# --- The report ------------------------------------------------------------------------------


def _report_args(request):
    if not reports.is_hardship_staff(request.user):
        raise PermissionDenied
    unions = reports.report_unions(request.user)
    default = timezone.localdate().strftime("%Y-%m")
    period = (request.GET.get("period") or default).strip()
    try:
        reports.period_parse(period)
    except ServiceError:
        period = default
    union = None
    value = request.GET.get("union", "")
    if value.isdigit():
        union = unions.filter(pk=value).first()
    return period, union, unions


def report_page(model_admin, request) -> TemplateResponse:
    """Figures, funnel and 12-month trend of a period, for the staff member's scope."""
    period, union, unions = _report_args(request)
    figures = reports.period_figures(user=request.user, period=period, union=union)
    months = reports.trend(user=request.user, end=period, union=union)
    chart = {
        "funnel": [{"name": str(s["label"]), "value": s["value"]} for s in figures["funnel"]],
        "months": [m["month"] for m in months],
        "series": {
            "received": [m["received"] for m in months],
            "matched": [m["matched"] for m in months],
            "candidates": [m["candidates"] for m in months],
            "filed": [m["filed"] for m in months],
            "aid": [float(m["aid"]) for m in months],
        },
        "labels": {
            "received": gettext("Records received"),
            "matched": gettext("Matched to members"),
            "candidates": gettext("Candidates"),
            "filed": gettext("Files built"),
            "aid": gettext("Aid paid (CNY)"),
        },
    }
    page = AdminPage(model_admin, request)
    return page.render(
        "admin/hardship/report.html",
        title=gettext("Hardship report"),
        period=period,
        union=union,
        unions=unions,
        figures=figures,
        months=months,
        chart=chart,
    )


def report_export(model_admin, request) -> HttpResponse:
    period, union, _unions = _report_args(request)
    data = reports.report_export_xlsx(user=request.user, period=period, union=union)
    return xlsx.response(data, f"hardship-report-{period}.xlsx")
