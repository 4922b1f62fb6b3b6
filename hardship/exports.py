"""XLSX files built for staff (openpyxl). Only masked names and masked ID numbers go in them, but
for the bank file of a payment batch: a bank pays a payee by their full name."""

from decimal import Decimal

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from core import xlsx
from hardship.models import Aid, PaymentBatch, WarmthBatch


def warmth_batch_workbook(batch: WarmthBatch) -> bytes:
    """One row per recipient: member number, masked name, masked ID, union, amount; then a total row."""
    wb = xlsx.workbook()
    ws = wb.active
    ws.title = _("Recipients")[:31]
    xlsx.append(ws, [batch.name])
    xlsx.append(ws, [_("Period"), batch.period, _("State"), str(batch.get_state_display())])
    xlsx.append(ws, [])
    header = [_("Member number"), _("Name"), _("ID number"), _("Union"), _("Amount (CNY)")]
    xlsx.append(ws, header)
    for cell in ws[ws.max_row]:
        cell.font = xlsx.Font(bold=True)
    total = Decimal("0")
    count = 0
    rows = (
        Aid.objects.filter(batch=batch)
        .exclude(state__in=Aid.NOT_COUNTED)
        .select_related("member", "union")
        .only("amount", "member__member_no", "member__name", "member__id_masked", "union__name")
        .order_by("member__member_no", "pk")
    )
    for aid in rows:
        xlsx.append(
            ws, [aid.member.member_no, aid.member.masked_name, aid.member.id_masked, aid.union.name, aid.amount]
        )
        ws.cell(row=ws.max_row, column=5).number_format = xlsx.MONEY_FORMAT
        total += aid.amount
        count += 1
    xlsx.append(
        ws,
        [
            _("Total"),
            ngettext("%(count)d recipient", "%(count)d recipients", count) % {"count": count},
            None,
            None,
            total,
        ],
    )
    for cell in ws[ws.max_row]:
        cell.font = xlsx.Font(bold=True)
    ws.cell(row=ws.max_row, column=5).number_format = xlsx.MONEY_FORMAT
    for column, width in zip("ABCDE", (16, 12, 22, 30, 14), strict=True):
        ws.column_dimensions[column].width = width
    content = xlsx.to_bytes(wb)
    return content


def payment_batch_workbook(batch: PaymentBatch) -> bytes:
    """The bank file of a payment batch: one row per aid (the aid's number is the payment's
    reference), with the payee's full name — the bank pays by name — their member number, the
    masked ID number (never the whole), the union, the fund line and the amount; then a total row.
    The portal holds no bank accounts: the treasurer matches the payee to the union's register of
    accounts (a note at the top says so)."""
    wb = xlsx.workbook()
    ws = wb.active
    ws.title = _("Bank file")[:31]
    xlsx.append(ws, [_("Payment batch %(batch)s") % {"batch": batch}, batch.union.name], bold=True)
    xlsx.append(ws, [_("The portal holds no bank accounts: match each payee to the union's register of accounts.")])
    xlsx.append(ws, [])
    header = [
        _("Reference"),
        _("Payee"),
        _("Member number"),
        _("ID number"),
        _("Union"),
        _("Fund line"),
        _("Amount (CNY)"),
    ]
    xlsx.append(ws, header, bold=True)
    total = Decimal("0")
    count = 0
    rows = (
        Aid.objects.filter(payment_batch=batch)
        .select_related("member", "union")
        .only(
            "amount", "fund_line", "member__name", "member__member_no", "member__id_masked",
            "union__name",
        )
        .order_by("pk")
    )  # fmt: skip
    for aid in rows:
        m = aid.member
        xlsx.append(
            ws,
            [
                f"AID{aid.pk:08d}", m.name, m.member_no, m.id_masked, aid.union.name,
                str(aid.get_fund_line_display()), aid.amount,
            ],
        )  # fmt: skip
        ws.cell(row=ws.max_row, column=7).number_format = xlsx.MONEY_FORMAT
        total += aid.amount
        count += 1
    xlsx.append(
        ws,
        [_("Total"), ngettext("%(count)d payment", "%(count)d payments", count) % {"count": count}]
        + [None] * 4
        + [total],
        bold=True,
    )
    ws.cell(row=ws.max_row, column=7).number_format = xlsx.MONEY_FORMAT
    for column, width in zip("ABCDEFG", (14, 12, 16, 22, 30, 16, 14), strict=True):
        ws.column_dimensions[column].width = width
    return xlsx.to_bytes(wb)
