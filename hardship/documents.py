"""Checking and cleaning documents attached to a case file (images and PDFs).

The type is decided by the content, never by the file name or the browser's content type:
a PDF starts with `%PDF-`; an image must open and verify with Pillow as JPEG or PNG. Images are
re-encoded from their pixels, so EXIF data (GPS position, camera, time) and any other metadata
are dropped; the EXIF orientation is applied first so that photos keep their right way up.

A file that cannot be attached is refused with ``core.errors.ServiceError``: ``too_large``,
``empty`` or ``file_type``.
"""

import io
from dataclasses import dataclass

from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from core.errors import ServiceError

PDF_MAGIC = b"%PDF-"
IMAGE_FORMATS = {"JPEG": ("image/jpeg", "jpg"), "PNG": ("image/png", "png")}


@dataclass(frozen=True)
class CleanDocument:
    content: bytes
    content_type: str
    extension: str


def read_limited(upload, max_bytes: int) -> bytes:
    """The upload's bytes, refusing anything over `max_bytes` without reading much past it."""
    size = getattr(upload, "size", None)
    if size is not None and size > max_bytes:
        raise ServiceError("too_large", _too_large(max_bytes))
    if hasattr(upload, "seek"):
        upload.seek(0)
    data = upload.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise ServiceError("too_large", _too_large(max_bytes))
    if not data:
        raise ServiceError("empty", _("The file is empty."))
    return data


def _too_large(max_bytes: int) -> str:
    return _("The file is too large: at most %(mb).1f MB.") % {"mb": max_bytes / (1024 * 1024)}


def clean(data: bytes) -> CleanDocument:
    """Check `data` and return what to store: a PDF as it is, an image re-encoded without metadata."""
    if data.startswith(PDF_MAGIC):
        return CleanDocument(content=data, content_type="application/pdf", extension="pdf")
    unsupported = ServiceError("file_type", _("Attach a JPEG or PNG image or a PDF file."))
    try:
        with Image.open(io.BytesIO(data)) as probe:
            fmt = probe.format
            probe.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise unsupported from None
    if fmt not in IMAGE_FORMATS:
        raise unsupported
    content_type, extension = IMAGE_FORMATS[fmt]
    try:
        with Image.open(io.BytesIO(data)) as img:
            img.load()
            upright = ImageOps.exif_transpose(img)
            pixels = Image.new(upright.mode, upright.size)
            pixels.paste(upright)
            if fmt == "PNG" and "transparency" in upright.info:
                pixels.info["transparency"] = upright.info["transparency"]
            if pixels.mode == "P" and upright.getpalette() is not None:
                pixels.putpalette(upright.getpalette())
    except (OSError, ValueError, Image.DecompressionBombError):
        raise unsupported from None
    out = io.BytesIO()
    if fmt == "JPEG":
        if pixels.mode not in ("L", "RGB", "CMYK"):
            pixels = pixels.convert("RGB")
        pixels.save(out, "JPEG", quality=90)
    else:
        pixels.save(out, "PNG", optimize=True)
    return CleanDocument(content=out.getvalue(), content_type=content_type, extension=extension)
