"""Every cursor-paginated list of the API refuses a cursor it did not make with 400 `bad_cursor`
(a tampered position reached the query and answered 500; an undecodable cursor answered 404)."""

import base64

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from core.paginator import CursorPagination
from core.services import api_key_create
from tests.factories import AgencyFactory
from tests.hardship.factories import CycleRunFactory, DataPushFactory

pytestmark = pytest.mark.django_db


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


TAMPERED = {
    "a position that is not an id": "cD1hYmM=",  # p=abc, from the issue
    "a position beyond any id": b64("p=99999999999999999999999999"),
    "a negative offset": b64("o=-1&p=1"),
    "not base64": "%%%not-a-cursor",
    "not ASCII": "游标",
}


@pytest.fixture
def agency():
    return AgencyFactory(code="nhsa", name="医保局")


@pytest.fixture
def callers(agency, city_staff):
    """The caller each list admits: the union's staff (members), the agency's keys (hardship)."""
    staff = APIClient()
    staff.force_login(city_staff)

    def keyed(scope):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key_create(agency=agency, scopes=[scope])[1]}")
        return client

    return {"staff": staff, "hardship:push": keyed("hardship:push"), "hardship:referrals": keyed("hardship:referrals")}


PERIOD = timezone.localdate().strftime("%Y-%m")
LISTS = [
    ("/api/v1/members/", {}, "staff"),
    ("/api/v1/members/applications/", {}, "staff"),
    ("/api/v1/hardship/referrals", {}, "hardship:referrals"),
    ("/api/v1/hardship/outbound", {"period": PERIOD}, "hardship:push"),
    ("/api/v1/hardship/pushes", {}, "hardship:push"),
]


@pytest.mark.parametrize("cursor", TAMPERED.values(), ids=TAMPERED.keys())
@pytest.mark.parametrize(("url", "params", "caller"), LISTS, ids=[u for u, _p, _c in LISTS])
def test_it_refuses_a_cursor_it_did_not_make(callers, agency, url, params, caller, cursor):
    CycleRunFactory(period=PERIOD, published_at=timezone.now())  # the outbound data is published
    DataPushFactory(agency=agency, period=PERIOD)  # and answers the agency's accepted push
    callers[caller].raise_request_exception = False
    resp = callers[caller].get(url, {**params, "cursor": cursor})
    assert resp.status_code == 400, resp.content
    assert resp["Content-Type"].startswith("application/json")
    error = resp.json()["error"]
    assert error["code"] == "bad_cursor" and error["message"]


def test_every_cursor_paginated_list_is_in_the_test():
    """A new paginated list must be added to LISTS; every one uses core's paginator."""
    from django.urls import get_resolver

    def views(patterns):
        for p in patterns:
            if hasattr(p, "url_patterns"):
                yield from views(p.url_patterns)
            elif hasattr(p.callback, "cls"):
                yield p.callback.cls

    paginated = {v for v in views(get_resolver().url_patterns) if getattr(v, "pagination_class", None)}
    assert all(issubclass(v.pagination_class, CursorPagination) for v in paginated)
    assert len(paginated) == len(LISTS)


def test_a_cursor_the_list_gave_still_pages_through_every_row(callers, agency):
    pushes = {DataPushFactory(agency=agency).pk for _ in range(3)}
    client, seen, url = callers["hardship:push"], [], "/api/v1/hardship/pushes?page_size=1"
    while url:
        page = client.get(url).json()
        seen += [row["id"] for row in page["results"]]
        url = page["next"]
    assert sorted(seen, reverse=True) == seen and set(seen) == pushes
