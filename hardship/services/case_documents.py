"""Documents attached to a case file (images and PDFs, checked by `hardship.documents`)."""

import uuid

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils.translation import gettext as _

from core.errors import ServiceError
from core.services import audit_log
from hardship import documents
from hardship.models import Case, CaseDocument, HardshipSettings
from hardship.services.access import require_case
from hardship.services.cases import case_event

# --- Documents ---------------------------------------------------------------------------------


def document_attach(*, case: Case, actor, upload, title: str) -> CaseDocument:
    """Attach a JPEG, PNG or PDF (checked by content, size-limited); images lose their EXIF data."""
    require_case(actor, case)
    title = (title or "").strip()
    if not title:
        raise ServiceError("title_required", _("Give the document a title."))
    clean = documents.clean(documents.read_limited(upload, HardshipSettings.get().document_max_bytes))
    doc = CaseDocument(
        case=case,
        title=title[:100],
        content_type=clean.content_type,
        size=len(clean.content),
        uploaded_by=actor,
    )
    # A random name: the uploaded file name may itself be personal data.
    doc.file.save(f"{uuid.uuid4().hex}.{clean.extension}", ContentFile(clean.content), save=False)
    try:
        with transaction.atomic():
            doc.save()
            case_event(case, "document", actor=actor, text=doc.title, data={"document": doc.pk})
            audit_log(
                action="hardship.document.attached",
                obj=doc,
                actor=actor,
                new={"case": case.pk, "content_type": doc.content_type, "size": doc.size},
            )
    except Exception:
        doc.file.delete(save=False)
        raise
    return doc
