"""Small faults of the worker pages: the campaign's kind is not called "数据类型", and dates are
marked so that they are never broken inside (CSS .date { white-space: nowrap })."""

import re

import pytest
from django.urls import reverse

from tests.vouchers.factories import CampaignFactory

pytestmark = pytest.mark.django_db


def test_the_campaign_kind_is_labelled_as_a_voucher_kind(client, member):
    campaign = CampaignFactory()
    client.force_login(member.user)
    html = client.get(reverse("vouchers:campaign", args=[campaign.pk]), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "<dt>券种</dt>" in html
    assert "数据类型" not in html


def test_every_date_on_the_campaign_and_card_pages_is_kept_whole(client, member):
    campaign = CampaignFactory()
    client.force_login(member.user)
    for url in (reverse("vouchers:campaign", args=[campaign.pk]), reverse("members:card")):
        html = client.get(url).content.decode()
        dates = re.findall(r"(.{0,40})\b\d{4}-\d\d-\d\d\b", html)
        assert dates, url
        for before in dates:
            assert 'class="date"' in before or 'class="muted date' in before or 'date">' in before, (url, before)
