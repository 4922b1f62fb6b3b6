"""A campaign and a voucher say where they can be used: the approved merchants the campaign names
or whose category it accepts (name, category, address), in a bounded number of queries."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.vouchers.factories import MerchantFactory
from vouchers.selectors import accepting_merchants

pytestmark = pytest.mark.django_db


@pytest.fixture
def shops(stack_campaign):
    """The campaign accepts food shops and one named bookshop; a clothes shop and a suspended
    food shop do not take it."""
    noodles = MerchantFactory(name="老沈家面馆", category="food", address="湖州市吴兴区红旗路1号")
    books = MerchantFactory(name="新华书店", category="books", address="湖州市吴兴区人民路2号")
    MerchantFactory(name="太湖服饰", category="clothing")
    MerchantFactory(name="已暂停面馆", category="food", state="suspended")
    stack_campaign.accepted_merchants.add(books)
    return noodles, books


def queries(client, url) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as ctx:
        page = client.get(url)
    assert page.status_code == 200
    return len(ctx.captured_queries), page.content.decode()


def test_the_campaign_page_lists_the_shops_that_accept_it(client, member, stack_campaign, shops):
    client.force_login(member.user)
    _n, page = queries(client, reverse("vouchers:campaign", args=[stack_campaign.pk]))
    assert 'id="accepting"' in page and 'data-total="2"' in page
    assert "老沈家面馆" in page and "湖州市吴兴区红旗路1号" in page and "餐饮美食" in page
    assert "新华书店" in page
    assert "太湖服饰" not in page and "已暂停面馆" not in page


def test_a_voucher_page_lists_them_too(client, member, stack_campaign, shops, voucher_factory):
    voucher = voucher_factory(stack_campaign, member)
    client.force_login(member.user)
    _n, page = queries(client, reverse("vouchers:voucher", args=[voucher.code]))
    assert 'id="accepting"' in page and "老沈家面馆" in page and "新华书店" in page


def test_the_pages_make_as_many_queries_with_many_shops_as_with_few(
    client, member, stack_campaign, shops, voucher_factory
):
    voucher = voucher_factory(stack_campaign, member)
    client.force_login(member.user)
    urls = [reverse("vouchers:campaign", args=[stack_campaign.pk]), reverse("vouchers:voucher", args=[voucher.code])]
    for url in urls:  # the first visit caches the member's facts and makes the settings row
        queries(client, url)
    few = [queries(client, url)[0] for url in urls]
    MerchantFactory.create_batch(45, category="food")
    many = [queries(client, url) for url in urls]
    assert [n for n, _page in many] == few
    assert 'data-total="47"' in many[0][1] and 'id="accepting-more"' in many[0][1]


def test_a_campaign_naming_neither_is_accepted_by_every_approved_merchant(stack_campaign, shops):
    stack_campaign.accepted_categories = []
    stack_campaign.save()
    stack_campaign.accepted_merchants.clear()
    found = accepting_merchants(stack_campaign)
    assert found["total"] == 3 and found["categories"] == []


def test_a_long_list_of_shops_is_folded_below_the_voucher(client, member, stack_campaign, shops):
    """Forty shops would push everything after them 3,000 px down the phone's page: past five, the
    list is folded under a summary the worker opens; a short list stays open."""
    client.force_login(member.user)
    url = reverse("vouchers:campaign", args=[stack_campaign.pk])
    assert '<details class="accepting__shops" id="accepting-shops" open>' in client.get(url).content.decode()
    MerchantFactory.create_batch(6, category="food")
    assert '<details class="accepting__shops" id="accepting-shops">' in client.get(url).content.decode()
