"""Members' correction requests (PIPL art. 46): staff of the member's union answer them, done or
refused, with a reply the member reads in 我的数据. Consents are shown read-only."""

from django.contrib import admin
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from social_django.models import Association, Nonce, UserSocialAuth

from core.admin_kit import ReadOnlyMixin, ReasonActionsMixin, ScopedAdminMixin
from members import selectors
from members.models import Consent, CorrectionRequest
from members.services import correction_request_answer


@admin.register(CorrectionRequest)
class CorrectionRequestAdmin(ReasonActionsMixin, ScopedAdminMixin, admin.ModelAdmin):
    scope_field = "member__union"
    reason_template = "admin/members/reply_form.html"
    list_defer = ("member__id_number",)
    list_display = ("member_label", "union_label", "field", "status", "created_at", "decided_at")
    list_select_related = ("member", "member__union")
    list_filter = ("status", "field")
    actions = ["mark_done", "refuse"]
    show_facets = admin.ShowFacets.NEVER
    readonly_fields = (
        "member_label",
        "union_label",
        "field",
        "problem",
        "proposed",
        "status",
        "reply",
        "created_at",
        "decided_at",
        "decided_by",
    )
    fields = readonly_fields

    def scope_queryset(self, request, qs):
        return qs.filter(pk__in=selectors.corrections_visible_to(request.user).values("pk"))

    @admin.display(description=_("member"))
    def member_label(self, obj):
        return f"{obj.member.masked_name} ({obj.member.member_no or '-'})"

    @admin.display(description=_("grassroots union"))
    def union_label(self, obj):
        return obj.member.union.name

    def has_add_permission(self, request):
        return False  # members ask on their phones

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        if obj is not None:
            return False  # answered only by the actions
        return super().has_change_permission(request, obj)

    def _answer(self, request, queryset, *, done: bool, action: str, title: str):
        return self.reason_action(
            request,
            queryset.select_related("member", "member__union"),
            action=action,
            title=title,
            missing=gettext("Write a reply to the member."),
            run=lambda r, reply: correction_request_answer(request=r, done=done, reply=reply, actor=request.user),
        )

    @admin.action(description=_("Mark corrected, with a reply…"), permissions=["change"])
    def mark_done(self, request, queryset):
        return self._answer(
            request, queryset, done=True, action="mark_done", title=gettext("Mark correction requests done")
        )

    @admin.action(description=_("Refuse, with a reply…"), permissions=["change"])
    def refuse(self, request, queryset):
        return self._answer(request, queryset, done=False, action="refuse", title=gettext("Refuse correction requests"))


@admin.register(Consent)
class ConsentAdmin(ReadOnlyMixin, ScopedAdminMixin, admin.ModelAdmin):
    scope_field = "member__union"
    list_defer = ("member__id_number",)
    list_display = ("member_label", "purpose", "given_at", "withdrawn_at")
    list_select_related = ("member",)
    list_filter = ("purpose",)
    show_facets = admin.ShowFacets.NEVER
    fields = ("member_label", "purpose", "given_at", "withdrawn_at", "privacy_version")
    readonly_fields = fields

    @admin.display(description=_("member"))
    def member_label(self, obj):
        return f"{obj.member.masked_name} ({obj.member.member_no or '-'})"


# social-auth-app-django registers its tables in the admin, unscoped: any staff member with the
# permission would list every worker's WeChat openid. Binding is the worker's alone (Me page), so
# they are not in the admin.
for _model in (UserSocialAuth, Nonce, Association):
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)
