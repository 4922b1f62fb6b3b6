"""With DEBUG off, the worker site's 400, 403, 403-CSRF, 404 and 500 answers are the portal's own
pages, in Chinese, with a link home; the API keeps its JSON error body."""

import pytest
from django.test import Client, override_settings

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.core.error_urls")]


def _assert_portal_page(resp, status: int, heading: str):
    assert resp.status_code == status
    html = resp.content.decode()
    assert 'id="error-page"' in html
    assert heading in html
    assert 'href="/" ' in html or 'href="/"' in html  # the link home
    assert "工会服务门户" in html  # the portal's name, in Chinese
    for english in ("Not Found", "Forbidden", "Server Error", "Bad Request", "CSRF verification failed"):
        assert english not in html
    return html


@override_settings(DEBUG=False)
def test_it_answers_an_unknown_address_with_the_portals_404_page(client):
    html = _assert_portal_page(client.get("/no-such-page/"), 404, "页面不存在")
    assert 'id="error-home"' in html


@override_settings(DEBUG=False)
def test_it_answers_a_server_error_with_the_portals_500_page_without_the_database(member):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = Client(raise_request_exception=False)
    client.force_login(member.user)
    # The 500 page runs no context processor and reads nothing (the database may be what failed),
    # even for a logged-in worker, whose page would otherwise count their unread messages. The only
    # read allowed is the session's, before the view (core.staff_sessions checks every session's
    # stamps), and with Redis it comes from the cache.
    with CaptureQueriesContext(connection) as queries:
        resp = client.get("/test-errors/500/")
    assert [q["sql"].split(" FROM ")[1].split()[0] for q in queries] in ([], ['"django_session"'])
    _assert_portal_page(resp, 500, "服务器出了点问题")


@override_settings(DEBUG=False)
def test_it_answers_a_permission_refusal_with_the_portals_403_page(client):
    _assert_portal_page(client.get("/test-errors/403/"), 403, "无法打开此页面")


@override_settings(DEBUG=False)
def test_it_answers_a_bad_request_with_the_portals_400_page(client):
    _assert_portal_page(client.get("/test-errors/400/"), 400, "请求无法处理")


@override_settings(DEBUG=False)
def test_it_answers_a_refused_csrf_token_with_the_portals_page_expired_page(member, django_assert_num_queries):
    client = Client(enforce_csrf_checks=True)
    client.get("/m/login/")  # the CSRF cookie
    client.cookies["csrftoken"] = "x" * 32  # another token than the form's (which is none)
    resp = client.post("/m/login/", {"mobile": member.mobile, "sms_code": "123456"})
    html = _assert_portal_page(resp, 403, "页面已过期")
    assert 'data-htmx-action="reload"' in html
    assert "no-store" in resp["Cache-Control"]


@override_settings(DEBUG=False)
def test_it_says_when_the_browser_sent_no_cookie_at_all():
    client = Client(enforce_csrf_checks=True)
    html = _assert_portal_page(client.post("/m/login/", {"mobile": "13800000000"}), 403, "页面已过期")
    assert 'id="no-cookie"' in html


@override_settings(DEBUG=False)
def test_it_keeps_the_json_error_body_under_the_api():
    client = Client(raise_request_exception=False)
    resp = client.get("/api/v1/test-errors/500/")
    assert resp.status_code == 500 and resp.json()["error"]["code"] == "server_error"
    resp = client.get("/api/v1/no-such-thing/")
    assert resp.status_code == 404 and resp.json()["error"]["code"] == "not_found"


@override_settings(DEBUG=False, LANGUAGE_CODE="en")
def test_it_speaks_english_to_a_worker_who_chose_english(client):
    client.cookies["django_language"] = "en"
    resp = client.get("/no-such-page/")
    html = resp.content.decode()
    assert resp.status_code == 404 and "This page does not exist" in html
    assert "页面不存在" not in html
