"""Bulk import of existing members from CSV or XLSX, with a dry run.

`members_import` reads every row, checks every row, and reports each bad row by its line
(the header is line 1) and reason. A dry run writes nothing; a real run writes all rows or,
when any row is bad, none.
"""

import csv
import datetime as dt
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import CharField, Value
from django.db.models.functions import Cast, Concat, LPad
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from core.errors import ErrorKind, ServiceError
from core.parsing import credit_code_parse
from core.services import audit_log
from members.models import EmploymentForm, Enterprise, JoinChannel, Member, Union, User
from members.selectors import user_can_manage
from members.services import id_number_index, member_number
from members.validators import mask_id_number, normalize_mobile, parse_id_number, validate_mobile

# One file is imported within one request (about 1 ms a row): larger lists are split.
MAX_ROWS = 20_000
BATCH = 500
IMPORT_PRIVACY_VERSION = "import"

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

# Names staff use for the forms of employment, besides the codes and the translated labels.
EMPLOYMENT_ALIASES = {
    "职工": EmploymentForm.EMPLOYEE,
    "全日制": EmploymentForm.EMPLOYEE,
    "全日制职工": EmploymentForm.EMPLOYEE,
    "非全日制": EmploymentForm.PART_TIME,
    "非全日制用工": EmploymentForm.PART_TIME,
    "外卖骑手": EmploymentForm.DELIVERY_RIDER,
    "骑手": EmploymentForm.DELIVERY_RIDER,
    "网约车司机": EmploymentForm.RIDE_HAILING,
    "网约车驾驶员": EmploymentForm.RIDE_HAILING,
    "快递员": EmploymentForm.COURIER,
    "货车司机": EmploymentForm.TRUCK_DRIVER,
    "其他新就业形态": EmploymentForm.OTHER_NEW,
}

# `members.services.member_number(pk)` computed by the database, one UPDATE per batch instead of
# one CASE branch per row (the import tests check that both give the same number).
MEMBER_NO_SQL = Concat(Value("HZ"), LPad(Cast("pk", CharField()), 10, Value("0")), output_field=CharField())
DATE_RES = (
    re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"),
    re.compile(r"(\d{4})(\d{2})(\d{2})"),
)


@dataclass(frozen=True)
class RowError:
    line: int
    column: str  # the column's header as in the template (Chinese)
    code: str  # a stable code, e.g. id_check, duplicate_in_file, union_unknown
    message: str


@dataclass
class ImportReport:
    dry_run: bool
    total: int = 0  # data rows read (blank rows are skipped)
    errors: list[RowError] = field(default_factory=list)
    imported: int = 0
    by_union: dict[str, int] = field(default_factory=dict)  # union name -> good rows

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def bad_lines(self) -> list[int]:
        return sorted({e.line for e in self.errors})

    @property
    def good(self) -> int:
        return self.total - len(self.bad_lines)


@dataclass
class _Row:
    line: int
    values: dict[str, Any]
    clean: dict[str, Any] = field(default_factory=dict)
    bad: bool = False


# --- Reading --------------------------------------------------------------------------------


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


def xlsx_records(data: bytes) -> Iterable[tuple[int, list[Any]]]:
    import zipfile

    from openpyxl import load_workbook

    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError):
        raise _unreadable() from None
    try:
        ws = wb.worksheets[0]
        for i, row in enumerate(ws.iter_rows(values_only=True), start=1):
            yield i, [_cell(v) for v in row]
    finally:
        wb.close()


def _read(rows_or_file) -> tuple[dict[int, str], list[_Row]]:
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
        rows.append(_Row(line=line, values=values))
    return columns, rows


# --- Checking -------------------------------------------------------------------------------


def _employment_form(value: str) -> str | None:
    if not value:
        return EmploymentForm.EMPLOYEE
    text = str(value).strip()
    if text in EmploymentForm.values:
        return text
    if text in EMPLOYMENT_ALIASES:
        return EMPLOYMENT_ALIASES[text]
    for lang in ("zh-hans", "en"):
        with override(lang):
            for code, label in EmploymentForm.choices:
                if text.lower() == str(label).lower():
                    return code
    return None


def parse_date(value: Any) -> dt.date | None:
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    for pattern in DATE_RES:
        m = pattern.fullmatch(text)
        if m:
            try:
                return dt.date(int(m[1]), int(m[2]), int(m[3]))
            except ValueError:
                return None
    return None


class _Checker:
    def __init__(self, report: ImportReport):
        self.report = report

    def fail(self, row: _Row, column: str, code: str, message: str) -> None:
        row.bad = True
        self.report.errors.append(RowError(line=row.line, column=LABELS[column], code=code, message=str(message)))

    def required(self, row: _Row, column: str) -> str:
        value = row.values.get(column, "")
        if value in ("", None):
            self.fail(row, column, "required", _("This field is required."))
            return ""
        return value if isinstance(value, dt.date) else str(value).strip()

    def check_fields(self, row: _Row, today: dt.date) -> None:
        """Everything that needs no database."""
        v, c = row.values, row.clean
        name = self.required(row, "name")
        if len(name) > 50:
            self.fail(row, "name", "name_length", _("A name has at most 50 characters."))
        c["name"] = name
        number = self.required(row, "id_number")
        if number:
            try:
                info = parse_id_number(number, today=today)
            except ServiceError as exc:
                self.fail(row, "id_number", exc.code, exc.message)
            else:
                c.update(
                    id_number=info.number,
                    id_index=id_number_index(info.number),
                    id_masked=mask_id_number(info.number),
                    gender=info.gender,
                    birth_date=info.birth_date,
                )
        mobile = normalize_mobile(self.required(row, "mobile"))
        if mobile:
            try:
                validate_mobile(mobile)
            except ValidationError as exc:
                self.fail(row, "mobile", "mobile", exc.messages[0])
            else:
                c["mobile"] = mobile
        c["union_code"] = self.required(row, "union_code")
        credit = str(v.get("employer_credit_code") or "").strip()
        if credit:
            try:
                c["credit_code"] = credit_code_parse(credit)
            except ServiceError as exc:
                self.fail(row, "employer_credit_code", exc.code, exc.message)
        form = _employment_form(v.get("employment_form", ""))
        if form is None:
            labels = "、".join(str(label) for label in EmploymentForm.labels)
            self.fail(
                row,
                "employment_form",
                "employment_form",
                _("Unknown form of employment. Use one of: %(choices)s.") % {"choices": labels},
            )
        c["employment_form"] = form
        raw_date = self.required(row, "joined_on")
        if raw_date:
            joined = parse_date(raw_date)
            if joined is None:
                self.fail(row, "joined_on", "date", _("Enter a date such as 2024-03-01."))
            elif joined > today:
                self.fail(row, "joined_on", "date_future", _("The join date cannot be in the future."))
            elif joined.year < 1925:
                self.fail(row, "joined_on", "date", _("Enter a date such as 2024-03-01."))
            c["joined_on"] = joined

    def check_duplicates(self, rows: list[_Row]) -> None:
        """An ID number or a mobile number may appear once in the file."""
        for column, key in (("id_number", "id_index"), ("mobile", "mobile")):
            first: dict[str, int] = {}
            for row in rows:
                value = row.clean.get(key)
                if not value:
                    continue
                if value in first:
                    message = (
                        _("This ID number appears more than once in the file (first on line %(line)d).")
                        if column == "id_number"
                        else _("This mobile number appears more than once in the file (first on line %(line)d).")
                    )
                    self.fail(row, column, "duplicate_in_file", message % {"line": first[value]})
                else:
                    first[value] = row.line

    def check_database(self, rows: list[_Row], actor: User) -> None:
        codes = {r.clean["union_code"] for r in rows if r.clean.get("union_code")}
        unions = {u.code: u for u in _in_chunks(Union.objects.select_related(None), "code", codes)}
        credits = {r.clean["credit_code"] for r in rows if r.clean.get("credit_code")}
        employers = {
            e.credit_code: e for e in _in_chunks(Enterprise.objects.only("id", "credit_code"), "credit_code", credits)
        }
        indexes = {r.clean["id_index"] for r in rows if r.clean.get("id_index")}
        members_by_id = set(_values_in_chunks(Member.objects.all(), "id_index", indexes))
        mobiles = {r.clean["mobile"] for r in rows if r.clean.get("mobile")}
        members_by_mobile = set(_values_in_chunks(Member.objects.all(), "mobile", mobiles))
        allowed: dict[str, bool] = {}
        for row in rows:
            c = row.clean
            if c.get("id_index") in members_by_id:
                self.fail(row, "id_number", "already_member", _("This ID number already belongs to a union member."))
            if c.get("mobile") in members_by_mobile:
                self.fail(row, "mobile", "mobile_taken", _("This mobile number already belongs to another member."))
            code = c.get("union_code")
            if code:
                union = unions.get(code)
                if union is None:
                    self.fail(row, "union_code", "union_unknown", _("No union has this code."))
                else:
                    if code not in allowed:
                        allowed[code] = user_can_manage(actor, union)
                    if not allowed[code]:
                        self.fail(
                            row,
                            "union_code",
                            "union_scope",
                            _("You may only act for your own union and the unions under it."),
                        )
                    elif not union.holds_members or not union.is_active:
                        self.fail(row, "union_code", "union_kind", _("Choose a grassroots or joint union to join."))
                    c["union"] = union
            credit = c.get("credit_code")
            if credit:
                employer = employers.get(credit)
                if employer is None:
                    self.fail(row, "employer_credit_code", "employer_unknown", _("No enterprise has this credit code."))
                c["employer"] = employer


def _in_chunks(qs, field_name: str, values: set) -> Iterable:
    values = list(values)
    for i in range(0, len(values), BATCH):
        yield from qs.filter(**{f"{field_name}__in": values[i : i + BATCH]})


def _values_in_chunks(qs, field_name: str, values: set) -> Iterable:
    values = list(values)
    for i in range(0, len(values), BATCH):
        yield from qs.filter(**{f"{field_name}__in": values[i : i + BATCH]}).values_list(field_name, flat=True)


# --- The service ----------------------------------------------------------------------------


def members_import(*, rows_or_file, actor: User, dry_run: bool, file_name: str = "") -> ImportReport:
    """Check every row of a member list; unless `dry_run`, import them all, or none if any is bad.

    `rows_or_file` is CSV or XLSX content (a file object, bytes or a Path; CSV in UTF-8, with or
    without a BOM, GBK or GB18030), or a list of rows (dicts keyed by the header, or lists with
    the header first). Raises ServiceError for a file that cannot be read or lacks columns.
    """
    if not getattr(actor, "is_staff", False) or not getattr(actor, "is_active", False):
        raise ServiceError(
            "forbidden", _("You may only act for your own union and the unions under it."), kind=ErrorKind.FORBIDDEN
        )
    _columns, rows = _read(rows_or_file)
    report = ImportReport(dry_run=dry_run, total=len(rows))
    checker = _Checker(report)
    today = timezone.localdate()
    for row in rows:
        checker.check_fields(row, today)
    checker.check_duplicates(rows)
    checker.check_database(rows, actor)
    report.errors.sort(key=lambda e: e.line)
    for row in rows:
        if not row.bad:
            name = row.clean["union"].name
            report.by_union[name] = report.by_union.get(name, 0) + 1
    if dry_run or report.errors or not rows:
        return report
    try:
        report.imported = _write(rows, actor=actor, file_name=file_name)
    except IntegrityError:
        raise ServiceError(
            "import_conflict",
            _("A member with one of these ID or mobile numbers was added meanwhile. Nothing was imported: try again."),
        ) from None
    return report


def _write(rows: list[_Row], *, actor: User, file_name: str) -> int:
    now = timezone.now()
    users = dict(
        _user_ids_by_mobile({r.clean["mobile"] for r in rows}),
    )
    members = [
        Member(
            user_id=users.get(r.clean["mobile"]),
            name=r.clean["name"],
            id_number=r.clean["id_number"],
            id_index=r.clean["id_index"],
            id_masked=r.clean["id_masked"],
            gender=r.clean["gender"],
            birth_date=r.clean["birth_date"],
            mobile=r.clean["mobile"],
            employer=r.clean.get("employer"),
            union=r.clean["union"],
            employment_form=r.clean["employment_form"],
            join_channel=JoinChannel.IMPORT,
            joined_on=r.clean["joined_on"],
            status=Member.Status.ACTIVE,
            privacy_version=IMPORT_PRIVACY_VERSION,
            privacy_consented_at=now,
            created_at=now,
        )
        for r in rows
    ]
    with transaction.atomic():
        Member.objects.bulk_create(members, batch_size=BATCH)
        if any(m.pk is None for m in members):  # a database that cannot return new ids
            raise IntegrityError("bulk insert did not return ids")
        for i in range(0, len(members), BATCH):
            batch = members[i : i + BATCH]
            Member.objects.filter(pk__in=[m.pk for m in batch]).update(member_no=MEMBER_NO_SQL)
            for m in batch:
                m.member_no = member_number(m.pk)
        Member.history.bulk_history_create(
            members, batch_size=BATCH, default_user=actor, default_change_reason="import", default_date=now
        )
        unions: dict[str, int] = {}
        for m in members:
            unions[m.union.code] = unions.get(m.union.code, 0) + 1
        audit_log(
            action="members.import.completed",
            obj=actor,
            actor=actor,
            new={"imported": len(members), "unions": unions, "file": file_name[:100]},
        )
    return len(members)


def _user_ids_by_mobile(mobiles: set[str]) -> Iterable[tuple[str, int]]:
    """Worker logins that already exist for these numbers (they logged in before joining)."""
    values = list(mobiles)
    for i in range(0, len(values), BATCH):
        yield from User.objects.filter(mobile__in=values[i : i + BATCH], member__isnull=True).values_list(
            "mobile", "pk"
        )


def template_csv() -> bytes:
    """The header of an import file, in UTF-8 with a BOM so that Excel shows the Chinese."""
    buf = io.StringIO()
    csv.writer(buf).writerow([zh for _f, zh, _en in COLUMNS])
    return buf.getvalue().encode("utf-8-sig")
