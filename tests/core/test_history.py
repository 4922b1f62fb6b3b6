"""The history of staff groups, their permissions, staff logins and partner agencies (core.history):
old and new values, the acting user, one version per saved form; only who may see the row sees it."""

from types import SimpleNamespace

import pytest
from django.contrib.auth.models import Group, Permission

from core.history import acting_user
from core.models import Agency
from members.models import User
from tests.admin_forms import form_data
from tests.factories import StaffFactory, UserFactory

pytestmark = pytest.mark.django_db


def change(record) -> dict:
    delta = record.diff_against(record.prev_record)
    return {c.field: (c.old, c.new) for c in delta.changes}


def perms(*codenames) -> list[Permission]:
    return list(Permission.objects.filter(content_type__app_label="hardship", codename__in=codenames))


@pytest.fixture
def superuser(db):
    return UserFactory(username="root", is_staff=True, is_superuser=True)


@pytest.fixture
def group(db):
    group = Group.objects.create(name="帮扶经办")
    group.permissions.set(perms("view_case"))
    return group


def test_a_change_to_a_groups_permissions_is_one_version_with_old_and_new_and_who(client, superuser, group):
    view_case, add_aid = perms("view_case")[0], perms("add_aid")[0]
    before = group.history.count()
    client.force_login(superuser)
    url = f"/admin/auth/group/{group.pk}/change/"
    resp = client.post(url, form_data(client.get(url), permissions=[add_aid.pk]))
    assert resp.status_code == 302
    assert group.history.count() == before + 1
    latest = group.history.latest()
    assert latest.history_user == superuser
    old, new = change(latest)["permissions"]
    assert [row["permission"] for row in old] == [view_case.pk]
    assert [row["permission"] for row in new] == [add_aid.pk]
    page = client.get(f"/admin/auth/group/{group.pk}/history/")
    assert page.status_code == 200
    assert client.get(f"/admin/auth/group/{group.pk}/history/{latest.history_id}/").status_code == 200


def test_staff_who_may_not_see_groups_cannot_see_a_groups_history(client, staff, group):
    staff.user_permissions.add(*Permission.objects.filter(content_type__app_label="hardship"))
    version = group.history.latest().history_id
    client.force_login(staff)
    assert client.get(f"/admin/auth/group/{group.pk}/history/").status_code == 403
    assert client.get(f"/admin/auth/group/{group.pk}/history/{version}/").status_code == 403


def test_a_staff_logins_flags_groups_and_permissions_are_recorded_with_who(client, superuser, tree, group):
    clerk = StaffFactory(username="g1clerk", union=tree.g1)
    client.force_login(superuser)
    url = f"/admin/members/user/{clerk.pk}/change/"
    resp = client.post(
        url, form_data(client.get(url), groups=[group.pk], user_permissions=[perms("add_aid")[0].pk], is_superuser=True)
    )
    assert resp.status_code == 302
    latest = clerk.history.latest()
    assert latest.history_user == superuser
    delta = change(latest)
    assert delta["is_superuser"] == (False, True)
    assert [row["group"] for row in delta["groups"][1]] == [group.pk]
    assert [row["permission"] for row in delta["user_permissions"][1]] == [perms("add_aid")[0].pk]
    assert "password" not in {f.name for f in type(latest)._meta.fields}


def test_a_group_given_from_the_groups_side_is_recorded_on_the_login(tree, group):
    clerk = StaffFactory(username="g1clerk", union=tree.g1)
    group.user_set.add(clerk)
    latest = clerk.history.latest()
    assert [row.group_id for row in latest.groups.all()] == [group.pk]


def test_a_staff_member_taken_off_staff_in_the_admin_is_recorded(client, superuser, tree):
    clerk = StaffFactory(username="g1clerk", union=tree.g1)
    client.force_login(superuser)
    url = f"/admin/members/user/{clerk.pk}/change/"
    assert client.post(url, form_data(client.get(url), is_staff=False)).status_code == 302
    latest = clerk.history.latest()
    assert (change(latest)["is_staff"], latest.history_user) == ((True, False), superuser)


def test_workers_logins_and_last_logins_are_not_recorded(tree):
    worker = UserFactory(mobile="13900000007", username="m13900000007")
    worker.first_name = "建新"
    worker.save()
    assert not User.history.filter(id=worker.pk).exists()
    clerk = StaffFactory(username="g1clerk", union=tree.g1)
    before = clerk.history.count()
    clerk.save(update_fields=["last_login"])  # what each login does
    assert clerk.history.count() == before


def test_an_outsider_cannot_see_the_history_of_a_login_of_another_union(client, tree, other_staff):
    other_staff.user_permissions.add(*Permission.objects.filter(codename__in=["view_user", "change_user"]))
    clerk = StaffFactory(username="g1clerk", union=tree.g1)
    version = clerk.history.latest().history_id
    client.force_login(other_staff)
    assert client.get(f"/admin/members/user/{clerk.pk}/history/").status_code == 403
    assert client.get(f"/admin/members/user/{clerk.pk}/history/{version}/").status_code == 404


def test_deactivating_an_agency_is_recorded_with_who(client, superuser):
    agency = Agency.objects.create(code="tax", name="税务局")
    client.force_login(superuser)
    url = f"/admin/core/agency/{agency.pk}/change/"
    assert client.post(url, form_data(client.get(url), is_active=False)).status_code == 302
    latest = agency.history.latest()
    assert (change(latest), latest.history_user) == ({"is_active": (True, False)}, superuser)


def test_an_api_keys_client_is_not_recorded_as_the_acting_user(superuser):
    client_of_a_key = SimpleNamespace(is_authenticated=True, is_staff=False)
    assert acting_user(request=SimpleNamespace(user=client_of_a_key)) is None
    assert acting_user(request=SimpleNamespace(user=superuser)) == superuser
    assert acting_user(request=None) is None
