"""The caseworkers' yearly reviews (年度复核): the filed cases of their scope whose review is overdue
or due soon, each linked to its case page, where the review form records the outcome."""

from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.utils import timezone
from django.utils.translation import gettext

from hardship.admin.base import AdminPage, member_masked_label
from hardship.selectors.access import is_hardship_staff
from hardship.selectors.cases import REVIEW_SOON_DAYS, reviews_due

REVIEWS_PER_PAGE = 50


def reviews_page(model_admin, request):
    """Hardship staff (view or change a case) of any level see their scope's reviews; the outsider's
    scope has none of another union's cases. Paged, the overdue ones counted once."""
    if not (is_hardship_staff(request.user) and model_admin.has_view_or_change_permission(request)):
        raise PermissionDenied
    today = timezone.localdate()
    cases = reviews_due(request.user, today=today)
    overdue = cases.filter(review_due__lt=today).count()
    page = Paginator(cases, REVIEWS_PER_PAGE).get_page(request.GET.get("p"))
    rows = [
        {
            "case": case,
            "head": member_masked_label(case.head),
            "overdue_days": (today - case.review_due).days if case.review_due < today else 0,
        }
        for case in page.object_list
    ]
    return AdminPage(model_admin, request).render(
        "admin/hardship/case/reviews.html",
        title=gettext("Yearly reviews"),
        rows=rows,
        page_obj=page,
        overdue=overdue,
        soon_days=REVIEW_SOON_DAYS,
        can_change=model_admin.has_change_permission(request),
    )
