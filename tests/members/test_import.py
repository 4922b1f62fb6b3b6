"""Bulk import of existing members: a dry run reports every bad row by line; the import is all or nothing."""

import csv
import datetime as dt
import io
import re

import pytest
from django.utils.html import escape
from django.utils.translation import gettext
from openpyxl import Workbook

from core.errors import ServiceError
from core.models import AuditEntry
from members.models import Member
from members.services import member_number, members_import
from tests.factories import EnterpriseFactory, StaffFactory, UserFactory, id_number

HEADER = ["姓名", "身份证号", "手机号", "工会编码", "单位统一社会信用代码", "用工形式", "入会日期"]
IMPORT_URL = "/admin/members/member/import/"


def bad_check_char(number: str) -> str:
    return number[:17] + ("0" if number[17] != "0" else "1")


@pytest.fixture
def employer(tree):
    return EnterpriseFactory(union=tree.g1)


@pytest.fixture
def mixed_rows(tree, member, employer):
    """A header and twelve rows, lines 2 to 13; the expected error code of each bad line."""
    good_id, other_id = id_number(), id_number()
    existing_id = Member.objects.get(pk=member.pk).id_number
    unknown_credit = EnterpriseFactory.build().credit_code
    rows = [
        HEADER,
        ["陈静", good_id, "13500000001", "G1", employer.credit_code, "外卖骑手", "2024-03-01"],  # 2 good
        ["刘洋", bad_check_char(id_number()), "13500000002", "G1", "", "", "2024-03-01"],  # 3
        ["张伟", good_id, "13500000003", "G1", "", "", "2024-03-01"],  # 4 duplicate ID in the file
        ["周建新", existing_id, "13500000004", "G1", "", "", "2024-03-01"],  # 5 already a member
        ["李娜", id_number(), "12345", "G1", "", "", "2024-03-01"],  # 6 bad mobile
        ["王芳", id_number(), "13500000001", "G1", "", "", "2024-03-01"],  # 7 duplicate mobile in the file
        ["赵敏", id_number(), "13500000007", "NOPE", "", "", "2024-03-01"],  # 8 unknown union
        ["钱进", id_number(), "13500000008", "G2", "", "", "2024-03-01"],  # 9 outside the staff's scope
        ["孙丽", id_number(), "13500000009", "G1", unknown_credit, "", "2024-03-01"],  # 10 unknown employer
        ["吴刚", id_number(), "13500000010", "G1", "", "", "2024-13-01"],  # 11 bad date
        ["郑爽", id_number(), "13500000011", "G1", "", "宇航员", "2024-03-01"],  # 12 unknown employment form
        ["冯涛", other_id, "13500000012", "G1", "", "courier", "2023/7/15"],  # 13 good
        ["", "", "", "", "", "", ""],  # a blank row is skipped
        ["褚红", id_number(), "13900000001", "G1", "", "", "2024-03-01"],  # 15 mobile already a member's
    ]
    expected = {
        3: "id_check",
        4: "duplicate_in_file",
        5: "already_member",
        6: "mobile",
        7: "duplicate_in_file",
        8: "union_unknown",
        9: "union_scope",
        10: "employer_unknown",
        11: "date",
        12: "employment_form",
        15: "mobile_taken",
    }
    return rows, expected


@pytest.fixture
def clean_rows(tree, employer):
    return [
        HEADER,
        ["陈静", id_number(), "13500000001", "G1", employer.credit_code, "外卖骑手", "2024-03-01"],
        ["刘洋", id_number(), "13500000002", "G1", "", "", "2023年7月15日"],
        ["张伟", id_number(), "13500000003", "G1", "", "courier", "20220101"],
    ]


def to_csv(rows, encoding="utf-8") -> bytes:
    buf = io.StringIO()
    csv.writer(buf).writerows(rows)
    return buf.getvalue().encode(encoding)


def to_xlsx(rows) -> bytes:
    wb = Workbook()
    ws = wb.active
    for i, row in enumerate(rows):
        if i and row[6] and re.fullmatch(r"\d{4}-\d{2}-\d{2}", row[6]) and row[6][5:7] <= "12":
            row = [*row[:6], dt.date.fromisoformat(row[6])]  # a real date cell
        if i and row[2].isdigit():
            row = [row[0], row[1], int(row[2]), *row[3:]]  # mobile typed as a number
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


FORMATS = {
    "csv-utf8": lambda rows: to_csv(rows, "utf-8"),
    "csv-utf8-bom": lambda rows: to_csv(rows, "utf-8-sig"),
    "csv-gbk": lambda rows: to_csv(rows, "gbk"),
    "csv-gb18030": lambda rows: to_csv(rows, "gb18030"),
    "xlsx": to_xlsx,
}


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_dry_run_reports_every_bad_row_by_line_and_reason(fmt, staff, mixed_rows):
    rows, expected = mixed_rows
    before = Member.objects.count()
    report = members_import(rows_or_file=io.BytesIO(FORMATS[fmt](rows)), actor=staff, dry_run=True)
    assert {e.line: e.code for e in report.errors} == expected
    assert report.total == 13
    assert report.good == 2
    assert Member.objects.count() == before
    assert not AuditEntry.objects.filter(action="members.import.completed").exists()


def test_the_report_gives_the_validators_reason_and_the_column(staff, mixed_rows):
    rows, _expected = mixed_rows
    report = members_import(rows_or_file=rows, actor=staff, dry_run=True)
    by_line = {e.line: e for e in report.errors}
    assert by_line[3].column == "身份证号"
    assert by_line[3].message == gettext("The ID number's check character is wrong.")
    assert by_line[4].message == gettext(
        "This ID number appears more than once in the file (first on line %(line)d)."
    ) % {"line": 2}
    assert by_line[11].column == "入会日期"


def test_it_imports_nothing_when_any_row_is_bad(staff, mixed_rows):
    rows, expected = mixed_rows
    before = Member.objects.count()
    report = members_import(rows_or_file=to_csv(rows), actor=staff, dry_run=False)
    assert report.imported == 0
    assert set(report.bad_lines) == set(expected)
    assert Member.objects.count() == before
    assert not AuditEntry.objects.filter(action="members.import.completed").exists()


def test_a_dry_run_of_a_clean_file_writes_nothing(staff, clean_rows):
    report = members_import(rows_or_file=to_csv(clean_rows), actor=staff, dry_run=True)
    assert report.ok and report.good == 3 and report.imported == 0
    assert not Member.objects.exists()


@pytest.mark.parametrize("fmt", ["csv-gbk", "xlsx"])
def test_it_imports_every_row_of_a_clean_file(fmt, staff, clean_rows, employer, tree):
    report = members_import(rows_or_file=io.BytesIO(FORMATS[fmt](clean_rows)), actor=staff, dry_run=False)
    assert report.ok
    assert report.imported == 3
    members = list(Member.objects.order_by("pk"))
    assert [m.name for m in members] == ["陈静", "刘洋", "张伟"]
    for m in members:
        assert m.member_no == member_number(m.pk)
        assert m.join_channel == "import"
        assert m.privacy_version == "import"
        assert m.union == tree.g1
        assert m.status == "active"
        assert m.history.filter(history_type="+").exists()
        assert m.id_masked[6:14] == "********"
    assert members[0].employer == employer
    assert members[0].employment_form == "delivery_rider"
    assert members[1].joined_on == dt.date(2023, 7, 15)
    assert members[2].employment_form == "courier"
    entry = AuditEntry.objects.get(action="members.import.completed")
    assert entry.actor == staff
    assert entry.new["imported"] == 3
    assert entry.new["unions"] == {"G1": 3}


def test_english_headers_and_rows_as_dicts_are_accepted(district_staff, tree):
    rows = [
        {
            "name": "陈静",
            "id_number": id_number(),
            "mobile": "13500000001",
            "union_code": "G1",
            "joined_on": "2024-03-01",
        },
        {
            "name": "刘洋",
            "id_number": id_number(),
            "mobile": "13500000002",
            "union_code": "G1",
            "joined_on": "2024-03-01",
        },
    ]
    report = members_import(rows_or_file=rows, actor=district_staff, dry_run=False)
    assert report.imported == 2
    assert Member.objects.filter(union=tree.g1, employment_form="employee").count() == 2


def test_an_imported_member_is_linked_to_an_existing_login(staff, tree):
    user = UserFactory(mobile="13500000001", username="m13500000001")
    rows = [HEADER, ["陈静", id_number(), "13500000001", "G1", "", "", "2024-03-01"]]
    members_import(rows_or_file=rows, actor=staff, dry_run=False)
    assert Member.objects.get(mobile="13500000001").user == user


def test_the_outsider_cannot_import_into_another_districts_union(other_staff, tree):
    rows = [HEADER, ["陈静", id_number(), "13500000001", "G1", "", "", "2024-03-01"]]
    report = members_import(rows_or_file=rows, actor=other_staff, dry_run=False)
    assert [e.code for e in report.errors] == ["union_scope"]
    assert not Member.objects.exists()


def test_only_a_grassroots_or_joint_union_takes_members(district_staff, tree):
    rows = [HEADER, ["陈静", id_number(), "13500000001", "WX-S1", "", "", "2024-03-01"]]
    report = members_import(rows_or_file=rows, actor=district_staff, dry_run=True)
    assert [e.code for e in report.errors] == ["union_kind"]


def test_a_future_join_date_is_refused(staff, tree):
    rows = [HEADER, ["陈静", id_number(), "13500000001", "G1", "", "", "2999-01-01"]]
    report = members_import(rows_or_file=rows, actor=staff, dry_run=True)
    assert [e.code for e in report.errors] == ["date_future"]


def test_a_file_without_the_columns_is_refused(staff):
    with pytest.raises(ServiceError) as exc:
        members_import(rows_or_file=to_csv([["姓名", "手机号"], ["陈静", "13500000001"]]), actor=staff, dry_run=True)
    assert exc.value.code == "import_header"


def test_a_file_that_is_neither_csv_nor_xlsx_is_refused(staff):
    with pytest.raises(ServiceError) as exc:
        members_import(rows_or_file=b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1legacy", actor=staff, dry_run=True)
    assert exc.value.code == "import_format"


def test_a_worker_cannot_import(member):
    with pytest.raises(ServiceError):
        members_import(rows_or_file=[HEADER], actor=member.user, dry_run=True)


# --- The admin flow ---------------------------------------------------------------------------


def upload(client, content: bytes, name="members.csv"):
    f = io.BytesIO(content)
    f.name = name
    return client.post(IMPORT_URL, {"file": f})


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def test_the_admin_checks_first_and_imports_on_confirmation(client, staff, clean_rows, media):
    client.force_login(staff)
    assert IMPORT_URL in client.get("/admin/members/member/").content.decode()
    resp = upload(client, to_xlsx(clean_rows), "members.xlsx")
    assert resp.status_code == 200
    assert resp.context["report"].good == 3
    token = resp.context["token"]
    assert not Member.objects.exists()
    html = resp.content.decode()
    for row in clean_rows[1:]:
        assert row[1] not in html  # the ID numbers are not echoed
    assert len(list((media / "imports").iterdir())) == 1
    resp = client.post(IMPORT_URL, {"token": token, "confirm": "1"})
    assert resp.status_code == 200
    assert resp.context["report"].imported == 3
    assert Member.objects.count() == 3
    assert list((media / "imports").iterdir()) == []
    # the same upload cannot be imported twice
    resp = client.post(IMPORT_URL, {"token": token, "confirm": "1"})
    assert resp.context["error"]
    assert Member.objects.count() == 3


def test_the_admin_shows_bad_rows_and_offers_no_confirmation(client, staff, mixed_rows, media):
    rows, expected = mixed_rows
    client.force_login(staff)
    resp = upload(client, to_csv(rows, "gbk"))
    assert resp.status_code == 200
    assert "token" not in resp.context
    assert {e.line for e in resp.context["report"].errors} == set(expected)
    html = resp.content.decode()
    assert 'name="confirm"' not in html
    assert escape(gettext("The ID number's check character is wrong.")) in html
    assert not Member.objects.filter(join_channel="import").exists()


def test_another_user_cannot_confirm_someone_elses_upload(client, staff, clean_rows, media, tree):
    client.force_login(staff)
    token = upload(client, to_csv(clean_rows)).context["token"]
    colleague = StaffFactory(username="g1staff2", union=tree.g1)
    client.force_login(colleague)
    resp = client.post(IMPORT_URL, {"token": token, "confirm": "1"})
    assert resp.context["error"]
    assert not Member.objects.exists()


def test_the_import_needs_the_permission_to_add_members(client, tree, clean_rows, media):
    viewer = StaffFactory(username="viewer", union=tree.g1)
    viewer.user_permissions.clear()
    client.force_login(viewer)
    assert client.get(IMPORT_URL).status_code == 403
    assert upload(client, to_csv(clean_rows)).status_code == 403
    assert not Member.objects.exists()


def test_the_template_file_has_the_header(client, staff):
    client.force_login(staff)
    resp = client.get("/admin/members/member/import/template.csv")
    assert resp.status_code == 200
    assert resp.content.startswith(b"\xef\xbb\xbf")
    assert resp.content.decode("utf-8-sig").strip().split(",") == HEADER


def test_a_file_with_too_many_rows_is_refused(staff, clean_rows, monkeypatch):
    monkeypatch.setattr("members.services.import_files.MAX_ROWS", 2)
    with pytest.raises(ServiceError) as exc:
        members_import(rows_or_file=to_csv(clean_rows), actor=staff, dry_run=True)
    assert exc.value.code == "import_too_large"
