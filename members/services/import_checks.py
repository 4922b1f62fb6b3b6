"""Checking the rows of a member list: each cell, duplicates within the file, and what the database
knows (members already there, unions and their scope, employers). Every problem is reported with its
line and column; nothing is written here."""

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import override

from core.crypto import id_number_index
from core.errors import ServiceError
from core.parsing import credit_code_parse, date_parse
from members.models import EmploymentForm, Enterprise, Member, Union, User
from members.selectors import user_can_manage
from members.services.import_files import LABELS, ImportRow
from members.services.scope import out_of_scope_message
from members.validators import mask_id_number, normalize_mobile, parse_id_number, validate_mobile

BATCH = 500

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


class RowChecker:
    """Checks rows and records each problem in the report (the row is then bad)."""

    def __init__(self, report: ImportReport):
        self.report = report

    def fail(self, row: ImportRow, column: str, code: str, message: str) -> None:
        row.bad = True
        self.report.errors.append(RowError(line=row.line, column=LABELS[column], code=code, message=str(message)))

    def required(self, row: ImportRow, column: str) -> str:
        value = row.values.get(column, "")
        if value in ("", None):
            self.fail(row, column, "required", _("This field is required."))
            return ""
        return value if isinstance(value, dt.date) else str(value).strip()

    def check_fields(self, row: ImportRow, today: dt.date) -> None:
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
            try:
                joined = date_parse(raw_date)
            except ServiceError as exc:
                joined = None
                self.fail(row, "joined_on", "date", exc.message)
            else:
                if joined > today:
                    self.fail(row, "joined_on", "date_future", _("The join date cannot be in the future."))
                elif joined.year < 1925:
                    self.fail(row, "joined_on", "date", _("Enter a date such as 2024-03-01."))
            c["joined_on"] = joined

    def check_duplicates(self, rows: list[ImportRow]) -> None:
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

    def check_database(self, rows: list[ImportRow], actor: User) -> None:
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
                        self.fail(row, "union_code", "union_scope", out_of_scope_message())
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
