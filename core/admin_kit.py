"""The admin building blocks every app's admin uses.

- the union scope: `ScopedAdminMixin` (rows, choices and permissions of a staff user's subtree),
  `ScopedHistoryMixin` (simple-history under the same scope; `OneVersionPerSaveMixin` for rows
  with many-to-many fields), `DeferringChangeList` and
  `UnionSubtreeFilter`;
- the identity search: `identity_search` and `IdentitySearchMixin` (an exact ID number through
  its blind index, a mobile, a member number or the start of a name);
- actions that are doors to services: `ServiceActionsMixin`, `ReasonActionsMixin` (`text_action`),
  at most `MAX_ACTION_ROWS` rows at once;
- `CityWideSettingsMixin`: what applies to the whole city is changed by city-level staff only;
- `ReadOnlyMixin`, and `LargeTableMixin` for the tables too big to count.

Core knows neither the union tree nor how ID numbers are indexed: the app that owns them (members)
registers its `AdminHooks` with `admin_hooks_register` in its AppConfig.ready.
"""

import re

from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.utils import unquote
from django.contrib.admin.views.main import SEARCH_VAR, ChangeList
from django.contrib.admin.widgets import RelatedFieldWidgetWrapper
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from simple_history.template_utils import HistoricalRecordContextHelper

from core.crypto import id_number_index
from core.errors import ServiceError
from core.history import history_record_write
from core.paginator import LargeTablePaginator
from core.parsing import ID_NUMBER_RE, MOBILE_RE, id_number_normalize, normalize_digits

# --- What the owning app tells the admin ------------------------------------------------------


class AdminHooks:
    """The union scope of staff users.

    The app owning unions and members subclasses this and registers one instance; every rule here
    lives there (the mixins below only call it)."""

    def scope(self, qs: QuerySet, user, union_field: str | None) -> QuerySet:
        """The rows of `qs` in the user's subtree; `union_field` (a `__` path) leads to a row's
        union, None when the rows are unions."""
        raise NotImplementedError

    def can_manage(self, user, union) -> bool:
        """Whether the user may see and change what belongs to `union`."""
        raise NotImplementedError

    def choices_for(self, model, user) -> QuerySet | None:
        """The rows a staff user may pick in a foreign key to `model`, or None for no restriction."""
        raise NotImplementedError

    def subtree_choices(self, user) -> list[tuple[str, str]]:
        """The unions `UnionSubtreeFilter` offers the user, as (pk, label)."""
        raise NotImplementedError

    def in_subtree(self, qs: QuerySet, user, union_field: str, union_pk: str) -> QuerySet:
        """The rows of `qs` under the union `union_pk` (none if the user cannot see that union)."""
        raise NotImplementedError

    def is_city_level(self, user) -> bool:
        """Whether the user may change what applies to the whole city (`CityWideSettingsMixin`)."""
        raise NotImplementedError


_hooks: AdminHooks | None = None


def admin_hooks_register(hooks: AdminHooks) -> None:
    global _hooks  # noqa: PLW0603 - set once, from an AppConfig.ready
    _hooks = hooks


def admin_hooks() -> AdminHooks:
    if _hooks is None:
        raise ImproperlyConfigured("No AdminHooks registered: the members app registers them in its AppConfig.ready.")
    return _hooks


# --- The union scope ------------------------------------------------------------------------


class DeferringChangeList(ChangeList):
    """A list that leaves out the columns named by the admin's `list_defer` (e.g. the encrypted
    ID number, never shown: no decryption per row)."""

    def get_queryset(self, request, exclude_parameters=None):
        qs = super().get_queryset(request, exclude_parameters)
        deferred = getattr(self.model_admin, "list_defer", ())
        return qs.defer(*deferred) if deferred else qs


class ScopedAdminMixin:
    """Restrict an admin to the requesting user's union subtree.

    A superuser sees everything; other staff see and change only their union's subtree; staff
    with no union see nothing. `scope_field` names the foreign key (a `__` path) leading to the
    union a row belongs to; None means the row is a Union itself.
    """

    scope_field: str | None = "union"
    list_defer: tuple[str, ...] = ()

    def get_changelist(self, request, **kwargs):
        return DeferringChangeList

    # --- rows ---------------------------------------------------------------------------------

    def scope_queryset(self, request, qs: QuerySet) -> QuerySet:
        return admin_hooks().scope(qs, request.user, self.scope_field)

    def get_queryset(self, request):
        return self.scope_queryset(request, super().get_queryset(request))

    def union_of(self, obj):
        if self.scope_field is None:
            return obj
        target = obj
        for part in self.scope_field.split("__"):
            target = getattr(target, part, None)
            if target is None:
                return None
        return target

    def in_scope(self, request, obj) -> bool:
        union = self.union_of(obj)
        if union is None:
            return bool(request.user.is_superuser)
        return admin_hooks().can_manage(request.user, union)

    # --- permissions ----------------------------------------------------------------------------

    def has_view_permission(self, request, obj=None):
        return super().has_view_permission(request, obj) and (obj is None or self.in_scope(request, obj))

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and (obj is None or self.in_scope(request, obj))

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and (obj is None or self.in_scope(request, obj))

    # --- choices --------------------------------------------------------------------------------

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        widget = getattr(field, "widget", None)
        if isinstance(widget, RelatedFieldWidgetWrapper):
            # Related rows are added, changed and deleted on their own pages, under their own scope.
            widget.can_add_related = widget.can_change_related = widget.can_delete_related = False
        return field

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if "queryset" not in kwargs:
            qs = admin_hooks().choices_for(db_field.related_model, request.user)
            if qs is not None:
                kwargs["queryset"] = qs
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class ScopedHistoryMixin:
    """For SimpleHistoryAdmin: history only of rows in scope, never reverting, never showing
    the encrypted columns in a change delta."""

    history_excluded_fields: tuple[str, ...] = ()

    def revert_disabled(self, request, obj=None):
        return True

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if request.method != "GET":
            raise PermissionDenied
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            raise Http404
        if not self.has_view_permission(request, obj):
            raise PermissionDenied
        return super().history_form_view(request, object_id, version_id, extra_context)

    def get_historical_record_context_helper(self, request, historical_record):
        return LabelledChangesHelper(self.model, historical_record)

    def set_history_delta_changes(self, request, historical_records, foreign_keys_are_objs=True):
        previous = None
        for current in historical_records:
            if previous is not None:
                delta = previous.diff_against(
                    current,
                    excluded_fields=self.history_excluded_fields,
                    foreign_keys_are_objs=foreign_keys_are_objs,
                )
                helper = self.get_historical_record_context_helper(request, previous)
                previous.history_delta_changes = helper.context_for_delta_changes(delta)
            previous = current


class LabelledChangesHelper(HistoricalRecordContextHelper):
    """A history page's changes as people read them: the field's label (translated, as simple-history
    gives it) and, for a field with choices or a yes/no field, the label of the old and new values
    instead of the stored code (市总工会, not `city`)."""

    def prepare_delta_change_value(self, change, value):
        field = self.model._meta.get_field(change.field)
        if getattr(field, "choices", None) and not isinstance(value, list | tuple):
            return dict(field.flatchoices).get(value, value)
        if isinstance(value, bool):
            return gettext("Yes") if value else gettext("No")
        return super().prepare_delta_change_value(change, value)


class OneVersionPerSaveMixin(ScopedHistoryMixin):
    """For SimpleHistoryAdmin of a row with many-to-many fields (a group's permissions): one saved
    form is one version in the history, written after the row and its links, by the acting user,
    instead of one for the row and one for each change of its links."""

    def save_model(self, request, obj, form, change):
        obj.skip_history_when_saving = True  # simple-history's switch, for the row and its links
        self.save_row(request, obj, form, change)

    def save_row(self, request, obj, form, change):
        """Write the row; an admin whose row is saved by a service overrides this, not save_model."""
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        obj = form.instance
        if hasattr(obj, "skip_history_when_saving"):
            del obj.skip_history_when_saving
        history_record_write(obj, user=request.user, created=not change)


class CityWideSettingsMixin:
    """Rows that apply to the whole city (the screening rules, the monthly cycle, settings rows,
    standards, campaigns, merchants, staff groups): only city-level staff (or a superuser) add,
    change or delete them and run their actions; other staff holding the permissions see them
    read-only. The rule is the owning app's (`AdminHooks.is_city_level`). A change is audited by the
    service that saves it or kept, with its old and new values, in the row's history.

    Custom pages of such an admin (the cycle's run page) ask `city_level(request)`."""

    def city_level(self, request) -> bool:
        return admin_hooks().is_city_level(request.user)

    def has_add_permission(self, request, *args):
        return self.city_level(request) and super().has_add_permission(request, *args)

    def has_change_permission(self, request, obj=None):
        return self.city_level(request) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self.city_level(request) and super().has_delete_permission(request, obj)


class UnionSubtreeFilter(admin.SimpleListFilter):
    """Filter by a union and everything under it; `union_field` leads from a row to its union."""

    title = _("union (with the unions under it)")
    parameter_name = "in_union"
    union_field = "union"

    def lookups(self, request, model_admin):
        return admin_hooks().subtree_choices(request.user)

    def queryset(self, request, queryset):
        value = self.value()
        if not value:
            return queryset
        return admin_hooks().in_subtree(queryset, request.user, self.union_field, value)


# --- The identity search --------------------------------------------------------------------

MEMBER_NO_RE = re.compile(r"[A-Za-z]{2}[0-9]{10}")
# A searched ID number is replaced in the URL by its blind index, so the number itself never
# stays in the page, its links, the browser history or the access log of later requests.
INDEX_SEARCH_RE = re.compile(r"id:[0-9a-f]{64}")


def identity_search(queryset, search_term: str):
    """Search people by exact ID number (through its blind index), mobile, member number or name."""
    name = search_term.strip()
    if not name:
        return queryset
    # Numbers typed or pasted with fullwidth digits match their ASCII form.
    term = normalize_digits(name)
    if ID_NUMBER_RE.fullmatch(term.upper()):
        return queryset.filter(id_index=id_number_index(term.upper()))
    if INDEX_SEARCH_RE.fullmatch(term):
        return queryset.filter(id_index=term[3:])
    if MOBILE_RE.fullmatch(term):
        return queryset.filter(mobile=term)
    if MEMBER_NO_RE.fullmatch(term) and hasattr(queryset.model, "member_no"):
        return queryset.filter(member_no=term.upper())
    return queryset.filter(name__startswith=name)


class IdentitySearchMixin:
    """The search box takes an exact ID number, mobile, member number or the start of a name."""

    search_fields = ("name",)

    def get_search_results(self, request, queryset, search_term):
        return identity_search(queryset, search_term), False

    def changelist_view(self, request, extra_context=None):
        return id_search_redirect(request) or super().changelist_view(request, extra_context)


def id_search_redirect(request) -> HttpResponseRedirect | None:
    """When a list's search box holds a whole ID number: the same list searching its blind index
    instead, so the number never stays in the URL, the browser history or the server's logs."""
    term = id_number_normalize(request.GET.get(SEARCH_VAR, ""))
    if not ID_NUMBER_RE.fullmatch(term):
        return None
    params = request.GET.copy()
    params[SEARCH_VAR] = "id:" + id_number_index(term)
    return HttpResponseRedirect(f"{request.path}?{params.urlencode()}")


# --- Actions --------------------------------------------------------------------------------

# An action works on at most this many rows at once, so a request never runs for minutes.
MAX_ACTION_ROWS = 500


class ServiceActionsMixin:
    """Admin actions that run a service on each selected row (at most MAX_ACTION_ROWS)."""

    def too_many(self, request) -> None:
        self.message_user(
            request,
            gettext("Select at most %(count)d rows for this action.") % {"count": MAX_ACTION_ROWS},
            messages.WARNING,
        )

    def run_each(self, request, objects, run) -> int:
        """Run a service on each object; report each refusal and the number done."""
        objects = list(objects[: MAX_ACTION_ROWS + 1])
        if len(objects) > MAX_ACTION_ROWS:
            self.too_many(request)
            return 0
        done = 0
        for obj in objects:
            try:
                run(obj)
            except ServiceError as exc:
                self.message_user(
                    request,
                    gettext("%(object)s: %(message)s") % {"object": obj, "message": exc.message},
                    messages.ERROR,
                )
            else:
                done += 1
        if done:
            self.message_user(
                request,
                ngettext("%(count)d row done.", "%(count)d rows done.", done) % {"count": done},
                messages.SUCCESS,
            )
        return done


class ReasonActionsMixin(ServiceActionsMixin):
    """Actions that need a reason: an intermediate page asks for it, then a service runs per row.

    `reason_template` is the page (a template with a `reason` field) of the admin's `reason_action`."""

    reason_template: str

    def reason_action(
        self, request, queryset, *, action: str, title: str, run, missing: str = ""
    ) -> TemplateResponse | None:
        return self.text_action(
            request,
            queryset,
            field="reason",
            template=self.reason_template,
            missing=missing or gettext("Give a reason for the rejection."),
            context={"title": title, "action": action},
            run=run,
        )

    def text_action(
        self, request, queryset, *, field: str, template: str, missing: str, context: dict, run
    ) -> TemplateResponse | None:
        """An intermediate page asks for a text (POST `field`), then `run(obj, text)` per row;
        `missing` is the error shown when it is left empty."""
        objects = list(queryset[: MAX_ACTION_ROWS + 1])
        if len(objects) > MAX_ACTION_ROWS:
            self.too_many(request)
            return None
        error = ""
        text = (request.POST.get(field) or "").strip()
        if "apply" in request.POST:
            if text:
                self.run_each(request, objects, lambda obj: run(obj, text))
                return None
            error = missing
        context = {
            **self.admin_site.each_context(request),
            **context,
            "objects": objects,
            "opts": self.model._meta,
            "action_checkbox_name": ACTION_CHECKBOX_NAME,
            field: text,
            "error": error,
        }
        return TemplateResponse(request, template, context)


# --- Tables ---------------------------------------------------------------------------------


class ReadOnlyMixin:
    """Nobody adds, changes or deletes rows here (superusers included); for admins and inlines."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class LargeTableMixin:
    """A list of a table too big to count: no full count, no facet counts, and a paginator that
    estimates or caps its count (`core.paginator`). An admin may set its own `list_per_page`."""

    list_per_page = 100
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    paginator = LargeTablePaginator


# --- The admin's refusal page ---------------------------------------------------------------


def permission_denied_page(request, exception=None):
    """handler403: under the admin, a refusal of staff is a page of the admin, in its style and
    language, with the way back; elsewhere (and for anyone else) Django's handler renders the
    site's own 403.html."""
    from django.contrib.admin import site
    from django.shortcuts import render
    from django.views import defaults

    user = getattr(request, "user", None)
    staff = user is not None and user.is_active and user.is_staff
    if not (staff and request.path.startswith(reverse("admin:index"))):
        return defaults.permission_denied(request, exception)
    context = {**site.each_context(request), "title": gettext("You may not open this page")}
    return render(request, "admin/403.html", context, status=403)
