"""POST /api/v1/members/verify over real HTTP: a live server and urllib, a real Bearer key."""

import json
import urllib.error
import urllib.request

import pytest

from core.services import api_key_create

pytestmark = pytest.mark.django_db(transaction=True)


def post_json(url: str, body: dict, key: str | None = None) -> tuple[int, dict, dict]:
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if key:
        headers["Authorization"] = f"Bearer {key}"
    req = urllib.request.Request(url, data=json.dumps(body).encode(), headers=headers, method="POST")  # noqa: S310
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:  # noqa: S310 (the live server on 127.0.0.1)
            return resp.status, dict(resp.headers), json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), json.loads(err.read())


def test_verify_over_http_answers_200_for_a_member_with_a_real_key(live_server, member, agency_key):
    status, _headers, body = post_json(
        f"{live_server.url}/api/v1/members/verify", {"id_number": member.id_number}, agency_key
    )
    assert status == 200
    assert body["is_member"] is True
    assert body["member_no"] == member.member_no
    assert member.id_number not in json.dumps(body)


def test_verify_over_http_answers_401_without_a_key(live_server, member):
    status, headers, body = post_json(f"{live_server.url}/api/v1/members/verify", {"id_number": member.id_number})
    assert status == 401
    assert headers["WWW-Authenticate"] == "Bearer"
    assert body["error"]["code"] == "not_authenticated"


def test_verify_over_http_answers_403_for_a_key_without_the_scope(live_server, member, agency):
    _key, secret = api_key_create(agency=agency, scopes=["hardship:push"])
    status, _headers, body = post_json(
        f"{live_server.url}/api/v1/members/verify", {"id_number": member.id_number}, secret
    )
    assert status == 403
    assert body["error"]["code"] == "missing_scope"
