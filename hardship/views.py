"""Staff pages of the hardship app outside the admin: serving case documents.

Documents are never served from MEDIA_URL: only through this view, to hardship staff who can
see the case, and every access is written to the access log.
"""

from django.contrib.auth.views import redirect_to_login
from django.http import FileResponse, Http404
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from hardship.services.access import document_open_for_view


@never_cache
@require_GET
def document(request, pk: int):
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path(), login_url="admin:login")
    doc = document_open_for_view(user=request.user, document_id=pk)
    if doc is None:
        raise Http404(_("No such document."))
    extension = doc.file.name.rsplit(".", 1)[-1]
    response = FileResponse(
        doc.file.open("rb"),
        content_type=doc.content_type,
        as_attachment=False,
        filename=f"document-{doc.pk}.{extension}",
    )
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response
