"""The staff scope rule, applied to every ModelAdmin.

A superuser sees everything; other staff see and change only their union's subtree; staff
with no union see nothing. The rule itself lives in `members.selectors`; this mixin applies it
to the admin's querysets, foreign-key choices and per-object permissions.
"""

from django.contrib.admin.views.main import ChangeList
from django.contrib.admin.widgets import RelatedFieldWidgetWrapper
from django.db.models import Q, QuerySet

from members import selectors
from members.models import Enterprise, Member, Station, Union, User


def visible_enterprises(user) -> QuerySet[Enterprise]:
    """Enterprises of the user's subtree, and those not yet assigned to any union."""
    prefix = selectors.scope_prefix(user)
    if prefix is None:
        return Enterprise.objects.none()
    if prefix == "":
        return Enterprise.objects.all()
    return Enterprise.objects.filter(Q(union__path__startswith=prefix) | Q(union__isnull=True))


def choices_for(model, user) -> QuerySet | None:
    """The rows a staff user may pick in a foreign key to `model`, or None for no restriction."""
    if model is Union:
        return selectors.unions_visible_to(user)
    if model is Station:
        return selectors.scoped(Station.objects.all(), user, "union")
    if model is Member:
        return selectors.members_visible_to(user)
    if model is Enterprise:
        return visible_enterprises(user)
    if model is User:
        return selectors.scoped(User.objects.filter(is_staff=True), user, "union")
    return None


class DeferringChangeList(ChangeList):
    """A list that leaves out the columns named by the admin's `list_defer` (e.g. the encrypted
    ID number, never shown: no decryption per row)."""

    def get_queryset(self, request, exclude_parameters=None):
        qs = super().get_queryset(request, exclude_parameters)
        deferred = getattr(self.model_admin, "list_defer", ())
        return qs.defer(*deferred) if deferred else qs


class ScopedAdminMixin:
    """Restrict an admin to the requesting user's union subtree.

    `scope_field` names the foreign key (a `__` path) leading to the union a row belongs to;
    None means the row is a Union itself.
    """

    scope_field: str | None = "union"
    list_defer: tuple[str, ...] = ()

    def get_changelist(self, request, **kwargs):
        return DeferringChangeList

    # --- rows ---------------------------------------------------------------------------------

    def scope_queryset(self, request, qs: QuerySet) -> QuerySet:
        if self.scope_field is None:
            prefix = selectors.scope_prefix(request.user)
            if prefix is None:
                return qs.none()
            return qs.filter(path__startswith=prefix) if prefix else qs
        return selectors.scoped(qs, request.user, self.scope_field)

    def get_queryset(self, request):
        return self.scope_queryset(request, super().get_queryset(request))

    def union_of(self, obj) -> Union | None:
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
        return selectors.user_can_manage(request.user, union)

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
            qs = choices_for(db_field.related_model, request.user)
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
        from django.contrib.admin.utils import unquote
        from django.core.exceptions import PermissionDenied
        from django.http import Http404

        if request.method != "GET":
            raise PermissionDenied
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            raise Http404
        if not self.has_view_permission(request, obj):
            raise PermissionDenied
        return super().history_form_view(request, object_id, version_id, extra_context)

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
