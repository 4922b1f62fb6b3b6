"""The history of hardship's configuration rows: screening rules, local standards and the settings
keep every version (old and new values, and who changed them); only those who may see the row
see its history."""

from decimal import Decimal as D

import pytest

from core.models import AuditEntry
from hardship.models import HardshipSettings, LocalStandard, ScreeningRule
from tests.admin_forms import form_data
from tests.factories import UserFactory
from tests.hardship.conftest import grant_hardship
from tests.hardship.factories import ScreeningRuleFactory

pytestmark = pytest.mark.django_db

ADMIN = "/admin/hardship/"
STANDARD_PERMS = ("view_localstandard", "change_localstandard")
SETTINGS_PERMS = ("view_hardshipsettings", "change_hardshipsettings", "change_second_approval")


def change(record) -> dict:
    """{field: (old, new)} between a version and the one before it."""
    delta = record.diff_against(record.prev_record)
    return {c.field: (c.old, c.new) for c in delta.changes}


@pytest.fixture
def superuser(db):
    return UserFactory(username="root", is_staff=True, is_superuser=True)


@pytest.fixture
def standard(tree):
    return LocalStandard.objects.create(union=tree.wx, year=2025, monthly_amount=D("1100"))


def test_changing_a_screening_rule_in_the_admin_records_old_and_new_values_and_who(client, superuser):
    rule = ScreeningRuleFactory(kind=ScreeningRule.Kind.MEDICAL_OUT_OF_POCKET, threshold_amount=D("30000"))
    client.force_login(superuser)
    url = f"{ADMIN}screeningrule/{rule.pk}/change/"
    resp = client.post(url, form_data(client.get(url), threshold_amount="50000"))
    assert resp.status_code == 302
    latest = rule.history.latest()
    assert latest.history_user == superuser
    assert change(latest) == {"threshold_amount": (D("30000.00"), D("50000"))}
    # The history page lists the version; its own page shows it.
    page = client.get(f"{ADMIN}screeningrule/{rule.pk}/history/")
    assert page.status_code == 200 and "50000" in page.content.decode()
    assert client.get(f"{ADMIN}screeningrule/{rule.pk}/history/{latest.history_id}/").status_code == 200


def test_changing_a_local_standard_records_old_and_new_values_and_the_city_staff(client, standard, city_staff):
    user = grant_hardship(city_staff, *STANDARD_PERMS)
    client.force_login(user)
    url = f"{ADMIN}localstandard/{standard.pk}/change/"
    resp = client.post(url, form_data(client.get(url), monthly_amount="1200"))
    assert resp.status_code == 302
    latest = standard.history.latest()
    assert latest.history_user == user
    assert change(latest) == {"monthly_amount": (D("1100.00"), D("1200"))}


def test_it_refuses_district_staff_changing_their_districts_local_standard(client, standard, district_staff):
    client.force_login(grant_hardship(district_staff, *STANDARD_PERMS))
    url = f"{ADMIN}localstandard/{standard.pk}/change/"
    assert client.get(url).status_code == 200  # read-only: the standards are the city's settings
    resp = client.post(url, {"union": standard.union_id, "year": 2025, "monthly_amount": "1200"})
    assert resp.status_code == 403
    assert LocalStandard.objects.get(pk=standard.pk).monthly_amount == D("1100.00")


def test_an_outsider_cannot_see_the_history_of_another_districts_local_standard(client, standard, other_staff):
    outsider = grant_hardship(other_staff, *STANDARD_PERMS)
    version = standard.history.latest().history_id
    client.force_login(outsider)
    assert client.get(f"{ADMIN}localstandard/{standard.pk}/history/").status_code == 403
    assert client.get(f"{ADMIN}localstandard/{standard.pk}/history/{version}/").status_code == 404


def test_changing_the_settings_keeps_the_version_besides_the_audit_entry(client, city_staff):
    user = grant_hardship(city_staff, *SETTINGS_PERMS)
    row = HardshipSettings.get()
    client.force_login(user)
    resp = client.post(
        f"{ADMIN}hardshipsettings/{row.pk}/change/", {"second_approval_above": "8000", "document_max_bytes": "2048"}
    )
    assert resp.status_code == 302
    latest = row.history.latest()
    assert latest.history_user == user
    assert change(latest) == {
        "second_approval_above": (D("5000.00"), D("8000.00")),
        "document_max_bytes": (10 * 1024 * 1024, 2048),
    }
    assert AuditEntry.objects.filter(action="hardship.settings.changed", actor=user).count() == 1
    assert client.get(f"{ADMIN}hardshipsettings/{row.pk}/history/").status_code == 200


def test_staff_who_may_not_see_the_settings_cannot_see_their_history(client, staff):
    row = HardshipSettings.get()
    version = row.history.latest().history_id
    client.force_login(staff)  # staff without the hardship settings permissions
    assert client.get(f"{ADMIN}hardshipsettings/{row.pk}/history/").status_code == 403
    assert client.get(f"{ADMIN}hardshipsettings/{row.pk}/history/{version}/").status_code == 403


def test_a_rules_history_page_speaks_chinese_and_shows_the_change(client, superuser):
    rule = ScreeningRuleFactory(kind=ScreeningRule.Kind.MEDICAL_OUT_OF_POCKET, threshold_amount=D("30000"))
    client.force_login(superuser)
    url = f"{ADMIN}screeningrule/{rule.pk}/change/"
    assert client.post(url, form_data(client.get(url), threshold_amount="40000")).status_code == 302

    page = client.get(f"{ADMIN}screeningrule/{rule.pk}/history/").content.decode()

    assert '<th scope="col">改动</th>' in page and "Changes" not in page
    assert "30000.00" in page and "40000.00" in page
