"""GET /api/v1/hardship/outbound: each agency sees only the filed cases of people in its own rows,
and the cases referred to it; masked; once the cycle has published the period."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core.errors import ServiceError
from core.models import ApiKey
from core.services import api_key_create
from hardship import cycle, services
from hardship.models import Aid, Case, CycleRun, PushRow
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


def test_an_agency_sees_only_the_cases_of_people_in_its_own_rows(
    client, filed_case, other_case, member, other_member, nhsa, hrss, cdpf, push_row, published
):
    matched_row(push_row, "medical", member, nhsa, "YB-0001")
    matched_row(push_row, "work_injury", other_member, hrss, "GS-0042")

    mine = get(client, key_for(nhsa))
    theirs = get(client, key_for(hrss))
    nobody = get(client, key_for(cdpf))

    assert mine.status_code == 200
    assert [c["case_no"] for c in mine.json()["results"]] == [filed_case.case_no]
    assert mine.json()["results"][0]["source_keys"] == ["YB-0001"]
    assert [c["case_no"] for c in theirs.json()["results"]] == ["KN2025-900001"]
    assert theirs.json()["results"][0]["source_keys"] == ["GS-0042"]  # never another agency's keys
    assert nobody.json()["results"] == []


def test_a_referred_case_is_seen_by_the_agency_it_was_referred_to(
    client, filed_case, case_staff, member, nhsa, cdpf, push_row, published
):
    matched_row(push_row, "medical", member, nhsa, "YB-0001")
    referral = services.referral_send(
        case=filed_case, agency=cdpf, benefit="disability_insurance", actor=case_staff, note="意外险"
    )

    seen = get(client, key_for(cdpf)).json()["results"]
    other = get(client, key_for(nhsa)).json()["results"]

    assert [c["case_no"] for c in seen] == [filed_case.case_no]
    assert seen[0]["source_keys"] == []
    assert seen[0]["referrals"] == [
        {"id": referral.pk, "benefit": "disability_insurance", "state": "sent",
         "sent_at": seen[0]["referrals"][0]["sent_at"], "amount": None}
    ]  # fmt: skip
    assert other[0]["referrals"] == []  # the referral to 残联 is not shown to 医保局


def test_names_and_id_numbers_are_masked(client, filed_case, member, nhsa, push_row, published):
    matched_row(push_row, "medical", member, nhsa, "YB-0001")
    resp = get(client, key_for(nhsa))
    case = resp.json()["results"][0]
    assert case["head"] == {"masked_name": "周**", "id_masked": member.id_masked}
    assert member.id_number not in resp.content.decode() and member.name not in resp.content.decode()
    assert (case["state"], case["category"], case["filed_on"]) == (
        "filed",
        filed_case.category,
        str(timezone.localdate()),
    )
    assert case["union"] == {"code": "G1", "name": member.union.name}


def test_aid_of_the_period_is_totalled_by_fund_line(client, filed_case, case_staff, member, nhsa, push_row, published):
    matched_row(push_row, "medical", member, nhsa, "YB-0001")
    today = timezone.localdate()
    services.aid_create(
        case=filed_case, actor=case_staff, fund_line="illness", amount="3000", purpose="住院", paid_on=today
    )
    services.aid_create(
        case=filed_case, actor=case_staff, fund_line="illness", amount="1500.50", purpose="药费", paid_on=today,
        double_aid_acknowledged=True,
    )  # fmt: skip
    services.aid_create(  # above the second-approval amount: pending, not counted
        case=filed_case, actor=case_staff, fund_line="living", amount="9000", purpose="生活", paid_on=today
    )

    case = get(client, key_for(nhsa)).json()["results"][0]

    assert case["aid"] == {"illness": "4500.50"}


@pytest.fixture
def two_cases_of_one_head(tree, member, nhsa, push_row, case_staff):
    """The member's case exited this month and their new case filed after it; 医保局 holds two
    current rows about the member; 800 CNY of warmth aid (no case) for the month."""
    now = timezone.now()
    old = Case.objects.create(
        head=member, union=tree.g1, case_no="KN2025-700001", state="exited", category="deep",
        filed_at=now - dt.timedelta(days=400), closed_at=now - dt.timedelta(minutes=5),
    )  # fmt: skip
    new = Case.objects.create(
        head=member, union=tree.g1, case_no="KN2025-700002", state="filed", category="relative", filed_at=now
    )
    matched_row(push_row, "medical", member, nhsa, "YB-0001")
    matched_row(push_row, "medical", member, nhsa, "YB-0002")
    today = timezone.localdate()
    Aid.objects.create(
        member=member, union=tree.g1, fund_line="warmth", amount=Decimal("800.00"), purpose="送温暖",
        paid_on=today, period=this_month(), state="approved", maker=case_staff,
    )  # fmt: skip
    return old, new


def test_a_head_with_two_cases_in_the_period_has_the_keys_on_both_and_warmth_aid_once(
    client, two_cases_of_one_head, nhsa, published
):
    old, new = two_cases_of_one_head

    results = {c["case_no"]: c for c in get(client, key_for(nhsa)).json()["results"]}

    assert set(results) == {old.case_no, new.case_no}
    assert results[old.case_no]["source_keys"] == results[new.case_no]["source_keys"] == ["YB-0001", "YB-0002"]
    assert results[new.case_no]["aid"] == {"warmth": "800.00"}  # the case still filed
    assert results[old.case_no]["aid"] == {}


def test_warmth_aid_is_counted_once_when_the_heads_cases_are_on_different_pages(
    client, two_cases_of_one_head, nhsa, published
):
    key = key_for(nhsa)
    first = get(client, key, page_size=1).json()
    second = client.get(first["next"], HTTP_AUTHORIZATION=f"Bearer {key}").json()

    pages = first["results"] + second["results"]
    assert len(pages) == 2
    assert [c["aid"] for c in pages].count({"warmth": "800.00"}) == 1
    assert all(c["source_keys"] == ["YB-0001", "YB-0002"] for c in pages)


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

    results = get(client, key_for(nhsa)).json()["results"]

    assert [(c["case_no"], c["state"]) for c in results] == [(filed_case.case_no, "exited")]
    assert results[0]["closed_on"] == str(timezone.localdate(start + dt.timedelta(hours=1)))


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

    assert [c["case_no"] for c in first["results"]] == ["KN2025-800000"]
    assert [c["case_no"] for c in second["results"]] == ["KN2025-800001"]
    assert len(three.captured_queries) == len(one.captured_queries)


def test_the_cycle_publishes_the_period(client, filed_case, member, nhsa, push_row):
    matched_row(push_row, "medical", member, nhsa, "YB-0001")
    key = key_for(nhsa)
    before = get(client, key)
    assert before.status_code == 404 and before.json()["error"]["code"] == "not_published"

    run = cycle.cycle_run(period=this_month())

    assert run.steps["publish"]["figures"]["cases_by_agency"]["nhsa"] == 1
    assert len(get(client, key).json()["results"]) == 1


def test_a_quarter_is_published_once_its_last_month_is(client, filed_case, member, nhsa, push_row):
    matched_row(push_row, "medical", member, nhsa, "YB-0001")
    Case.objects.filter(pk=filed_case.pk).update(filed_at=dt.datetime(2025, 1, 10, tzinfo=dt.UTC))
    key = key_for(nhsa)
    CycleRun.objects.create(period="2025-02", state="done", published_at=timezone.now())
    before = get(client, key, period="2025-Q1")
    assert before.status_code == 404 and before.json()["error"]["code"] == "not_published"

    CycleRun.objects.create(period="2025-03", state="done", published_at=timezone.now())

    assert get(client, key, period="2025-03").status_code == 200
    resp = get(client, key, period="2025-Q1")
    assert resp.status_code == 200 and [c["case_no"] for c in resp.json()["results"]] == [filed_case.case_no]
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
