"""The member import reads workbooks with the pushes' reader (core.xlsx.xlsx_rows): a claimed
dimension is ignored, and a malformed or bomb-like workbook is the `import_format` refusal, never a
server error."""

import io
import re
import zipfile
from itertools import islice

import pytest
from openpyxl import Workbook

from core.errors import ServiceError
from members.services.import_files import rows_read, xlsx_records

SHEET = "xl/worksheets/sheet1.xml"


def workbook() -> bytes:
    book = Workbook()
    book.active.append(["姓名", "身份证号", "手机号", "工会编码", "入会日期"])
    book.active.append(["周建新", "330502199003071232", "13900000001", "G1", "2025-03-01"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def rezip(content: bytes, change, add=None) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(content)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info)
            dst.writestr(info.filename, change(data) if info.filename == SHEET else data)
        for name, data in (add or {}).items():
            dst.writestr(name, data)
    return out.getvalue()


def test_a_claimed_dimension_is_ignored():
    content = rezip(workbook(), lambda xml: re.sub(rb'<dimension ref="[^"]+"', b'<dimension ref="A1:XFD1048576"', xml))
    records = list(islice(xlsx_records(content), 50))
    assert len(records) == 2 and all(len(cells) == 5 for _line, cells in records)
    _columns, rows = rows_read(content)
    assert len(rows) == 1


@pytest.mark.parametrize(
    "change",
    [
        lambda xml: xml[: len(xml) // 2],  # broken XML
        lambda xml: xml.replace(b'<c r="A2" t="inlineStr"><is><t>', b'<c r="A2" t="s"><v>99</v><is><t>', 1),
        lambda xml: xml.replace(b"</row></sheetData>", b'<c r="F2" t="n"><v>abc</v></c></row></sheetData>', 1),
    ],
    ids=["broken_xml", "bad_shared_string_index", "non_numeric_number"],
)
def test_a_malformed_workbook_is_refused_as_unreadable(change):
    with pytest.raises(ServiceError) as err:
        rows_read(rezip(workbook(), change))
    assert err.value.code == "import_format"


def test_a_zip_bomb_is_refused_before_it_is_read():
    with pytest.raises(ServiceError) as err:
        rows_read(rezip(workbook(), lambda xml: xml, add={"xl/media/pad.bin": b"\0" * (16 << 20)}))
    assert err.value.code == "import_format"
