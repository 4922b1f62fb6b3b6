"""The members API: agencies' membership and card checks, and the staff endpoints."""

import logging

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from core.models import AuditEntry
from core.parsing import id_check_char
from core.services import api_key_create, api_key_revoke
from members import services
from members.models import Member, MembershipApplication
from tests.factories import MemberFactory, UserFactory, id_number

VERIFY = "/api/v1/members/verify"
CARDS = "/api/v1/members/cards/verify"
MEMBERS = "/api/v1/members/"
APPLICATIONS = "/api/v1/members/applications/"
MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


def bearer(key: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {key}"}


def error_code(resp) -> str:
    return resp.json()["error"]["code"]


def field_codes(resp, field: str) -> list[str]:
    return [e["code"] for e in resp.json()["error"]["fields"][field]]


@pytest.fixture
def api():
    return APIClient()


def logged_in(user) -> APIClient:
    client = APIClient()
    client.force_login(user, backend=MODEL_BACKEND)
    return client


@pytest.fixture
def no_scope_key(agency):
    _key, secret = api_key_create(agency=agency, scopes=["hardship:push"])
    return secret


@pytest.fixture
def revoked_key(agency):
    key, secret = api_key_create(agency=agency, scopes=["members:verify"])
    api_key_revoke(key=key)
    return secret


@pytest.fixture
def worker(tree):
    return UserFactory(mobile="13700000009", username="m13700000009")


def apply(tree, *, union=None, mobile="13700000001", number=None) -> MembershipApplication:
    return services.application_submit(
        applicant=UserFactory(mobile=mobile),
        name="李娜",
        id_number=number or id_number(),
        mobile=mobile,
        union=union or tree.g1,
        privacy_consent=True,
    )


# --- POST /api/v1/members/verify ------------------------------------------------------------------


def test_verify_answers_a_current_member_with_union_and_join_date(api, member, agency_key):
    resp = api.post(VERIFY, {"id_number": member.id_number}, format="json", **bearer(agency_key))
    assert resp.status_code == 200
    assert resp.json() == {
        "is_member": True,
        "status": "active",
        "member_no": member.member_no,
        "union": {"code": "G1", "name": "湖州丝绸有限公司工会"},
        "joined_on": "2025-03-01",
        "masked_name": "周**",
        "id_masked": member.id_masked,
    }
    assert member.id_number not in resp.content.decode()


def test_verify_matches_a_lower_case_x_and_surrounding_spaces(api, tree, agency_key):
    first17 = next(f"33050219900307{n:03d}" for n in range(1000) if id_check_char(f"33050219900307{n:03d}") == "X")
    m = MemberFactory(raw_id=first17 + "X", union=tree.g1)
    resp = api.post(VERIFY, {"id_number": f"  {first17}x "}, format="json", **bearer(agency_key))
    assert resp.status_code == 200
    assert resp.json()["member_no"] == m.member_no


def test_verify_answers_only_false_for_a_stranger(api, member, agency_key):
    resp = api.post(VERIFY, {"id_number": id_number()}, format="json", **bearer(agency_key))
    assert resp.status_code == 200
    assert resp.json() == {"is_member": False}


@pytest.mark.parametrize("status", [Member.Status.LEFT, Member.Status.SUSPENDED])
def test_verify_answers_only_false_for_a_member_who_left_or_is_suspended(api, member, agency_key, status):
    Member.objects.filter(pk=member.pk).update(status=status)
    resp = api.post(VERIFY, {"id_number": member.id_number}, format="json", **bearer(agency_key))
    assert resp.status_code == 200
    assert resp.json() == {"is_member": False}


def test_verify_refuses_a_call_without_a_key_with_401_and_a_bearer_challenge(api, member):
    resp = api.post(VERIFY, {"id_number": member.id_number}, format="json")
    assert resp.status_code == 401
    assert resp.headers["WWW-Authenticate"] == "Bearer"
    assert error_code(resp) == "not_authenticated"


def test_verify_refuses_an_unknown_key(api, member, agency_key):
    forged = agency_key[:-4] + ("aaaa" if not agency_key.endswith("aaaa") else "bbbb")
    resp = api.post(VERIFY, {"id_number": member.id_number}, format="json", **bearer(forged))
    assert resp.status_code == 401
    assert error_code(resp) == "invalid_key"


def test_verify_refuses_a_revoked_key(api, member, revoked_key):
    resp = api.post(VERIFY, {"id_number": member.id_number}, format="json", **bearer(revoked_key))
    assert resp.status_code == 401
    assert error_code(resp) == "revoked_key"


def test_verify_refuses_a_key_without_the_scope(api, member, no_scope_key):
    resp = api.post(VERIFY, {"id_number": member.id_number}, format="json", **bearer(no_scope_key))
    assert resp.status_code == 403
    assert error_code(resp) == "missing_scope"


def test_verify_refuses_a_staff_session_which_is_not_an_api_key(member, city_staff):
    resp = logged_in(city_staff).post(VERIFY, {"id_number": member.id_number}, format="json")
    assert resp.status_code == 401


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("12345", "id_format"),
        ("990502199003071232", "id_region"),
        ("330502199002301234", "id_birth_date"),
        ("330502199003071233", "id_check"),
        ("", "blank"),
    ],
)
def test_verify_rejects_a_malformed_id_number_with_its_field_code(api, agency_key, value, code):
    resp = api.post(VERIFY, {"id_number": value}, format="json", **bearer(agency_key))
    assert resp.status_code == 400
    assert error_code(resp) == "invalid"
    assert field_codes(resp, "id_number") == [code]
    if value:
        assert value not in resp.content.decode()


def test_verify_rejects_a_missing_field_and_a_body_that_is_not_json(api, agency_key):
    resp = api.post(VERIFY, {}, format="json", **bearer(agency_key))
    assert resp.status_code == 400
    assert field_codes(resp, "id_number") == ["required"]
    resp = api.post(VERIFY, "{not json", content_type="application/json", **bearer(agency_key))
    assert resp.status_code == 400
    assert error_code(resp) == "parse_error"


def test_verify_is_throttled_per_key_with_retry_after(api, member, agency, agency_key, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"api_key": "1000/min", "verify": "2/min"},
    }
    body = {"id_number": member.id_number}
    for _ in range(2):
        assert api.post(VERIFY, body, format="json", **bearer(agency_key)).status_code == 200
    resp = api.post(VERIFY, body, format="json", **bearer(agency_key))
    assert resp.status_code == 429
    assert error_code(resp) == "throttled"
    assert 1 <= int(resp.headers["Retry-After"]) <= 60
    assert resp.json()["error"]["retry_after"] == int(resp.headers["Retry-After"])
    # Another agency's key has its own budget.
    _key, other = api_key_create(agency=agency, scopes=["members:verify"])
    assert api.post(VERIFY, body, format="json", **bearer(other)).status_code == 200


def test_the_per_key_budget_covers_every_endpoint(api, member, agency_key, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"api_key": "1/min", "verify": "1000/min"},
    }
    assert api.post(VERIFY, {"id_number": member.id_number}, format="json", **bearer(agency_key)).status_code == 200
    resp = api.post(CARDS, {"token": services.member_card_token(member)}, format="json", **bearer(agency_key))
    assert resp.status_code == 429


def test_verify_logs_no_id_number_and_writes_no_audit_entry(api, member, agency_key, caplog):
    caplog.set_level(logging.DEBUG)
    before = AuditEntry.objects.count()
    api.post(VERIFY, {"id_number": member.id_number}, format="json", **bearer(agency_key))
    api.post(VERIFY, {"id_number": member.id_number[:17] + "0"}, format="json", **bearer(agency_key))
    assert member.id_number not in caplog.text
    assert member.id_number[:17] not in caplog.text
    assert AuditEntry.objects.count() == before


# --- POST /api/v1/members/cards/verify ------------------------------------------------------------


def test_a_card_token_is_valid_for_an_agency_key(api, member, agency_key):
    resp = api.post(CARDS, {"token": services.member_card_token(member)}, format="json", **bearer(agency_key))
    assert resp.status_code == 200
    assert resp.json() == {
        "valid": True,
        "member_no": member.member_no,
        "masked_name": "周**",
        "union": {"code": "G1", "name": "湖州丝绸有限公司工会"},
    }
    assert member.id_number not in resp.content.decode()


def test_a_card_token_is_valid_for_any_staff_session(member, other_staff):
    resp = logged_in(other_staff).post(CARDS, {"token": services.member_card_token(member)}, format="json")
    assert resp.status_code == 200
    assert resp.json()["valid"] is True


def test_a_tampered_token_or_one_of_a_member_who_left_is_not_valid(api, member, agency_key):
    token = services.member_card_token(member)
    resp = api.post(CARDS, {"token": token[:-2] + "xx"}, format="json", **bearer(agency_key))
    assert resp.json() == {"valid": False}
    Member.objects.filter(pk=member.pk).update(status=Member.Status.LEFT)
    resp = api.post(CARDS, {"token": token}, format="json", **bearer(agency_key))
    assert resp.status_code == 200
    assert resp.json() == {"valid": False}


def test_card_check_refuses_no_key_a_revoked_key_a_key_without_scope_and_a_worker(
    api, member, revoked_key, no_scope_key, worker
):
    body = {"token": services.member_card_token(member)}
    resp = api.post(CARDS, body, format="json")
    assert resp.status_code == 401
    assert api.post(CARDS, body, format="json", **bearer(revoked_key)).status_code == 401
    resp = api.post(CARDS, body, format="json", **bearer(no_scope_key))
    assert (resp.status_code, error_code(resp)) == (403, "missing_scope")
    resp = logged_in(worker).post(CARDS, body, format="json")
    assert (resp.status_code, error_code(resp)) == (403, "staff_only")


def test_card_check_rejects_a_missing_token(api, agency_key):
    resp = api.post(CARDS, {"token": ""}, format="json", **bearer(agency_key))
    assert resp.status_code == 400
    assert field_codes(resp, "token") == ["blank"]


def test_card_check_is_throttled(api, member, agency_key, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"api_key": "100/min", "verify": "1/min"},
    }
    body = {"token": services.member_card_token(member)}
    assert api.post(CARDS, body, format="json", **bearer(agency_key)).status_code == 200
    resp = api.post(CARDS, body, format="json", **bearer(agency_key))
    assert (resp.status_code, error_code(resp)) == (429, "throttled")
    assert "Retry-After" in resp.headers


# --- Staff: GET /api/v1/members/ and /api/v1/members/{member_no} ------------------------------------


def member_nos(resp) -> set[str]:
    return {row["member_no"] for row in resp.json()["results"]}


def test_staff_list_their_subtree_without_full_id_numbers(member, other_member, staff, district_staff, city_staff):
    resp = logged_in(staff).get(MEMBERS)
    assert resp.status_code == 200
    assert member_nos(resp) == {member.member_no}
    row = resp.json()["results"][0]
    assert row["id_masked"] == member.id_masked
    assert row["union"] == {"code": "G1", "name": "湖州丝绸有限公司工会"}
    assert member.id_number not in resp.content.decode()
    assert member_nos(logged_in(district_staff).get(MEMBERS)) == {member.member_no}
    assert member_nos(logged_in(city_staff).get(MEMBERS)) == {member.member_no, other_member.member_no}


def test_the_outsider_lists_no_member_of_another_district(member, other_staff):
    resp = logged_in(other_staff).get(MEMBERS)
    assert resp.status_code == 200
    assert resp.json()["results"] == []


def test_the_member_list_refuses_agency_keys_workers_and_anonymous_callers(
    api, member, agency_key, revoked_key, worker
):
    resp = api.get(MEMBERS, **bearer(agency_key))
    assert (resp.status_code, error_code(resp)) == (403, "staff_only")
    resp = api.get(MEMBERS)
    assert resp.status_code == 401
    assert resp.headers["WWW-Authenticate"] == "Bearer"
    assert api.get(MEMBERS, **bearer(revoked_key)).status_code == 401
    resp = logged_in(worker).get(MEMBERS)
    assert (resp.status_code, error_code(resp)) == (403, "staff_only")


def test_the_member_list_filters_by_union_status_and_employment_form(tree, city_staff):
    rider = MemberFactory(union=tree.g1, employment_form="delivery_rider")
    left = MemberFactory(union=tree.g1, status="left")
    g2 = MemberFactory(union=tree.g2)
    client = logged_in(city_staff)
    assert member_nos(client.get(MEMBERS, {"union": "G2"})) == {g2.member_no}
    assert member_nos(client.get(MEMBERS, {"status": "left"})) == {left.member_no}
    assert member_nos(client.get(MEMBERS, {"employment_form": "delivery_rider"})) == {rider.member_no}


def test_the_member_list_rejects_an_unknown_filter_value(tree, staff):
    resp = logged_in(staff).get(MEMBERS, {"status": "retired"})
    assert resp.status_code == 400
    assert field_codes(resp, "status") == ["invalid_choice"]


def test_the_member_list_pages_with_a_cursor(tree, staff):
    made = {MemberFactory(union=tree.g1).member_no for _ in range(3)}
    client = logged_in(staff)
    first = client.get(MEMBERS, {"page_size": 2}).json()
    assert len(first["results"]) == 2
    second = client.get(first["next"]).json()
    assert second["next"] is None
    assert {r["member_no"] for r in first["results"] + second["results"]} == made


def test_the_member_list_makes_the_same_queries_for_5_and_30_members(tree, staff, django_assert_max_num_queries):
    client = logged_in(staff)
    MemberFactory.create_batch(5, union=tree.g1)
    with CaptureQueriesContext(connection) as five:
        assert len(client.get(MEMBERS).json()["results"]) == 5
    MemberFactory.create_batch(25, union=tree.g1)
    with django_assert_max_num_queries(len(five.captured_queries)):
        assert len(client.get(MEMBERS).json()["results"]) == 30


def test_staff_read_a_member_of_their_subtree(member, staff):
    resp = logged_in(staff).get(f"{MEMBERS}{member.member_no}")
    assert resp.status_code == 200
    body = resp.json()
    assert body["member_no"] == member.member_no
    assert body["name"] == "周建新"
    assert body["birth_date"] == member.birth_date.isoformat()
    assert member.id_number not in resp.content.decode()


def test_the_outsider_gets_404_for_a_member_of_another_district(api, member, other_staff, agency_key):
    resp = logged_in(other_staff).get(f"{MEMBERS}{member.member_no}")
    assert (resp.status_code, error_code(resp)) == (404, "not_found")
    assert "周" not in resp.content.decode()
    assert api.get(f"{MEMBERS}{member.member_no}", **bearer(agency_key)).status_code == 403
    assert api.get(f"{MEMBERS}{member.member_no}").status_code == 401


# --- Staff: applications ----------------------------------------------------------------------


def test_staff_list_pending_applications_of_their_subtree_only(tree, staff, other_staff):
    mine = apply(tree, union=tree.g1, mobile="13700000001")
    theirs = apply(tree, union=tree.g2, mobile="13700000002")
    resp = logged_in(staff).get(APPLICATIONS, {"status": "pending"})
    assert resp.status_code == 200
    assert [r["id"] for r in resp.json()["results"]] == [mine.pk]
    assert resp.json()["results"][0]["member_no"] is None
    assert mine.id_number not in resp.content.decode()
    assert [r["id"] for r in logged_in(other_staff).get(APPLICATIONS).json()["results"]] == [theirs.pk]


def test_the_application_list_refuses_agency_keys_and_anonymous_callers(api, tree, agency_key):
    apply(tree)
    assert api.get(APPLICATIONS, **bearer(agency_key)).status_code == 403
    assert api.get(APPLICATIONS).status_code == 401


def test_staff_approve_a_pending_application(tree, staff):
    app = apply(tree)
    resp = logged_in(staff).post(f"{APPLICATIONS}{app.pk}/approve")
    assert resp.status_code == 200
    body = resp.json()
    assert body["status"] == "approved"
    member = Member.objects.get(id_index=app.id_index)
    assert body["member_no"] == member.member_no
    assert AuditEntry.objects.filter(action="members.application.approved", object_id=str(app.pk)).exists()


def test_staff_of_one_union_cannot_approve_another_unions_application(tree, staff, other_staff):
    app = apply(tree, union=tree.g2)
    resp = logged_in(staff).post(f"{APPLICATIONS}{app.pk}/approve")
    assert (resp.status_code, error_code(resp)) == (404, "not_found")
    app_g1 = apply(tree, union=tree.g1, mobile="13700000003")
    assert (
        logged_in(other_staff).post(f"{APPLICATIONS}{app_g1.pk}/reject", {"reason": "x"}, format="json").status_code
        == 404
    )
    assert set(MembershipApplication.objects.values_list("status", flat=True)) == {"pending"}


def test_approving_twice_or_a_person_already_a_member_is_a_conflict(tree, staff):
    client = logged_in(staff)
    app = apply(tree)
    assert client.post(f"{APPLICATIONS}{app.pk}/approve").status_code == 200
    resp = client.post(f"{APPLICATIONS}{app.pk}/approve")
    assert (resp.status_code, error_code(resp)) == (409, "not_pending")
    other = apply(tree, mobile="13700000004")
    MemberFactory(raw_id=other.id_number, union=tree.g1)
    resp = client.post(f"{APPLICATIONS}{other.pk}/approve")
    assert (resp.status_code, error_code(resp)) == (409, "already_member")


def test_staff_reject_with_a_reason(tree, staff):
    app = apply(tree)
    resp = logged_in(staff).post(f"{APPLICATIONS}{app.pk}/reject", {"reason": "请提供劳动合同"}, format="json")
    assert resp.status_code == 200
    assert resp.json()["status"] == "rejected"
    assert resp.json()["reject_reason"] == "请提供劳动合同"


@pytest.mark.parametrize(
    ("body", "code"), [({}, "required"), ({"reason": "   "}, "blank"), ({"reason": "x" * 301}, "max_length")]
)
def test_rejecting_needs_a_reason(tree, staff, body, code):
    app = apply(tree)
    resp = logged_in(staff).post(f"{APPLICATIONS}{app.pk}/reject", body, format="json")
    assert resp.status_code == 400
    assert field_codes(resp, "reason") == [code]
    app.refresh_from_db()
    assert app.status == "pending"


def test_deciding_refuses_agency_keys_workers_and_anonymous_callers(api, tree, agency_key):
    app = apply(tree)
    assert api.post(f"{APPLICATIONS}{app.pk}/approve", **bearer(agency_key)).status_code == 403
    assert api.post(f"{APPLICATIONS}{app.pk}/reject", {"reason": "x"}, format="json").status_code == 401
    resp = logged_in(app.applicant).post(f"{APPLICATIONS}{app.pk}/approve")
    assert (resp.status_code, error_code(resp)) == (403, "staff_only")
    app.refresh_from_db()
    assert app.status == "pending"


def test_a_staff_session_must_send_the_csrf_token_to_decide(tree, staff):
    app = apply(tree)
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(staff, backend=MODEL_BACKEND)
    resp = client.post(f"{APPLICATIONS}{app.pk}/approve")
    assert resp.status_code == 403
    app.refresh_from_db()
    assert app.status == "pending"
