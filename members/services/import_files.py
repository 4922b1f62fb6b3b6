"""Reading a member list (CSV in UTF-8, GBK or GB18030, or XLSX, or a list of rows) into rows keyed by
the template's columns, each with its line (the header is line 1)."""

import csv
import datetime as dt
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.utils.translation import gettext as _

from core.errors import ServiceError
from core.xlsx import XlsxUnreadable, xlsx_rows

# One file is imported within one request (about 1 ms a row): larger lists are split.
MAX_ROWS = 20_000

# The columns, in the order of the template file: (field, Chinese header, English header).
COLUMNS = (
    ("name", "姓名", "name"),
    ("id_number", "身份证号", "id_number"),
    ("mobile", "手机号", "mobile"),
    ("union_code", "工会编码", "union_code"),
    ("employer_credit_code", "单位统一社会信用代码", "employer_credit_code"),
    ("employment_form", "用工形式", "employment_form"),
    ("joined_on", "入会日期", "joined_on"),
)
REQUIRED_COLUMNS = ("name", "id_number", "mobile", "union_code", "joined_on")
HEADER_ALIASES = {
    **{zh: f for f, zh, _en in COLUMNS},
    **{en: f for f, _zh, en in COLUMNS},
    "身份证号码": "id_number",
    "手机号码": "mobile",
    "统一社会信用代码": "employer_credit_code",
}
LABELS = {f: zh for f, zh, _en in COLUMNS}


@dataclass
class ImportRow:
    """One data row of the file: its line, its cells by column, what the checks made of them."""

    line: int
    values: dict[str, Any]
    clean: dict[str, Any] = field(default_factory=dict)
    bad: bool = False


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, float):
        # Excel keeps 15 significant digits; a formula's binary noise (154184.67000000004) goes.
        return str(int(value)) if value.is_integer() else format(value, ".15g")
    return str(value).strip()


def _read_bytes(rows_or_file) -> bytes:
    if isinstance(rows_or_file, bytes):
        return rows_or_file
    if isinstance(rows_or_file, Path):
        return rows_or_file.read_bytes()
    if hasattr(rows_or_file, "seek"):
        rows_or_file.seek(0)
    data = rows_or_file.read()
    return data.encode() if isinstance(data, str) else data


def _unreadable() -> ServiceError:
    return ServiceError("import_format", _("Could not read the file: save it as CSV (UTF-8 or GBK) or as XLSX."))


def _records(rows_or_file) -> Iterable[tuple[int, list[Any]]]:
    """(line, cells) for every record, header first. Lines count from 1."""
    if isinstance(rows_or_file, list | tuple):
        if rows_or_file and isinstance(rows_or_file[0], dict):
            header = list(rows_or_file[0].keys())
            yield 1, header
            for i, row in enumerate(rows_or_file, start=2):
                yield i, [_cell(row.get(h)) for h in header]
        else:
            for i, row in enumerate(rows_or_file, start=1):
                yield i, [_cell(v) for v in row]
        return
    data = _read_bytes(rows_or_file)
    if data.startswith(b"PK\x03\x04"):
        yield from xlsx_records(data)
        return
    if data.startswith(b"\xd0\xcf\x11\xe0"):  # a legacy .xls workbook
        raise _unreadable()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise _unreadable()
    if "\x00" in text:
        raise _unreadable()
    for i, row in enumerate(csv.reader(io.StringIO(text, newline="")), start=1):
        yield i, [_cell(v) for v in row]


def xlsx_records(data) -> Iterable[tuple[int, list[Any]]]:
    """(line, cells) of the first sheet of an XLSX workbook (bytes or a seekable binary file),
    header first, read by `core.xlsx.xlsx_rows`: the shape checked first, the claimed dimension
    ignored, any parser failure the `import_format` refusal."""
    stream = io.BytesIO(data) if isinstance(data, bytes | bytearray | memoryview) else data
    try:
        for line, row in xlsx_rows(stream):
            yield line, [_cell(v) for v in row]
    except XlsxUnreadable:
        raise _unreadable() from None


def rows_read(rows_or_file) -> tuple[dict[int, str], list[ImportRow]]:
    """The columns found in the header (index → field) and the data rows (blank rows skipped).
    Raises ServiceError for an unreadable or empty file, missing columns or too many rows."""
    records = iter(_records(rows_or_file))
    try:
        _line, header = next(records)
    except StopIteration:
        raise ServiceError("import_empty", _("The file is empty.")) from None
    columns: dict[int, str] = {}
    for idx, name in enumerate(header):
        key = str(name).replace("\ufeff", "").strip()
        key = HEADER_ALIASES.get(key) or HEADER_ALIASES.get(key.lower())
        if key and key not in columns.values():
            columns[idx] = key
    missing = [LABELS[c] for c in REQUIRED_COLUMNS if c not in columns.values()]
    if missing:
        raise ServiceError(
            "import_header",
            _("The first row must name the columns. Missing: %(columns)s.") % {"columns": "、".join(missing)},
        )
    rows = []
    for line, cells in records:
        if not any(c not in ("", None) for c in cells):
            continue
        if len(rows) >= MAX_ROWS:
            raise ServiceError(
                "import_too_large",
                _("The file has more than %(max)d rows: split it into smaller files.") % {"max": MAX_ROWS},
            )
        values = {key: (cells[idx] if idx < len(cells) else "") for idx, key in columns.items()}
        rows.append(ImportRow(line=line, values=values))
    return columns, rows
