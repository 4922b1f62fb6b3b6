"""Unknown API addresses and unreadable bodies answer the structured error body in the caller's
language (review finding 12), not Django's HTML page or the parser's English text."""

import pytest
from django.utils import translation
from rest_framework import exceptions
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


def _in(language: str, text) -> str:
    with translation.override(language):
        return str(text)


@pytest.mark.parametrize("path", ["/api/v1/nothing/", "/api/v1/no/such/thing", "/api/v2/members/verify", "/api/"])
def test_an_unknown_api_address_answers_a_json_not_found(agency_key, path):
    resp = APIClient().get(path, HTTP_AUTHORIZATION=f"Bearer {agency_key}")
    assert resp.status_code == 404
    assert resp["Content-Type"].startswith("application/json")
    assert resp.json() == {
        "error": {"code": "not_found", "message": _in("zh-hans", exceptions.NotFound.default_detail)}
    }


def test_the_not_found_message_follows_the_caller_s_language(db):
    resp = APIClient().get("/api/v1/nothing/", HTTP_ACCEPT_LANGUAGE="en")
    assert resp.json()["error"]["message"] == _in("en", exceptions.NotFound.default_detail)
    assert _in("en", exceptions.NotFound.default_detail) != _in("zh-hans", exceptions.NotFound.default_detail)


def test_an_unknown_page_outside_the_api_is_still_the_html_page(db):
    resp = APIClient().get("/no-such-page/")
    assert resp.status_code == 404
    assert resp["Content-Type"].startswith("text/html")


def test_a_body_that_is_not_json_is_refused_in_the_caller_s_language(agency_key):
    resp = APIClient().post(
        "/api/v1/members/verify",
        "{not json",
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {agency_key}",
    )
    assert resp.status_code == 400
    expected = _in("zh-hans", exceptions.ParseError.default_detail)
    assert expected != _in("en", exceptions.ParseError.default_detail)  # DRF has it in Chinese
    assert resp.json() == {"error": {"code": "parse_error", "message": expected}}
