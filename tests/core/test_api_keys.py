"""API keys: the create_api_key command, the agencies' data migration, and the throttles."""

import hashlib
import importlib
from io import StringIO
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.contrib.auth.models import AnonymousUser
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from core.models import Agency, ApiKey, AuditEntry
from core.throttles import ApiKeyRateThrottle, VerifyRateThrottle

VERIFY = "/api/v1/members/verify"
AGENCIES = {"mca": "民政局", "hrss": "人社局", "nhsa": "医保局", "cdpf": "残联"}


def create_key(*args) -> list[str]:
    out = StringIO()
    call_command("create_api_key", *args, stdout=out)
    return out.getvalue().rstrip("\n").split("\n")


def verify(key: str, number: str):
    return APIClient().post(VERIFY, {"id_number": number}, format="json", HTTP_AUTHORIZATION=f"Bearer {key}")


def test_the_migration_creates_the_four_partner_agencies(db):
    assert dict(Agency.objects.filter(code__in=AGENCIES).values_list("code", "name")) == AGENCIES


def test_the_agency_migration_can_run_again_without_duplicates(db):
    migration = importlib.import_module("core.migrations.0003_agencies")
    Agency.objects.filter(code="cdpf").update(name="残疾人联合会")
    migration.create_agencies(apps, None)
    migration.create_agencies(apps, None)
    assert Agency.objects.filter(code__in=AGENCIES).count() == 4
    assert Agency.objects.get(code="cdpf").name == "残疾人联合会"


def test_it_prints_the_key_alone_on_its_last_line_and_the_key_works(member):
    lines = create_key("hrss", "--scopes", "members:verify", "--name", "人社局 工伤核对")
    key = lines[-1]
    assert key.startswith("upk_") and " " not in key
    assert len(lines) > 1 and all(key not in line for line in lines[:-1])
    resp = verify(key, member.id_number)
    assert resp.status_code == 200
    assert resp.json()["is_member"] is True
    stored = ApiKey.objects.get(agency__code="hrss")
    assert stored.scopes == ["members:verify"]
    assert stored.name == "人社局 工伤核对"


def test_the_stored_key_is_only_a_hash_of_its_secret(db):
    key = create_key("nhsa", "--scopes", "members:verify")[-1]
    _prefix, key_id, secret = key.split("_", 2)
    row = ApiKey.objects.get(key_id=key_id)
    assert row.key_hash == hashlib.sha256(secret.encode()).hexdigest()
    values = [str(v) for v in ApiKey.objects.filter(pk=row.pk).values().get().values()]
    assert not any(secret in v for v in values)
    assert AuditEntry.objects.filter(action="core.api_key.created", object_id=str(row.pk)).exists()
    assert not any(secret in str(e.new) for e in AuditEntry.objects.all())


def test_it_refuses_an_unknown_agency_and_lists_the_known_codes(db):
    with pytest.raises(CommandError) as err:
        create_key("police", "--scopes", "members:verify")
    for code in AGENCIES:
        assert code in str(err.value)
    assert not ApiKey.objects.exists()


@pytest.mark.parametrize("scopes", ["", "members verify", "members:verify,Members:Verify", ","])
def test_it_refuses_missing_or_malformed_scopes(db, scopes):
    with pytest.raises(CommandError):
        create_key("mca", "--scopes", scopes)
    assert not ApiKey.objects.exists()


def test_it_refuses_an_inactive_agency(db):
    Agency.objects.filter(code="cdpf").update(is_active=False)
    with pytest.raises(CommandError):
        create_key("cdpf", "--scopes", "members:verify")


@pytest.mark.parametrize("whole", [False, True])
def test_revoke_by_id_or_whole_key_stops_the_key(member, whole):
    key = create_key("mca", "--scopes", "members:verify")[-1]
    key_id = key.split("_")[1]
    create_key("--revoke", key if whole else key_id)
    assert ApiKey.objects.get(key_id=key_id).revoked_at is not None
    resp = verify(key, member.id_number)
    assert resp.status_code == 401
    assert resp.json()["error"]["code"] == "revoked_key"
    assert AuditEntry.objects.filter(action="core.api_key.revoked").count() == 1


def test_revoke_refuses_an_unknown_id(db):
    with pytest.raises(CommandError):
        create_key("--revoke", "000000000000")


def test_a_key_of_a_deactivated_agency_stops_working(member):
    key = create_key("mca", "--scopes", "members:verify")[-1]
    Agency.objects.filter(code="mca").update(is_active=False)
    assert verify(key, member.id_number).status_code == 401


# --- Throttles ----------------------------------------------------------------------------------


def fake_request(*, auth=None, user=None, ip="127.0.0.9"):
    return SimpleNamespace(auth=auth, user=user or AnonymousUser(), META={"REMOTE_ADDR": ip})


def test_the_throttle_keys_by_api_key_then_user_then_ip(db, staff):
    key = ApiKey(pk=42)
    throttle = ApiKeyRateThrottle()
    assert throttle.get_ident(fake_request(auth=key)) == "key:42"
    assert throttle.get_ident(fake_request(user=staff)) == f"user:{staff.pk}"
    assert throttle.get_ident(fake_request()) == "ip:127.0.0.9"


def test_anonymous_callers_share_a_budget_per_ip(settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"api_key": "2/min", "verify": "2/min"},
    }
    results = [ApiKeyRateThrottle().allow_request(fake_request(ip="127.0.0.9"), None) for _ in range(3)]
    assert results == [True, True, False]
    assert ApiKeyRateThrottle().allow_request(fake_request(ip="127.0.0.10"), None) is True


def test_a_refusal_says_how_long_to_wait(settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"api_key": "1/h", "verify": "1/h"}}
    throttle = VerifyRateThrottle()
    assert throttle.allow_request(fake_request(), None) is True
    assert throttle.allow_request(fake_request(), None) is False
    assert 0 < throttle.wait() <= 3600
