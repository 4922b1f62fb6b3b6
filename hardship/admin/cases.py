"""Case files in the admin: searched for (supervisors may list them), opened (written to the
access log), and opened by hand for a member who came forward."""

import re

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.admin.views.main import SEARCH_VAR
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core.admin_kit import INDEX_SEARCH_RE, UnionSubtreeFilter, id_search_redirect, identity_search
from core.errors import ServiceError
from core.parsing import int_parse
from hardship.admin.base import AdminPage, HardshipAdmin, member_masked_label
from hardship.admin.case_page import case_action, case_page, case_reveal
from hardship.admin.reports import report_export, report_page
from hardship.admin.reviews import reviews_page
from hardship.models import Case
from hardship.selectors.access import can_list_all_cases, cases_visible_to
from hardship.selectors.cases import cases_listable_by, overdue_reviews
from hardship.services.access import case_open_for_view
from hardship.services.cases import case_open
from members import selectors as member_selectors


class ReviewOverdueFilter(admin.SimpleListFilter):
    title = _("yearly review")
    parameter_name = "review"

    def lookups(self, request, model_admin):
        return [("overdue", _("overdue"))]

    def queryset(self, request, queryset):
        if self.value() == "overdue":
            return queryset.filter(pk__in=overdue_reviews(request.user).values("pk"))
        return queryset


@admin.register(Case)
class CaseAdmin(HardshipAdmin):
    """Search first: staff find a case by its number, a member number, an ID number or a name;
    supervisors may also list. Opening a case file writes an access log row."""

    list_defer = ("head__id_number", "annual_income", "medical_expenditure", "schooling_expenditure", "health_notes")
    list_display = ("case_label", "head_label", "union", "state", "category", "opened_at", "filed_at", "review_due")
    list_display_links = ("case_label",)
    list_filter = ("state", "category", ReviewOverdueFilter, UnionSubtreeFilter)
    list_select_related = ("head", "union")
    search_fields = ("case_no",)  # the search itself is `hardship.selectors.case_search`
    search_help_text = _("A case number, a member number, a whole ID number or a member's full name.")
    ordering = ("-opened_at",)
    list_per_page = 50  # as every hardship list
    actions = None

    def get_queryset(self, request):
        qs = cases_visible_to(request.user).select_related("head", "union")
        ordering = self.get_ordering(request)
        return qs.order_by(*ordering) if ordering else qs

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if INDEX_SEARCH_RE.fullmatch(term):  # a whole ID number, replaced by its blind index (see below)
            return queryset.filter(head__id_index=term[3:]), False
        listable = cases_listable_by(request.user, term)
        return queryset.filter(pk__in=listable.values("pk")), False

    @admin.display(description=_("case number"), ordering="case_no")
    def case_label(self, obj):
        return str(obj)

    @admin.display(description=_("head of household"))
    def head_label(self, obj):
        return member_masked_label(obj.head)

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        if redirect := id_search_redirect(request):
            return redirect
        extra_context = {
            **(extra_context or {}),
            "can_list_all": can_list_all_cases(request.user),
            "searched": bool(request.GET.get(SEARCH_VAR, "").strip()),
        }
        return super().changelist_view(request, extra_context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if request.method != "GET":
            raise PermissionDenied  # a case changes through its small forms, one service each
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        try:
            case_id = int_parse(unquote(object_id))
        except ServiceError:
            raise Http404 from None
        case = case_open_for_view(user=request.user, case_id=case_id)
        if case is None:
            raise Http404
        return case_page(self, request, case)

    def add_view(self, request, form_url="", extra_context=None):
        return case_add(self, request)

    def history_view(self, request, object_id, extra_context=None):
        raise PermissionDenied  # the case's timeline is on its page

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("report/", view(lambda r: report_page(self, r)), name="hardship_report"),
            path("report/export/", view(lambda r: report_export(self, r)), name="hardship_report_export"),
            path("reviews/", view(lambda r: reviews_page(self, r)), name="hardship_case_reviews"),
            path(
                "<path:object_id>/reveal/",
                view(lambda r, object_id: case_reveal(self, r, object_id)),
                name="hardship_case_reveal",
            ),
            path(
                "<path:object_id>/do/<slug:action>/",
                view(lambda r, object_id, action: case_action(self, r, object_id, action)),
                name="hardship_case_action",
            ),
            *super().get_urls(),
        ]


class OpenCaseForm(forms.Form):
    member = forms.CharField(
        label=_("head of household"),
        max_length=40,
        help_text=_("The member's number, mobile or whole ID number."),
    )
    note = forms.CharField(label=_("note"), max_length=300, required=False, widget=forms.Textarea(attrs={"rows": 2}))


def case_add(model_admin, request) -> TemplateResponse | HttpResponseRedirect:
    """Open a case for a member who came forward (not found by screening)."""
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
                case = case_open(head=found[0], actor=request.user, note=form.cleaned_data["note"])
            except ServiceError as exc:
                form.add_error(None, exc.message)
            else:
                model_admin.message_user(request, gettext("The case file was opened."), messages.SUCCESS)
                return HttpResponseRedirect(reverse("admin:hardship_case_change", args=[case.pk]))
    return page.render("admin/hardship/form_page.html", title=title, form=form, submit=gettext("Open the case file"))
