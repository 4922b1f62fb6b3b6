"""Mutual-aid enrolments in the admin: their pages open for staff at every level, and the bulk
actions on members and enrolments run the service once per row, in scope, with a summary."""

import io

import pytest
from django.contrib.messages import get_messages
from django.utils import timezone
from openpyxl import load_workbook

from core.models import AuditEntry
from members.models import Member, MutualAidEnrolment
from members.services import mutual_aid_enrol, mutual_aid_withdraw
from tests.factories import MemberFactory

MEMBERS = "/admin/members/member/"
ENROLMENTS = "/admin/members/mutualaidenrolment/"
THIS_YEAR = timezone.localdate().year


@pytest.fixture
def enrolment(member):
    return mutual_aid_enrol(member=member, year=THIS_YEAR)


@pytest.mark.parametrize("persona", ["city_staff", "district_staff", "staff"])
def test_it_opens_an_enrolments_pages_at_every_level(client, enrolment, persona, request):
    client.force_login(request.getfixturevalue(persona))

    change = client.get(f"{ENROLMENTS}{enrolment.pk}/change/")
    add = client.get(f"{ENROLMENTS}add/")

    assert change.status_code == 200 and "周建新" in change.content.decode()
    assert add.status_code == 200
    assert add.context["adminform"].form["year"].value() == THIS_YEAR


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_it_enrols_the_selected_members_one_by_one_with_a_summary(client, tree, staff, member):
    left = MemberFactory(union=tree.g1, status=Member.Status.LEFT, name="李娜")
    elsewhere = MemberFactory(union=tree.g2, name="王芳")  # not of G1: never in the staff's list
    client.force_login(staff)

    resp = client.post(
        MEMBERS,
        {"action": "mutual_aid_enrol_this_year", "_selected_action": [member.pk, left.pk, elsewhere.pk]},
        follow=True,
    )

    assert resp.status_code == 200
    assert list(MutualAidEnrolment.objects.values_list("member_id", "year")) == [(member.pk, THIS_YEAR)]
    said = messages_of(resp)
    assert any("李娜" in m and "只有状态正常的会员" in m for m in said), said
    assert "已处理 1 条记录。" in said, said
    assert AuditEntry.objects.filter(action="members.mutual_aid.enrolled", actor=staff).count() == 1


def test_it_refuses_the_enrol_service_for_a_member_out_of_scope(other_member, staff):
    from core.errors import ServiceError

    with pytest.raises(ServiceError) as refused:
        mutual_aid_enrol(member=other_member, year=THIS_YEAR, actor=staff)
    assert refused.value.code == "forbidden"
    assert not MutualAidEnrolment.objects.exists()


def test_it_withdraws_the_selected_enrolments_with_a_reason_audited(client, tree, staff, enrolment, other_member):
    past = MutualAidEnrolment.objects.create(member=enrolment.member, year=THIS_YEAR - 1, union=tree.g1)
    outside = mutual_aid_enrol(member=other_member, year=THIS_YEAR)
    client.force_login(staff)
    selected = {"action": "withdraw", "_selected_action": [enrolment.pk, past.pk, outside.pk]}

    asked = client.post(ENROLMENTS, selected)
    assert asked.status_code == 200 and "id_reason" in asked.content.decode()
    empty = client.post(ENROLMENTS, {**selected, "apply": "1", "reason": " "})
    assert empty.status_code == 200 and MutualAidEnrolment.objects.count() == 3

    resp = client.post(ENROLMENTS, {**selected, "apply": "1", "reason": "重复登记"}, follow=True)

    assert set(MutualAidEnrolment.objects.values_list("pk", flat=True)) == {past.pk, outside.pk}
    said = messages_of(resp)
    assert any("往年" in m for m in said), said
    entry = AuditEntry.objects.get(action="members.mutual_aid.withdrawn")
    assert entry.actor == staff and entry.new == {"reason": "重复登记"} and entry.old["year"] == THIS_YEAR


def test_it_refuses_the_withdraw_service_out_of_scope(other_staff, enrolment):
    from core.errors import ServiceError

    with pytest.raises(ServiceError) as refused:
        mutual_aid_withdraw(enrolment=enrolment, actor=other_staff, reason="错误")
    assert refused.value.code == "forbidden"
    assert MutualAidEnrolment.objects.filter(pk=enrolment.pk).exists()


def test_it_exports_the_selected_enrolments_of_the_staffs_unions(client, staff, enrolment, other_member):
    outside = mutual_aid_enrol(member=other_member, year=THIS_YEAR)
    client.force_login(staff)

    resp = client.post(ENROLMENTS, {"action": "export_xlsx", "_selected_action": [enrolment.pk, outside.pk]})

    assert resp.status_code == 200 and resp["Content-Type"].startswith("application/vnd.openxmlformats")
    rows = list(load_workbook(io.BytesIO(resp.content)).active.iter_rows(values_only=True))
    assert len(rows) == 2  # the header and G1's enrolment: 南浔's is not the staff's
    assert rows[1][0] == enrolment.member.member_no and rows[1][4] == THIS_YEAR
    assert enrolment.member.id_number not in str(rows)
