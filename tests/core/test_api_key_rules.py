"""The rules for a new API key live once, in core.services (api_key_validate, applied by
api_key_create): each is submitted through the service and through the admin's add form, which
shows the service's message and writes nothing."""

import pathlib
import re

import pytest

from core.errors import ServiceError
from core.models import Agency, ApiKey, AuditEntry
from core.services import api_key_create
from tests.factories import UserFactory

ADD = "/admin/core/apikey/add/"
ROOT = pathlib.Path(__file__).resolve().parents[2]


@pytest.fixture
def superuser(db):
    return UserFactory(username="root", is_staff=True, is_superuser=True)


def admin_add(client, superuser, **data):
    client.force_login(superuser)
    return client.post(ADD, {"agency": "", "name": "", "scopes_text": "", **data})


def assert_refused_on_the_form(resp, message: str):
    assert resp.status_code == 200 and "secret" not in resp.context
    assert message in resp.context["adminform"].form.non_field_errors()
    assert not ApiKey.objects.exists()
    assert not AuditEntry.objects.filter(action="core.api_key.created").exists()


def refusal(**kwargs) -> ServiceError:
    with pytest.raises(ServiceError) as err:
        api_key_create(**{"agency": None, "scopes": ["members:verify"], **kwargs})
    assert not ApiKey.objects.exists()
    return err.value


# --- One owner ------------------------------------------------------------------------------------


def test_the_service_refuses_a_key_without_an_owner(db):
    assert refusal(agency=None).code == "owner_required"


def test_the_admin_refuses_a_key_without_an_agency(client, superuser):
    resp = admin_add(client, superuser, scopes_text="members:verify")
    assert_refused_on_the_form(resp, "请选择密钥所属的合作部门。")


def test_the_service_refuses_a_key_with_an_agency_and_another_owner(agency):
    linked = []
    err = refusal(agency=agency, attach_owner=lambda key: linked.append(key) or {}, other_owner="merchant")
    assert err.code == "two_owners" and linked == []


def test_an_owner_attached_by_another_app_is_written_with_the_key_and_audited(db):
    key, _secret = api_key_create(
        agency=None, scopes=["vouchers:redeem"], attach_owner=lambda key: {"merchant": 7}, other_owner="merchant"
    )
    entry = AuditEntry.objects.get(action="core.api_key.created", object_id=str(key.pk))
    assert entry.new == {"scopes": ["vouchers:redeem"], "agency": None, "merchant": 7}


# --- An active agency -----------------------------------------------------------------------------


def test_the_service_refuses_an_inactive_agency(agency):
    Agency.objects.filter(pk=agency.pk).update(is_active=False)
    agency.refresh_from_db()
    assert refusal(agency=agency).code == "agency_inactive"


def test_the_admin_refuses_an_inactive_agency(client, superuser, agency):
    Agency.objects.filter(pk=agency.pk).update(is_active=False)
    resp = admin_add(client, superuser, agency=agency.pk, scopes_text="members:verify")
    assert_refused_on_the_form(resp, f"合作部门“{Agency.objects.get(pk=agency.pk)}”已停用。")


# --- Scopes: at least one, each known --------------------------------------------------------------


@pytest.mark.parametrize("scopes", [[], [""], [" ", ""]])
def test_the_service_refuses_a_key_without_scopes(agency, scopes):
    assert refusal(agency=agency, scopes=scopes).code == "scopes_required"


def test_the_admin_refuses_a_key_without_scopes(client, superuser, agency):
    resp = admin_add(client, superuser, agency=agency.pk, scopes_text=" , ")
    assert resp.status_code == 200
    assert any("请至少填写一个权限范围" in e for e in resp.context["adminform"].form.non_field_errors())
    assert not ApiKey.objects.exists()


@pytest.mark.parametrize("scope", ["members:verfy", "Members:Verify", "members verify", "admin:everything"])
def test_the_service_refuses_a_scope_no_app_registered(agency, scope):
    err = refusal(agency=agency, scopes=["members:verify", scope])
    assert err.code == "unknown_scope"
    assert scope in err.message and "members:verify, vouchers:redeem" in err.message


def test_the_admin_refuses_a_scope_no_app_registered(client, superuser, agency):
    resp = admin_add(client, superuser, agency=agency.pk, scopes_text="members:verify members:verfy")
    errors = resp.context["adminform"].form.non_field_errors()
    assert any("未知的权限范围：members:verfy" in e for e in errors)
    assert not ApiKey.objects.exists()


def test_every_scope_an_endpoint_checks_is_registered():
    from core.api_auth import known_scopes

    checked = set()
    for path in ROOT.glob("*/api*.py"):
        checked |= set(re.findall(r'^[A-Z_]*SCOPE = "([a-z_]+:[a-z_]+)"', path.read_text(), re.M))
    assert checked and checked <= set(known_scopes())


# --- Scopes fit the holder's kind ------------------------------------------------------------------


@pytest.mark.parametrize("scope", ["members:verify", "hardship:push", "hardship:referrals"])
def test_the_service_refuses_an_agency_scope_on_a_merchant_key(db, scope):
    linked = []
    err = refusal(scopes=["vouchers:redeem", scope], attach_owner=linked.append, other_owner="merchant")
    assert err.code == "scope_not_for_holder" and linked == []
    assert err.message == f"商户的密钥不能带有权限范围：{scope}。"


def test_the_service_refuses_a_merchant_scope_on_an_agency_key(agency):
    err = refusal(agency=agency, scopes=["members:verify", "vouchers:redeem"])
    assert err.code == "scope_not_for_holder" and "vouchers:redeem" in err.message


def test_the_admin_refuses_a_merchant_scope_on_an_agency_key(client, superuser, agency):
    resp = admin_add(client, superuser, agency=agency.pk, scopes_text="members:verify vouchers:redeem")
    assert_refused_on_the_form(resp, "合作部门的密钥不能带有权限范围：vouchers:redeem。")


def test_the_command_refuses_a_merchant_scope_on_an_agency_key(agency):
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError, match="合作部门的密钥不能带有权限范围：vouchers:redeem"):
        call_command("create_api_key", agency.code, scopes="vouchers:redeem")
    assert not ApiKey.objects.exists()


def test_every_registered_scope_names_a_known_holder():
    from core.api_auth import AGENCY, known_scopes, scope_holder

    holders = {scope: scope_holder(scope) for scope in known_scopes()}
    assert holders == {
        "hardship:push": AGENCY,
        "hardship:referrals": AGENCY,
        "members:verify": AGENCY,
        "vouchers:redeem": "merchant",
    }


# --- The name -------------------------------------------------------------------------------------


def test_the_service_refuses_a_name_over_100_characters(agency):
    assert refusal(agency=agency, name="长" * 101).code == "name_too_long"


def test_the_admin_refuses_a_name_over_100_characters(client, superuser, agency):
    resp = admin_add(client, superuser, agency=agency.pk, name="长" * 101, scopes_text="members:verify")
    assert_refused_on_the_form(resp, "密钥名称最多 100 个字符。")


def test_the_service_keeps_a_clean_name_and_sorted_scopes(agency):
    key, _secret = api_key_create(
        agency=agency, scopes=["members:verify", " hardship:push", "members:verify"], name=" 推送 "
    )
    assert key.scopes == ["hardship:push", "members:verify"] and key.name == "推送"


def test_the_admin_creates_the_key_the_service_accepts(client, superuser, agency):
    resp = admin_add(client, superuser, agency=agency.pk, name="月度推送", scopes_text="members:verify, hardship:push")
    assert resp.status_code == 200 and resp.context["secret"].startswith("upk_")
    key = ApiKey.objects.get()
    assert key.agency == agency and key.scopes == ["hardship:push", "members:verify"]


# --- core depends on no domain app -------------------------------------------------------------------


def test_core_imports_no_domain_app():
    pattern = re.compile(r"^\s*(from|import)\s+(members|hardship|vouchers|workshops|feedback|craftsmen)\b", re.M)
    offenders = [
        str(path.relative_to(ROOT))
        for path in (ROOT / "core").rglob("*.py")
        if "migrations" not in path.parts and pattern.search(path.read_text())
    ]
    assert offenders == []
