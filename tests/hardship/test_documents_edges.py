"""Case documents at their edges: an upload that says nothing of its size, an empty one, a palette
PNG with a transparent colour, a JPEG cut short."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from core.errors import ServiceError
from hardship import documents


class Stream:
    """An upload read as a stream: no size, no seek (as a chunked request body)."""

    def __init__(self, data: bytes):
        self._buffer = io.BytesIO(data)

    def read(self, n=-1):
        return self._buffer.read(n)


def rejected(func, *args) -> ServiceError:
    with pytest.raises(ServiceError) as caught:
        func(*args)
    return caught.value


def test_an_upload_of_unknown_size_is_refused_once_it_reads_past_the_limit():
    error = rejected(documents.read_limited, Stream(b"x" * 1025), 1024)
    assert error.code == "too_large" and "0.0 MB" in error.message
    assert documents.read_limited(Stream(b"x" * 1024), 1024) == b"x" * 1024


def test_an_empty_upload_is_refused():
    error = rejected(documents.read_limited, SimpleUploadedFile("a.png", b""), 1024)
    assert (error.code, error.message) == ("empty", "文件为空。")


def test_a_palette_png_keeps_its_colours_and_its_transparent_colour():
    img = Image.new("P", (4, 4), 1)
    img.putpalette([255, 0, 0, 0, 255, 0] + [0] * 762)
    out = io.BytesIO()
    img.save(out, "PNG", transparency=0)

    cleaned = documents.clean(out.getvalue())

    assert (cleaned.content_type, cleaned.extension) == ("image/png", "png")
    with Image.open(io.BytesIO(cleaned.content)) as back:
        assert back.mode == "P" and back.info.get("transparency") == 0
        assert back.convert("RGB").getpixel((0, 0)) == (0, 255, 0)


def test_a_jpeg_cut_short_is_refused_as_an_unsupported_file():
    out = io.BytesIO()
    Image.new("RGB", (64, 64), (200, 10, 10)).save(out, "JPEG")
    error = rejected(documents.clean, out.getvalue()[:300])
    assert (error.code, error.message) == ("file_type", "请上传 JPEG 或 PNG 图片，或 PDF 文件。")
