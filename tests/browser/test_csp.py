"""Under the Content-Security-Policy, the pages' scripts still run: Chromium reports no violation on
the worker's pages, the admin's chart pages and the API docs."""

import pytest

from tests.browser.helpers import wait_until
from tests.browser.test_pages import ANONYMOUS_PAGES, log_in, member_pages
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ADMIN_PAGES = ["/admin/", "/admin/hardship/case/report/", "/admin/vouchers/campaign/figures/", "/admin/members/member/"]


def _watch(page) -> list[str]:
    violations = []
    page.on("console", lambda m: "Content Security Policy" in m.text and violations.append(m.text))
    page.on("pageerror", lambda e: violations.append(str(e)))
    return violations


def test_the_worker_pages_break_no_rule_of_the_policy(phone, live_server, member):
    violations = _watch(phone)
    for path in ANONYMOUS_PAGES + ["/vouchers/"]:
        phone.goto(path)
    phone.goto("/m/login/")
    phone.fill("#id_mobile", "13800000077")
    phone.click("#code-btn")  # htmx runs under the policy
    phone.wait_for_selector("#code-result .code-msg")
    log_in(phone, live_server, member.user)
    for path in member_pages(member):
        phone.goto(path)
    assert violations == []


def test_the_admin_charts_and_the_api_docs_run_under_the_policy(new_phone, live_server, tree):
    page = new_phone(viewport={"width": 1366, "height": 900}, is_mobile=False, has_touch=False)
    violations = _watch(page)
    log_in(page, live_server, UserFactory(username="root", is_staff=True, is_superuser=True))
    for path in ADMIN_PAGES:
        page.goto(path)
    page.goto("/admin/hardship/case/report/")
    wait_until(page, "document.querySelector('#chart-funnel canvas') !== null")  # echarts drew
    page.goto("/api/docs/")
    page.wait_for_selector(".swagger-ui .info")  # Swagger UI rendered the schema
    assert violations == []
