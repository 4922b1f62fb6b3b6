"""What agencies push: the kinds of data, their columns, the manifest, and the checks of one row.

Pure functions, no database. `hardship.ingest` reads files and JSON pages with these and stores
the rows; the API's OpenAPI description is written from the same tables (`columns_markdown`).

A row is checked field by field in column order; the first problem rejects it with one reason:
`missing_field`, `too_long`, `bad_character` (a control character such as NUL, or a broken
one, in the source key or a text field), `bad_id_number` (with the ID validator's code in
`detail`), `negative_amount`, `bad_amount`, `unknown_grade`, `bad_date`, `unknown_value`
(`duplicate_in_batch` is found by the ingestion, which sees the whole push).
"""

import datetime as dt
import hashlib
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from json.encoder import encode_basestring
from typing import Any

from django.utils.translation import gettext as _

from core.errors import ServiceError
from core.parsing import date_parse, id_number_normalize, id_number_parse, int_parse, money_text, period_parse
from hardship.models import FundLine, PushKind

BATCH_ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")
SHA256_RE = re.compile(r"[0-9a-f]{64}")
# Control characters (NUL breaks PostgreSQL's COPY) and lone surrogates (not encodable): in a
# source key none at all, in a text field all but tab and line breaks. Searched only when
# `str.isprintable()` is False, which is rare.
KEY_BAD_CHAR_RE = re.compile(r"[\x00-\x1f\x7f\ud800-\udfff]")
TEXT_BAD_CHAR_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")

REASONS = (
    "missing_field",
    "too_long",
    "bad_character",
    "bad_id_number",
    "negative_amount",
    "bad_amount",
    "unknown_grade",
    "bad_date",
    "unknown_value",
    "duplicate_in_batch",
)


class RowRejected(Exception):  # noqa: N818 - a rejected row is an outcome, not a failure
    def __init__(self, reason: str, field_name: str, message: str, detail: str = ""):
        super().__init__(reason)
        self.reason, self.field, self.message, self.detail = reason, field_name, str(message), detail

    def as_error(self, line: int) -> dict:
        error = {"line": line, "reason": self.reason, "field": self.field, "message": self.message}
        if self.detail:
            error["detail"] = self.detail
        return error


@dataclass(frozen=True)
class Column:
    """One field of a row: its payload key (also its English header) and the Chinese headers."""

    name: str
    headers: tuple[str, ...]  # Chinese headers agencies use; the first is the template's
    check: str  # key, id_number, text, amount, date, grade, choice
    required: bool = True
    max_length: int = 100
    grades: tuple[int, int] | None = None
    choices: dict[str, tuple[str, ...]] = field(default_factory=dict)  # value -> aliases
    doc: str = ""


COMMON = (
    Column("source_key", ("记录编号", "业务编号", "编号", "流水号"), "key", max_length=64,
           doc="The agency's own key of the record; a later row with the same key (same agency, kind and period) "
           "replaces this one."),
    Column("id_number", ("身份证号", "身份证号码", "公民身份号码", "证件号码"), "id_number",
           doc="The 18-character resident ID number. Stored only encrypted, with a keyed blind index."),
    Column("name", ("姓名",), "text", required=False, max_length=50, doc="The person's name."),
)  # fmt: skip

CHINESE_GRADES = {c: i for i, c in enumerate("一二三四五六七八九十", start=1)}

KIND_COLUMNS: dict[str, tuple[Column, ...]] = {
    PushKind.LOW_INCOME: COMMON + (
        Column("list", ("救助类别", "保障类别", "类别"), "choice", choices={
            "dibao": ("低保", "最低生活保障", "低保户", "城乡低保", "城市低保", "农村低保"),
            "dibian": ("低边", "低保边缘", "低保边缘户", "低边户", "低保边缘家庭"),
        }, doc="`dibao` (低保) or `dibian` (低边)."),
        Column("start_date", ("起始日期", "开始日期", "认定日期", "享受起始日期"), "date"),
        Column("status", ("状态", "保障状态"), "choice", choices={
            "active": ("在保", "正常", "有效", "享受中", "在册"),
            "ended": ("退保", "停保", "终止", "已退出", "退出", "注销", "取消"),
        }, doc="`active` (在保) or `ended` (退保/停保)."),
    ),
    PushKind.WORK_INJURY: COMMON + (
        Column("injury_date", ("受伤日期", "工伤日期", "事故日期"), "date"),
        Column("grade", ("伤残等级", "鉴定等级", "等级"), "grade", grades=(1, 10),
               doc="Disability grade 1 (most severe) to 10; `4`, `四级` and `4级` are read alike."),
    ),
    PushKind.MEDICAL: COMMON + (
        Column("total_cost", ("医疗总费用", "总费用", "医疗费用总额"), "amount", doc="CNY, e.g. `439305.46`."),
        Column("reimbursed", ("医保报销", "统筹支付", "报销金额", "医保支付"), "amount"),
        Column("out_of_pocket", ("个人自付", "自付金额", "个人负担"), "amount"),
        Column("illness_category", ("疾病类别", "病种", "疾病名称"), "text", required=False),
    ),
    PushKind.DISABILITY: COMMON + (
        Column("type", ("残疾类别", "残疾类型"), "choice", choices={
            "physical": ("肢体", "肢体残疾"), "visual": ("视力", "视力残疾"), "hearing": ("听力", "听力残疾"),
            "speech": ("言语", "言语残疾"), "intellectual": ("智力", "智力残疾"), "mental": ("精神", "精神残疾"),
            "multiple": ("多重", "多重残疾"),
        }),
        Column("grade", ("残疾等级", "等级"), "grade", grades=(1, 4), doc="Grade 1 (most severe) to 4."),
    ),
    PushKind.AID_GIVEN: COMMON + (
        Column("body", ("援助单位", "发放单位", "救助单位", "帮扶单位"), "text"),
        Column("purpose", ("援助事由", "用途", "救助事由", "帮扶事由"), "text", max_length=200),
        Column("fund_line", ("资金类别", "援助类别", "帮扶类别"), "choice", required=False, choices={
            FundLine.LIVING: ("生活救助", "生活帮扶", "生活补助", "生活"),
            FundLine.SCHOOLING: ("助学", "教育救助", "助学帮扶", "助学金"),
            FundLine.ILLNESS: ("大病救助", "医疗救助", "大病", "医疗"),
            FundLine.TRAINING: ("培训就业", "就业帮扶", "技能培训", "培训", "就业"),
            FundLine.WARMTH: ("送温暖", "慰问"),
            "other": ("其他",),
        }, doc="One of the union's fund lines or `other` (the default)."),
        Column("amount", ("金额", "援助金额", "发放金额", "帮扶金额"), "amount"),
        Column("date", ("发放日期", "援助日期", "日期"), "date"),
    ),
}  # fmt: skip


def columns(kind: str) -> tuple[Column, ...]:
    return KIND_COLUMNS[kind]


def _header_key(text: Any) -> str:
    text = str(text or "").replace("\ufeff", "").strip()
    text = re.sub(r"[（(][^）)]*[）)]$", "", text).strip()  # 医疗总费用（元） -> 医疗总费用
    return text.replace(" ", "").lower()


def _aliases(kind: str) -> dict[str, str]:
    out = {}
    for col in KIND_COLUMNS[kind]:
        out[col.name.lower()] = col.name
        for header in col.headers:
            out.setdefault(_header_key(header), col.name)
    return out


def layout_for_header(kind: str, header: list[Any]) -> list[int | None]:
    """For each of the kind's columns, its index in the file's header row (None: absent).

    Raises ServiceError `missing_columns` when a required column is absent.
    """
    aliases = _aliases(kind)
    found: dict[str, int] = {}
    for idx, cell in enumerate(header):
        name = aliases.get(_header_key(cell))
        if name and name not in found:
            found[name] = idx
    missing = [c for c in KIND_COLUMNS[kind] if c.required and c.name not in found]
    if missing:
        names = "、".join(f"{c.headers[0]} ({c.name})" for c in missing)
        raise ServiceError(
            "missing_columns", _("The first row must name the columns. Missing: %(columns)s.") % {"columns": names}
        )
    return [found.get(c.name) for c in KIND_COLUMNS[kind]]


def json_row_cells(kind: str, row: Any, _cache: dict = {}) -> list[Any]:  # noqa: B006 - a per-process cache
    """A JSON row (keys: the English names, or the Chinese headers) as cells in column order."""
    aliases = _cache.get(kind)
    if aliases is None:
        aliases = _cache[kind] = _aliases(kind)
    if not isinstance(row, dict):
        return [None] * len(KIND_COLUMNS[kind])
    named = {}
    for key, value in row.items():
        name = aliases.get(_header_key(key))
        if name and name not in named:
            named[name] = value
    return [named.get(c.name) for c in KIND_COLUMNS[kind]]


# --- The manifest ----------------------------------------------------------------------------


def manifest_clean(manifest: dict) -> dict:
    """The manifest's fields, checked and normalised; ServiceError `invalid_manifest` otherwise.

    The agency is never read from the manifest: it is the caller's (the API key's agency).
    """
    if not isinstance(manifest, dict):
        raise ServiceError("invalid_manifest", _("The manifest must be an object."))
    kind = str(manifest.get("kind") or "").strip()
    if kind not in PushKind.values:
        raise ServiceError(
            "invalid_manifest", _("Unknown kind. Use one of: %(choices)s.") % {"choices": ", ".join(PushKind.values)}
        )
    try:
        period = str(period_parse(manifest.get("period") or ""))
    except ServiceError as exc:
        raise ServiceError("invalid_manifest", exc.message) from None
    batch_id = str(manifest.get("batch_id") or "").strip()
    if not BATCH_ID_RE.fullmatch(batch_id):
        raise ServiceError(
            "invalid_manifest",
            _("A batch id has 1 to 64 letters, digits and . _ : - and starts with a letter or digit."),
        )
    try:
        row_count = int(manifest.get("row_count"))
    except (TypeError, ValueError):
        row_count = -1
    if row_count < 0 or str(manifest.get("row_count")).strip() != str(row_count):
        raise ServiceError("invalid_manifest", _("The row count must be a whole number, 0 or more."))
    sha256 = str(manifest.get("sha256") or "").strip().lower()
    if not SHA256_RE.fullmatch(sha256):
        raise ServiceError("invalid_manifest", _("The SHA-256 must be 64 hexadecimal characters."))
    return {"kind": kind, "period": period, "batch_id": batch_id, "row_count": row_count, "sha256": sha256}


def canonical_row(row: Any) -> str:
    """One JSON row as the SHA-256 of a JSON push sees it."""
    return json.dumps(row, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def rows_sha256(pages: Iterable[list]) -> tuple[str, int]:
    """The SHA-256 of a JSON push (its rows in order, canonical, joined by a newline) and its row count.

    UTF-8 with lone surrogates (valid in JSON, not in UTF-8) passed through, so such a push gets
    an answer (a row error, or `sha256_mismatch` when the agency hashed them otherwise)."""
    digest, count = hashlib.sha256(), 0
    for rows in pages:
        for row in rows:
            if count:
                digest.update(b"\n")
            digest.update(canonical_row(row).encode("utf-8", "surrogatepass"))  # a lone surrogate: no crash
            count += 1
    return digest.hexdigest(), count


# --- Checking one row ------------------------------------------------------------------------


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _grade(value: Any, low: int, high: int) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int):
        grade = value
    else:
        text = str(value).strip().removeprefix("第").removesuffix("级").strip()
        if text in CHINESE_GRADES:
            grade = CHINESE_GRADES[text]
        else:
            try:
                grade = int_parse(text)  # ASCII or fullwidth digits: not ², ① or ٣
            except ServiceError:
                return None
    return grade if low <= grade <= high else None


def _choice_map(col: Column) -> dict[str, str]:
    out = {}
    for value, aliases in col.choices.items():
        out[str(value).lower()] = str(value)
        for alias in aliases:
            out[alias.lower()] = str(value)
    return out


def bad_character_message() -> str:
    return _("Remove the control characters (such as NUL) or broken characters from this field.")


RowChecker = Callable[[list[Any]], tuple[str, str, str]]


def row_checker(kind: str, *, today: dt.date) -> RowChecker:
    """A function checking one row's cells (in `columns(kind)` order).

    It returns (source_key, id_number, payload as canonical JSON text) or raises RowRejected.
    Compiled once per push: it runs a million times for a province's month.
    """
    cols = KIND_COLUMNS[kind]
    checks = []  # (index, column, converter) for the payload columns
    for idx, col in enumerate(cols):
        if col.name in ("source_key", "id_number"):
            continue
        checks.append((idx, col, _converter(col, today)))
    key_idx, id_idx = 0, 1
    missing = _("This field is required.")
    bad_character = bad_character_message()

    def check(cells: list[Any]) -> tuple[str, str, str]:
        key = _text(cells[key_idx])
        if not key:
            raise RowRejected("missing_field", "source_key", missing)
        if len(key) > 64:
            raise RowRejected("too_long", "source_key", _("At most %(max)d characters.") % {"max": 64})
        if not key.isprintable() and KEY_BAD_CHAR_RE.search(key):
            raise RowRejected("bad_character", "source_key", bad_character)
        raw = cells[id_idx]
        number = id_number_normalize(raw if isinstance(raw, str) else _text(raw))
        if not number:
            raise RowRejected("missing_field", "id_number", missing)
        try:
            number = id_number_parse(number, today=today)
        except ServiceError as exc:
            raise RowRejected("bad_id_number", "id_number", exc.message, exc.code) from None
        parts = []
        for idx, col, convert in checks:
            value = convert(cells[idx])
            if value is not None:
                parts.append(f"{encode_basestring(col.name)}:{value}")
        return key, number, "{" + ",".join(parts) + "}"

    return check


def _converter(col: Column, today: dt.date) -> Callable[[Any], str | None]:
    """A function from a cell to its JSON text in the payload (None: left out) or RowRejected.

    One function on purpose: it runs for every cell of millions of rows, so each column's
    converter is a closure chosen once here, with no dispatch per cell."""
    name, required = col.name, col.required
    missing = _("This field is required.")

    def empty() -> None:
        if required:
            raise RowRejected("missing_field", name, missing)
        return None

    if col.check == "text":
        limit = col.max_length
        bad_character = bad_character_message()

        def convert(value):
            text = _text(value)
            if not text:
                return empty()
            if len(text) > limit:
                raise RowRejected("too_long", name, _("At most %(max)d characters.") % {"max": limit})
            if not text.isprintable() and TEXT_BAD_CHAR_RE.search(text):
                raise RowRejected("bad_character", name, bad_character)
            return encode_basestring(text)

    elif col.check == "amount":

        def convert(value):
            if value is None or value == "":
                return empty()
            try:
                return f'"{money_text(value)}"'
            except ServiceError as exc:  # bad_amount or negative_amount, the reasons of a row
                raise RowRejected(exc.code, name, exc.message) from None

    elif col.check == "date":

        def convert(value):
            if value is None or value == "":
                return empty()
            try:
                day = date_parse(value if isinstance(value, dt.date) else _text(value))
            except ServiceError as exc:
                raise RowRejected("bad_date", name, exc.message) from None
            if day.year < 1900:
                raise RowRejected("bad_date", name, _("Enter a date such as 2024-03-01."))
            if day > today:
                raise RowRejected("bad_date", name, _("The date cannot be in the future."))
            return f'"{day.isoformat()}"'

    elif col.check == "grade":
        low, high = col.grades

        def convert(value):
            if value is None or value == "":
                return empty()
            grade = _grade(value, low, high)
            if grade is None:
                raise RowRejected(
                    "unknown_grade", name, _("Enter a grade from %(low)d to %(high)d.") % {"low": low, "high": high}
                )
            return str(grade)

    elif col.check == "choice":
        mapping = _choice_map(col)
        default = "other" if "other" in col.choices else None

        def convert(value):
            text = _text(value).lower()
            if not text:
                if default:
                    return f'"{default}"'
                return empty()
            choice = mapping.get(text)
            if choice is None:
                raise RowRejected(
                    "unknown_value",
                    name,
                    _("Unknown value. Use one of: %(choices)s.") % {"choices": ", ".join(map(str, col.choices))},
                )
            return f'"{choice}"'

    else:  # pragma: no cover - a column with an unknown check is a programming error
        raise ValueError(col.check)
    return convert


# --- Documentation ---------------------------------------------------------------------------


def columns_markdown() -> str:
    """The columns of each kind as Markdown, for the OpenAPI description."""
    lines = []
    for kind, cols in KIND_COLUMNS.items():
        lines.append(f"\n**{kind}**\n\n| field (English header) | Chinese headers | required | |\n|---|---|---|---|")
        for col in cols:
            lines.append(
                f"| `{col.name}` | {' / '.join(col.headers)} | {'yes' if col.required else 'no'} | {col.doc or col.check} |"
            )
    return "\n".join(lines)
