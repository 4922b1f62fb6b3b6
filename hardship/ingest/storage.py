"""Encrypted storage of what waits for ingestion: a large file in AES-GCM segments, and the pages
of a JSON push sent in several requests. Nothing waits in clear."""

import io
import json
import logging
import tempfile
from collections.abc import Iterator
from typing import BinaryIO

from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils.translation import gettext as _

from core.crypto import aead_decrypt_bytes, aead_encrypt_bytes
from core.errors import ServiceError
from hardship.ingest.reading import stream_size
from hardship.models import DataPush

log = logging.getLogger(__name__)


SEGMENT_BYTES = 1 << 20  # stored files are encrypted in segments of 1 MiB
FILE_MAGIC = b"UPPUSH1\n"


def _aad(push_key: str, part: str) -> bytes:
    return f"hardship.push:{push_key}:{part}".encode()


def push_key(agency_id: int, batch_id: str) -> str:
    return f"{agency_id}:{batch_id}"


def encrypt_file(stream: BinaryIO, push_key: str) -> File:
    """The file encrypted in AES-GCM segments: magic, segment count, then (length, segment)…

    Each segment's associated data names the push, its index and the count, so segments cannot
    be swapped, reordered or cut off unnoticed.
    """
    count = max(1, -(-stream_size(stream) // SEGMENT_BYTES))
    out = tempfile.TemporaryFile()
    out.write(FILE_MAGIC + count.to_bytes(4, "big"))
    for index in range(count):
        blob = aead_encrypt_bytes(stream.read(SEGMENT_BYTES), aad=_aad(push_key, f"{index}/{count}"))
        out.write(len(blob).to_bytes(4, "big") + blob)
    out.seek(0)
    return File(out, name="push.bin")


def stored_missing_error() -> ServiceError:
    return ServiceError(
        "stored_file_missing",
        _(
            "The stored content of this push is missing, so it could not be ingested: send it again with a new batch id."
        ),
    )


def _stored_unreadable() -> ServiceError:
    return ServiceError(
        "stored_file_unreadable",
        _(
            "The stored content of this push could not be decrypted, so it could not be ingested: send it again with a new batch id."
        ),
    )


def decrypted_segments(fileobj: BinaryIO, push_key: str) -> Iterator[bytes]:
    """The file's segments, decrypted; ServiceError `stored_file_unreadable` when it is not an
    encrypted push file, was cut off or altered, or its key is gone."""
    head = fileobj.read(len(FILE_MAGIC) + 4)
    if not head.startswith(FILE_MAGIC):
        log.error("hardship stored push file %s is not an encrypted push file", push_key)
        raise _stored_unreadable()
    count = int.from_bytes(head[len(FILE_MAGIC) :], "big")
    for index in range(count):
        size = int.from_bytes(fileobj.read(4), "big")
        try:
            yield aead_decrypt_bytes(fileobj.read(size), aad=_aad(push_key, f"{index}/{count}"))
        except ValueError as exc:
            log.error("hardship stored push file %s, segment %d: %s", push_key, index, exc)
            raise _stored_unreadable() from None
    if fileobj.read(1):
        log.error("hardship stored push file %s has data after its last segment", push_key)
        raise _stored_unreadable()


class SegmentStream(io.RawIOBase):
    """A readable binary stream over decrypted segments (a whole file is never in memory)."""

    def __init__(self, segments: Iterator[bytes]):
        self._segments, self._buffer = segments, b""

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def readinto(self, buffer) -> int:
        while not self._buffer:
            self._buffer = next(self._segments, b"")
            if not self._buffer:
                return 0
        n = min(len(buffer), len(self._buffer))
        buffer[:n] = self._buffer[:n]
        self._buffer = self._buffer[n:]
        return n

    def seek(self, offset, whence=io.SEEK_SET):  # only the rewind of a fresh stream, as _csv_records does
        if offset == 0 and whence == io.SEEK_SET and not self._buffer:
            return 0
        raise io.UnsupportedOperation("seek")


def page_name(push_id: int, page: int) -> str:
    return f"hardship/pushes/pages/{push_id}/{page:05d}.bin"


def page_store(push: DataPush, page: int, rows: list) -> None:
    name = page_name(push.pk, page)
    # surrogatepass: a lone surrogate (valid JSON) is kept for the row check to reject, not a crash
    data = json.dumps(rows, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "surrogatepass")
    blob = aead_encrypt_bytes(data, aad=_aad(push_key(push.agency_id, push.batch_id), f"page {page}"))
    if default_storage.exists(name):
        default_storage.delete(name)
    default_storage.save(name, ContentFile(blob))


def page_rows(push: DataPush, page: int) -> list:
    """A stored page's rows; ServiceError `stored_file_missing` or `stored_file_unreadable`."""
    try:
        with default_storage.open(page_name(push.pk, page), "rb") as fh:
            blob = fh.read()
    except FileNotFoundError:
        log.error("hardship push %s: page %d is missing from storage", push.pk, page)
        raise stored_missing_error() from None
    try:
        data = aead_decrypt_bytes(blob, aad=_aad(push_key(push.agency_id, push.batch_id), f"page {page}"))
        return json.loads(data.decode("utf-8", "surrogatepass"))
    except ValueError as exc:
        log.error("hardship push %s: page %d cannot be read: %s", push.pk, page, exc)
        raise _stored_unreadable() from None


def pages_received(push: DataPush) -> list[int]:
    return [p for p in range(1, push.pages + 1) if default_storage.exists(page_name(push.pk, p))]


def pages_delete(push_id: int, pages: int) -> None:
    for page in range(1, pages + 1):
        name = page_name(push_id, page)
        if default_storage.exists(name):
            default_storage.delete(name)


def stored_delete(push: DataPush) -> None:
    """Delete what a push stored for later: its encrypted file or pages (a rejected held push)."""
    if push.file:
        push.file.delete(save=False)
        DataPush.objects.filter(pk=push.pk).update(file="")
    pages_delete(push.pk, push.pages)
