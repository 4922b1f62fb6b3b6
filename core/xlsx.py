"""The one way the portal writes spreadsheets for people (openpyxl).

Every export builds its workbook with ``workbook()``, adds rows with ``append`` (which escapes any
text a spreadsheet would run as a formula), and answers with ``response`` (or ``to_bytes``).
"""

import io

from django.http import HttpResponse
from openpyxl import Workbook
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
