"""Hardship's cards on the admin's landing page (`core.dashboard`): candidates to assess, aid
waiting for the user's second approval, overdue yearly reviews."""

from django.urls import reverse
from django.utils.translation import gettext

from core.dashboard import Waiting, waiting_register
from hardship import selectors


def candidates(user) -> Waiting | None:
    if not user.has_perm(selectors.VIEW_CANDIDATE):
        return None
    url = reverse("admin:hardship_candidate_changelist") + "?state__exact=open"
    return Waiting(gettext("Hardship candidates to assess"), selectors.candidates_open(user).count(), url)


def aid_to_approve(user) -> Waiting | None:
    if not (user.has_perm("hardship.view_aid") and user.has_perm("hardship.change_aid")):
        return None
    url = reverse("admin:hardship_aid_changelist") + "?awaiting=me"
    return Waiting(gettext("Aid awaiting your second approval"), selectors.aid_pending_for(user).count(), url)


def overdue_reviews(user) -> Waiting | None:
    if not selectors.is_hardship_staff(user):
        return None
    # Only supervisors list cases; other staff find each case by searching for it.
    url = reverse("admin:hardship_case_changelist") + "?review=overdue" if selectors.can_list_all_cases(user) else ""
    return Waiting(gettext("Overdue yearly reviews"), selectors.overdue_reviews(user).count(), url)


def register() -> None:
    waiting_register("hardship.candidates", candidates)
    waiting_register("hardship.aid", aid_to_approve)
    waiting_register("hardship.reviews", overdue_reviews)
