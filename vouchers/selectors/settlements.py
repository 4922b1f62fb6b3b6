"""The month's settlements as staff export them (the settlements themselves are built and paid by
``vouchers.services.settlement``)."""

from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext as _

from core import xlsx
from core.parsing import month_parse
from vouchers.models import Settlement


def settlement_export_xlsx(*, month: str) -> bytes:
    """The month's settlements as an XLSX workbook (one row per merchant, then a total)."""
    month = str(month_parse(month))
    rows = Settlement.objects.filter(month=month).select_related("merchant").order_by("merchant__name")
    wb = xlsx.workbook()
    ws = wb.active
    ws.title = month
    xlsx.append(
        ws,
        [
            _("Merchant"),
            _("Licence (unified social credit code)"),
            _("Category"),
            _("Vouchers redeemed"),
            _("Amount owed (CNY)"),
            _("Paid at"),
        ],
    )
    for cell in ws[1]:
        cell.font = xlsx.Font(bold=True)
    total_vouchers, total_amount = 0, Decimal("0")
    for s in rows:
        paid = timezone.localtime(s.paid_at).strftime("%Y-%m-%d %H:%M") if s.paid_at else ""
        xlsx.append(
            ws, [s.merchant.name, s.merchant.credit_code, s.merchant.get_category_display(), s.vouchers, s.amount, paid]
        )
        ws.cell(row=ws.max_row, column=5).number_format = xlsx.MONEY_FORMAT
        total_vouchers += s.vouchers
        total_amount += s.amount
    xlsx.append(ws, [_("Total"), "", "", total_vouchers, total_amount, ""])
    ws.cell(row=ws.max_row, column=5).number_format = xlsx.MONEY_FORMAT
    for cell in ws[ws.max_row]:
        cell.font = xlsx.Font(bold=True)
    for col, width in zip("ABCDEF", (30, 22, 20, 16, 18, 18), strict=True):
        ws.column_dimensions[col].width = width
    content = xlsx.to_bytes(wb)
    return content
