"""What the hardship admin pages share: the scoped ModelAdmin base, the label of a member, the
context of a custom page."""

from django.contrib import admin
from django.template.response import TemplateResponse
from django.utils.translation import gettext

from core.admin_kit import LargeTableMixin, ReasonActionsMixin, ScopedAdminMixin


class HardshipAdmin(ReasonActionsMixin, ScopedAdminMixin, LargeTableMixin, admin.ModelAdmin):
    """Scoped to the user's union subtree; lists are paged without counting big tables."""

    list_per_page = 50

    def note_action(self, request, queryset, *, action: str, title: str, label: str, button: str, run):
        """An action that needs a note: an intermediate page asks for it, then `run(obj, note)` per row."""
        return self.text_action(
            request,
            queryset,
            field="note",
            template="admin/hardship/note_form.html",
            missing=gettext("Write a note."),
            context={"title": title, "action": action, "label": label, "button": button},
            run=run,
        )


def member_masked_label(member) -> str:
    return f"{member.masked_name} ({member.member_no or '-'})"


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
