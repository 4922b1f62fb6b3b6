"""The OpenAPI 3 schema at /api/schema/ and the offline docs at /api/docs/."""

import re

import pytest
from django.contrib.staticfiles import finders
from openapi_spec_validator import validate

# Every members endpoint, its method and who may call it.
ENDPOINTS = {
    ("/api/v1/members/verify", "post"): [{"apiKey": []}],
    ("/api/v1/members/cards/verify", "post"): [{"apiKey": []}, {"cookieAuth": []}],
    ("/api/v1/members/", "get"): [{"cookieAuth": []}],
    ("/api/v1/members/{member_no}", "get"): [{"cookieAuth": []}],
    ("/api/v1/members/applications/", "get"): [{"cookieAuth": []}],
    ("/api/v1/members/applications/{id}/approve", "post"): [{"cookieAuth": []}],
    ("/api/v1/members/applications/{id}/reject", "post"): [{"cookieAuth": []}],
}


@pytest.fixture
def schema(client, db):
    resp = client.get("/api/schema/", {"format": "json"})
    assert resp.status_code == 200
    assert resp.headers["Content-Type"].startswith("application/vnd.oai.openapi+json")
    return resp.json()


def test_the_schema_is_valid_openapi_3(schema):
    assert schema["openapi"].startswith("3.")
    validate(schema)


def test_every_endpoint_is_listed_with_its_security_scheme(schema):
    listed = {(path, method) for path, ops in schema["paths"].items() for method in ops if method != "parameters"}
    assert set(ENDPOINTS) <= listed
    for (path, method), security in ENDPOINTS.items():
        assert schema["paths"][path][method]["security"] == security, path
    schemes = schema["components"]["securitySchemes"]
    assert schemes["apiKey"] == {"type": "http", "scheme": "bearer", "description": schemes["apiKey"]["description"]}
    assert schemes["cookieAuth"]["in"] == "cookie"


def test_every_endpoint_documents_its_request_responses_and_error_shape(schema):
    error_ref = "#/components/schemas/Error"
    for path, method in ENDPOINTS:
        op = schema["paths"][path][method]
        assert "200" in op["responses"], path
        for status in ("401", "403", "429"):
            assert op["responses"][status]["content"]["application/json"]["schema"]["$ref"] == error_ref, (path, status)
    verify = schema["paths"]["/api/v1/members/verify"]["post"]
    body = verify["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    assert schema["components"]["schemas"][body]["required"] == ["id_number"]
    assert "400" in verify["responses"]
    error_body = schema["components"]["schemas"]["ErrorBody"]
    assert {"code", "message", "fields", "retry_after"} <= set(error_body["properties"])


def test_the_docs_page_loads_only_local_assets(client, db):
    resp = client.get("/api/docs/")
    assert resp.status_code == 200
    html = resp.content.decode()
    absolute = [u for u in re.findall(r"https?://[^\s\"'<>)]+", html) if not u.startswith("http://testserver/")]
    assert absolute == []
    assets = re.findall(r"""(?:src|href)=["']([^"']+)["']""", html) + re.findall(r"""["'](/static/[^"']+)["']""", html)
    static = {a for a in assets if a.startswith("/static/")}
    assert any("swagger-ui" in a for a in static)
    for url in static:
        assert finders.find(url.removeprefix("/static/")), url
    # Swagger UI's start-up script is served apart (the CSP forbids inline scripts) and names the schema.
    assert '<script src="/api/docs/?script="></script>' in html
    assert "/api/schema/" in client.get("/api/docs/?script=").content.decode()


def test_every_error_answer_of_every_operation_is_the_one_error_component(schema):
    error_ref = "#/components/schemas/Error"
    for path, ops in schema["paths"].items():
        for method, op in ops.items():
            if method == "parameters":
                continue
            errors = {s: r for s, r in op["responses"].items() if s.startswith(("4", "5"))}
            for status, response in errors.items():
                assert response["content"]["application/json"]["schema"]["$ref"] == error_ref, (path, method, status)
    assert not [name for name in schema["components"]["schemas"] if "Mismatch" in name]


def test_every_operation_documents_each_status_it_can_answer(schema):
    for path, ops in schema["paths"].items():
        for method, op in ops.items():
            if method == "parameters":
                continue
            statuses = set(op["responses"])
            where = (path, method)
            assert {"401", "403", "429"} <= statuses, where  # no key, a wrong key, too many calls
            if "{" in path:
                assert "404" in statuses, where
            if any(p["name"] == "cursor" for p in op.get("parameters", [])):
                assert "400" in statuses, where  # bad_cursor
            if "application/json" in op.get("requestBody", {}).get("content", {}):
                assert {"400", "413", "415"} <= statuses, where  # unreadable, too large, not JSON


def test_the_error_component_documents_every_member_of_the_error_body(schema):
    body = schema["components"]["schemas"]["ErrorBody"]
    assert set(body["required"]) == {"code", "message"}
    assert {"code", "message", "fields", "retry_after", "declared", "received"} == set(body["properties"])
    assert body["properties"]["fields"]["additionalProperties"]["items"]["$ref"] == "#/components/schemas/FieldError"
