"""JSON nested too deeply to read is refused like any unreadable body (400 `parse_error`, JSON),
on every operation that reads JSON; it answered an HTML 500 (Python's reader ran out of recursion)."""

import json
import urllib.error
import urllib.request

import pytest

from core.services import api_key_create
from tests.core.api_callers import CALLER_OF, api_callers, operations
from tests.factories import AgencyFactory

pytestmark = pytest.mark.django_db

DEEP = "[" * 1000 + "]" * 1000
DEEP_OBJECT = '{"a":' * 1000 + "1" + "}" * 1000


@pytest.fixture(scope="module")
def schema(django_db_setup, django_db_blocker):
    from django.test import Client

    with django_db_blocker.unblock():
        return Client().get("/api/schema/", {"format": "json"}).json()


def json_operations(schema):
    return [
        (path, method, op["operationId"])
        for path, method, op in operations(schema)
        if "application/json" in op.get("requestBody", {}).get("content", {})
    ]


@pytest.mark.parametrize("body", [DEEP, DEEP_OBJECT], ids=["arrays", "objects"])
def test_every_json_operation_refuses_json_nested_too_deeply(schema, city_staff, body):
    callers = api_callers(agency=AgencyFactory(), staff=city_staff)
    tried = []
    for path, method, operation_id in json_operations(schema):
        client = callers[CALLER_OF[operation_id]]
        resp = getattr(client, method)(path, body, content_type="application/json")
        assert resp.status_code == 400, (operation_id, resp.status_code, resp.content[:200])
        assert resp["Content-Type"].startswith("application/json"), operation_id
        assert resp.json()["error"]["code"] == "parse_error", operation_id
        tried.append(operation_id)
    assert len(tried) >= 7  # verify, cards, reject, outcome, pushes, redemptions, refunds


def test_json_nested_too_deeply_is_a_json_400_over_http(live_server):
    secret = api_key_create(agency=AgencyFactory(), scopes=["members:verify"])[1]
    request = urllib.request.Request(  # noqa: S310 - the test server
        f"{live_server.url}/api/v1/members/verify",
        data=DEEP.encode(),
        headers={"Authorization": f"Bearer {secret}", "Content-Type": "application/json"},
    )
    with pytest.raises(urllib.error.HTTPError) as answer:
        urllib.request.urlopen(request, timeout=30)  # noqa: S310 - the test server
    assert answer.value.code == 400
    assert answer.value.headers["Content-Type"].startswith("application/json")
    assert json.loads(answer.value.read())["error"]["code"] == "parse_error"


def test_json_nested_a_few_levels_is_still_read(city_staff):
    """The refusal is for what the reader cannot read; an ordinary body is answered as before."""
    callers = api_callers(agency=AgencyFactory(), staff=city_staff)
    resp = callers["members:verify"].post("/api/v1/members/verify", {"id_number": [[["x"]]]}, format="json")
    assert resp.status_code == 400 and resp.json()["error"]["code"] == "invalid"
