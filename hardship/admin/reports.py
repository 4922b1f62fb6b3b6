"""The hardship report page (figures, funnel, 12-month trend) and its XLSX export."""

from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext

from core import xlsx
from core.errors import ServiceError
from core.parsing import Period, int_parse
from hardship import reports
from hardship.admin.base import AdminPage


def _report_args(request):
    if not reports.is_hardship_staff(request.user):
        raise PermissionDenied
    unions = reports.report_unions(request.user)
    try:
        period = str(reports.report_period(request.GET.get("period") or ""))
    except ServiceError:
        period = str(Period.of(timezone.localdate()))
    try:
        union = unions.filter(pk=int_parse(request.GET.get("union", ""))).first()
    except ServiceError:  # no union asked for, or not an id: the whole scope
        union = None
    return period, union, unions


def report_page(model_admin, request) -> TemplateResponse:
    """Figures, funnel and 12-month trend of a period, for the staff member's scope."""
    period, union, unions = _report_args(request)
    figures = reports.period_figures(user=request.user, period=period, union=union)
    months = reports.trend(user=request.user, end=period, union=union)
    chart = {
        "funnel": [{"name": str(s["label"]), "value": s["value"]} for s in figures["funnel"]],
        "months": [m["month"] for m in months],
        "series": {
            "received": [m["received"] for m in months],
            "matched": [m["matched"] for m in months],
            "candidates": [m["candidates"] for m in months],
            "filed": [m["filed"] for m in months],
            "aid": [float(m["aid"]) for m in months],
        },
        "labels": {
            "received": gettext("Records received"),
            "matched": gettext("Matched to members"),
            "candidates": gettext("Candidates"),
            "filed": gettext("Files built"),
            "aid": gettext("Aid paid (CNY)"),
        },
    }
    page = AdminPage(model_admin, request)
    return page.render(
        "admin/hardship/report.html",
        title=gettext("Hardship report"),
        period=period,
        union=union,
        unions=unions,
        figures=figures,
        months=months,
        chart=chart,
    )


def report_export(model_admin, request) -> HttpResponse:
    period, union, _unions = _report_args(request)
    data = reports.report_export_xlsx(user=request.user, period=period, union=union)
    return xlsx.response(data, f"hardship-report-{period}.xlsx")
