"""Numbers people type into the members admin and the member import: ASCII and fullwidth digits
are read, other digits ("²", "①", "٣") are not a number. A query parameter that is not one is as if
it were not there (never a 500), and "٣" is never read as 3."""

import datetime as dt

import pytest
from django.utils import timezone

from members.models import Member
from members.services import members_import
from tests.factories import UserFactory, id_number

pytestmark = pytest.mark.django_db

MEMBERS = "/admin/members/member/"
PARTICIPATION = "/admin/members/mutualaidenrolment/participation/"
FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
HOSTILE = ["²", "①", "٣", "1²"]


@pytest.fixture
def superuser(db):
    return UserFactory(username="root", is_staff=True, is_superuser=True)


HEADER = ["姓名", "身份证号", "手机号", "工会编码", "单位统一社会信用代码", "用工形式", "入会日期"]


@pytest.mark.parametrize("value", HOSTILE)
def test_the_union_filter_answers_an_empty_list_for_a_union_id_in_other_digits(client, city_staff, member, value):
    client.force_login(city_staff)
    resp = client.get(MEMBERS, {"in_union": value})
    assert resp.status_code == 200
    assert list(resp.context["cl"].result_list) == []


def test_the_union_filter_reads_a_union_id_in_fullwidth_digits(client, city_staff, tree, member, other_member):
    client.force_login(city_staff)
    resp = client.get(MEMBERS, {"in_union": str(tree.wx.pk).translate(FULLWIDTH)})
    assert resp.status_code == 200
    assert [m.pk for m in resp.context["cl"].result_list] == [member.pk]


def test_the_union_filter_never_reads_arabic_indic_digits_as_a_union(client, city_staff, tree, member):
    client.force_login(city_staff)
    arabic = str(tree.wx.pk).translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    resp = client.get(MEMBERS, {"in_union": arabic})
    assert resp.status_code == 200 and list(resp.context["cl"].result_list) == []


@pytest.mark.parametrize("value", [*HOSTILE, "99999999999999999999"])
def test_the_participation_report_shows_this_year_for_a_year_in_other_digits(client, superuser, tree, value):
    client.force_login(superuser)
    resp = client.get(PARTICIPATION, {"year": value})
    assert resp.status_code == 200
    assert resp.context["year"] == timezone.localdate().year


def test_the_participation_report_reads_a_year_in_fullwidth_digits(client, superuser, tree):
    client.force_login(superuser)
    last_year = timezone.localdate().year - 1
    resp = client.get(PARTICIPATION, {"year": str(last_year).translate(FULLWIDTH)})
    assert resp.status_code == 200 and resp.context["year"] == last_year


def test_the_import_refuses_a_join_date_in_other_digits_and_reads_fullwidth_ones(staff, tree):
    rows = [
        HEADER,
        ["陈静", id_number(), "13500000001", "G1", "", "", "٢٠٢٤-03-01"],
        ["刘洋", id_number(), "13500000002", "G1", "", "", "2024-03-0²"],
        ["张伟", id_number(), "13500000003", "G1", "", "", "２０２４年３月１日"],
    ]
    report = members_import(rows_or_file=rows, actor=staff, dry_run=True)
    assert [(e.line, e.code) for e in report.errors] == [(2, "date"), (3, "date")]
    assert report.errors[0].message == "请按 2024-03-01 的格式填写日期。"
    assert report.good == 1
    members_import(rows_or_file=[HEADER, rows[3]], actor=staff, dry_run=False)
    assert Member.objects.get(mobile="13500000003").joined_on == dt.date(2024, 3, 1)
