"""Telling the responsible hardship staff of each union about its new candidates, once a period."""

from django.conf import settings
from django.urls import NoReverseMatch, reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from core.services import notification_send
from hardship.selectors.staff import hardship_staff_for
from members.models import Union


def _candidates_link(union_id: int) -> str:
    try:
        base = reverse("admin:hardship_candidate_changelist")
    except NoReverseMatch:
        return ""
    return f"{base}?state__exact=open&union__id__exact={union_id}"


def notify_new_candidates(*, period: str, new_by_union: dict[int, int]) -> dict:
    """One message per union with new candidates, to its responsible hardship staff, sent once the
    transaction commits. The dedupe key is per period and union: a rerun sends nothing twice."""
    staff = hardship_staff_for(u for u, n in new_by_union.items() if n)
    names = dict(Union.objects.filter(pk__in=list(staff)).values_list("pk", "name"))
    figures = {"unions": 0, "recipients": 0, "without_staff": 0}
    with translation.override(settings.LANGUAGE_CODE):
        for union_id, count in sorted(new_by_union.items()):
            if not count:
                continue
            recipients = staff.get(union_id)
            if not recipients:
                figures["without_staff"] += 1
                continue
            notification_send(
                recipient_ids=recipients,
                kind="hardship.candidates.new",
                title=_("New hardship candidates to review"),
                body=ngettext(
                    "Screening of %(period)s found %(count)d new candidate in %(union)s.",
                    "Screening of %(period)s found %(count)d new candidates in %(union)s.",
                    count,
                )
                % {"period": period, "count": count, "union": names.get(union_id, "")},
                link=_candidates_link(union_id),
                dedupe_key=f"hardship-cycle-{period}-union-{union_id}",
            )
            figures["unions"] += 1
            figures["recipients"] += len(recipients)
    return figures
