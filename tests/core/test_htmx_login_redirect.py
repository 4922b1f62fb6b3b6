"""An htmx action that needs a login sends the browser to the login page of the page it came from
(core.htmx.HtmxLoginRedirectMiddleware), not to a login page nested in the page."""

import pytest
from django.urls import reverse

from tests.vouchers.factories import CampaignFactory

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def test_it_sends_an_htmx_claim_without_a_session_to_login_and_back_to_the_campaign(client):
    campaign = CampaignFactory()
    page = f"http://testserver/vouchers/{campaign.pk}/?from=home"
    resp = client.post(reverse("vouchers:claim", args=[campaign.pk]), HTTP_HX_CURRENT_URL=page, **HTMX)
    assert resp.status_code == 401
    assert resp["HX-Redirect"] == f"/m/login/?next=%2Fvouchers%2F{campaign.pk}%2F%3Ffrom%3Dhome"
    assert "no-store" in resp["Cache-Control"]
    assert "data-htmx-message" in resp.content.decode()


def test_it_never_sends_the_worker_back_to_another_site(client):
    campaign = CampaignFactory()
    resp = client.post(
        reverse("vouchers:claim", args=[campaign.pk]), HTTP_HX_CURRENT_URL="https://evil.example/x", **HTMX
    )
    assert resp["HX-Redirect"] == "/m/login/?next=%2F"


def test_it_leaves_ordinary_requests_and_other_redirects_alone(client, member):
    resp = client.get(reverse("members:card"))
    assert resp.status_code == 302 and resp.url.startswith("/m/login/?next=")
    client.force_login(member.user)
    # An htmx request redirected elsewhere than the login page keeps its redirect.
    resp = client.post(reverse("members:logout"), **HTMX)
    assert resp.status_code == 302 and "HX-Redirect" not in resp
