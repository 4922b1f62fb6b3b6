"""Answers carrying personal data carry Cache-Control: no-store (core.middleware.NoStoreMiddleware)."""

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


def _no_store(resp) -> bool:
    return "no-store" in resp.get("Cache-Control", "") and "private" in resp["Cache-Control"]


@pytest.mark.parametrize("name", ["members:me", "members:home", "members:application", "members:transfer"])
def test_it_tells_browsers_not_to_store_a_members_pages(member, name):
    client = Client()
    client.force_login(member.user)
    resp = client.get(reverse(name))
    assert resp.status_code in (200, 302)
    assert _no_store(resp)


@pytest.mark.parametrize("path", ["/admin/", "/admin/members/member/"])
def test_it_tells_browsers_not_to_store_admin_pages(staff, path):
    client = Client()
    client.force_login(staff)
    resp = client.get(path)
    assert resp.status_code == 200 and _no_store(resp)


def test_it_tells_caches_not_to_store_api_answers_right_or_refused(agency_key, member):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {agency_key}")
    ok = client.post("/api/v1/members/verify", {"id_number": member.id_number}, format="json")
    refused = APIClient().post("/api/v1/members/verify", {"id_number": member.id_number}, format="json")
    assert ok.status_code == 200 and _no_store(ok)
    assert refused.status_code == 401 and _no_store(refused)


def test_a_public_page_seen_by_an_anonymous_visitor_stays_cacheable(tree):
    resp = Client().get(reverse("members:privacy"))
    assert resp.status_code == 200 and "no-store" not in resp.get("Cache-Control", "")
