"""The staff admin for membership: every page and action is scoped to the staff member's union subtree."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from core.models import AuditEntry
from members.admin import MemberAdmin
from members.models import Member, MembershipApplication, MutualAidEnrolment, User
from members.services import application_approve, application_submit, mutual_aid_enrol, transfer_request
from tests.factories import MemberFactory, StaffFactory, UnionFactory, UserFactory, id_number

MEMBERS = "/admin/members/member/"
APPLICATIONS = "/admin/members/membershipapplication/"
TRANSFERS = "/admin/members/transfer/"


def login(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def superuser(db):
    return UserFactory(username="root", is_staff=True, is_superuser=True)


@pytest.fixture
def g3(tree):
    """A second grassroots union in 织里镇, inside 吴兴区 but outside G1."""
    return UnionFactory(name="织里童装联合工会", kind="joint", code="G3", parent=tree.street)


def submit(union, mobile="13700000001", name="李娜"):
    applicant = UserFactory(mobile=mobile, username=f"m{mobile}")
    return application_submit(
        applicant=applicant, name=name, id_number=id_number(), mobile=mobile, union=union, privacy_consent=True
    )


@pytest.fixture
def application(tree):
    return submit(tree.g1)


@pytest.fixture
def transfer(member, tree):
    return transfer_request(member=member, to_union=tree.g2, actor=member.user)


def change_data(member, **overrides):
    data = {
        "name": member.name,
        "mobile": member.mobile,
        "union": member.union_id,
        "employer": "",
        "employment_form": member.employment_form,
        "station": "",
        "joined_on": member.joined_on.isoformat(),
        "status": member.status,
        "_save": "Save",
    }
    data.update(overrides)
    return data


def act(client, url, action, *pks, **extra):
    return client.post(url, {"action": action, "_selected_action": [str(pk) for pk in pks], **extra})


def assert_not_found(resp):
    """The admin answers an object outside the staff member's scope as one that does not exist: it
    redirects to its index (with a "does not exist" message) and shows nothing of it."""
    assert (resp.status_code, resp.url) == (302, reverse("admin:index"))


def shown(client, resp):
    """The messages an action's redirect shows (reading them, so the next action starts afresh)."""
    assert resp.status_code == 302
    return [str(m) for m in client.get(resp.url).context["messages"]]


def zh(text):
    with translation.override("zh-hans"):
        return gettext(text)


def refusal(obj, message):
    """The message an admin action shows when the service refuses `obj`."""
    return zh("%(object)s: %(message)s") % {"object": obj, "message": zh(message)}


# --- Members: who sees whom ------------------------------------------------------------------


def test_grassroots_staff_sees_own_members_but_not_another_unions(client, staff, member, other_member):
    resp = login(client, staff).get(MEMBERS)
    assert resp.status_code == 200
    html = resp.content.decode()
    assert member.member_no in html
    assert other_member.member_no not in html


def test_it_refuses_the_change_page_of_another_unions_member(client, staff, member, other_member):
    login(client, staff)
    resp = client.get(f"{MEMBERS}{other_member.pk}/change/")
    assert_not_found(resp)
    assert other_member.name not in resp.content.decode()
    resp = client.post(f"{MEMBERS}{other_member.pk}/change/", change_data(other_member, name="篡改"))
    assert_not_found(resp)
    other_member.refresh_from_db()
    assert other_member.name == "王芳"
    assert not AuditEntry.objects.filter(object_id=str(other_member.pk), action__startswith="members.member").exists()


def test_it_refuses_the_history_page_of_another_unions_member(client, staff, other_member):
    resp = login(client, staff).get(f"{MEMBERS}{other_member.pk}/history/")
    assert resp.status_code == 403
    assert other_member.name not in resp.content.decode()


def test_district_staff_sees_the_whole_district_subtree(client, district_staff, member, other_member, g3):
    in_g3 = MemberFactory(union=g3, mobile="13900000003")
    html = login(client, district_staff).get(MEMBERS).content.decode()
    assert member.member_no in html
    assert in_g3.member_no in html
    assert other_member.member_no not in html


def test_the_outsider_sees_none_of_another_districts_members_applications_or_transfers(
    client, other_staff, member, application, g3
):
    inside = transfer_request(member=member, to_union=g3, actor=member.user)  # within 吴兴区
    login(client, other_staff)
    html = client.get(MEMBERS).content.decode()
    assert member.member_no not in html
    assert application.id_masked not in client.get(APPLICATIONS).content.decode()
    assert list(client.get(TRANSFERS).context["cl"].result_list) == []
    assert_not_found(client.get(f"{APPLICATIONS}{application.pk}/change/"))
    assert_not_found(client.get(f"{MEMBERS}{member.pk}/change/"))
    assert_not_found(client.get(f"{TRANSFERS}{inside.pk}/change/"))
    act(client, TRANSFERS, "release", inside.pk)
    inside.refresh_from_db()
    assert inside.status == "requested"


def test_a_superuser_sees_every_union(client, superuser, member, other_member):
    html = login(client, superuser).get(MEMBERS).content.decode()
    assert member.member_no in html
    assert other_member.member_no in html


def test_staff_without_a_union_see_nothing(client, member, tree):
    lost = StaffFactory(username="nounion", union=None)
    html = login(client, lost).get(MEMBERS).content.decode()
    assert member.member_no not in html


def test_staff_can_change_a_member_in_scope(client, staff, member):
    resp = login(client, staff).post(f"{MEMBERS}{member.pk}/change/", change_data(member, name="周建国"))
    assert resp.status_code == 302
    member.refresh_from_db()
    assert member.name == "周建国"
    assert member.history.count() >= 2


def test_the_change_page_changes_neither_the_union_nor_the_status(client, district_staff, member, tree, g3):
    """Moving a member is a transfer (转会); a status change is the action with a reason."""
    login(client, district_staff)
    assert "union" not in client.get(f"{MEMBERS}{member.pk}/change/").context["adminform"].form.fields
    resp = client.post(f"{MEMBERS}{member.pk}/change/", change_data(member, union=g3.pk, status="left"))
    assert resp.status_code == 302
    member.refresh_from_db()
    assert (member.union_id, member.status) == (tree.g1.pk, "active")
    assert not AuditEntry.objects.filter(action="members.member.status_changed").exists()


def test_the_status_action_changes_the_status_with_a_reason_and_audits_it(client, staff, member):
    login(client, staff)
    resp = act(client, MEMBERS, "status_change", member.pk, status="suspended", reason="", apply="1")
    assert resp.status_code == 200  # the page asks again for the missing reason
    assert zh("Give a reason for the status change.") in resp.content.decode()
    assert Member.objects.get(pk=member.pk).status == "active"
    resp = act(client, MEMBERS, "status_change", member.pk, status="suspended", reason="长期未缴会费", apply="1")
    assert resp.status_code == 302
    assert Member.objects.get(pk=member.pk).status == "suspended"
    entry = AuditEntry.objects.get(action="members.member.status_changed", object_id=str(member.pk))
    assert (entry.actor, entry.old, entry.new) == (
        staff,
        {"status": "active"},
        {"status": "suspended", "reason": "长期未缴会费"},
    )


def test_the_status_action_shows_the_services_refusal(client, staff, member):
    Member.objects.filter(pk=member.pk).update(status="left")
    login(client, staff)
    resp = act(client, MEMBERS, "status_change", member.pk, status="active", reason="回来了", apply="1")
    assert Member.objects.get(pk=member.pk).status == "left"
    assert shown(client, resp) == [
        zh("%(object)s: %(message)s")
        % {
            "object": member,
            "message": zh("A member cannot go from “%(old)s” to “%(new)s”.")
            % {"old": zh("Left the union"), "new": zh("Active")},
        }
    ]


def test_the_status_action_ignores_another_unions_member(client, other_staff, member):
    login(client, other_staff)
    act(client, MEMBERS, "status_change", member.pk, status="left", reason="篡改", apply="1")
    assert Member.objects.get(pk=member.pk).status == "active"
    assert not AuditEntry.objects.filter(action="members.member.status_changed").exists()


def test_members_cannot_be_added_or_deleted_in_the_admin(client, superuser, member):
    login(client, superuser)
    assert client.get(f"{MEMBERS}add/").status_code == 403
    assert client.post(f"{MEMBERS}{member.pk}/delete/", {"post": "yes"}).status_code == 403
    assert Member.objects.filter(pk=member.pk).exists()


# --- The ID number never shows --------------------------------------------------------------


def test_the_id_number_never_appears_in_member_pages(client, staff, member):
    login(client, staff)
    client.post(f"{MEMBERS}{member.pk}/change/", change_data(member, name="周建国"))
    raw = Member.objects.get(pk=member.pk).id_number
    assert len(raw) == 18
    pages = [
        MEMBERS,
        f"{MEMBERS}?q={raw}",
        f"{MEMBERS}{member.pk}/change/",
        f"{MEMBERS}{member.pk}/history/",
    ]
    for url in pages:
        resp = client.get(url, follow=True)
        assert resp.status_code == 200, url
        html = resp.content.decode()
        assert raw not in html, url
        assert raw[-4:] in html or url.endswith("/history/"), url  # the masked form is shown
    version = member.history.order_by("history_id").first().history_id
    resp = client.get(f"{MEMBERS}{member.pk}/history/{version}/")
    assert resp.status_code == 200
    assert raw not in resp.content.decode()


def test_the_id_number_never_appears_in_application_pages(client, staff, application):
    raw = MembershipApplication.objects.get(pk=application.pk).id_number
    login(client, staff)
    for url in (APPLICATIONS, f"{APPLICATIONS}{application.pk}/change/", f"{APPLICATIONS}?q={raw}"):
        html = client.get(url, follow=True).content.decode()
        assert raw not in html, url
        assert application.id_masked in html, url


def test_search_by_exact_id_number_finds_the_member(client, staff, district_staff, other_staff, member, tree):
    raw = Member.objects.get(pk=member.pk).id_number
    MemberFactory(union=tree.g1, mobile="13900000009")
    resp = login(client, staff).get(MEMBERS, {"q": raw})
    # the number is swapped for its blind index before the list is shown, so no link carries it
    assert resp.status_code == 302
    assert raw not in resp["Location"]
    resp = client.get(resp["Location"])
    rows = list(resp.context["cl"].result_list)
    assert rows == [member]
    # lower-case x and surrounding blanks are forgiven
    resp = client.get(MEMBERS, {"q": f" {raw.lower()} "}, follow=True)
    assert list(resp.context["cl"].result_list) == [member]
    # the outsider searching the same number finds nothing
    resp = login(client, other_staff).get(MEMBERS, {"q": raw}, follow=True)
    assert list(resp.context["cl"].result_list) == []


def test_search_by_mobile_and_member_number(client, staff, member, tree):
    MemberFactory(union=tree.g1, mobile="13900000009")
    login(client, staff)
    assert list(client.get(MEMBERS, {"q": member.mobile}).context["cl"].result_list) == [member]
    assert list(client.get(MEMBERS, {"q": member.member_no}).context["cl"].result_list) == [member]


def test_the_list_masks_mobile_numbers(client, staff, member):
    html = login(client, staff).get(MEMBERS).content.decode()
    assert "139****0001" in html
    assert "13900000001" not in html


# --- Applications -----------------------------------------------------------------------------


def test_pending_applications_come_first(client, staff, tree):
    decided = submit(tree.g1, mobile="13700000002")
    application_approve(application=decided, actor=staff)
    pending = submit(tree.g1, mobile="13700000003")
    resp = login(client, staff).get(APPLICATIONS)
    rows = list(resp.context["cl"].result_list)
    assert rows[0] == pending


def test_approve_action_makes_a_member_and_writes_an_audit_entry(client, staff, application):
    resp = act(login(client, staff), APPLICATIONS, "approve", application.pk)
    assert resp.status_code == 302
    application.refresh_from_db()
    assert application.status == "approved"
    assert application.member is not None
    entry = AuditEntry.objects.get(action="members.application.approved", object_id=str(application.pk))
    assert entry.actor == staff


def test_the_outsider_cannot_approve(client, other_staff, application):
    act(login(client, other_staff), APPLICATIONS, "approve", application.pk)
    application.refresh_from_db()
    assert application.status == "pending"
    assert not AuditEntry.objects.filter(action="members.application.approved").exists()


def test_approve_reports_service_refusals(client, staff, application):
    application_approve(application=application, actor=staff)
    resp = act(login(client, staff), APPLICATIONS, "approve", application.pk)
    assert resp.status_code == 302
    msgs = [str(m) for m in resp.wsgi_request._messages]
    assert any(application.masked_name in m for m in msgs)
    assert AuditEntry.objects.filter(action="members.application.approved").count() == 1


def test_reject_asks_for_a_reason_first(client, staff, application):
    login(client, staff)
    resp = act(client, APPLICATIONS, "reject", application.pk)
    assert resp.status_code == 200
    assert "admin/members/reason_form.html" in [t.name for t in resp.templates]
    resp = act(client, APPLICATIONS, "reject", application.pk, apply="1", reason="  ")
    assert resp.status_code == 200
    assert resp.context["error"]
    application.refresh_from_db()
    assert application.status == "pending"
    resp = act(client, APPLICATIONS, "reject", application.pk, apply="1", reason="不在本单位工作")
    assert resp.status_code == 302
    application.refresh_from_db()
    assert application.status == "rejected"
    assert application.reject_reason == "不在本单位工作"
    assert AuditEntry.objects.filter(action="members.application.rejected", object_id=str(application.pk)).exists()


def test_the_outsider_cannot_reject(client, other_staff, application):
    resp = act(login(client, other_staff), APPLICATIONS, "reject", application.pk, apply="1", reason="不在本单位工作")
    # the application is not in the outsider's list: the action finds nothing to reject
    assert shown(client, resp) == []
    application.refresh_from_db()
    assert (application.status, application.reject_reason) == ("pending", "")
    assert not AuditEntry.objects.filter(action="members.application.rejected").exists()


def test_a_decided_application_is_read_only(client, staff, application, tree):
    application_approve(application=application, actor=staff)
    login(client, staff)
    resp = client.get(f"{APPLICATIONS}{application.pk}/change/")
    assert resp.status_code == 200
    assert resp.context["has_change_permission"] is False
    resp = client.post(f"{APPLICATIONS}{application.pk}/change/", {"employment_form": "courier"})
    assert resp.status_code == 403


def test_a_pending_application_page_offers_approve_and_reject(client, staff, application):
    html = login(client, staff).get(f"{APPLICATIONS}{application.pk}/change/").content.decode()
    assert 'value="approve"' in html
    assert 'value="reject"' in html


# --- Transfers --------------------------------------------------------------------------------


def test_each_side_acts_only_on_its_step_of_a_transfer(client, staff, other_staff, transfer, member, tree):
    forbidden = refusal(transfer, "You may only act for your own union and the unions under it.")
    # the new union cannot release in the old union's place
    resp = act(login(client, other_staff), TRANSFERS, "release", transfer.pk)
    assert shown(client, resp) == [forbidden]
    transfer.refresh_from_db()
    assert transfer.status == "requested"
    assert not AuditEntry.objects.filter(action="members.transfer.released").exists()
    resp = act(login(client, staff), TRANSFERS, "release", transfer.pk)
    assert shown(client, resp) == [zh("%(count)d row done.") % {"count": 1}]
    transfer.refresh_from_db()
    assert transfer.status == "released"
    assert AuditEntry.objects.get(action="members.transfer.released").actor == staff
    # the old union cannot accept in the new union's place
    resp = act(client, TRANSFERS, "accept", transfer.pk)
    assert shown(client, resp) == [forbidden]
    transfer.refresh_from_db()
    member.refresh_from_db()
    assert (transfer.status, member.union_id) == ("released", tree.g1.pk)
    assert not AuditEntry.objects.filter(action="members.transfer.accepted").exists()
    act(login(client, other_staff), TRANSFERS, "accept", transfer.pk)
    transfer.refresh_from_db()
    member.refresh_from_db()
    assert transfer.status == "completed"
    assert member.union_id == tree.g2.pk


def test_both_unions_see_a_transfer_and_a_third_does_not(client, staff, other_staff, transfer, tree):
    third = StaffFactory(username="g3staff", union=UnionFactory(kind="grassroots", code="G9", parent=tree.street))
    for user, visible in ((staff, True), (other_staff, True), (third, False)):
        resp = login(client, user).get(TRANSFERS)
        assert (transfer in resp.context["cl"].result_list) is visible, user
    assert_not_found(client.get(f"{TRANSFERS}{transfer.pk}/change/"))


def test_rejecting_a_transfer_needs_a_reason(client, staff, transfer):
    login(client, staff)
    resp = act(client, TRANSFERS, "reject", transfer.pk)
    assert resp.status_code == 200
    assert resp.context["error"] == ""  # asked, not yet refused
    # a reason of spaces only is no reason: the page asks again and nothing changes
    resp = act(client, TRANSFERS, "reject", transfer.pk, apply="1", reason="   ")
    assert resp.status_code == 200
    assert "admin/members/reason_form.html" in [t.name for t in resp.templates]
    assert zh("Give a reason for the rejection.") in resp.content.decode()
    transfer.refresh_from_db()
    assert (transfer.status, transfer.reject_reason, transfer.rejected_by) == ("requested", "", None)
    assert not AuditEntry.objects.filter(action="members.transfer.rejected").exists()
    resp = act(client, TRANSFERS, "reject", transfer.pk, apply="1", reason="会费未结清")
    assert resp.status_code == 302
    transfer.refresh_from_db()
    assert (transfer.status, transfer.reject_reason, transfer.rejected_by) == ("rejected", "会费未结清", staff)
    entry = AuditEntry.objects.get(action="members.transfer.rejected")
    assert (entry.actor, entry.new) == (staff, {"status": "rejected", "reason": "会费未结清"})


# --- Unions, stations, users ------------------------------------------------------------------


def test_unions_are_listed_as_the_visible_subtree(client, district_staff, tree):
    resp = login(client, district_staff).get("/admin/members/union/")
    codes = [u.code for u in resp.context["cl"].result_list]
    assert codes == ["WX", "WX-S1", "G1"]
    assert_not_found(client.get(f"/admin/members/union/{tree.nx.pk}/change/"))


def test_staff_cannot_create_a_union_outside_their_subtree(client, district_staff, tree):
    login(client, district_staff)
    data = {"name": "新工会", "kind": "grassroots", "parent": tree.nx.pk, "code": "NEW1", "is_active": "on"}
    resp = client.post("/admin/members/union/add/", data)
    assert resp.status_code == 200
    assert "parent" in resp.context["adminform"].form.errors
    resp = client.post("/admin/members/union/add/", {**data, "parent": tree.street.pk})
    assert resp.status_code == 302
    assert tree.street.children.filter(code="NEW1").exists()


def test_station_list_shows_joins_per_station(client, district_staff, tree):
    for i in range(2):
        MemberFactory(union=tree.g1, mobile=f"1360000000{i}", join_channel="station", station=tree.station)
    MemberFactory(union=tree.g1, mobile="13600000009", join_channel="online", station=tree.station)
    resp = login(client, district_staff).get("/admin/members/station/")
    [station] = resp.context["cl"].result_list
    assert station.joins == 2
    try:
        poster = reverse("members:station-poster", kwargs={"code": tree.station.code})
    except NoReverseMatch:
        pytest.skip("the poster view is not there yet")
    assert poster in resp.content.decode()


def test_the_outsider_sees_no_station_of_another_district(client, other_staff, tree):
    resp = login(client, other_staff).get("/admin/members/station/")
    assert list(resp.context["cl"].result_list) == []


def test_staff_see_and_edit_only_staff_of_their_subtree(client, staff, district_staff, other_staff, member):
    resp = login(client, district_staff).get("/admin/members/user/")
    usernames = {u.username for u in resp.context["cl"].result_list}
    assert usernames == {"g1staff", "wxstaff"}
    assert_not_found(client.get(f"/admin/members/user/{other_staff.pk}/change/"))
    assert_not_found(client.get(f"/admin/members/user/{member.user.pk}/change/"))


def test_staff_cannot_grant_superuser(client, district_staff, staff):
    login(client, district_staff)
    resp = client.get(f"/admin/members/user/{staff.pk}/change/")
    assert resp.status_code == 200
    assert "is_superuser" not in resp.context["adminform"].form.fields
    data = {
        "username": staff.username,
        "union": staff.union_id,
        "is_active": "on",
        "is_staff": "on",
        "is_superuser": "on",
        "date_joined_0": "2025-01-01",
        "date_joined_1": "00:00:00",
    }
    client.post(f"/admin/members/user/{staff.pk}/change/", data)
    staff.refresh_from_db()
    assert staff.is_superuser is False


def test_staff_adding_a_login_cannot_make_a_superuser_or_a_non_staff_login(client, district_staff, tree):
    """The add form has no such fields; a forged post of them is overruled when the login is saved."""
    login(client, district_staff)
    data = {
        "username": "forged",
        "password1": "Zx9!long-enough-pass",
        "password2": "Zx9!long-enough-pass",
        "usable_password": "true",
        "union": tree.g1.pk,
        "mobile": "",
        "is_superuser": "on",
        "is_staff": "",
        "_save": "Save",
    }
    resp = client.post("/admin/members/user/add/", data)
    assert resp.status_code == 302, resp.context["adminform"].form.errors if resp.context else resp
    created = User.objects.get(username="forged")
    assert (created.is_superuser, created.is_staff) == (False, True)


def test_staff_cannot_give_a_user_a_union_outside_their_subtree(client, district_staff, staff, tree):
    login(client, district_staff)
    resp = client.get(f"/admin/members/user/{staff.pk}/change/")
    form = resp.context["adminform"].form
    assert tree.g2 not in form.fields["union"].queryset
    assert tree.g1 in form.fields["union"].queryset


# --- Mutual medical insurance -----------------------------------------------------------------


@pytest.fixture
def enrolled_g1(tree, member):
    year = timezone.localdate().year
    second = MemberFactory(union=tree.g1, mobile="13900000011")
    MemberFactory(union=tree.g1, mobile="13900000012")
    mutual_aid_enrol(member=member, year=year)
    mutual_aid_enrol(member=second, year=year)
    return year


def test_participation_report_shows_rates_rolled_up_the_tree(client, district_staff, enrolled_g1, other_member, tree):
    resp = login(client, district_staff).get("/admin/members/mutualaidenrolment/participation/")
    assert resp.status_code == 200
    rows = {r["union"].code: r for r in resp.context["rows"]}
    assert set(rows) == {"WX", "WX-S1", "G1"}
    assert (rows["G1"]["members"], rows["G1"]["enrolled"], rows["G1"]["rate_display"]) == (3, 2, "66.7%")
    assert rows["WX"]["rate_display"] == "66.7%"
    html = resp.content.decode()
    assert "66.7%" in html
    assert tree.nx.name not in html


def test_participation_report_year_selector(client, superuser, enrolled_g1):
    resp = login(client, superuser).get("/admin/members/mutualaidenrolment/participation/", {"year": enrolled_g1 - 1})
    rows = {r["union"].code: r for r in resp.context["rows"]}
    assert rows["G1"]["enrolled"] == 0
    assert rows["G1"]["rate_display"] == "0.0%"
    assert resp.context["year"] == enrolled_g1 - 1


def test_participation_report_is_linked_from_the_index_and_the_enrolments(client, staff, tree):
    login(client, staff)
    url = reverse("admin:members_mutualaidenrolment_participation")
    assert url in client.get("/admin/").content.decode()
    assert url in client.get("/admin/members/mutualaidenrolment/").content.decode()


def test_enrolling_in_the_admin_goes_through_the_service(client, staff, member, other_member):
    year = timezone.localdate().year
    login(client, staff)
    resp = client.post("/admin/members/mutualaidenrolment/add/", {"member": member.pk, "year": year})
    assert resp.status_code == 302
    enrolment = MutualAidEnrolment.objects.get(member=member, year=year)
    assert enrolment.union_id == member.union_id
    assert AuditEntry.objects.filter(action="members.mutual_aid.enrolled", object_id=str(enrolment.pk)).exists()
    # a member of another union cannot be picked
    resp = client.post("/admin/members/mutualaidenrolment/add/", {"member": other_member.pk, "year": year})
    assert resp.status_code == 200
    assert not MutualAidEnrolment.objects.filter(member=other_member).exists()


# --- Cost of the member list ----------------------------------------------------------------


def test_the_member_list_query_count_does_not_grow_with_members(
    client, district_staff, tree, django_assert_max_num_queries
):
    for i in range(5):
        MemberFactory(union=tree.g1, mobile=f"1380000{i:04d}")
    login(client, district_staff)
    client.get(MEMBERS)  # warm the session and content types
    with CaptureQueriesContext(connection) as five:
        assert client.get(MEMBERS).status_code == 200
    for i in range(5, 50):
        MemberFactory(union=tree.g1, mobile=f"1380000{i:04d}")
    with django_assert_max_num_queries(len(five.captured_queries)):
        resp = client.get(MEMBERS)
    assert len(resp.context["cl"].result_list) == MemberAdmin.list_per_page  # a full page


# --- Keys and agencies ----------------------------------------------------------------------


def test_only_superusers_manage_api_keys(client, staff, superuser, agency):
    assert login(client, staff).get("/admin/core/apikey/").status_code == 403
    login(client, superuser)
    resp = client.post(
        "/admin/core/apikey/add/", {"agency": agency.pk, "name": "月度推送", "scopes_text": "members:verify"}
    )
    assert resp.status_code == 200
    secret = resp.context["secret"]
    assert re.fullmatch(r"upk_[0-9a-f]{12}_\S+", secret)
    key = agency.api_keys.get()
    assert key.scopes == ["members:verify"]
    # shown once: the list and the key's page show neither the secret nor its hash
    for url in ("/admin/core/apikey/", f"/admin/core/apikey/{key.pk}/change/"):
        html = client.get(url).content.decode()
        assert secret.split("_", 2)[2] not in html  # the secret itself may hold "_"
        assert key.key_hash not in html
    act(client, "/admin/core/apikey/", "revoke", key.pk)
    key.refresh_from_db()
    assert key.revoked_at is not None
    assert AuditEntry.objects.filter(action="core.api_key.revoked", object_id=str(key.pk)).exists()


def test_staff_see_only_their_own_inbox(client, staff, district_staff, django_capture_on_commit_callbacks, tree):
    from core.models import Notification

    # submitting an application notifies G1's staff, once the transaction commits
    with django_capture_on_commit_callbacks(execute=True):
        submit(tree.g1)
    assert Notification.objects.filter(recipient=staff).exists()
    resp = login(client, staff).get("/admin/core/notification/")
    assert resp.status_code == 200
    assert len(resp.context["cl"].result_list) == Notification.objects.filter(recipient=staff).count()
    resp = login(client, district_staff).get("/admin/core/notification/")
    assert list(resp.context["cl"].result_list) == []
    note = Notification.objects.filter(recipient=staff).first()
    assert_not_found(client.get(f"/admin/core/notification/{note.pk}/change/"))


def test_the_union_filter_offers_the_staff_members_union_and_the_level_under_it(client, city_staff, district_staff):
    def offered(user):
        resp = login(client, user).get(MEMBERS)
        spec = next(f for f in resp.context["cl"].filter_specs if getattr(f, "parameter_name", "") == "in_union")
        return {label.replace("— ", "") for _value, label in spec.lookup_choices}

    assert offered(city_staff) == {"湖州市总工会", "吴兴区总工会", "南浔区总工会"}
    client.logout()
    assert offered(district_staff) == {"吴兴区总工会", "织里镇总工会"}


# --- Staff change a member's mobile: the login follows the number ----------------------------------


def _sms_login(client, mobile, capture):
    from django.test import Client

    from core import sms

    client = client or Client()
    with capture(execute=True):
        client.post(reverse("members:login-code"), {"mobile": mobile}, HTTP_HX_REQUEST="true")
    code = re.search(r"\b(\d{6})\b", [m["text"] for m in sms.outbox if m["mobile"] == mobile][-1]).group(1)
    client.post(reverse("members:login"), {"mobile": mobile, "sms_code": code})
    return client


def test_after_staff_change_a_members_mobile_only_the_new_number_opens_the_card(
    client, staff, member, django_capture_on_commit_callbacks
):
    from django.test import Client

    old = member.mobile
    old_holder = _sms_login(Client(), old, django_capture_on_commit_callbacks)
    assert old_holder.get(reverse("members:card")).status_code == 200
    resp = login(client, staff).post(f"{MEMBERS}{member.pk}/change/", change_data(member, mobile="13500000005"))
    assert resp.status_code == 302
    member.refresh_from_db()
    assert member.mobile == "13500000005"
    # the session opened with the old number has ended, and the old number no longer logs in as the member
    assert old_holder.get(reverse("members:card")).status_code == 302
    again = _sms_login(Client(), old, django_capture_on_commit_callbacks)
    assert again.get(reverse("members:card")).status_code == 302
    # the new number opens the member's own card, with the same login
    new_holder = _sms_login(Client(), "13500000005", django_capture_on_commit_callbacks)
    resp = new_holder.get(reverse("members:card"))
    assert resp.status_code == 200 and member.member_no in resp.content.decode()
    assert new_holder.session["_auth_user_id"] == str(member.user_id)
    entry = AuditEntry.objects.get(action="members.member.mobile_changed")
    assert entry.actor == staff
    assert (entry.old["mobile"], entry.new["mobile"]) == ("139****0001", "135****0005")


def test_a_new_number_that_already_has_a_login_takes_the_member_along(staff, member):
    from members.services import member_mobile_change

    empty = UserFactory(mobile="13500000005", username="m13500000005")
    old_login = member.user
    member_mobile_change(member=member, mobile="１３５０００００００５", actor=staff)
    member.refresh_from_db()
    old_login.refresh_from_db()
    assert (member.mobile, member.user) == ("13500000005", empty)
    assert old_login.mobile is None


def test_the_outsider_cannot_change_a_members_mobile(other_staff, member):
    from core.errors import ServiceError
    from members.services import member_mobile_change

    with pytest.raises(ServiceError) as exc:
        member_mobile_change(member=member, mobile="13500000005", actor=other_staff)
    assert exc.value.code == "forbidden"
    member.refresh_from_db()
    assert member.mobile == "13900000001"


def test_a_mobile_of_another_member_is_refused(staff, member, other_member):
    from core.errors import ServiceError
    from members.services import member_mobile_change

    with pytest.raises(ServiceError) as exc:
        member_mobile_change(member=member, mobile=other_member.mobile, actor=staff)
    assert exc.value.code == "mobile_taken"
