"""The admin for the shared services: the audit log, inboxes, partner agencies, API keys and staff
groups (with the history of each change of a group or an agency)."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import GroupAdmin as DjangoGroupAdmin
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.decorators import method_decorator
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST
from simple_history.admin import SimpleHistoryAdmin

from core.admin_kit import (
    MAX_ACTION_ROWS,
    CityWideSettingsMixin,
    LargeTableMixin,
    OneVersionPerSaveMixin,
    ScopedHistoryMixin,
    admin_hooks,
)
from core.errors import ServiceError
from core.models import Agency, ApiKey, AuditEntry, Notification
from core.selectors import notification_of, notifications_unread_count
from core.services import (
    api_key_create,
    api_key_revoke,
    api_key_validate,
    notifications_mark_all_read,
    notifications_mark_read,
)


@admin.register(AuditEntry)
class AuditEntryAdmin(LargeTableMixin, admin.ModelAdmin):
    """Read-only for everyone. Staff see the actions of staff in their own subtree; a superuser all."""

    list_display = ("created_at", "actor_label", "action", "object_type", "object_id", "object_repr")
    list_filter = ("action",)
    search_fields = ("=object_id", "object_repr")
    search_help_text = _("An object id, or words from the object's name.")
    date_hierarchy = None
    fields = ("created_at", "actor", "actor_label", "action", "object_type", "object_id", "object_repr", "old", "new")
    readonly_fields = fields

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if request.user.is_superuser:
            return qs  # system entries (no actor) included
        # The union scope is the members app's rule, asked through the registered hooks.
        return admin_hooks().scope(qs.filter(actor__is_staff=True), request.user, "actor__union")

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if ":" in term:  # "members.membershipapplication:42" finds one object's entries
            object_type, _sep, object_id = term.partition(":")
            return queryset.filter(object_type=object_type.strip(), object_id=object_id.strip()), False
        return super().get_search_results(request, queryset, search_term)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    """Each staff member's own inbox (a superuser sees every inbox). Each one marks their own
    notifications read: one on its page, the selected ones by an action, or all at once."""

    list_display = ("created_at", "title", "kind", "open_link", "read_at")
    list_filter = (("read_at", admin.EmptyFieldListFilter), "kind")
    search_fields = ("title",)
    list_select_related = ("recipient",)
    show_facets = admin.ShowFacets.NEVER
    actions = ["mark_read"]
    fields = ("recipient", "kind", "title", "body", "link", "created_at", "read_at", "sms_sent_at")
    readonly_fields = fields

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        return qs if request.user.is_superuser else qs.filter(recipient=request.user)

    def has_view_permission(self, request, obj=None):
        # Everyone with staff access may read their own inbox.
        if obj is not None and obj.recipient_id != request.user.pk and not request.user.is_superuser:
            return False
        return request.user.is_active and request.user.is_staff

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_staff

    def has_mark_read_permission(self, request):
        return request.user.is_active and request.user.is_staff

    @admin.display(description=_("link"))
    def open_link(self, obj):
        if not obj.link.startswith("/"):
            return ""
        return format_html('<a href="{}">{}</a>', obj.link, gettext("Open"))

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Mark the selected notifications read"), permissions=["mark_read"])
    def mark_read(self, request, queryset):
        # Only the user's own: a superuser's list shows every inbox, but marks none but theirs.
        n = notifications_mark_read(user=request.user, ids=queryset.values_list("pk", flat=True)[:MAX_ACTION_ROWS])
        self.message_user(request, gettext("Notifications marked read: %(count)d") % {"count": n}, messages.SUCCESS)

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "unread": notifications_unread_count(user=request.user)}
        return super().changelist_view(request, extra_context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, unquote(object_id))
        extra_context = {
            **(extra_context or {}),
            "can_mark_read": obj is not None and obj.recipient_id == request.user.pk and obj.read_at is None,
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("read-all/", view(self.read_all_view), name="core_notification_read_all"),
            path("<int:object_id>/read/", view(self.read_one_view), name="core_notification_read"),
            *super().get_urls(),
        ]

    @method_decorator(require_POST)
    def read_one_view(self, request, object_id):
        """Mark one of the user's own notifications read (another person's is not found)."""
        note = notification_of(user=request.user, pk=object_id)
        if note is None or not self.has_mark_read_permission(request):
            raise Http404
        notifications_mark_read(user=request.user, ids=[note.pk])
        self.message_user(request, gettext("The notification was marked read."), messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:core_notification_changelist"))

    @method_decorator(require_POST)
    def read_all_view(self, request):
        if not self.has_mark_read_permission(request):
            raise PermissionDenied
        n = notifications_mark_all_read(user=request.user)
        self.message_user(request, gettext("Notifications marked read: %(count)d") % {"count": n}, messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:core_notification_changelist"))


class SuperuserOnlyMixin:
    """Partner agencies and their keys reach every union's data: only superusers manage them."""

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser

    def has_add_permission(self, request):
        return request.user.is_active and request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Agency)
class AgencyAdmin(SuperuserOnlyMixin, ScopedHistoryMixin, SimpleHistoryAdmin):
    list_display = ("code", "name", "is_active")
    list_filter = ("is_active",)
    search_fields = ("code", "name")


class ApiKeyCreateForm(forms.ModelForm):
    """Parses the scopes; the rules are the service's (`core.services.api_key_validate`), whose
    refusal is shown on the form before anything is written."""

    # Plain fields: the rules (an active agency, the name's length, known scopes) are the service's.
    agency = forms.ModelChoiceField(label=_("agency"), queryset=Agency.objects.all(), required=False)
    name = forms.CharField(label=_("name"), required=False)
    scopes_text = forms.CharField(
        label=_("scopes"),
        required=False,
        help_text=_("Separated by spaces or commas, e.g. members:verify"),
    )

    class Meta:
        model = ApiKey
        fields = ("agency", "name")

    def clean_scopes_text(self):
        return self.cleaned_data["scopes_text"].replace(",", " ").split()

    def clean(self):
        data = super().clean()
        if not self.errors:
            try:
                api_key_validate(agency=data["agency"], scopes=data["scopes_text"], name=data["name"])
            except ServiceError as exc:
                raise forms.ValidationError(exc.message, code=exc.code) from None
        return data

    def _post_clean(self):
        pass  # the key is built by the service, not from this form


@admin.register(ApiKey)
class ApiKeyAdmin(SuperuserOnlyMixin, admin.ModelAdmin):
    """Keys are listed by their public id; the secret is shown once, at creation, and its hash never."""

    list_display = ("__str__", "agency", "name", "scopes", "created_at", "last_used_at", "revoked_at")
    list_select_related = ("agency",)
    list_filter = ("agency",)
    actions = ["revoke"]
    readonly_fields = ("key_id", "agency", "name", "scopes", "created_at", "last_used_at", "revoked_at")
    fields = readonly_fields

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = ApiKeyCreateForm
            kwargs["fields"] = ("agency", "name", "scopes_text")
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        return ("agency", "name", "scopes_text") if obj is None else self.fields

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else self.readonly_fields

    def has_change_permission(self, request, obj=None):
        if obj is not None:
            return False  # a key is never edited: revoke it and create another
        return super().has_change_permission(request, obj)

    def save_model(self, request, obj, form, change):
        key, secret = api_key_create(
            agency=form.cleaned_data["agency"],
            scopes=form.cleaned_data["scopes_text"],
            name=form.cleaned_data["name"],
            actor=request.user,
        )
        obj.pk, obj.key_id, obj.created_at, obj.scopes = key.pk, key.key_id, key.created_at, key.scopes
        obj._state.adding = False
        obj._secret = secret

    def response_add(self, request, obj, post_url_continue=None):
        # The secret is rendered into this one response only: never stored, never put in a message cookie.
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": gettext("API key created"),
            "key": obj,
            "secret": obj._secret,
        }
        response = TemplateResponse(request, "admin/core/apikey/created.html", context)
        response["Cache-Control"] = "no-store"
        return response

    @admin.action(description=_("Revoke the selected keys"), permissions=["change"])
    def revoke(self, request, queryset):
        n = 0
        for key in queryset:
            if key.revoked_at is None:
                api_key_revoke(key=key, actor=request.user)
                n += 1
        self.message_user(request, gettext("Keys revoked: %(count)d") % {"count": n}, messages.SUCCESS)


# Staff groups: Django's admin, with the history of every change (its permissions included).
admin.site.unregister(Group)


@admin.register(Group)
class GroupAdmin(CityWideSettingsMixin, OneVersionPerSaveMixin, SimpleHistoryAdmin, DjangoGroupAdmin):
    """Who may see a group's history is who may see the group (superusers, or staff with
    `auth.view_group`); one saved form is one version, its permissions included. A group's
    permissions reach staff of every union: only city-level staff change groups."""


# Login lock-outs (django-axes) of every login in the city: superusers only. Unlocking someone is
# deleting their attempts; the lists keep the failed requests' usernames and addresses.
class SuperuserOnlyAxesMixin:
    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser and super().has_view_permission(request, obj)

    def has_add_permission(self, request):
        return request.user.is_active and request.user.is_superuser and super().has_add_permission(request)

    def has_change_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser and super().has_delete_permission(request, obj)


def _axes_superuser_only() -> None:
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog

    for model in (AccessAttempt, AccessLog, AccessFailureLog):
        if admin.site.is_registered(model):
            base = type(admin.site._registry[model])
            admin.site.unregister(model)
            admin.site.register(model, type(base.__name__, (SuperuserOnlyAxesMixin, base), {}))


_axes_superuser_only()
