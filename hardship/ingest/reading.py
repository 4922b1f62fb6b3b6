"""Reading a push's content: a CSV (UTF-8, GBK/GB18030) or XLSX file streamed record by record,
or JSON pages, as (line, cells in the kind's column order); the header is checked first."""

import csv
import hashlib
import io
import logging
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

from django.utils.translation import gettext as _

from core.errors import ServiceError
from core.xlsx import XlsxUnreadable, xlsx_check_shape
from hardship import pushformats
from members.services.import_files import xlsx_records

log = logging.getLogger(__name__)

READ_BLOCK_BYTES = 1 << 20  # a file is hashed in blocks of 1 MiB


def _unreadable() -> ServiceError:
    return ServiceError("unreadable_file", _("Could not read the file: save it as CSV (UTF-8 or GBK) or as XLSX."))


def binary_stream(content) -> BinaryIO:
    if isinstance(content, bytes | bytearray | memoryview):
        return io.BytesIO(content)
    if isinstance(content, Path):
        return content.open("rb")
    if hasattr(content, "open") and getattr(content, "closed", False):
        content.open("rb")
    content.seek(0)
    return content


def stream_size(stream: BinaryIO) -> int:
    stream.seek(0, io.SEEK_END)
    size = stream.tell()
    stream.seek(0)
    return size


def stream_sha256(stream: BinaryIO) -> str:
    digest = hashlib.sha256()
    stream.seek(0)
    while block := stream.read(READ_BLOCK_BYTES):
        digest.update(block)
    stream.seek(0)
    return digest.hexdigest()


class _Unclosable(io.RawIOBase):
    """A raw view of a binary stream that a TextIOWrapper may close without closing the stream."""

    def __init__(self, stream: BinaryIO):
        self._stream = stream

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self._stream.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def _csv_records(stream: BinaryIO, encoding: str) -> Iterator[tuple[int, list[str]]]:
    """(line, cells) of every non-blank record, header first (line 1), decoded as a stream."""
    stream.seek(0)
    text = io.TextIOWrapper(io.BufferedReader(_Unclosable(stream), 1 << 16), encoding=encoding, newline="")
    try:
        for line, cells in enumerate(csv.reader(text), start=1):
            if line == 1 or any(cells):
                yield line, cells
    except csv.Error:
        raise _unreadable() from None


def _xlsx_rows(stream: BinaryIO) -> Iterator[tuple[int, list[Any]]]:
    try:
        for line, cells in xlsx_records(stream):
            if line == 1 or any(c not in ("", None) for c in cells):
                yield line, cells
    except ServiceError:
        raise _unreadable() from None


def is_xlsx(stream: BinaryIO) -> bool:
    stream.seek(0)
    head = stream.read(4)
    stream.seek(0)
    return head.startswith(b"PK\x03\x04")


def xlsx_shape_check(stream: BinaryIO) -> None:
    """The request's check of an XLSX push, in bounded time whatever its claimed dimension:
    the archive's shape only (`core.xlsx.xlsx_check_shape`); its rows are read by the worker."""
    try:
        xlsx_check_shape(stream)
    except XlsxUnreadable as exc:
        log.info("hardship push: XLSX refused on its shape (%s)", exc.reason)
        raise _unreadable() from None


def detect_format(stream: BinaryIO, kind: str, *, count: bool = True) -> tuple[str, int | None]:
    """The file's format ("xlsx" or the CSV's encoding) and its data rows; checks the header.

    An XLSX file has only its shape checked here and its rows are not counted (None): reading a
    workbook is the worker's job (`hardship.ingest.stored`). Without `count`, a CSV has its
    header checked and its rows are not counted either. GBK files are read as GB18030, its
    superset.
    """
    stream.seek(0)
    head = stream.read(4)
    stream.seek(0)
    if head.startswith(b"PK\x03\x04"):
        xlsx_shape_check(stream)
        return "xlsx", None
    if head.startswith(b"\xd0\xcf\x11\xe0"):  # a legacy .xls workbook
        raise _unreadable()
    for encoding in ("utf-8-sig",) if head.startswith(b"\xef\xbb\xbf") else ("utf-8", "gb18030"):
        try:
            records = _csv_records(stream, encoding)
            if not count:
                _after_header(records, kind)  # the header only: the rows are the worker's
                return encoding, None
            return encoding, _count(records, kind)
        except UnicodeDecodeError:
            continue
    raise _unreadable()


def count_rows(stream: BinaryIO, fmt: str, kind: str, *, limit: int) -> int:
    """The data rows of a stored file, counted by the worker (header checked; a workbook read
    whole, streamed); stops past `limit`."""
    rows = _after_header(_xlsx_rows(stream) if fmt == "xlsx" else _csv_records(stream, fmt), kind)
    count = 0
    for _record in rows:
        count += 1
        if count > limit:
            break
    return count


def _after_header(records: Iterable[tuple[int, list]], kind: str) -> Iterator[tuple[int, list]]:
    """The records after the header, once the header is checked (`empty_file`, `missing_columns`)."""
    records = iter(records)
    first = next(records, None)
    if first is None:
        raise ServiceError("empty_file", _("The file is empty."))
    pushformats.layout_for_header(kind, first[1])
    return records


def _count(records: Iterable[tuple[int, list]], kind: str) -> int:
    return sum(1 for _ in _after_header(records, kind))


def file_records(stream: BinaryIO, fmt: str, kind: str) -> Iterator[tuple[int, list[Any]]]:
    """(line, cells in the kind's column order) of every data row of a file.

    A short row (a trailing optional column left off, a truncated line, a total at the bottom)
    has its missing cells empty, so the usual checks reject it (`missing_field`) or accept it;
    cells beyond the header's columns are ignored, like columns the header does not name.
    """
    if fmt == "xlsx":
        stream.seek(0)
        rows = _xlsx_rows(stream)
    else:
        rows = _csv_records(stream, fmt)
    first = next(rows, None)
    if first is None:
        raise ServiceError("empty_file", _("The file is empty."))
    layout = pushformats.layout_for_header(kind, first[1])
    width = len(layout)
    if layout == list(range(width)):
        for line, cells in rows:
            if len(cells) < width:
                cells = [*cells, *([None] * (width - len(cells)))]
            yield line, cells
        return
    for line, cells in rows:
        n = len(cells)
        yield line, [cells[i] if i is not None and i < n else None for i in layout]


def json_records(kind: str, pages: Iterable[list]) -> Iterator[tuple[int, list[Any]]]:
    line = 0
    for rows in pages:
        for row in rows:
            line += 1
            yield line, pushformats.json_row_cells(kind, row)
