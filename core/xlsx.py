"""The one way the portal writes spreadsheets for people (openpyxl).

Every export builds its workbook with ``workbook()``, adds rows with ``append`` (which escapes any
text a spreadsheet would run as a formula), and answers with ``response`` (or ``to_bytes``). Every workbook people send is read by ``xlsx_rows``,
after ``xlsx_check_shape`` (below).
"""

import io
import zipfile
from collections.abc import Iterator

from django.http import HttpResponse
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font

CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MONEY_FORMAT = "#,##0.00"  # every amount of CNY in every export: thousands separators, two decimals
# A text cell beginning with one of these is read by Excel, WPS or LibreOffice as a formula (or DDE).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def escape(value):
    """A cell's value that no spreadsheet runs: a text beginning like a formula gets a leading
    apostrophe's worth of quoting (a single quote, shown as text); numbers, dates and None pass."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def workbook() -> Workbook:
    return Workbook()


def append(ws, row, *, bold: bool = False) -> None:
    """Append one row to the sheet, every text cell escaped."""
    ws.append([escape(value) for value in row])
    if bold:
        for cell in ws[ws.max_row]:
            cell.font = Font(bold=True)


def to_bytes(wb: Workbook) -> bytes:
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def response(content: bytes, filename: str) -> HttpResponse:
    """The HTTP answer that downloads ``content`` as ``filename``."""
    answer = HttpResponse(content, content_type=CONTENT_TYPE)
    answer["Content-Disposition"] = f'attachment; filename="{filename}"'
    return answer


# --- Reading workbooks people send -----------------------------------------------------------
#
# An XLSX file is a zip of XML parts, and its first sheet's <dimension> says how large it claims
# to be. Neither is trusted: the archive's shape is checked from its central directory alone (no
# part is decompressed), the claimed dimension is thrown away before any row is read, and a row is
# never widened past the header's last column (or XLSX_MAX_COLUMNS). So the work is bounded by
# what the file really holds, and any failure of the parser on a hostile file is one exception.

XLSX_MAX_COLUMNS = 64  # a header wider than this is cut: no push or import has that many columns
_EOCD = b"PK\x05\x06"
_EOCD_SEARCH = 22 + 65535  # the end record and its longest comment


class XlsxUnreadable(ValueError):
    """The workbook cannot be read safely; `reason` says why (for the log, not for people)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def _limit(name: str, default: int) -> int:
    from django.conf import settings

    return int(getattr(settings, name, default))


def _declared_entries(fileobj) -> int:
    """The entry count of the zip's end record, read from the file's last 64 KiB only."""
    fileobj.seek(0, io.SEEK_END)
    size = fileobj.tell()
    fileobj.seek(max(0, size - _EOCD_SEARCH))
    tail = fileobj.read()
    fileobj.seek(0)
    at = tail.rfind(_EOCD)
    if at < 0 or len(tail) < at + 22:
        raise XlsxUnreadable("no_zip_end_record")
    return int.from_bytes(tail[at + 10 : at + 12], "little")


def xlsx_check_shape(fileobj) -> None:
    """Check a workbook's shape in bounded time, decompressing nothing: a zip with at most
    XLSX_MAX_ENTRIES entries, the parts a workbook needs, every part at most
    XLSX_MAX_PART_BYTES uncompressed except worksheets, XLSX_MAX_UNCOMPRESSED_BYTES in all, and
    no part over 1 MiB compressed more than XLSX_MAX_RATIO times (a zip bomb). The sizes checked
    are the declared ones, which Python's zipfile enforces when it decompresses.

    Raises XlsxUnreadable."""
    max_entries = _limit("XLSX_MAX_ENTRIES", 1_000)
    if _declared_entries(fileobj) > max_entries:  # 0xFFFF: a zip64 archive, never a real workbook
        raise XlsxUnreadable("too_many_entries")
    try:
        archive = zipfile.ZipFile(fileobj)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError, NotImplementedError):
        raise XlsxUnreadable("bad_zip") from None
    infos = archive.infolist()
    if len(infos) > max_entries:
        raise XlsxUnreadable("too_many_entries")
    names = {info.filename for info in infos}
    if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
        raise XlsxUnreadable("missing_parts")
    if not any(n.startswith("xl/worksheets/") and n.endswith(".xml") for n in names):
        raise XlsxUnreadable("no_worksheet")
    if sum(info.file_size for info in infos) > _limit("XLSX_MAX_UNCOMPRESSED_BYTES", 1 << 30):
        raise XlsxUnreadable("too_large_uncompressed")
    max_part, max_ratio = _limit("XLSX_MAX_PART_BYTES", 128 << 20), _limit("XLSX_MAX_RATIO", 200)
    for info in infos:
        if info.file_size > max_part and not info.filename.startswith("xl/worksheets/"):
            raise XlsxUnreadable("part_too_large")  # a huge shared-strings part is read whole
        if info.file_size > (1 << 20) and info.file_size > max_ratio * max(info.compress_size, 1):
            raise XlsxUnreadable("compression_ratio")
    fileobj.seek(0)


def _trimmed(row) -> tuple:
    end = len(row)
    while end and row[end - 1] is None:
        end -= 1
    return tuple(row[:end])


def xlsx_rows(fileobj, *, max_columns: int = XLSX_MAX_COLUMNS) -> Iterator[tuple[int, tuple]]:
    """(line, values) of every row of the first sheet, header first (line 1), streamed
    (openpyxl's read-only mode). The header's width, at most `max_columns`, bounds every row;
    missing rows come as empty ones, so lines are the sheet's row numbers.

    The shape is checked first (`xlsx_check_shape`); any failure to read, on opening or on any
    row (a bad shared-string index, broken XML, a non-numeric number…), raises XlsxUnreadable."""
    xlsx_check_shape(fileobj)
    try:
        book = load_workbook(fileobj, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - whatever the parser raises on a hostile file
        raise XlsxUnreadable(f"open:{type(exc).__name__}") from None
    try:
        sheet = book.worksheets[0]
        sheet.reset_dimensions()  # the file's <dimension> may claim A1:XFD1048576: never trust it
        header = _trimmed(next(sheet.iter_rows(max_row=1, max_col=max_columns, values_only=True), ()))
        yield 1, header
        if header:
            yield from enumerate(sheet.iter_rows(min_row=2, max_col=len(header), values_only=True), start=2)
    except XlsxUnreadable:
        raise
    except Exception as exc:  # noqa: BLE001 - whatever the parser raises on a hostile file
        raise XlsxUnreadable(f"read:{type(exc).__name__}") from None
    finally:
        book.close()
