"""Documents of a case: JPEG, PNG and PDF only (by content), size-limited, images without EXIF;
served only to staff who can see the case, each access logged."""

import io
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from core.errors import ServiceError
from hardship import services
from hardship.models import AccessLog, CaseDocument, HardshipSettings
from tests.factories import StaffFactory

GPS_IFD = 0x8825
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    return tmp_path


def jpeg_with_gps() -> bytes:
    img = Image.new("RGB", (40, 30), (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0112] = 1  # Orientation
    gps = exif.get_ifd(GPS_IFD)
    gps[1] = "N"
    gps[2] = (30.0, 52.0, 12.5)
    gps[3] = "E"
    gps[4] = (120.0, 5.0, 44.0)
    out = io.BytesIO()
    img.save(out, "JPEG", exif=exif)
    return out.getvalue()


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", (10, 10), (0, 128, 0, 128)).save(out, "PNG")
    return out.getvalue()


def upload(content: bytes, name: str, content_type: str = "application/octet-stream"):
    return SimpleUploadedFile(name, content, content_type=content_type)


def attach(case, actor, content, name="scan.jpg", title="诊断证明"):
    return services.document_attach(case=case, actor=actor, upload=upload(content, name), title=title)


def test_a_jpeg_with_gps_exif_is_stored_without_any_exif(open_case, case_staff, media_root):
    original = jpeg_with_gps()
    assert dict(Image.open(io.BytesIO(original)).getexif().get_ifd(GPS_IFD))  # the input has a position
    doc = attach(open_case, case_staff, original, name="IMG_20250301_湖州市.jpg")
    stored = Path(doc.file.path)
    assert stored.is_relative_to(media_root)
    data = stored.read_bytes()
    with Image.open(io.BytesIO(data)) as img:
        assert img.format == "JPEG" and img.size == (40, 30)
        assert not dict(img.getexif())
        assert not dict(img.getexif().get_ifd(GPS_IFD))
    assert b"Exif" not in data and b"PhoneMaker" not in data
    assert doc.content_type == "image/jpeg" and doc.size == len(data)
    assert "湖州" not in doc.file.name  # the upload's name is not kept
    assert open_case.events.filter(kind="document", data__document=doc.pk).exists()


def test_a_png_and_a_pdf_are_accepted(open_case, case_staff):
    assert attach(open_case, case_staff, png(), name="a.png").content_type == "image/png"
    doc = attach(open_case, case_staff, PDF, name="a.pdf")
    assert doc.content_type == "application/pdf"
    assert Path(doc.file.path).read_bytes() == PDF


@pytest.mark.parametrize(
    ("content", "name"),
    [
        (b"<html><script>alert(1)</script></html>", "photo.jpg"),  # a name does not make an image
        (b"just some text", "letter.pdf"),
        (b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00,"
         b"\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;", "anim.gif"),  # an image, but not JPEG/PNG
        (jpeg_with_gps()[:200], "cut.jpg"),  # a truncated JPEG
    ],
)  # fmt: skip
def test_it_rejects_files_that_are_not_jpeg_png_or_pdf_by_content(open_case, case_staff, content, name):
    with pytest.raises(ServiceError) as exc:
        attach(open_case, case_staff, content, name=name)
    assert exc.value.code == "file_type"
    assert not CaseDocument.objects.exists()


def test_it_rejects_a_file_over_the_size_limit(open_case, case_staff):
    limit = HardshipSettings.get()
    limit.document_max_bytes = len(PDF) - 1
    limit.save()
    with pytest.raises(ServiceError) as exc:
        attach(open_case, case_staff, PDF, name="a.pdf")
    assert exc.value.code == "too_large"
    limit.document_max_bytes = len(PDF)
    limit.save()
    assert attach(open_case, case_staff, PDF, name="a.pdf").size == len(PDF)


def test_a_document_needs_a_title(open_case, case_staff):
    with pytest.raises(ServiceError) as exc:
        attach(open_case, case_staff, PDF, title=" ")
    assert exc.value.code == "title_required"


def test_the_outsider_cannot_attach_a_document(open_case, case_outsider):
    with pytest.raises(ServiceError) as exc:
        attach(open_case, case_outsider, PDF)
    assert exc.value.code == "forbidden"
    assert not CaseDocument.objects.exists()


# --- Serving ----------------------------------------------------------------------------------


@pytest.fixture
def document(open_case, case_staff):
    return attach(open_case, case_staff, PDF, name="a.pdf")


def test_staff_who_see_the_case_get_the_document_and_the_access_is_logged(client, document, case_staff):
    client.force_login(case_staff)
    resp = client.get(reverse("hardship:document", args=[document.pk]))
    assert resp.status_code == 200
    assert b"".join(resp.streaming_content) == PDF
    assert resp["Content-Type"] == "application/pdf"
    assert "no-store" in resp["Cache-Control"]
    log = AccessLog.objects.get()
    assert (log.user, log.action, log.case_id) == (case_staff, "open", document.case_id)
    assert log.detail == f"document {document.pk}"


def test_the_outsider_and_staff_without_hardship_rights_get_404_and_no_log(client, document, case_outsider, tree):
    plain = StaffFactory(username="g1plain", union=tree.g1)
    for user in (case_outsider, plain):
        client.force_login(user)
        assert client.get(reverse("hardship:document", args=[document.pk])).status_code == 404
    assert not AccessLog.objects.exists()


def test_an_anonymous_visitor_is_sent_to_log_in(client, document):
    resp = client.get(reverse("hardship:document", args=[document.pk]))
    assert resp.status_code == 302
    assert "/admin/login/" in resp["Location"]
    assert not AccessLog.objects.exists()
