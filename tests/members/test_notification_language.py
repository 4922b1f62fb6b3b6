"""Notifications (inbox and SMS) are written in the recipients' language, Chinese, whatever the
language of the staff member or worker whose action sends them (review finding 10)."""

import pytest
from django.test import Client
from django.utils import translation

from core import sms
from core.errors import ServiceError
from core.models import Notification
from members import services
from tests.factories import UserFactory, id_number

pytestmark = pytest.mark.django_db


def zh(text: str) -> str:
    """`text` in Chinese; it must have a translation, or the tests below could not fail."""
    with translation.override("zh-hans"):
        translated = translation.gettext(text)
    assert translated != text, f"no Chinese for {text!r}"
    return translated


def _apply(tree, mobile="13700000007"):
    worker = UserFactory(mobile=mobile, username=f"m{mobile}")
    return services.application_submit(
        applicant=worker, name="李娜", id_number=id_number(), mobile=mobile, union=tree.g1, privacy_consent=True
    )


def test_an_approval_by_staff_browsing_in_english_texts_the_worker_in_chinese(
    tree, staff, django_capture_on_commit_callbacks
):
    app = _apply(tree)
    admin = Client(HTTP_ACCEPT_LANGUAGE="en")
    admin.force_login(staff)
    with django_capture_on_commit_callbacks(execute=True):
        resp = admin.post("/admin/members/membershipapplication/", {"action": "approve", "_selected_action": [app.pk]})
    assert resp.status_code == 302
    note = Notification.objects.get(recipient=app.applicant, kind="members.application.approved")
    assert note.title == zh("Welcome to the union")
    body = zh("Your application to %(union)s was approved. Your e-membership card is ready.") % {"union": tree.g1.name}
    assert note.body == body
    assert [m["text"] for m in sms.outbox if m["mobile"] == "13700000007"] == [f"{note.title} {body}"]


def test_a_rejection_in_english_is_sent_in_chinese(tree, staff, django_capture_on_commit_callbacks):
    app = _apply(tree)
    with translation.override("en"), django_capture_on_commit_callbacks(execute=True):
        services.application_reject(application=app, actor=staff, reason="资料不全")
    note = Notification.objects.get(recipient=app.applicant, kind="members.application.rejected")
    assert (note.title, note.body) == (zh("Your membership application was not approved"), "资料不全")


def test_transfer_notices_to_the_member_are_in_chinese(
    tree, member, other_member, staff, other_staff, django_capture_on_commit_callbacks
):
    with translation.override("en"), django_capture_on_commit_callbacks(execute=True):
        done = services.transfer_request(member=member, to_union=tree.g2, actor=member.user)
        services.transfer_release(transfer=done, actor=staff)
        services.transfer_accept(transfer=done, actor=other_staff)
        refused = services.transfer_request(member=other_member, to_union=tree.g1, actor=other_member.user)
        services.transfer_reject(transfer=refused, actor=other_staff, reason="不符合条件")
    accepted = Notification.objects.get(recipient=member.user, kind="members.transfer.accepted")
    assert accepted.title == zh("Your transfer is complete")
    assert accepted.body == zh("You are now a member of %(union)s.") % {"union": tree.g2.name}
    rejected = Notification.objects.get(recipient=other_member.user, kind="members.transfer.rejected")
    assert rejected.title == zh("Your transfer was not approved")


def test_staff_are_told_of_an_english_worker_s_application_in_chinese(tree, staff, django_capture_on_commit_callbacks):
    with translation.override("en"), django_capture_on_commit_callbacks(execute=True):
        _apply(tree)
    note = Notification.objects.get(recipient=staff, kind="members.application.submitted")
    assert note.title == zh("New membership application")


def test_the_actor_s_own_messages_stay_in_the_actor_s_language(tree, other_staff):
    app = _apply(tree)
    with translation.override("en"), pytest.raises(ServiceError) as exc:
        services.application_approve(application=app, actor=other_staff)
    assert exc.value.code == "forbidden"
    assert exc.value.message != zh("You may only act for your own union and the unions under it.")
