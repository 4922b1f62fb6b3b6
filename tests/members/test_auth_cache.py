"""Workers' user rows are cached for their sessions, and dropped from the cache when they change."""

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from members.auth import SmsCodeBackend

BACKEND = "members.auth.SmsCodeBackend"


def _user_queries(queries) -> list:
    return [q for q in queries if 'FROM "members_user"' in q["sql"]]


def _worker_client(member) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(member.user, backend=BACKEND)
    return client


def test_a_workers_second_request_reads_no_user_row(member):
    client = _worker_client(member)
    client.get("/m/card/")
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/m/card/")
    assert response.status_code == 200 and member.member_no in response.content.decode()
    assert _user_queries(queries) == []


def test_a_deactivated_worker_is_logged_out_at_the_next_request(member):
    client = _worker_client(member)
    assert client.get("/m/card/").status_code == 200  # the user row is now cached

    member.user.is_active = False
    member.user.save()

    response = client.get("/m/card/")
    assert response.status_code == 302 and "/login" in response["Location"]


def test_a_changed_password_ends_the_cached_session(member):
    client = _worker_client(member)
    assert client.get("/m/card/").status_code == 200

    member.user.set_password("a-new-secret-2026")
    member.user.save()

    assert client.get("/m/card/").status_code == 302


def test_staff_rows_are_never_cached(staff):
    backend = SmsCodeBackend()
    backend.get_user(staff.pk)
    with CaptureQueriesContext(connection) as queries:
        assert backend.get_user(staff.pk) == staff
    assert len(_user_queries(queries)) == 1


def test_a_row_cached_again_between_the_save_and_the_commit_is_dropped_after_it(
    member, django_capture_on_commit_callbacks
):
    from django.core.cache import cache

    from members.auth import _cache_key
    from members.models import User

    stale = User.objects.get(pk=member.user_id)
    with django_capture_on_commit_callbacks(execute=True):
        member.user.is_active = False
        member.user.save()
        # A request of that worker on another connection, between the save and COMMIT, still reads
        # the old row and caches it again.
        cache.set(_cache_key(member.user_id), stale, 300)
    assert SmsCodeBackend().get_user(member.user_id) is None
