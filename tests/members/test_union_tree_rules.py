"""What a union is (its kind, where it sits) is changed only by staff of a union above it, and fits
the tree; every change of a union is audited with its old and new values."""

import pytest

from core.errors import ServiceError
from core.models import AuditEntry
from members.models import Union
from members.selectors import is_city_level
from members.services import union_save
from tests.admin_forms import form_data
from tests.factories import StaffFactory, UnionFactory

UNIONS = "/admin/members/union/"


def change_page(client, user, union):
    client.force_login(user)
    return client.get(f"{UNIONS}{union.pk}/change/")


def test_it_refuses_grassroots_staff_making_their_own_union_the_city(client, tree, staff):
    page = change_page(client, staff, tree.g1)
    assert page.status_code == 200

    resp = client.post(f"{UNIONS}{tree.g1.pk}/change/", {**form_data(page), "kind": "city", "parent": ""})

    tree.g1.refresh_from_db()
    assert (tree.g1.kind, tree.g1.parent_id) == ("grassroots", tree.street.pk)
    assert resp.status_code == 302  # the kind is not a field of their form: the name and address saved
    assert not AuditEntry.objects.filter(action="members.union.changed", new__has_key="kind").exists()
    assert is_city_level(type(staff).objects.get(pk=staff.pk)) is False


def test_it_refuses_the_service_changing_the_actors_own_unions_kind(tree, district_staff):
    tree.wx.kind = Union.Kind.CITY

    with pytest.raises(ServiceError) as refused:
        union_save(union=tree.wx, actor=district_staff)

    assert refused.value.code == "union_kind_forbidden"
    assert Union.objects.get(pk=tree.wx.pk).kind == "district"


def test_it_refuses_a_kind_at_or_above_the_parents(client, tree, district_staff):
    page = change_page(client, district_staff, tree.g1)

    resp = client.post(f"{UNIONS}{tree.g1.pk}/change/", form_data(page, kind="district"))

    assert resp.status_code == 200
    assert "必须低于其上级工会" in resp.content.decode()
    assert Union.objects.get(pk=tree.g1.pk).kind == "grassroots"


def test_it_refuses_a_second_city_union(client, tree, superuser_client):
    page = superuser_client.get(f"{UNIONS}{tree.nx.pk}/change/")

    resp = superuser_client.post(f"{UNIONS}{tree.nx.pk}/change/", form_data(page, kind="city"))

    assert resp.status_code == 200
    assert Union.objects.get(pk=tree.nx.pk).kind == "district"


def test_it_refuses_a_kind_at_or_below_the_childrens(tree, superuser_client):
    page = superuser_client.get(f"{UNIONS}{tree.street.pk}/change/")

    resp = superuser_client.post(f"{UNIONS}{tree.street.pk}/change/", form_data(page, kind="grassroots"))

    assert resp.status_code == 200
    assert Union.objects.get(pk=tree.street.pk).kind == "street"


def test_it_lets_staff_above_change_a_unions_kind_audited(client, tree, district_staff):
    page = change_page(client, district_staff, tree.street)

    resp = client.post(f"{UNIONS}{tree.street.pk}/change/", form_data(page, kind="industry"))

    assert resp.status_code == 302
    assert Union.objects.get(pk=tree.street.pk).kind == "industry"
    entry = AuditEntry.objects.get(action="members.union.changed", object_id=str(tree.street.pk))
    assert (entry.old, entry.new, entry.actor) == ({"kind": "street"}, {"kind": "industry"}, district_staff)
    assert tree.street.history.latest().history_user == district_staff


def test_it_refuses_grassroots_staff_the_add_page(client, staff):
    client.force_login(staff)
    assert client.get(f"{UNIONS}add/").status_code == 403


def test_it_creates_a_union_only_under_one_in_scope(client, tree, district_staff):
    client.force_login(district_staff)
    data = {"name": "八里店镇总工会", "kind": "street", "code": "WX-S2", "address": "", "is_active": "on"}

    elsewhere = client.post(f"{UNIONS}add/", {**data, "parent": tree.nx.pk})  # 南浔区: not theirs
    assert elsewhere.status_code == 200 and not Union.objects.filter(code="WX-S2").exists()

    above = client.post(f"{UNIONS}add/", {**data, "kind": "district", "parent": tree.wx.pk})
    assert above.status_code == 200 and not Union.objects.filter(code="WX-S2").exists()

    resp = client.post(f"{UNIONS}add/", {**data, "parent": tree.wx.pk})
    assert resp.status_code == 302
    union = Union.objects.get(code="WX-S2")
    assert (union.parent, union.path) == (tree.wx, "HZ/WX/WX-S2/")
    entry = AuditEntry.objects.get(action="members.union.created", object_id=str(union.pk))
    assert entry.new["kind"] == "street" and entry.actor == district_staff


def test_only_the_root_city_union_makes_staff_city_level(tree):
    stray = UnionFactory(name="伪市总", kind="city", code="FAKE", parent=tree.g1)  # made behind the rules' back
    assert is_city_level(StaffFactory(union=tree.city)) is True
    assert is_city_level(StaffFactory(union=stray)) is False
    assert is_city_level(StaffFactory(union=tree.wx)) is False


@pytest.fixture
def superuser_client(client, db):
    from tests.factories import UserFactory

    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    return client


def test_it_shows_a_unions_history_field_by_field_in_chinese(client, tree, district_staff):
    page = change_page(client, district_staff, tree.street)
    client.post(f"{UNIONS}{tree.street.pk}/change/", form_data(page, kind="industry", is_active=False))

    history = client.get(f"{UNIONS}{tree.street.pk}/history/")

    assert history.status_code == 200
    changes = {
        c["field"]: (c["old"], c["new"]) for c in history.context["page_obj"].object_list[0].history_delta_changes
    }
    assert changes == {"类型": ("乡镇（街道）工会", "产业工会"), "启用": ("是", "否")}
    text = history.content.decode()
    assert "乡镇（街道）工会" in text and "产业工会" in text and "street" not in text.split("<table")[-1]
