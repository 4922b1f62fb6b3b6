"""The audit log in the admin: readable, never writable by anyone, scoped for staff."""

import pytest

from core.models import AuditEntry
from core.services import audit_log
from members.services import application_approve, application_submit
from tests.factories import UserFactory, id_number

AUDIT = "/admin/core/auditentry/"


@pytest.fixture
def superuser(db):
    return UserFactory(username="root", is_staff=True, is_superuser=True)


@pytest.fixture
def approved(tree, staff):
    applicant = UserFactory(mobile="13700000001", username="m13700000001")
    app = application_submit(
        applicant=applicant,
        name="李娜",
        id_number=id_number(),
        mobile="13700000001",
        union=tree.g1,
        privacy_consent=True,
    )
    application_approve(application=app, actor=staff)
    return AuditEntry.objects.get(action="members.application.approved")


@pytest.mark.parametrize("who", ["superuser", "staff"])
def test_the_audit_log_is_read_only_for_everyone(who, request, client, approved):
    user = request.getfixturevalue(who)
    client.force_login(user)
    assert client.get(AUDIT).status_code == 200
    assert client.get(f"{AUDIT}{approved.pk}/change/").status_code == 200  # a view-only page
    assert client.get(f"{AUDIT}add/").status_code == 403
    resp = client.post(f"{AUDIT}{approved.pk}/change/", {"action": "members.forged"})
    assert resp.status_code == 403
    assert client.post(f"{AUDIT}{approved.pk}/delete/", {"post": "yes"}).status_code == 403
    resp = client.post(AUDIT, {"action": "delete_selected", "_selected_action": [approved.pk], "post": "yes"})
    approved.refresh_from_db()
    assert approved.action == "members.application.approved"
    assert AuditEntry.objects.filter(pk=approved.pk).exists()


def test_the_audit_log_filters_by_action_and_searches_by_object(client, superuser, approved):
    client.force_login(superuser)
    resp = client.get(AUDIT, {"action": "members.application.approved"})
    assert list(resp.context["cl"].result_list) == [approved]
    resp = client.get(AUDIT, {"q": f"{approved.object_type}:{approved.object_id}"})
    assert approved in resp.context["cl"].result_list
    assert all(e.object_id == approved.object_id for e in resp.context["cl"].result_list)
    resp = client.get(AUDIT, {"q": approved.object_id})
    assert approved in resp.context["cl"].result_list


def test_staff_see_entries_of_their_subtree_and_the_outsider_does_not(client, district_staff, other_staff, approved):
    client.force_login(district_staff)
    assert approved in client.get(AUDIT).context["cl"].result_list
    client.force_login(other_staff)
    assert approved not in client.get(AUDIT).context["cl"].result_list
    resp = client.get(f"{AUDIT}{approved.pk}/change/")
    # answered as an entry that does not exist: back to the admin's index
    assert (resp.status_code, resp.url) == (302, "/admin/")
    assert "members.application.approved" not in resp.content.decode()


def test_a_system_entry_is_visible_to_superusers_only(client, superuser, city_staff, tree):
    entry = audit_log(action="core.test.system", obj=tree.city)
    client.force_login(superuser)
    assert entry in client.get(AUDIT).context["cl"].result_list
    client.force_login(city_staff)
    assert entry not in client.get(AUDIT).context["cl"].result_list


def test_district_staff_see_their_subtrees_staff_actors_only_and_an_outsider_none(
    client, tree, staff, district_staff, other_staff
):
    inside = audit_log(action="core.test.inside", actor=staff, obj=tree.g1)
    elsewhere = audit_log(action="core.test.elsewhere", actor=other_staff, obj=tree.g2)
    worker = UserFactory(mobile="13700000009", username="m13700000009", union=tree.g1)
    by_worker = audit_log(action="core.test.worker", actor=worker, obj=tree.g1)
    client.force_login(district_staff)
    seen = set(client.get(AUDIT).context["cl"].result_list)
    assert inside in seen
    assert elsewhere not in seen and by_worker not in seen
    client.force_login(other_staff)  # 南浔区: none of 吴兴区's entries
    assert list(client.get(AUDIT).context["cl"].result_list) == [elsewhere]


def test_the_audit_log_asks_the_registered_hooks_for_the_union_scope(client, monkeypatch, tree, staff, district_staff):
    """core knows no union tree: the scope is the members app's rule, handed over by its hooks."""
    from core import admin_kit

    registered = admin_kit.admin_hooks()
    asked = []

    class Spy(type(registered)):
        def scope(self, qs, user, union_field):
            asked.append(union_field)
            return qs.none()

    monkeypatch.setattr(admin_kit, "_hooks", Spy())
    audit_log(action="core.test.inside", actor=staff, obj=tree.g1)
    client.force_login(district_staff)
    assert list(client.get(AUDIT).context["cl"].result_list) == []
    assert "actor__union" in asked
