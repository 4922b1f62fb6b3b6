"""Failed API authentications are security events, throttled per client address."""

import logging

import pytest
from django.test import Client
from django.utils import timezone

from core.services import api_key_create

VERIFY = "/api/v1/members/verify"
PUSHES = "/api/v1/hardship/pushes"


def caller(secret: str, ip: str) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {secret}", REMOTE_ADDR=ip)


@pytest.fixture
def push_key(agency):
    return api_key_create(agency=agency, scopes=["hardship:push"])[1]


def test_it_answers_429_after_the_addresss_failures_and_a_right_key_elsewhere_still_works(push_key, settings):
    settings.API_AUTH_FAILURES_PER_IP = "20/10min"
    key_id = push_key.split("_")[1]
    statuses = [caller(f"upk_{key_id}_wrong{i}", "203.0.113.9").get(PUSHES).status_code for i in range(30)]

    assert statuses[:20] == [401] * 20 and set(statuses[20:]) == {429}
    refused = caller(push_key, "203.0.113.9").get(PUSHES)  # the right key, from the guessing address
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    error = refused.json()["error"]
    assert error["code"] == "throttled" and error["retry_after"] > 0 and error["message"]
    assert caller(push_key, "198.51.100.7").get(PUSHES).status_code == 200


def test_malformed_and_revoked_keys_count_as_failures(agency, settings):
    settings.API_AUTH_FAILURES_PER_IP = "3/10min"
    key, secret = api_key_create(agency=agency, scopes=["hardship:push"])
    key.revoked_at = timezone.now()
    key.save(update_fields=["revoked_at"])
    answers = [
        Client(HTTP_AUTHORIZATION="Bearer a b", REMOTE_ADDR="203.0.113.9").get(PUSHES),
        caller("nonsense", "203.0.113.9").get(PUSHES),
        caller(secret, "203.0.113.9").get(PUSHES),
        caller(secret, "203.0.113.9").get(PUSHES),
    ]
    assert [a.status_code for a in answers] == [401, 401, 401, 429]
    assert [a.json()["error"]["code"] for a in answers] == [
        "bad_auth_header",
        "invalid_key",
        "revoked_key",
        "throttled",
    ]


def test_each_failure_is_a_security_event_with_the_address_and_key_prefix_only(push_key, caplog):
    key_id = push_key.split("_")[1]
    wrong = f"upk_{key_id}_ThisIsTheGuessedSecretPart"
    with caplog.at_level(logging.INFO, logger="security"):
        caller(wrong, "203.0.113.9").get(PUSHES)
    [record] = [r for r in caplog.records if r.name == "security"]
    text = record.getMessage()
    assert "203.0.113.9" in text and f"upk_{key_id}" in text and "invalid_key" in text
    assert "ThisIsTheGuessedSecretPart" not in text and wrong not in text


def test_the_address_is_the_trusted_proxys_view_not_a_forged_header(push_key, settings):
    settings.API_AUTH_FAILURES_PER_IP = "3/10min"
    settings.TRUSTED_PROXY_COUNT = 1
    for i in range(4):  # a forged left-most entry changes nothing: the proxy's entry is the client
        Client(
            HTTP_AUTHORIZATION=f"Bearer upk_x_{i}",
            HTTP_X_FORWARDED_FOR=f"10.9.9.{i}, 203.0.113.9",
            REMOTE_ADDR="10.0.0.2",
        ).get(PUSHES)
    blocked = Client(
        HTTP_AUTHORIZATION=f"Bearer {push_key}", HTTP_X_FORWARDED_FOR="203.0.113.9", REMOTE_ADDR="10.0.0.2"
    )
    assert blocked.get(PUSHES).status_code == 429
    other = Client(HTTP_AUTHORIZATION=f"Bearer {push_key}", HTTP_X_FORWARDED_FOR="198.51.100.7", REMOTE_ADDR="10.0.0.2")
    assert other.get(PUSHES).status_code == 200


def test_every_key_operation_documents_401_and_429(client, db):
    schema = client.get("/api/schema/", {"format": "json"}).json()
    for path, operations in schema["paths"].items():
        for method, op in operations.items():
            if {"apiKey": []} in op.get("security", []):
                assert {"401", "429"} <= set(op["responses"]), (method, path)
