"""Custom admin pages: the bulk member import and the mutual-aid participation report.

Both are doors: they parse the request, call one service or selector, and render the result.
"""

import re
import secrets
import time
from pathlib import Path

from django import forms
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views import View

from core.errors import ServiceError
from core.parsing import int_parse
from members.selectors import participation_rates
from members.services import members_import, template_csv

MAX_UPLOAD_BYTES = 20 * 1024 * 1024
UPLOAD_TTL_SECONDS = 24 * 3600
SESSION_KEY = "member_imports"
TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{20,64}")


def can_import(user) -> bool:
    return bool(
        user.is_active
        and user.is_staff
        and user.has_perm("members.add_member")
        and (user.is_superuser or user.union_id)
    )


def import_dir() -> Path:
    path = Path(settings.MEDIA_ROOT) / "imports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _upload_path(user, token: str) -> Path:
    return import_dir() / f"{user.pk}-{token}"


def _remove_stale_uploads() -> None:
    cutoff = time.time() - UPLOAD_TTL_SECONDS
    for item in import_dir().iterdir():
        try:
            if item.is_file() and item.stat().st_mtime < cutoff:
                item.unlink()
        except OSError:
            continue


class ImportUploadForm(forms.Form):
    file = forms.FileField(
        label=_("Member list (CSV or XLSX)"),
        help_text=_("CSV in UTF-8 or GBK, or an Excel XLSX workbook, with the columns of the template."),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(gettext("The file is larger than 20 MB: split it into smaller files."))
        return upload


class AdminPageMixin:
    model_admin = None

    def context(self, request, **extra):
        opts = self.model_admin.model._meta
        return {**self.model_admin.admin_site.each_context(request), "opts": opts, "app_label": opts.app_label, **extra}


class MemberImportView(AdminPageMixin, View):
    """Upload → dry-run report → confirm → result. The upload waits in MEDIA_ROOT/imports under a
    random token kept in the uploader's session, so nobody else can confirm it."""

    template_name = "admin/members/member_import.html"

    def dispatch(self, request, *args, **kwargs):
        if not can_import(request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def render(self, request, **extra):
        return TemplateResponse(
            request, self.template_name, self.context(request, title=gettext("Import members"), **extra)
        )

    def get(self, request):
        return self.render(request, form=ImportUploadForm())

    def post(self, request):
        if "token" in request.POST:
            return self.confirm(request)
        form = ImportUploadForm(request.POST, request.FILES)
        if not form.is_valid():
            return self.render(request, form=form)
        _remove_stale_uploads()
        upload = form.cleaned_data["file"]
        token = secrets.token_urlsafe(24)
        path = _upload_path(request.user, token)
        with path.open("wb") as out:
            for chunk in upload.chunks():
                out.write(chunk)
        try:
            report = members_import(rows_or_file=path, actor=request.user, dry_run=True, file_name=upload.name)
        except ServiceError as exc:
            path.unlink(missing_ok=True)
            form.add_error("file", exc.message)
            return self.render(request, form=form)
        if not report.ok or not report.total:
            path.unlink(missing_ok=True)
            return self.render(request, form=ImportUploadForm(), report=report, file_name=upload.name)
        uploads = request.session.get(SESSION_KEY, {})
        uploads[token] = {"name": upload.name, "at": timezone.now().isoformat()}
        request.session[SESSION_KEY] = uploads
        return self.render(request, report=report, token=token, file_name=upload.name)

    def confirm(self, request):
        token = request.POST.get("token", "")
        uploads = request.session.get(SESSION_KEY, {})
        path = _upload_path(request.user, token) if TOKEN_RE.fullmatch(token) else None
        if token not in uploads or path is None or not path.exists():
            return self.render(
                request,
                form=ImportUploadForm(),
                error=gettext("This upload has expired or was already imported. Upload the file again."),
            )
        name = uploads[token]["name"]
        try:
            report = members_import(rows_or_file=path, actor=request.user, dry_run=False, file_name=name)
        except ServiceError as exc:
            return self.render(request, form=ImportUploadForm(), error=exc.message)
        finally:
            path.unlink(missing_ok=True)
            uploads.pop(token, None)
            request.session[SESSION_KEY] = uploads
        return self.render(request, report=report, file_name=name, done=True)


def member_import_template(request):
    if not can_import(request.user):
        raise PermissionDenied
    response = HttpResponse(template_csv(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="member-import-template.csv"'
    return response


class ParticipationReportView(AdminPageMixin, View):
    """Each visible union's participation in mutual medical insurance (医疗互助保障) for a year."""

    template_name = "admin/members/participation.html"

    def get(self, request):
        if not request.user.has_perm("members.view_mutualaidenrolment"):
            raise PermissionDenied
        this_year = timezone.localdate().year
        try:
            year = int_parse(request.GET.get("year", ""), minimum=2000, maximum=this_year + 1)
        except ServiceError:  # none asked for, or not a year we show: this year
            year = this_year
        rows = participation_rates(user=request.user, year=year)
        top = min((r["depth"] for r in rows), default=0)
        for row in rows:
            row["indent"] = 1.5 * (row["depth"] - top)
            row["rate_display"] = "-" if row["rate"] is None else f"{row['rate']:.1f}%"
        context = self.context(
            request,
            title=gettext("Mutual medical insurance participation"),
            rows=rows,
            year=year,
            years=list(range(this_year + 1, this_year - 6, -1)),
        )
        return TemplateResponse(request, self.template_name, context)
