"""Membership's cards on the admin's landing page: applications and transfers waiting for the
staff member (`core.dashboard`)."""

from django.urls import reverse
from django.utils.translation import gettext

from core.dashboard import Waiting, waiting_register
from members import selectors


def applications(user) -> Waiting | None:
    if not user.has_perm("members.view_membershipapplication"):
        return None
    url = reverse("admin:members_membershipapplication_changelist") + "?status__exact=pending"
    return Waiting(gettext("Applications to join awaiting review"), selectors.applications_awaiting(user).count(), url)


def transfers(user) -> Waiting | None:
    if not user.has_perm("members.view_transfer"):
        return None
    url = reverse("admin:members_transfer_changelist") + "?awaiting=me"
    return Waiting(gettext("Transfers awaiting your union"), selectors.transfers_awaiting(user).count(), url)


def register() -> None:
    waiting_register("members.applications", applications)
    waiting_register("members.transfers", transfers)
