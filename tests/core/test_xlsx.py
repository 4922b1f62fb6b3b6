"""The XLSX helper every export uses: no cell is run by a spreadsheet as a formula."""

import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from core import xlsx


@pytest.mark.parametrize("text", ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx", "=****", '=HYPERLINK("x")'])
def test_it_escapes_a_text_that_a_spreadsheet_would_run(text):
    wb = xlsx.workbook()
    xlsx.append(wb.active, [text])
    cell = load_workbook(io.BytesIO(xlsx.to_bytes(wb))).active["A1"]
    assert cell.data_type == "s"
    # (XML turns a carriage return into a line feed; what matters is the quote in front.)
    assert cell.value[0] == "'" and cell.value[2:] == text[1:]


@pytest.mark.parametrize("value", ["湖州市总工会", "a=b", "", None, 12, Decimal("-3.50")])
def test_it_keeps_other_values_as_they_are(value):
    assert xlsx.escape(value) == value


def test_the_response_downloads_the_file():
    resp = xlsx.response(b"data", "report-2025-03.xlsx")
    assert resp["Content-Type"] == xlsx.CONTENT_TYPE
    assert resp["Content-Disposition"] == 'attachment; filename="report-2025-03.xlsx"'
