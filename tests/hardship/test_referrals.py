"""Referrals (转介): the union sends, the agency lists and answers through the API, the case shows it."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from core.crypto import id_number_index
from core.errors import ServiceError
from core.models import AuditEntry, Notification
from core.services import api_key_create
from hardship import services
from hardship.models import CaseEvent, DataPush, PushRow, Referral
from tests.factories import AgencyFactory, MemberFactory

REFERRALS = "/api/v1/hardship/referrals"


def outcome_url(referral) -> str:
    return f"{REFERRALS}/{referral.pk}/outcome"


@pytest.fixture
def cdpf(db):
    return AgencyFactory(code="cdpf", name="残联")


def key_for(agency, scopes=("hardship:referrals",)) -> APIClient:
    _key, secret = api_key_create(agency=agency, scopes=list(scopes))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


@pytest.fixture
def cdpf_api(cdpf):
    return key_for(cdpf)


@pytest.fixture
def mca_api(agency):
    """民政局: another agency, the outsider to 残联's referrals."""
    return key_for(agency)


def pushed_row(agency, member, source_key, kind="disability", period="2025-01"):
    push = DataPush.objects.create(
        agency=agency,
        kind=kind,
        period=period,
        batch_id=f"b-{source_key}",
        row_count=1,
        sha256="0" * 64,
        source="api_json",
        state="ingested",
    )
    return PushRow.objects.create(
        push=push,
        agency=agency,
        kind=kind,
        period=period,
        line=1,
        source_key=source_key,
        id_number=member.id_number,
        id_index=id_number_index(member.id_number),
        payload={"type": "physical", "grade": 4, "name": member.name},
        member=member,
    )


@pytest.fixture
def referral(filed_case, cdpf, case_staff):
    return services.referral_send(
        case=filed_case, agency=cdpf, benefit="disability_insurance", actor=case_staff, note="肢体四级残疾，请协助理赔"
    )


def test_the_referral_round_trip_through_the_api(
    filed_case, member, cdpf, cdpf_api, referral, case_staff, agency, django_capture_on_commit_callbacks
):
    pushed_row(cdpf, member, "CDPF-2025-000871")
    pushed_row(agency, member, "MCA-OTHER-1", kind="low_income")  # another agency's key: not shown
    resp = cdpf_api.get(REFERRALS)
    assert resp.status_code == 200
    [item] = resp.json()["results"]
    assert item["id"] == referral.pk
    assert item["benefit"] == "disability_insurance"
    assert item["note"] == "肢体四级残疾，请协助理赔"
    assert item["case_no"] == filed_case.case_no
    assert item["person"] == {
        "name": member.name,
        "mobile": member.mobile,
        "id_masked": member.id_masked,
        "member_no": member.member_no,
        "source_keys": ["CDPF-2025-000871"],
    }
    assert item["state"] == "sent"
    assert member.id_number not in resp.content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        resp = cdpf_api.post(
            outcome_url(referral), {"granted": True, "amount": "15000.00", "note": "理赔已到账"}, format="json"
        )
    assert resp.status_code == 200, resp.json()
    assert resp.json()["state"] == "granted" and resp.json()["amount"] == "15000.00"
    referral.refresh_from_db()
    assert referral.state == Referral.State.GRANTED and referral.amount == Decimal("15000.00")

    event = CaseEvent.objects.get(case=filed_case, kind="referral_answered")
    assert event.data["granted"] is True and event.data["amount"] == "15000.00" and event.data["agency"] == "cdpf"
    assert event.text == "理赔已到账"
    assert Notification.objects.filter(recipient=case_staff, kind="hardship.referral.answered").exists()
    assert AuditEntry.objects.filter(action="hardship.referral.answered", object_id=str(referral.pk)).exists()

    assert cdpf_api.get(REFERRALS, {"state": "sent"}).json()["results"] == []
    assert [r["id"] for r in cdpf_api.get(REFERRALS, {"state": "granted"}).json()["results"]] == [referral.pk]


def test_another_agencys_referral_is_not_found(referral, mca_api):
    assert mca_api.get(REFERRALS).json()["results"] == []
    resp = mca_api.post(outcome_url(referral), {"granted": False}, format="json")
    assert resp.status_code == 404
    assert resp.json()["error"]["code"] == "not_found"
    referral.refresh_from_db()
    assert referral.state == Referral.State.SENT


def test_an_agency_cannot_answer_through_the_service_for_another(referral, agency):
    with pytest.raises(ServiceError) as exc:
        services.referral_answer(referral=referral, agency=agency, granted=False)
    assert exc.value.code == "not_found"


def test_a_key_without_the_referrals_scope_is_refused(cdpf, referral):
    api = key_for(cdpf, scopes=("hardship:push",))
    resp = api.get(REFERRALS)
    assert resp.status_code == 403
    assert resp.json()["error"]["code"] == "missing_scope"
    resp = api.post(outcome_url(referral), {"granted": False}, format="json")
    assert (resp.status_code, resp.json()["error"]["code"]) == (403, "missing_scope")
    referral.refresh_from_db()
    assert referral.state == Referral.State.SENT


def test_no_key_is_refused(referral):
    resp = APIClient().get(REFERRALS)
    assert resp.status_code == 401
    assert resp.json()["error"]["code"] == "not_authenticated"


def test_a_referral_is_answered_once(referral, cdpf_api):
    assert (
        cdpf_api.post(outcome_url(referral), {"granted": False, "note": "不符合条件"}, format="json").status_code == 200
    )
    resp = cdpf_api.post(outcome_url(referral), {"granted": True, "amount": "1.00"}, format="json")
    assert resp.status_code == 409
    assert resp.json()["error"]["code"] == "already_answered"
    referral.refresh_from_db()
    assert referral.state == Referral.State.REFUSED and referral.amount is None


def test_granted_needs_an_amount_and_refused_takes_none(referral, cdpf_api):
    resp = cdpf_api.post(outcome_url(referral), {"granted": True}, format="json")
    assert resp.status_code == 400 and resp.json()["error"]["code"] == "amount_required"
    resp = cdpf_api.post(outcome_url(referral), {"granted": False, "amount": "10.00"}, format="json")
    assert resp.status_code == 400 and resp.json()["error"]["code"] == "amount_not_allowed"
    resp = cdpf_api.post(outcome_url(referral), {"granted": True, "amount": "-1"}, format="json")
    assert resp.status_code == 400 and resp.json()["error"]["code"] == "invalid"
    referral.refresh_from_db()
    assert referral.state == Referral.State.SENT


def test_a_status_without_cash_is_granted_with_zero(filed_case, agency, case_staff):
    ref = services.referral_send(case=filed_case, agency=agency, benefit="low_income_status", actor=case_staff)
    services.referral_answer(referral=ref, agency=agency, granted=True, amount="0")
    ref.refresh_from_db()
    assert ref.state == Referral.State.GRANTED and ref.amount == Decimal("0.00")


def test_the_same_benefit_is_not_referred_twice_while_waiting(referral, filed_case, cdpf, case_staff):
    with pytest.raises(ServiceError) as exc:
        services.referral_send(case=filed_case, agency=cdpf, benefit="disability_insurance", actor=case_staff)
    assert exc.value.code == "already_referred"


def test_the_outsider_cannot_refer_a_case(filed_case, cdpf, case_outsider):
    with pytest.raises(ServiceError) as exc:
        services.referral_send(case=filed_case, agency=cdpf, benefit="disability_insurance", actor=case_outsider)
    assert exc.value.code == "forbidden"
    assert not Referral.objects.exists()


def test_the_list_reads_source_keys_in_one_query_for_the_page(tree, cdpf, cdpf_api, case_staff, local_standard):
    for i in range(5):
        m = MemberFactory(union=tree.g1)
        case = services.case_open(head=m, actor=case_staff)
        pushed_row(cdpf, m, f"K{i}")
        services.case_transition(case=case, to_state="contacted", actor=case_staff)
        services.referral_send(case=case, agency=cdpf, benefit="disability_insurance", actor=case_staff)
    with CaptureQueriesContext(connection) as ctx:
        resp = cdpf_api.get(REFERRALS)
    assert len(resp.json()["results"]) == 5
    pushrow_queries = [q for q in ctx.captured_queries if "hardship_pushrow" in q["sql"]]
    assert len(pushrow_queries) == 1


def test_the_referral_endpoints_are_in_the_openapi_schema(client, db):
    schema = client.get("/api/schema/", {"format": "json"}).json()
    listed = schema["paths"]["/api/v1/hardship/referrals"]["get"]
    answer = schema["paths"]["/api/v1/hardship/referrals/{id}/outcome"]["post"]
    for op in (listed, answer):
        assert op["security"] == [{"apiKey": []}]
        assert op["responses"]["403"]["content"]["application/json"]["schema"]["$ref"] == "#/components/schemas/Error"
    assert "404" in answer["responses"] and "409" in answer["responses"]


def test_staff_are_told_of_an_answer_in_chinese_whatever_the_agencys_language(
    referral, cdpf_api, case_staff, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        resp = cdpf_api.post(outcome_url(referral), {"granted": False}, format="json", HTTP_ACCEPT_LANGUAGE="en")
    assert resp.status_code == 200, resp.json()
    note = Notification.objects.get(recipient=case_staff, kind="hardship.referral.answered")
    assert "referral" not in note.title.lower() and "refused" not in note.body, (note.title, note.body)


# --- Withdrawing a referral (issue 10: a state that could be entered but never left) ---------------


def test_staff_withdraw_a_referral_the_agency_never_answered_and_can_refer_again(
    referral, filed_case, cdpf, cdpf_api, case_staff
):
    """A referral waited for the agency's answer forever, and held the benefit (`already_referred`)."""
    services.referral_withdraw(referral=referral, actor=case_staff, reason="残联未答复，改由县总工会线下办理")
    referral.refresh_from_db()
    assert referral.state == Referral.State.WITHDRAWN and referral.answered_at is not None
    assert AuditEntry.objects.filter(action="hardship.referral.withdrawn", object_id=str(referral.pk)).exists()
    assert filed_case.events.filter(kind="referral_withdrawn").exists()
    # The agency can no longer answer it; the case can be referred again.
    resp = cdpf_api.post(outcome_url(referral), {"granted": True, "amount": "15000.00"}, format="json")
    assert resp.status_code == 409 and resp.json()["error"]["code"] == "referral_withdrawn"
    again = services.referral_send(case=filed_case, agency=cdpf, benefit="disability_insurance", actor=case_staff)
    assert again.state == Referral.State.SENT


def test_withdrawing_needs_a_reason_in_the_service_and_the_admin(client, referral, case_staff):
    from tests.hardship.conftest import grant_hardship
    from tests.hardship.test_admin import act

    with pytest.raises(ServiceError) as exc:
        services.referral_withdraw(referral=referral, actor=case_staff, reason=" ")
    assert exc.value.code == "reason_required"
    user = grant_hardship(case_staff, "view_case", "view_referral", "change_referral")
    client.force_login(user)
    resp = act(client, "/admin/hardship/referral/", "withdraw", referral.pk, apply="1", note="")
    assert resp.status_code == 200 and "请填写备注" in resp.content.decode()
    referral.refresh_from_db()
    assert referral.state == Referral.State.SENT
    act(client, "/admin/hardship/referral/", "withdraw", referral.pk, apply="1", note="转错部门")
    referral.refresh_from_db()
    assert referral.state == Referral.State.WITHDRAWN


def test_an_answered_referral_is_not_withdrawn_and_the_outsider_withdraws_nothing(
    referral, cdpf, case_staff, case_outsider
):
    with pytest.raises(ServiceError) as exc:
        services.referral_withdraw(referral=referral, actor=case_outsider, reason="越权")
    assert exc.value.code == "forbidden"
    services.referral_answer(referral=referral, agency=cdpf, granted=False, note="不符合条件")
    with pytest.raises(ServiceError) as exc:
        services.referral_withdraw(referral=referral, actor=case_staff, reason="r")
    assert exc.value.code == "already_answered"
    referral.refresh_from_db()
    assert referral.state == Referral.State.REFUSED
