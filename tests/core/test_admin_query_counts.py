"""Every admin list makes as many queries for 3k rows as for k: none grows with the data.

Each page is rendered by a superuser and by city staff holding every permission (the union
scope and the per-row permission checks are theirs), once with one row of every kind and again
with three."""

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.admin_world import add_rows
from tests.factories import StaffFactory, UserFactory

PROJECT_APPS = ("core", "members", "hardship", "vouchers", "workshops", "feedback", "auth", "axes")

CHANGELISTS = sorted(
    f"{model._meta.app_label}.{model._meta.model_name}"
    for model in admin.site._registry
    if model._meta.app_label in PROJECT_APPS
)


def city_staff_with_every_permission(tree):
    user = StaffFactory(username="qc-city", union=tree.city)
    user.user_permissions.set(Permission.objects.filter(content_type__app_label__in=PROJECT_APPS))
    return user


@pytest.fixture
def readers(tree):
    return {
        "superuser": UserFactory(username="qc-root", is_staff=True, is_superuser=True),
        "city": city_staff_with_every_permission(tree),
    }


def queries_of(client, url) -> tuple[int, list[str]]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code in (200, 302), (url, response.status_code)
    return len(ctx.captured_queries), [q["sql"] for q in ctx.captured_queries]


def assert_same_queries(client, url, grow):
    if client.get(url).status_code == 403:  # also warms the caches (content types, permissions)
        pytest.skip("not open to this reader")
    few, _sql = queries_of(client, url)
    grow()
    many, sql = queries_of(client, url)
    assert many == few, f"{url}: {few} queries with one row of each kind, {many} with three:\n" + "\n".join(sql)


REPORTS = [
    "admin:index",
    "admin:hardship_report",
    "admin:hardship_report_export",
    "admin:hardship_cyclerun_run",
    "admin:members_mutualaidenrolment_participation",
    "admin:vouchers_figures",
    "admin:vouchers_figures_export",
    "admin:vouchers_fraud",
    "admin:vouchers_settlement_build",
]


def pages() -> list[str]:
    lists = [reverse(f"admin:{label.replace('.', '_')}_changelist") for label in CHANGELISTS]
    return lists + [reverse(name) for name in REPORTS]


@pytest.mark.parametrize("who", ["superuser", "city"])
def test_every_list_and_report_makes_the_queries_of_k_rows_for_3k(client, tree, readers, who):
    """One pass over every page with one row of each kind, another with three (built once: the
    data of every page grows at the same time)."""
    recipients = list(readers.values())
    add_rows(tree, 1, recipients=recipients)
    client.force_login(readers[who])
    few = {}
    for url in pages():
        if client.get(url).status_code == 403:  # also warms the caches (content types, permissions)
            continue
        few[url] = queries_of(client, url)[0]
    assert len(few) > 20
    add_rows(tree, 2, recipients=recipients)
    grown = []
    for url, count in few.items():
        many, sql = queries_of(client, url)
        if many != count:
            grown.append(f"{url}: {count} queries with one row of each kind, {many} with three:\n" + "\n".join(sql))
    assert grown == [], "\n\n".join(grown)
