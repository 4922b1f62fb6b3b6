"""GET /api/v1/hardship/outbound: an agency learns only, for the people of its own accepted push of
the period, that the union assists them (its keys, whether aid was given); once published."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core.errors import ServiceError
from core.models import ApiKey
from core.services import api_key_create
from hardship import cycle, services
from hardship.models import Case, CycleRun, DataPush, PushRow
from tests.factories import AgencyFactory, MemberFactory
from tests.vouchers.factories import MerchantFactory
from vouchers.models import MerchantApiKey
from vouchers.services.merchants import merchant_api_key_create

URL = "/api/v1/hardship/outbound"


def this_month() -> str:
    return timezone.localdate().strftime("%Y-%m")


def key_for(agency, scopes=("hardship:push",)) -> str:
    return api_key_create(agency=agency, scopes=list(scopes))[1]


@pytest.fixture
def nhsa(db):
    return AgencyFactory(code="nhsa", name="医保局")


@pytest.fixture
def hrss(db):
    return AgencyFactory(code="hrss", name="人社局")


@pytest.fixture
def cdpf(db):
    return AgencyFactory(code="cdpf", name="残联")


@pytest.fixture
def published(db):
    return CycleRun.objects.create(period=this_month(), state="done", published_at=timezone.now())


@pytest.fixture
def other_case(other_member, tree):
    """A filed case in 南浔区 (G2)."""
    return Case.objects.create(
        head=other_member,
        union=tree.g2,
        case_no="KN2025-900001",
        state="filed",
        filed_at=timezone.now(),
        category="deep",
    )


def get(client, key, period=None, **params):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {key}"} if key else {}
    return client.get(URL, {"period": period or this_month(), **params}, **headers)


def matched_row(push_row, kind, member, agency, source_key):
    row = push_row(kind, this_month(), {"grade": 3}, member=member, agency=agency, source_key=source_key)
    PushRow.objects.filter(pk=row.pk).update(member=member)
    return row


def test_an_agency_learns_only_about_people_in_its_own_accepted_push_of_the_period(
    client, filed_case, other_case, member, other_member, nhsa, hrss, cdpf, push_row, published
):
    matched_row(push_row, "medical", member, nhsa, "YB-0001")
    matched_row(push_row, "work_injury", other_member, hrss, "GS-0042")
    push_row("medical", this_month(), {}, member=other_member, agency=cdpf, source_key="CJ-1")  # not matched

    mine = get(client, key_for(nhsa))
    theirs = get(client, key_for(hrss))
    nobody = get(client, key_for(cdpf))

    assert mine.status_code == 200
    assert mine.json()["results"] == [{"source_keys": ["YB-0001"], "aid_in_period": False}]
    assert theirs.json()["results"] == [{"source_keys": ["GS-0042"], "aid_in_period": False}]  # never another's
    assert nobody.status_code == 200 and nobody.json()["results"] == []


def test_it_tells_no_case_state_category_amount_union_or_name(
    client, filed_case, case_staff, member, nhsa, push_row, published
):
    matched_row(push_row, "medical", member, nhsa, "YB-0001")
    services.aid_create(
        case=filed_case,
        actor=case_staff,
        fund_line="illness",
        amount="2000",
        purpose="住院",
        paid_on=timezone.localdate(),
    )
    resp = get(client, key_for(nhsa))
    assert resp.json()["results"] == [{"source_keys": ["YB-0001"], "aid_in_period": True}]
    text = resp.content.decode()
    for secret in (member.id_number, member.name, member.id_masked, filed_case.case_no, "2000", "illness", "G1"):
        assert secret not in text


def test_another_periods_rows_answer_nothing(client, filed_case, member, nhsa, push_row, published):
    """A row pushed for another period (or an accepted push of another period) is no licence to
    ask about this one."""
    row = push_row("medical", "2025-01", {}, member=member, agency=nhsa, source_key="OLD-1")
    PushRow.objects.filter(pk=row.pk).update(member=member)
    matched_row(push_row, "medical", MemberFactory(union=member.union), nhsa, "NOW-1")

    assert get(client, key_for(nhsa)).json()["results"] == []


def test_a_period_without_an_accepted_push_answers_404(client, filed_case, member, nhsa, push_row, published):
    matched_row(push_row, "medical", member, nhsa, "YB-0001")
    DataPush.objects.filter(agency=nhsa).update(state=DataPush.State.HELD)
    resp = get(client, key_for(nhsa))
    assert resp.status_code == 404 and resp.json()["error"]["code"] == "no_accepted_push"


def test_a_referral_alone_is_not_in_the_outbound_data(
    client, filed_case, case_staff, member, nhsa, cdpf, push_row, published
):
    matched_row(push_row, "medical", member, nhsa, "YB-0001")
    matched_row(push_row, "disability", MemberFactory(union=member.union), cdpf, "CJ-1")
    services.referral_send(case=filed_case, agency=cdpf, benefit="disability_insurance", actor=case_staff, note="x")
    assert get(client, key_for(cdpf)).json()["results"] == []  # read at /referrals


def test_cases_closed_before_the_period_or_never_filed_are_not_outbound(
    client, filed_case, other_case, member, other_member, tree, nhsa, push_row, published
):
    unfiled = MemberFactory(union=tree.g1)
    Case.objects.create(head=unfiled, union=tree.g1, case_no="KN2025-900002", state="assessing")
    for who, key in ((member, "A"), (other_member, "B"), (unfiled, "C")):
        matched_row(push_row, "medical", who, nhsa, key)
    start = timezone.localtime().replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    Case.objects.filter(pk=filed_case.pk).update(state="exited", closed_at=start + dt.timedelta(hours=1))
    Case.objects.filter(pk=other_case.pk).update(state="resolved", closed_at=start - dt.timedelta(hours=1))

    assert [p["source_keys"] for p in get(client, key_for(nhsa)).json()["results"]] == [["A"]]


def test_it_is_cursor_paginated_with_constant_queries(client, tree, nhsa, push_row, published):
    key = key_for(nhsa)
    for i in range(3):
        someone = MemberFactory(union=tree.g1)
        Case.objects.create(
            head=someone, union=tree.g1, case_no=f"KN2025-8{i:05d}", state="filed", filed_at=timezone.now()
        )
        matched_row(push_row, "medical", someone, nhsa, f"K{i}")

    with CaptureQueriesContext(connection) as one:
        first = get(client, key, page_size=1).json()
    with CaptureQueriesContext(connection) as three:
        get(client, key, page_size=3)
    second = client.get(first["next"], HTTP_AUTHORIZATION=f"Bearer {key}").json()

    assert [p["source_keys"] for p in first["results"]] == [["K0"]]
    assert [p["source_keys"] for p in second["results"]] == [["K1"]]
    assert len(three.captured_queries) == len(one.captured_queries)


def test_the_cycle_publishes_the_period(client, filed_case, member, nhsa, push_row):
    matched_row(push_row, "medical", member, nhsa, "YB-0001")
    key = key_for(nhsa)
    before = get(client, key)
    assert before.status_code == 404 and before.json()["error"]["code"] == "not_published"

    run = cycle.cycle_run(period=this_month())

    assert run.steps["publish"]["figures"]["people_by_agency"]["nhsa"] == 1
    assert len(get(client, key).json()["results"]) == 1


def test_a_quarter_is_published_once_its_last_month_is(client, filed_case, member, nhsa, push_row):
    row = push_row("medical", "2025-Q1", {}, member=member, agency=nhsa, source_key="Q-1")
    PushRow.objects.filter(pk=row.pk).update(member=member)
    Case.objects.filter(pk=filed_case.pk).update(filed_at=dt.datetime(2025, 1, 10, tzinfo=dt.UTC))
    key = key_for(nhsa)
    CycleRun.objects.create(period="2025-02", state="done", published_at=timezone.now())
    before = get(client, key, period="2025-Q1")
    assert before.status_code == 404 and before.json()["error"]["code"] == "not_published"

    CycleRun.objects.create(period="2025-03", state="done", published_at=timezone.now())

    resp = get(client, key, period="2025-Q1")
    assert resp.status_code == 200 and resp.json()["results"] == [{"source_keys": ["Q-1"], "aid_in_period": False}]
    assert get(client, key, period="2025-03").json()["error"]["code"] == "no_accepted_push"
    assert get(client, key, period="2025-Q2").json()["error"]["code"] == "not_published"


# --- Refusals ---------------------------------------------------------------------------------------


def test_it_refuses_a_call_without_a_key(client, published):
    resp = get(client, None)
    assert resp.status_code == 401 and resp.json()["error"]["code"] == "not_authenticated"


def test_it_refuses_an_unknown_key(client, published):
    assert get(client, "upk_000000000000_nope").status_code == 401


def test_it_refuses_a_key_without_the_push_scope(client, agency_key, published):
    resp = get(client, agency_key)  # members:verify only
    assert resp.status_code == 403 and resp.json()["error"]["code"] == "missing_scope"


def test_it_refuses_a_key_of_no_agency(client, published):
    """A merchant's key cannot be given the push scope, and one written before that rule (or a key of
    no holder at all) is refused: the outbound data never reaches a key of no agency."""
    merchant = MerchantFactory()
    with pytest.raises(ServiceError) as err:
        merchant_api_key_create(merchant=merchant, actor=None, scopes=["hardship:push"])
    assert err.value.code == "scope_not_for_holder"
    for owner in (merchant, None):
        secret, key_id, part = ApiKey.new_secret()
        key = ApiKey.objects.create(key_id=key_id, key_hash=ApiKey.digest(part), scopes=["hardship:push"])
        if owner is not None:
            MerchantApiKey.objects.create(key=key, merchant=owner)
        resp = get(client, secret)
        assert resp.status_code == 401 and resp.json()["error"]["code"] == "revoked_key"


@pytest.mark.parametrize("period", ["2025-13", "2025/03", "soon"])
def test_it_refuses_a_bad_period(client, nhsa, published, period):
    resp = get(client, key_for(nhsa), period=period)
    assert resp.status_code == 400
    assert resp.json()["error"]["fields"]["period"][0]["code"] == "bad_period"


def test_the_endpoint_is_documented(client, db):
    schema = client.get("/api/schema/", {"format": "json"}).json()
    op = schema["paths"][URL]["get"]
    assert op["security"] == [{"apiKey": []}]
    assert {"200", "400", "401", "403", "404", "429"} <= set(op["responses"])
    assert any(p["name"] == "period" and p["required"] for p in op["parameters"])
