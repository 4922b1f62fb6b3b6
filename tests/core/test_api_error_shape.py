"""Every error the API answers has the documented shape (the schema's one `Error` component) and a
documented status, whatever refused the request: DRF, a service, the parser, the size limit, an
unknown address, a host Django refuses, a server error."""

import json

import pytest
from openapi_schema_validator import OAS30Validator
from rest_framework.test import APIClient

from core.api_errors import server_error
from tests.core.api_callers import api_callers
from tests.factories import AgencyFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def schema(django_db_setup, django_db_blocker):
    from django.test import Client

    with django_db_blocker.unblock():
        return Client().get("/api/schema/", {"format": "json"}).json()


@pytest.fixture
def callers(city_staff):
    return api_callers(agency=AgencyFactory(code="nhsa"), staff=city_staff)


def assert_documented_error(schema, resp, path: str, method: str):
    """The answer is JSON of the `Error` component, with a status the operation documents."""
    assert resp["Content-Type"].startswith("application/json"), resp.content[:200]
    body = json.loads(resp.content)
    OAS30Validator({"$ref": "#/components/schemas/Error", "components": schema["components"]}).validate(body)
    responses = schema["paths"][path][method]["responses"]
    assert str(resp.status_code) in responses, (path, method, resp.status_code, body)
    ref = responses[str(resp.status_code)]["content"]["application/json"]["schema"]["$ref"]
    assert ref == "#/components/schemas/Error"
    return body["error"]


PUSHES = "/api/v1/hardship/pushes"
REDEEM = "/api/v1/vouchers/redemptions"
VERIFY = "/api/v1/members/verify"


def test_a_nested_input_s_errors_are_named_by_their_path(schema, callers):
    resp = callers["hardship:push"].post(PUSHES, {"manifest": {"kind": "salary", "period": "x"}}, format="json")
    assert resp.status_code == 400
    error = assert_documented_error(schema, resp, PUSHES, "post")
    assert {"manifest.kind", "manifest.batch_id", "rows"} <= set(error["fields"])
    assert error["fields"]["manifest.kind"][0]["code"] == "invalid_choice"

    body = {"codes": ["ACDEFGHJKM", "", "\x00"], "order_amount": "-1", "order_ref": "POS-1"}
    resp = callers["merchant"].post(REDEEM, body, format="json")
    error = assert_documented_error(schema, resp, REDEEM, "post")
    assert error["fields"]["codes.1"][0]["code"] == "blank"
    assert error["fields"]["codes.2"][0]["code"] == "null_characters_not_allowed"
    assert error["fields"]["order_amount"][0]["code"] == "negative_amount"  # the parser's code


def test_a_nested_object_s_own_errors_are_named_by_the_object(schema, callers):
    manifest = {"kind": "medical", "period": "2025-13", "batch_id": "b1", "row_count": 0, "sha256": "0" * 64}
    resp = callers["hardship:push"].post(PUSHES, {"manifest": manifest, "rows": []}, format="json")
    error = assert_documented_error(schema, resp, PUSHES, "post")
    assert error["code"] == "invalid" and error["fields"]["manifest"][0]["message"]


def test_a_push_whose_content_differs_from_its_manifest_has_the_documented_error(schema, callers):
    manifest = {"kind": "medical", "period": "2025-03", "batch_id": "b1", "row_count": 3, "sha256": "0" * 64}
    resp = callers["hardship:push"].post(PUSHES, {"manifest": manifest, "rows": []}, format="json")
    error = assert_documented_error(schema, resp, PUSHES, "post")
    assert error["code"] == "row_count_mismatch" and (error["declared"], error["received"]) == (3, 0)


@pytest.mark.parametrize(
    ("caller", "path", "method", "status", "code"),
    [
        (None, VERIFY, "post", 401, "not_authenticated"),
        ("hardship:push", VERIFY, "post", 403, "missing_scope"),
        ("members:verify", "/api/v1/members/", "get", 403, "staff_only"),
        ("staff", "/api/v1/members/{member_no}", "get", 404, "not_found"),
        ("hardship:push", "/api/v1/hardship/pushes/{id}", "get", 404, "not_found"),
        ("merchant", "/api/v1/vouchers/{code}", "get", 404, "voucher_not_found"),
        ("hardship:push", PUSHES, "get", 400, "bad_cursor"),
        ("hardship:push", "/api/v1/hardship/outbound", "get", 400, "invalid"),
        ("hardship:referrals", "/api/v1/hardship/referrals", "get", 400, "invalid"),
    ],
)
def test_refusals_have_the_documented_shape_and_status(schema, callers, caller, path, method, status, code):
    client = callers[caller] if caller else APIClient()
    url = path.replace("{member_no}", "NOBODY").replace("{id}", "999999").replace("{code}", "NOSUCHCODE")
    query = {"cursor": "cD1hYmM="} if status == 400 and path == PUSHES else {"state": "lost", "period": "x"}
    resp = getattr(client, method)(url, query if method == "get" else {}, format="json" if method == "post" else None)
    assert resp.status_code == status, resp.content
    assert assert_documented_error(schema, resp, path, method)["code"] == code


def test_a_body_the_operation_does_not_read_is_a_documented_415(schema, callers):
    resp = callers["members:verify"].post(VERIFY, "id_number=1", content_type="text/plain")
    assert resp.status_code == 415
    assert assert_documented_error(schema, resp, VERIFY, "post")["code"] == "unsupported_media_type"


def test_a_body_over_the_limit_is_a_documented_413(schema, callers, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    resp = callers["members:verify"].post(VERIFY, {"id_number": "1" * 200}, format="json")
    assert resp.status_code == 413
    assert assert_documented_error(schema, resp, VERIFY, "post")["code"] == "body_too_large"


def test_too_many_calls_is_a_documented_429(schema, callers, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"api_key": "1/min"}}
    callers["members:verify"].post(VERIFY, {"id_number": "1"}, format="json")
    resp = callers["members:verify"].post(VERIFY, {"id_number": "1"}, format="json")
    assert resp.status_code == 429
    error = assert_documented_error(schema, resp, VERIFY, "post")
    assert error["code"] == "throttled" and error["retry_after"] >= 1


def test_an_unknown_api_address_answers_the_documented_error(schema, callers):
    resp = callers["members:verify"].get("/api/v1/members/applications/abc/approve")
    assert resp.status_code == 404
    body = resp.json()
    OAS30Validator({"$ref": "#/components/schemas/Error", "components": schema["components"]}).validate(body)
    assert body["error"]["code"] == "not_found"


def test_a_host_django_refuses_answers_the_structured_error_under_the_api(db):
    resp = APIClient().get("/api/v1/members/", HTTP_HOST="evil.example")
    assert resp.status_code == 400
    assert resp.json()["error"]["code"] == "bad_request"
    assert APIClient().get("/m/", HTTP_HOST="evil.example")["Content-Type"].startswith("text/html")


def test_a_server_error_under_the_api_answers_json_not_an_html_page(callers, monkeypatch):
    from members import api

    def broken(self, request):
        raise RuntimeError("a bug")

    monkeypatch.setattr(api.VerifyMemberView, "post", broken)
    resp = callers["members:verify"].post(VERIFY, {"id_number": "1"}, format="json")
    assert resp.status_code == 500
    assert resp.json()["error"]["code"] == "server_error"


def test_a_server_error_elsewhere_is_still_the_html_page(rf):
    resp = server_error(rf.get("/m/"))
    assert resp.status_code == 500 and resp["Content-Type"].startswith("text/html")
