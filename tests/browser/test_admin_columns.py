"""The admin at a common office screen (1366×768): the key columns of a list (the maker and the
approver of aid, the union of a case…) are on the screen, not cut off or scrolled out of sight."""

from urllib.parse import urlsplit

import pytest

from tests.admin_world import add_rows
from tests.browser.helpers import shot
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESKTOP = {"width": 1366, "height": 768}

# Each list, and the columns that must be wholly on the screen (their `column-<name>` classes).
LISTS = {
    "/admin/hardship/aid/": ["member_label", "amount_cny", "state", "maker", "approver"],
    "/admin/hardship/warmthbatch/": ["name", "state", "created_by", "approved_by"],
    "/admin/hardship/case/": ["case_label", "head_label", "union", "state", "review_due"],
    "/admin/members/membershipapplication/": ["name", "union", "status", "submitted_at"],
    "/admin/vouchers/redemption/": ["merchant", "order_amount", "state"],
    "/admin/vouchers/settlement/": ["merchant", "amount", "paid_at", "paid_by"],
}

# The right edge of each asked column, and whether the table is wider than the space it has.
MEASURE_JS = """
(columns) => {
  const out = {};
  for (const name of columns) {
    const th = document.querySelector(`#result_list th.column-${name}`);
    out[name] = th ? th.getBoundingClientRect().right : null;
  }
  const results = document.querySelector('#changelist .results');
  out.__overflow = results ? results.scrollWidth - results.clientWidth : 0;
  out.__viewport = document.documentElement.clientWidth;
  return out;
}
"""


@pytest.fixture
def desktop(browser, live_server):
    context = browser.new_context(viewport=DESKTOP, locale="zh-CN", base_url=live_server.url)
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


def test_the_key_columns_of_the_lists_fit_a_1366_pixel_screen(desktop, live_server, tree):
    from django.test import Client

    root = UserFactory(username="qc-root", is_staff=True, is_superuser=True)
    add_rows(tree, 3)
    client = Client()
    client.force_login(root)
    host = urlsplit(live_server.url).hostname
    desktop.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "domain": host, "path": "/"}]
    )
    problems = []
    for path, columns in LISTS.items():
        desktop.goto(path)
        shot(desktop, "admin-1366" + path.replace("/", "-").rstrip("-"))
        found = desktop.evaluate(MEASURE_JS, columns)
        if found["__overflow"] > 0:
            problems.append(f"{path}: the table is {found['__overflow']} px wider than its space")
        for name in columns:
            right = found[name]
            if right is None:
                problems.append(f"{path}: no column {name}")
            elif right > found["__viewport"]:
                problems.append(f"{path}: column {name} ends at {right:.0f} px, past the screen")
    assert problems == []
