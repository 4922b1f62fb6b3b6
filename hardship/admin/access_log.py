"""The access log: who opened or exported which case file, read-only for everyone."""

from django.contrib import admin
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.admin_kit import LargeTableMixin, ReadOnlyMixin
from hardship.models import AccessLog
from hardship.selectors.access import can_list_all_cases
from members import selectors as member_selectors


@admin.register(AccessLog)
class AccessLogAdmin(ReadOnlyMixin, LargeTableMixin, admin.ModelAdmin):
    """Who opened or exported which case file. Read-only for everyone, superusers included;
    visible to supervisors (`hardship.list_all_cases`) for their subtree."""

    list_display = ("at", "user", "action", "case", "detail")
    list_filter = ("action",)
    list_select_related = ("user", "case")
    search_fields = ("=case__case_no", "=user__username")
    search_help_text = _("A case number or a username.")
    ordering = ("-at",)
    fields = ("at", "user", "action", "case", "detail")
    readonly_fields = fields

    def _supervisor(self, request) -> bool:
        user = request.user
        return bool(user.is_active and user.is_staff and (user.is_superuser or can_list_all_cases(user)))

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        prefix = member_selectors.scope_prefix(request.user)
        if prefix is None or not self._supervisor(request):
            return qs.none()
        if prefix == "":
            return qs
        return qs.filter(
            models.Q(case__union__path__startswith=prefix)
            | models.Q(case__isnull=True, user__union__path__startswith=prefix)
        )

    def has_view_permission(self, request, obj=None):
        if not (self._supervisor(request) and super().has_view_permission(request, obj)):
            return False
        return obj is None or self.get_queryset(request).filter(pk=obj.pk).exists()

    def has_module_permission(self, request):
        return self._supervisor(request) and super().has_module_permission(request)
