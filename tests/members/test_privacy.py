"""An ID number is never logged, nor stored in clear, through the joining flow."""

import logging

import pytest
from django.db import connection

from core.models import AuditEntry, Notification
from members import services
from tests.factories import UserFactory, id_number

pytestmark = pytest.mark.django_db


def test_the_joining_flow_never_logs_or_audits_a_whole_id_number(
    tree, staff, caplog, django_capture_on_commit_callbacks
):
    number = id_number()
    caplog.set_level(logging.DEBUG)
    with django_capture_on_commit_callbacks(execute=True):
        app = services.application_submit(
            applicant=UserFactory(mobile="13700000009"), name="周建新", id_number=number,
            mobile="13700000009", union=tree.g1, privacy_consent=True,
        )  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        services.application_approve(application=app, actor=staff)
    assert number not in caplog.text
    for entry in AuditEntry.objects.all():
        assert number not in str(entry.old) + str(entry.new) + entry.object_repr
    for note in Notification.objects.all():
        assert number not in note.title + note.body
    # No table holds the number in clear (history tables included).
    with connection.cursor() as cur:
        for table in ("members_member", "members_historicalmember", "members_membershipapplication"):
            cur.execute(f"SELECT * FROM {table}")  # noqa: S608 - fixed table names
            for row in cur.fetchall():
                assert all(number not in str(v) for v in row), table
