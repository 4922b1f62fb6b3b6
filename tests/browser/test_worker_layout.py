"""Layout faults at phone size, with screenshots to look at: the transfer form's labels do not
overlap their fields, dates do not break inside, and the 404 page is the portal's."""

import pytest
from django.test import override_settings

from tests.browser.helpers import shot
from tests.browser.test_vouchers import log_in
from tests.vouchers.factories import CampaignFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

OVERLAPS_JS = """
() => {
  const out = [];
  for (const label of document.querySelectorAll("main label")) {
    const field = document.getElementById(label.htmlFor);
    if (!field) continue;
    // The text itself, which may overflow the label's box (CSS word-break: keep-all on Chinese).
    const range = document.createRange();
    range.selectNodeContents(label);
    const a = range.getBoundingClientRect(), b = field.getBoundingClientRect();
    if (!a.width || !b.width) continue;
    const overlap = Math.min(a.right, b.right) - Math.max(a.left, b.left) > 1 && Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top) > 1;
    if (overlap || label.scrollWidth > label.clientWidth + 1) out.push(label.textContent.trim());
  }
  return out;
}
"""

# Every element marked as a date sits on one line.
BROKEN_DATES_JS = """
() => [...document.querySelectorAll(".date")].filter((el) => {
  const rects = [...el.getClientRects()];
  return rects.length > 1 && new Set(rects.map((r) => Math.round(r.top))).size > 1;
}).map((el) => el.textContent.trim())
"""


@pytest.mark.parametrize("elder", [False, True])
def test_the_transfer_form_labels_do_not_overlap_their_fields(phone, live_server, member, elder):
    log_in(phone, live_server, member.user)
    if elder:
        phone.context.add_cookies([{"name": "elder", "value": "1", "url": live_server.url}])
    phone.goto("/m/transfer/")
    assert phone.evaluate(OVERLAPS_JS) == []
    shot(phone, f"transfer{'-elder' if elder else ''}")


@pytest.mark.parametrize("elder", [False, True])
def test_dates_are_not_broken_inside_on_the_campaign_page(phone, live_server, member, elder):
    campaign = CampaignFactory(name="工惠日 家电以旧换新 满1000减100 可叠加使用 限本市职工")
    log_in(phone, live_server, member.user)
    if elder:
        phone.context.add_cookies([{"name": "elder", "value": "1", "url": live_server.url}])
    phone.goto(f"/vouchers/{campaign.pk}/")
    assert phone.locator(".date").count() >= 2
    assert phone.evaluate(BROKEN_DATES_JS) == []
    shot(phone, f"campaign-dates{'-elder' if elder else ''}")


@override_settings(DEBUG=False)
def test_the_404_page_is_the_portals_at_phone_size(phone, live_server):
    response = phone.goto("/no-such-page/")
    assert response.status == 404
    assert phone.locator("#error-page").is_visible()
    assert "页面不存在" in phone.inner_text("h1")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    phone.click("#error-home")
    phone.wait_for_url(live_server.url + "/")
    phone.goto("/no-such-page/")
    shot(phone, "404")
